// KumoMTA record semantics shared by both parsing paths (see kumomta_fields.h).
#include "parsers/kumomta_fields.h"

#include <cstring>
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

constexpr uint64_t kZeros = 0x3030303030303030;  // '0' in every byte

// The high bit of every byte that is not an ASCII digit (see kumomta_fast.cc, which has the same test).
inline uint64_t NonDigits(uint64_t w) {
  const uint64_t x = w ^ kZeros;
  return (((x & 0x7f7f7f7f7f7f7f7f) + 0x7676767676767676) | x) & 0x8080808080808080;
}

}  // namespace

// By length first, then one fixed-length compare (which the compiler inlines; a comparison of string_views
// calls memcmp).
RecordType TypeFromName(std::string_view t) {
  const auto is = [&t](std::string_view name) { return std::memcmp(t.data(), name.data(), name.size()) == 0; };
  switch (t.size()) {
    case 3: return is("OOB") ? RecordType::kOob : RecordType::kUnknown;
    case 6:
      if (is("Bounce")) return RecordType::kBounce;
      return is("XferIn") ? RecordType::kSkip : RecordType::kUnknown;
    case 7: return is("Delayed") || is("XferOut") ? RecordType::kSkip : RecordType::kUnknown;
    case 8:
      if (is("Delivery")) return RecordType::kDelivery;
      return is("Feedback") ? RecordType::kFeedback : RecordType::kUnknown;
    case 9: return is("Reception") || is("Rejection") ? RecordType::kSkip : RecordType::kUnknown;
    case 10: return is("Expiration") ? RecordType::kExpiration : RecordType::kUnknown;
    case 11:
      if (is("AdminBounce")) return RecordType::kAdminBounce;
      return is("AdminRebind") ? RecordType::kSkip : RecordType::kUnknown;
    case 16: return is("TransientFailure") ? RecordType::kTransient : RecordType::kUnknown;
    case 23: return is("DeferredInjectionRebind") ? RecordType::kSkip : RecordType::kUnknown;
    default: return RecordType::kUnknown;
  }
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

std::optional<int64_t> CanonicalIsoTimeMs(std::string_view s) {
  const size_t n = s.size();
  if (n < 20 || s[n - 1] != 'Z') return std::nullopt;
  const char* p = s.data();
  // "YYYY-MM-" "DDTHH:MM" ":SS" as three little-endian words: the digits checked and paired up at once,
  // the separators compared in place.
  uint64_t w0, w1;
  uint32_t w2;
  std::memcpy(&w0, p, 8);
  std::memcpy(&w1, p + 8, 8);
  std::memcpy(&w2, p + 16, 4);
  constexpr uint64_t kDigits0 = 0x00ffff00ffffffff, kSeps0 = 0x2d00002d00000000;  // YYYY-MM-
  constexpr uint64_t kDigits1 = 0xffff00ffff00ffff, kSeps1 = 0x00003a0000540000;  // DDTHH:MM
  constexpr uint32_t kDigits2 = 0x00ffff00, kSeps2 = 0x0000003a;                  // :SS
  const uint64_t x0 = (w0 ^ kZeros) & kDigits0, x1 = (w1 ^ kZeros) & kDigits1;
  const uint32_t x2 = (w2 ^ static_cast<uint32_t>(kZeros)) & kDigits2;
  if (((NonDigits(w0) & kDigits0) | (NonDigits(w1) & kDigits1) | (NonDigits(w2) & kDigits2)) != 0 ||
      (w0 & ~kDigits0) != kSeps0 || (w1 & ~kDigits1) != kSeps1 || (w2 & 0xff) != kSeps2) {
    return std::nullopt;
  }
  // Each byte times ten plus the next: the two-digit values land on the first byte of every pair.
  const uint64_t p0 = x0 * 10 + (x0 >> 8), p1 = x1 * 10 + (x1 >> 8);
  const uint32_t p2 = x2 * 10 + (x2 >> 8);
  const int y = static_cast<int>(p0 & 0xff) * 100 + static_cast<int>((p0 >> 16) & 0xff);
  const int mo = static_cast<int>((p0 >> 40) & 0xff), d = static_cast<int>(p1 & 0xff);
  const int h = static_cast<int>((p1 >> 24) & 0xff), mi = static_cast<int>((p1 >> 48) & 0xff);
  const int sec = static_cast<int>((p2 >> 8) & 0xff);
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return std::nullopt;
  int64_t ms = 0;
  if (n > 20) {
    // ".digits" between the seconds and the 'Z'; the first three make the milliseconds.
    if (p[19] != '.' || n == 21) return std::nullopt;
    const size_t digits = n - 21;
    size_t i = 20;
    for (; i + 8 < n; i += 8) {
      uint64_t w;
      std::memcpy(&w, p + i, 8);
      if (NonDigits(w) != 0) return std::nullopt;
    }
    for (; i + 1 < n; ++i) {
      if (static_cast<unsigned>(static_cast<unsigned char>(p[i]) - '0') > 9) return std::nullopt;
    }
    if (digits >= 3) {
      ms = (p[20] - '0') * 100 + (p[21] - '0') * 10 + (p[22] - '0');
    } else {
      for (size_t k = 0; k < 3; ++k) ms = ms * 10 + (k < digits ? p[20 + k] - '0' : 0);
    }
  }
  const int64_t days = DaysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  return (days * 86400 + h * 3600 + mi * 60 + sec) * 1000 + ms;
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
    std::optional<int64_t> ms = f.event_time_ms ? f.event_time_ms : ParseIsoTime(f.event_time);
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
