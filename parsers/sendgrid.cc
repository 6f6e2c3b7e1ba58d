// SendGrid Event Webhook events (see sendgrid.h). One pass over each object's fields.
#include "parsers/sendgrid.h"

#include <optional>

#include "parsers/json_event_parser.h"
#include "parsers/smtp_reply.h"
#include "parsers/text_fields.h"
#include "pipeline/base/strings.h"

namespace bs {
namespace {

using simdjson::ondemand::json_type;
using simdjson::ondemand::object;
using simdjson::ondemand::value;

class SendGridParser final : public JsonEventParser {
 protected:
  ParseResult ParseObject(object obj, const Position& pos, std::vector<DeliveryEvent>& out) override {
    std::string_view event, email, response, reason, status, bounce_type, bounce_classification, sg_message_id,
        smtp_id, ip, campaign, category;
    std::optional<int64_t> time;
    std::optional<uint64_t> attempt;
    for (auto field : obj) {
      std::string_view key;
      if (auto e = field.unescaped_key().get(key)) return FieldError(e, "key");
      value v;
      if (auto e = field.value().get(v)) return FieldError(e, "value");
      std::optional<json_type> t = JsonTypeOf(v);
      if (!t) return ParseResult::Error(ParseError::kInvalidJson, "value");
      if (*t == json_type::null) continue;
      simdjson::error_code err = simdjson::SUCCESS;
      if (key == "event") {
        if ((err = JsonString(v, arena_, event))) return FieldError(err, "event");
      } else if (key == "email") {
        if ((err = JsonString(v, arena_, email))) return FieldError(err, "email");
      } else if (key == "timestamp") {
        time = JsonTimeMs(v, arena_);
        if (!time) return ParseResult::Error(ParseError::kBadTimestamp, "timestamp");
      } else if (key == "response") {
        err = JsonString(v, arena_, response);
      } else if (key == "reason") {
        err = JsonString(v, arena_, reason);
      } else if (key == "status") {
        err = JsonString(v, arena_, status);
      } else if (key == "type") {
        err = JsonString(v, arena_, bounce_type);
      } else if (key == "bounce_classification") {
        err = JsonString(v, arena_, bounce_classification);
      } else if (key == "sg_message_id") {
        err = JsonString(v, arena_, sg_message_id);
      } else if (key == "smtp-id") {
        err = JsonString(v, arena_, smtp_id);
      } else if (key == "ip") {
        err = JsonString(v, arena_, ip);
      } else if (key == "attempt") {
        attempt = JsonUint(v, arena_);
      } else if (key == "marketing_campaign_id") {
        err = JsonScalarText(v, arena_, campaign);
      } else if (key == "category") {
        if (*t == json_type::array) {
          simdjson::ondemand::array arr;
          if (!v.get_array().get(arr)) {
            for (auto item : arr) {
              value iv;
              if (!item.get(iv) && category.empty()) JsonString(iv, arena_, category);
            }
          }
        } else {
          err = JsonString(v, arena_, category);
        }
      }
      // Optional fields of an unexpected type are ignored (custom args share the top level).
      if (err && err != simdjson::INCORRECT_TYPE) return FieldError(err, "field");
    }

    if (event.empty()) return ParseResult::Error(ParseError::kMissingField, "event");
    DeliveryEvent e;
    e.position = pos;
    std::string_view text;
    if (EqualsIgnoreCase(event, "delivered")) {
      e.outcome = Outcome::kDelivered;
      text = response;
    } else if (EqualsIgnoreCase(event, "deferred")) {
      e.outcome = Outcome::kDeferred;
      text = response;
    } else if (EqualsIgnoreCase(event, "bounce")) {
      e.outcome = EqualsIgnoreCase(bounce_type, "blocked") ? Outcome::kRejected : Outcome::kBounced;
      text = reason;
      e.esp_class = EspClass{Esp::kSendGrid, !bounce_type.empty() ? bounce_type : event, bounce_classification};
    } else if (EqualsIgnoreCase(event, "dropped")) {
      e.outcome = Outcome::kRejected;
      e.locally_generated = true;
      text = reason;
      // SendGrid's drop reasons name its own lists ("Bounced Address", "Invalid", "Unsubscribed Address").
      e.esp_class = EspClass{Esp::kSendGrid, event, reason};
    } else if (EqualsIgnoreCase(event, "spamreport")) {
      e.outcome = Outcome::kComplaint;
    } else if (EqualsIgnoreCase(event, "processed") || EqualsIgnoreCase(event, "open") ||
               EqualsIgnoreCase(event, "click") || EqualsIgnoreCase(event, "unsubscribe") ||
               EqualsIgnoreCase(event, "group_unsubscribe") || EqualsIgnoreCase(event, "group_resubscribe")) {
      return ParseResult::Skip(SkipReason::kNotDelivery);
    } else {
      return ParseResult::Error(ParseError::kUnknownRecordType, "event");
    }
    if (!e.esp_class.present() && !bounce_classification.empty()) {
      e.esp_class = EspClass{Esp::kSendGrid, event, bounce_classification};
    }
    if (!time) return ParseResult::Error(ParseError::kMissingField, "timestamp");
    e.event_time_ms = *time;
    email = TrimSpaces(email);
    if (email.empty()) return ParseResult::Error(ParseError::kMissingField, "email");
    if (!IsPlausibleAddress(email)) return ParseResult::Error(ParseError::kBadRecipient, "email");
    e.recipient = email;
    e.recipient_domain = DomainOf(email);
    e.message_id = !sg_message_id.empty() ? sg_message_id : smtp_id;
    e.campaign = !campaign.empty() ? campaign : category;
    e.sending_ip = ip;
    if (attempt && *attempt <= 65535) e.attempt = static_cast<uint16_t>(*attempt);
    if (!text.empty()) {
      e.reply = ReplyFromText(text);
    }
    EnhancedCode status_code;
    if (!e.reply.enhanced.present() && ParseEnhancedCode(TrimSpaces(status), &status_code)) {
      e.reply.enhanced = status_code;
    }
    out.push_back(e);
    return {};
  }
};

}  // namespace

std::unique_ptr<Parser> NewSendGridParser(const ParserOptions&) { return std::make_unique<SendGridParser>(); }

}  // namespace bs
