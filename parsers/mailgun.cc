// Mailgun events (see mailgun.h). One pass per object; wrappers recurse into their events.
#include "parsers/mailgun.h"

#include <optional>

#include "parsers/json_event_parser.h"
#include "parsers/smtp_reply.h"
#include "parsers/text_fields.h"
#include "pipeline/base/strings.h"

namespace bs {
namespace {

using simdjson::ondemand::array;
using simdjson::ondemand::json_type;
using simdjson::ondemand::object;
using simdjson::ondemand::value;

struct MailgunEvent {
  bool has_event = false;
  std::string_view event;
  std::string_view severity;
  std::string_view reason;
  std::string_view recipient;
  std::string_view sender;
  std::string_view sending_ip;
  std::string_view ds_message;
  std::string_view ds_description;
  std::string_view mx_host;
  std::string_view enhanced;
  std::string_view message_id;
  std::string_view header_to;
  std::string_view reject_reason;
  std::string_view campaign;
  std::optional<int64_t> time;
  std::optional<uint64_t> code;
  std::optional<uint64_t> attempt;
  bool delayed_bounce = false;
};

// Calls `fn(key, value)` for each field of the object in `v`; a non-object or malformed member is an
// error naming `detail`.
template <typename Fn>
ParseResult ForFields(value v, std::string_view detail, Fn fn) {
  object o;
  if (auto e = v.get_object().get(o)) return FieldError(e, detail);
  for (auto field : o) {
    std::string_view key;
    if (auto e = field.unescaped_key().get(key)) return FieldError(e, detail);
    value fv;
    if (auto e = field.value().get(fv)) return FieldError(e, detail);
    std::optional<json_type> t = JsonTypeOf(fv);
    if (!t) return ParseResult::Error(ParseError::kInvalidJson, detail);
    if (*t == json_type::null) continue;
    if (ParseResult r = fn(key, fv, *t); !r.ok()) return r;
  }
  return {};
}

class MailgunParser final : public JsonEventParser {
 protected:
  ParseResult ParseObject(object obj, const Position& pos, std::vector<DeliveryEvent>& out) override {
    MailgunEvent m;
    bool wrapper = false;
    SkipReason skip = SkipReason::kNone;
    for (auto field : obj) {
      std::string_view key;
      if (auto e = field.unescaped_key().get(key)) return FieldError(e, "key");
      value v;
      if (auto e = field.value().get(v)) return FieldError(e, "value");
      std::optional<json_type> t = JsonTypeOf(v);
      if (!t) return ParseResult::Error(ParseError::kInvalidJson, "value");
      if (*t == json_type::null) continue;
      if (key == "event-data") {
        wrapper = true;
        object inner;
        if (auto e = v.get_object().get(inner)) return FieldError(e, "event-data");
        ParseResult r = ParseObject(inner, pos, out);
        if (!r.ok()) return r;
        if (skip == SkipReason::kNone) skip = r.skip;
      } else if (key == "items") {
        wrapper = true;
        if (ParseResult r = ParseObjectArray(v, pos, out, skip); !r.ok()) return r;
      } else if (ParseResult r = EventField(key, v, *t, m); !r.ok()) {
        return r;
      }
    }
    if (wrapper && !m.has_event) return ParseResult::Skip(skip == SkipReason::kNone ? SkipReason::kNotDelivery : skip);
    return Build(m, pos, out);
  }

 private:
  ParseResult EventField(std::string_view key, value v, json_type t, MailgunEvent& m) {
    simdjson::error_code err = simdjson::SUCCESS;
    if (key == "event") {
      m.has_event = true;
      if ((err = JsonString(v, arena_, m.event))) return FieldError(err, "event");
    } else if (key == "timestamp") {
      m.time = JsonTimeMs(v, arena_);
      if (!m.time) return ParseResult::Error(ParseError::kBadTimestamp, "timestamp");
    } else if (key == "recipient") {
      if ((err = JsonString(v, arena_, m.recipient))) return FieldError(err, "recipient");
    } else if (key == "severity") {
      err = JsonString(v, arena_, m.severity);
    } else if (key == "reason") {
      err = JsonString(v, arena_, m.reason);
    } else if (key == "envelope" && t == json_type::object) {
      return ForFields(v, "envelope", [&](std::string_view k, value fv, json_type) {
        if (k == "sender") JsonString(fv, arena_, m.sender);
        if (k == "sending-ip") JsonString(fv, arena_, m.sending_ip);
        return ParseResult();
      });
    } else if (key == "delivery-status" && t == json_type::object) {
      return ForFields(v, "delivery-status", [&](std::string_view k, value fv, json_type) {
        if (k == "code") {
          m.code = JsonUint(fv, arena_);
        } else if (k == "enhanced-code" || (k == "bounce-code" && m.enhanced.empty())) {
          JsonString(fv, arena_, m.enhanced);
        } else if (k == "message") {
          JsonString(fv, arena_, m.ds_message);
        } else if (k == "description") {
          JsonString(fv, arena_, m.ds_description);
        } else if (k == "mx-host") {
          JsonString(fv, arena_, m.mx_host);
        } else if (k == "attempt-no") {
          m.attempt = JsonUint(fv, arena_);
        }
        return ParseResult();
      });
    } else if (key == "flags" && t == json_type::object) {
      return ForFields(v, "flags", [&](std::string_view k, value fv, json_type ft) {
        bool b = false;
        if (k == "is-delayed-bounce" && ft == json_type::boolean && !fv.get_bool().get(b)) m.delayed_bounce = b;
        return ParseResult();
      });
    } else if (key == "message" && t == json_type::object) {
      return ForFields(v, "message", [&](std::string_view k, value fv, json_type ft) {
        if (k != "headers" || ft != json_type::object) return ParseResult();
        return ForFields(fv, "message.headers", [&](std::string_view hk, value hv, json_type) {
          if (hk == "message-id") JsonString(hv, arena_, m.message_id);
          if (hk == "to") JsonString(hv, arena_, m.header_to);
          return ParseResult();
        });
      });
    } else if (key == "reject" && t == json_type::object) {
      return ForFields(v, "reject", [&](std::string_view k, value fv, json_type) {
        if (k == "reason") JsonString(fv, arena_, m.reject_reason);
        return ParseResult();
      });
    } else if (key == "campaigns" && t == json_type::array) {
      array arr;
      if (auto e = v.get_array().get(arr)) return FieldError(e, "campaigns");
      for (auto item : arr) {
        value iv;
        if (auto e = item.get(iv)) return FieldError(e, "campaigns");
        if (!m.campaign.empty()) continue;
        if (JsonTypeOf(iv) == json_type::object) {
          ParseResult r = ForFields(iv, "campaigns", [&](std::string_view k, value fv, json_type) {
            if (k == "id") JsonString(fv, arena_, m.campaign);
            return ParseResult();
          });
          if (!r.ok()) return r;
        } else {
          JsonString(iv, arena_, m.campaign);
        }
      }
    }
    // Optional fields of an unexpected type are ignored; malformed JSON is not.
    if (err && err != simdjson::INCORRECT_TYPE) return FieldError(err, "field");
    return {};
  }

