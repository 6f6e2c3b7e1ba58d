// KumoMTA record semantics shared by both parsing paths (see kumomta_fields.h).
#include "parsers/kumomta_fields.h"

#include <optional>

#include "pipeline/base/event_time.h"
#include "pipeline/base/strings.h"

namespace bs::kumomta {
namespace {

// "campaign:tenant@domain!routing" → campaign, tenant (either may be empty).
void SplitQueue(std::string_view queue, std::string_view& campaign, std::string_view& tenant) {
  queue = queue.substr(0, queue.find('!'));
  size_t at = queue.rfind('@');
  if (at == std::string_view::npos) return;
  std::string_view left = queue.substr(0, at);
  size_t colon = left.find(':');
  if (colon == std::string_view::npos) {
    tenant = left;
  } else {
    campaign = left.substr(0, colon);
    tenant = left.substr(colon + 1);
  }
}

}  // namespace

RecordType TypeFromName(std::string_view t) {
  if (t == "Delivery") return RecordType::kDelivery;
  if (t == "TransientFailure") return RecordType::kTransient;
  if (t == "Bounce") return RecordType::kBounce;
  if (t == "Expiration") return RecordType::kExpiration;
  if (t == "AdminBounce") return RecordType::kAdminBounce;
  if (t == "OOB") return RecordType::kOob;
  if (t == "Feedback") return RecordType::kFeedback;
  if (t == "Reception" || t == "Rejection" || t == "AdminRebind" || t == "DeferredInjectionRebind" ||
      t == "Delayed" || t == "XferOut" || t == "XferIn") {
    return RecordType::kSkip;
  }
  return RecordType::kUnknown;
}

SmtpStage StageFromCommand(std::string_view c) {
  while (!c.empty() && (c.back() == '\n' || c.back() == '\r')) c.remove_suffix(1);
  if (c == ".") return SmtpStage::kData;
  if (StartsWithIgnoreCase(c, "RCPT")) return SmtpStage::kRcpt;
  if (StartsWithIgnoreCase(c, "MAIL")) return SmtpStage::kMail;
  if (StartsWithIgnoreCase(c, "DATA")) return SmtpStage::kData;
  if (StartsWithIgnoreCase(c, "EHLO") || StartsWithIgnoreCase(c, "HELO") ||
      StartsWithIgnoreCase(c, "STARTTLS")) {
    return SmtpStage::kHelo;
  }
  return SmtpStage::kUnknown;
}

std::string_view StripPort(std::string_view a) {
  if (!a.empty() && a.front() == '[') {
    size_t close = a.find(']');
    return close == std::string_view::npos ? a : a.substr(1, close - 1);
  }
  size_t colon = a.rfind(':');
  if (colon != std::string_view::npos && a.find(':') == colon) return a.substr(0, colon);
  return a;
}

ParseResult FinishRecord(const RecordFields& f, DeliveryEvent& e) {
  if (f.type_name.empty()) return ParseResult::Error(ParseError::kMissingField, "type");
  RecordType rt = TypeFromName(f.type_name);
  if (rt == RecordType::kUnknown) return ParseResult::Error(ParseError::kUnknownRecordType, "type");
  if (rt == RecordType::kSkip) return ParseResult::Skip(SkipReason::kNotDelivery);
  if (!f.have_response && rt != RecordType::kFeedback) return ParseResult::Error(ParseError::kMissingField, "response");
  switch (rt) {
    case RecordType::kDelivery: e.outcome = Outcome::kDelivered; break;
    case RecordType::kTransient: e.outcome = Outcome::kDeferred; break;
    case RecordType::kBounce: e.outcome = Outcome::kBounced; break;
    case RecordType::kExpiration: e.outcome = Outcome::kExpired; e.locally_generated = true; break;
    case RecordType::kAdminBounce: e.outcome = Outcome::kBounced; e.locally_generated = true; break;
    case RecordType::kOob: e.outcome = Outcome::kOutOfBand; break;
    case RecordType::kFeedback: e.outcome = Outcome::kComplaint; break;
    default: break;
  }
  if (!f.event_time.empty()) {
    std::optional<int64_t> ms = ParseIsoTime(f.event_time);
    if (!ms) return ParseResult::Error(ParseError::kBadTimestamp, "event_time");
    e.event_time_ms = *ms;
  } else if (f.timestamp_s >= 0) {
    e.event_time_ms = f.timestamp_s * 1000;
  } else {
    return ParseResult::Error(ParseError::kMissingField, "timestamp");
  }
  std::string_view campaign, tenant;
  SplitQueue(f.queue, campaign, tenant);
  if (e.campaign.empty()) e.campaign = campaign;
  if (e.tenant.empty()) e.tenant = tenant;
  return {};
}

}  // namespace bs::kumomta
