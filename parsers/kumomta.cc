// KumoMTA JSON log records (one object per line, or one per Kafka message). Field reference:
// LOG_FORMATS.md §1. One pass over the object's fields with simdjson On-Demand; strings that need no
// unescaping stay views into the record, the rest live in simdjson's string buffer until the next Parse.
#include "parsers/kumomta.h"

#include <simdjson.h>

#include <vector>

#include "pipeline/base/strings.h"
#include "pipeline/base/event_time.h"

namespace bs {
namespace {

using simdjson::ondemand::json_type;
using simdjson::ondemand::object;
using simdjson::ondemand::value;

enum class RecordType { kDelivery, kTransient, kBounce, kExpiration, kAdminBounce, kOob, kFeedback, kSkip, kUnknown };

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

// "ip:port" or "[v6]:port" → ip.
std::string_view StripPort(std::string_view a) {
  if (!a.empty() && a.front() == '[') {
    size_t close = a.find(']');
    return close == std::string_view::npos ? a : a.substr(1, close - 1);
  }
  size_t colon = a.rfind(':');
  if (colon != std::string_view::npos && a.find(':') == colon) return a.substr(0, colon);
  return a;
}

class KumoMtaParser final : public Parser {
 public:
  ParseResult Parse(std::string_view record, const Position& pos, std::vector<DeliveryEvent>& out) override {
    while (!record.empty() && (record.back() == '\n' || record.back() == '\r')) record.remove_suffix(1);
    if (record.empty()) return ParseResult::Error(ParseError::kEmpty);
    if (record.size() > kMaxRecordBytes) return ParseResult::Error(ParseError::kTooLarge);
    if (!simdjson::validate_utf8(record.data(), record.size())) return ParseResult::Error(ParseError::kInvalidUtf8);
    recipients_.clear();
    DeliveryEvent e;
    e.position = pos;
    ParseResult r = ParseObject(record, e);
    if (!r.ok() || r.skip != SkipReason::kNone) return r;
    if (recipients_.empty()) return ParseResult::Error(ParseError::kMissingField, "recipient");
    for (std::string_view rcpt : recipients_) {
      e.recipient = rcpt;
      e.recipient_domain = DomainOf(rcpt);
      out.push_back(e);
    }
    return {};
  }

 private:
  ParseResult ParseObject(std::string_view record, DeliveryEvent& e) {
    simdjson::ondemand::document doc;
    if (parser_.iterate(record.data(), record.size(), record.size() + simdjson::SIMDJSON_PADDING).get(doc)) {
      return ParseResult::Error(ParseError::kInvalidJson);
    }
    object obj;
    if (auto err = doc.get_object().get(obj)) {
      if (record.front() != '{') return ParseResult::Error(ParseError::kNotAnObject);
      if (err == simdjson::INCOMPLETE_ARRAY_OR_OBJECT) return ParseResult::Error(ParseError::kTruncated);
      return ParseResult::Error(ParseError::kInvalidJson);
    }
    std::string_view type_name, event_time, queue;
    int64_t timestamp_s = -1;
    bool have_response = false;
    for (auto field : obj) {
      std::string_view key;
      if (field.unescaped_key().get(key)) return ParseResult::Error(ParseError::kInvalidJson);
      value v = field.value();
      json_type t;
      if (v.type().get(t)) return ParseResult::Error(ParseError::kInvalidJson);
      if (t == json_type::null) continue;
      simdjson::error_code err = simdjson::SUCCESS;
      if (key == "type") {
        err = v.get_string().get(type_name);
      } else if (key == "recipient") {
        if (t == json_type::array) {
          simdjson::ondemand::array arr;
          err = v.get_array().get(arr);
          for (auto item : arr) {
            std::string_view s;
            if ((err = item.get_string().get(s))) break;
            recipients_.push_back(s);
          }
        } else {
          std::string_view s;
          err = v.get_string().get(s);
          if (!err) recipients_.push_back(s);
        }
        if (err) return ParseResult::Error(ParseError::kBadFieldType, "recipient");
      } else if (key == "sender") {
        err = v.get_string().get(e.sender);
        e.sender_domain = DomainOf(e.sender);
      } else if (key == "id") {
        err = v.get_string().get(e.message_id);
      } else if (key == "queue") {
        err = v.get_string().get(queue);
      } else if (key == "event_time") {
        err = v.get_string().get(event_time);
      } else if (key == "timestamp") {
        // Integer seconds as kumod writes them; some shippers rewrite it as an RFC 3339 string.
        if (t == json_type::string) {
          std::string_view ts;
          err = v.get_string().get(ts);
          std::optional<int64_t> ms = err ? std::nullopt : ParseIsoTime(ts);
          if (!ms) return ParseResult::Error(ParseError::kBadTimestamp, "timestamp");
          timestamp_s = *ms / 1000;
        } else if (v.get_int64().get(timestamp_s) || timestamp_s < 0) {
          return ParseResult::Error(ParseError::kBadTimestamp, "timestamp");
        }
      } else if (key == "num_attempts") {
        uint64_t n = 0;
        err = v.get_uint64().get(n);
        e.attempt = static_cast<uint16_t>(n > 65535 ? 65535 : n);
      } else if (key == "egress_pool") {
        err = v.get_string().get(e.egress_pool);
      } else if (key == "egress_source") {
        err = v.get_string().get(e.egress_source);
      } else if (key == "response") {
        have_response = true;
        if (ParseResult r = ParseResponse(v, e); !r.ok()) return r;
      } else if (key == "peer_address") {
        object peer;
        if ((err = v.get_object().get(peer))) return ParseResult::Error(ParseError::kBadFieldType, "peer_address");
        for (auto pf : peer) {
          std::string_view pk;
          if ((err = pf.unescaped_key().get(pk))) break;
          if (pk == "name") {
            err = pf.value().get_string().get(e.mx_host);
          } else if (pk == "addr") {
            err = pf.value().get_string().get(e.mx_ip);
          }
          if (err) return ParseResult::Error(ParseError::kBadFieldType, "peer_address");
        }
      } else if (key == "source_address") {
        object src;
        if ((err = v.get_object().get(src))) return ParseResult::Error(ParseError::kBadFieldType, "source_address");
        for (auto sf : src) {
          std::string_view sk;
          if ((err = sf.unescaped_key().get(sk))) break;
          if (sk == "address") {
            std::string_view a;
            if ((err = sf.value().get_string().get(a))) break;
            e.sending_ip = StripPort(a);
          }
        }
        if (err) return ParseResult::Error(ParseError::kBadFieldType, "source_address");
      } else if (key == "meta") {
        object meta;
        if ((err = v.get_object().get(meta))) return ParseResult::Error(ParseError::kBadFieldType, "meta");
        for (auto mf : meta) {
          std::string_view mk;
          if ((err = mf.unescaped_key().get(mk))) break;
          if (mk == "campaign" || mk == "campaign_id") {
            std::string_view s;
            if (!mf.value().get_string().get(s)) e.campaign = s;
          } else if (mk == "tenant") {
            std::string_view s;
            if (!mf.value().get_string().get(s)) e.tenant = s;
          }
        }
        if (err) return ParseResult::Error(ParseError::kInvalidJson, "meta");
      }
      if (err) return ParseResult::Error(ParseError::kBadFieldType, "field");
    }
    if (type_name.empty()) return ParseResult::Error(ParseError::kMissingField, "type");
    RecordType rt = TypeFromName(type_name);
    if (rt == RecordType::kUnknown) return ParseResult::Error(ParseError::kUnknownRecordType, "type");
    if (rt == RecordType::kSkip) return ParseResult::Skip(SkipReason::kNotDelivery);
    if (!have_response && rt != RecordType::kFeedback) return ParseResult::Error(ParseError::kMissingField, "response");
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
    if (!event_time.empty()) {
      std::optional<int64_t> ms = ParseIsoTime(event_time);
      if (!ms) return ParseResult::Error(ParseError::kBadTimestamp, "event_time");
      e.event_time_ms = *ms;
    } else if (timestamp_s >= 0) {
      e.event_time_ms = timestamp_s * 1000;
    } else {
      return ParseResult::Error(ParseError::kMissingField, "timestamp");
    }
    std::string_view campaign, tenant;
    SplitQueue(queue, campaign, tenant);
    if (e.campaign.empty()) e.campaign = campaign;
    if (e.tenant.empty()) e.tenant = tenant;
    return {};
  }