  ParseResult Build(const MailgunEvent& m, const Position& pos, std::vector<DeliveryEvent>& out) {
    if (!m.has_event) return ParseResult::Error(ParseError::kMissingField, "event");
    DeliveryEvent e;
    e.position = pos;
    std::string_view text = !TrimSpaces(m.ds_message).empty() ? m.ds_message : m.ds_description;
    if (m.event == "delivered") {
      e.outcome = Outcome::kDelivered;
    } else if (m.event == "failed") {
      e.esp_class = EspClass{Esp::kMailgun, m.severity, m.reason};
      if (StartsWith(m.reason, "suppress-")) {
        e.outcome = Outcome::kRejected;  // Mailgun's suppression list: nothing was sent
        e.locally_generated = true;
      } else if (m.delayed_bounce) {
        e.outcome = Outcome::kOutOfBand;
      } else if (m.severity == "temporary") {
        e.outcome = Outcome::kDeferred;
      } else if (m.severity == "permanent") {
        e.outcome = Outcome::kBounced;
      } else {
        return ParseResult::Error(m.severity.empty() ? ParseError::kMissingField : ParseError::kUnknownRecordType,
                                  "severity");
      }
    } else if (m.event == "rejected") {
      e.outcome = Outcome::kRejected;
      e.locally_generated = true;
      if (!m.reject_reason.empty()) text = m.reject_reason;
    } else if (m.event == "complained") {
      e.outcome = Outcome::kComplaint;
    } else if (m.event == "accepted" || m.event == "stored" || m.event == "opened" || m.event == "clicked" ||
               m.event == "unsubscribed" || StartsWith(m.event, "list_")) {
      return ParseResult::Skip(SkipReason::kNotDelivery);
    } else {
      return ParseResult::Error(ParseError::kUnknownRecordType, "event");
    }
    if (!m.time) return ParseResult::Error(ParseError::kMissingField, "timestamp");
    e.event_time_ms = *m.time;
    std::string_view recipient = TrimSpaces(m.recipient);
    if (recipient.empty() && e.outcome == Outcome::kRejected && m.header_to.find(',') == std::string_view::npos) {
      recipient = AddressInAngles(m.header_to);
    }
    if (recipient.empty()) return ParseResult::Error(ParseError::kMissingField, "recipient");
    if (!IsPlausibleAddress(recipient)) return ParseResult::Error(ParseError::kBadRecipient, "recipient");
    e.recipient = recipient;
    e.recipient_domain = DomainOf(recipient);
    e.sender = AddressInAngles(m.sender);
    e.sender_domain = DomainOf(e.sender);
    e.sending_ip = m.sending_ip;
    e.mx_host = m.mx_host;
    e.message_id = m.message_id;
    e.campaign = m.campaign;
    if (m.attempt && *m.attempt <= 65535) e.attempt = static_cast<uint16_t>(*m.attempt);
    e.reply = ReplyFromText(StripDiagnosticType(text));
    if (m.code) {
      if (IsSmtpCode(*m.code)) {
        e.reply.code = static_cast<uint16_t>(*m.code);
      } else {
        e.reply.code = 0;
        e.locally_generated = true;
      }
    }
    EnhancedCode enh;
    if (ParseEnhancedCode(TrimSpaces(m.enhanced), &enh)) e.reply.enhanced = enh;
    out.push_back(e);
    return {};
  }
};

}  // namespace

std::unique_ptr<Parser> NewMailgunParser(const ParserOptions&) { return std::make_unique<MailgunParser>(); }

}  // namespace bs