  ParseResult ParseResponse(value v, DeliveryEvent& e) {
    object resp;
    if (v.get_object().get(resp)) return ParseResult::Error(ParseError::kBadFieldType, "response");
    for (auto f : resp) {
      std::string_view k;
      if (f.unescaped_key().get(k)) return ParseResult::Error(ParseError::kInvalidJson, "response");
      value fv = f.value();
      json_type t;
      if (fv.type().get(t)) return ParseResult::Error(ParseError::kInvalidJson, "response");
      if (t == json_type::null) continue;
      if (k == "code") {
        uint64_t code = 0;
        if (fv.get_uint64().get(code) || code > 999) return ParseResult::Error(ParseError::kBadFieldType, "response.code");
        e.reply.code = static_cast<uint16_t>(code);
      } else if (k == "content") {
        if (fv.get_string().get(e.reply.text)) return ParseResult::Error(ParseError::kBadFieldType, "response.content");
      } else if (k == "command") {
        std::string_view c;
        if (fv.get_string().get(c)) return ParseResult::Error(ParseError::kBadFieldType, "response.command");
        e.stage = StageFromCommand(c);
      } else if (k == "enhanced_code") {
        object ec;
        if (fv.get_object().get(ec)) return ParseResult::Error(ParseError::kBadFieldType, "response.enhanced_code");
        uint64_t cls = 0, subject = 0, detail = 0;
        for (auto ef : ec) {
          std::string_view ek;
          uint64_t n = 0;
          if (ef.unescaped_key().get(ek) || ef.value().get_uint64().get(n) || n > 999) {
            return ParseResult::Error(ParseError::kBadFieldType, "response.enhanced_code");
          }
          if (ek == "class") cls = n;
          else if (ek == "subject") subject = n;
          else if (ek == "detail") detail = n;
        }
        if (cls >= 2 && cls <= 5) {
          e.reply.enhanced = {static_cast<uint8_t>(cls), static_cast<uint16_t>(subject), static_cast<uint16_t>(detail)};
        }
      }
    }
    if (StartsWith(e.reply.text, "KumoMTA internal:")) e.locally_generated = true;
    return {};
  }

  simdjson::ondemand::parser parser_;
  std::vector<std::string_view> recipients_;
};

}  // namespace

std::unique_ptr<Parser> NewKumoMtaParser(const ParserOptions&) { return std::make_unique<KumoMtaParser>(); }

}  // namespace bs
