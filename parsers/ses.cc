// Amazon SES notifications (see ses.h). The message's sections may come in any order, so one pass
// collects what each event needs and the events are built at the end.
#include "parsers/ses.h"

#include <optional>
#include <vector>

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

struct SesRecipient {
  std::string_view email;
  std::string_view status;
  std::string_view diagnostic;
};

// What one notification says, whatever the order of its sections.
struct SesMessage {
  std::string_view kind;     // notificationType / eventType
  bool has_bounce = false;
  bool has_delivery = false;
  bool has_delay = false;
  bool has_complaint = false;
  std::string_view source;
  std::string_view message_id;
  std::string_view config_set;
  std::string_view outgoing_ip;
  std::optional<int64_t> mail_time;
  std::optional<int64_t> section_time;
  std::string_view bounce_type;
  std::string_view bounce_subtype;
  std::string_view delay_type;
  std::string_view remote_mta_ip;
  std::string_view reporting_mta;
  std::string_view smtp_response;
  std::string_view reject_reason;
};

bool IsSuppressionSubtype(std::string_view s) {
  return s == "Suppressed" || s == "OnAccountSuppressionList" || s == "OnTenantSuppressionList";
}

class SesParser final : public JsonEventParser {
 protected:
  ParseResult ParseObject(object obj, const Position& pos, std::vector<DeliveryEvent>& out) override {
    recipients_.clear();
    destinations_.clear();
    SesMessage m;
    std::string_view sns_type;
    std::string_view message_text;
    bool has_message_text = false;
    for (auto field : obj) {
      std::string_view key;
      if (auto e = field.unescaped_key().get(key)) return FieldError(e, "key");
      value v;
      if (auto e = field.value().get(v)) return FieldError(e, "value");
      if (key == "Type") {
        if (auto e = JsonString(v, arena_, sns_type)) return FieldError(e, "Type");
      } else if (key == "Message") {
        std::optional<json_type> t = JsonTypeOf(v);
        if (t == json_type::string) {
          // Straight from simdjson's buffer (valid until the envelope parser iterates again): the arena gets
          // one padded copy for the inner parse.
          if (auto e = v.get_string().get(message_text)) return FieldError(e, "Message");
          has_message_text = true;
        } else if (t == json_type::object) {
          object inner;
          if (auto e = v.get_object().get(inner)) return FieldError(e, "Message");
          if (ParseResult r = ReadMessage(inner, m); !r.ok()) return r;
        } else {
          return ParseResult::Error(ParseError::kBadFieldType, "Message");
        }
      } else if (ParseResult r = MessageField(key, v, m); !r.ok()) {
        return r;
      }
    }
    // SubscriptionConfirmation, UnsubscribeConfirmation: plain-text messages about the topic itself.
    if (!sns_type.empty() && sns_type != "Notification") return ParseResult::Skip(SkipReason::kNotDelivery);
    if (has_message_text) return ParseInner(message_text, pos, out);
    return Build(m, pos, out);
  }

 private:
  ParseResult ParseInner(std::string_view text, const Position& pos, std::vector<DeliveryEvent>& out) {
    text = TrimSpaces(text);
    if (text.empty()) return ParseResult::Error(ParseError::kMissingField, "Message");
    if (text.front() != '{') {
      return ParseResult::Error(text.front() == '[' ? ParseError::kNotAnObject : ParseError::kInvalidJson, "Message");
    }
    std::string_view copy = arena_.CopyPadded(text, simdjson::SIMDJSON_PADDING);
    if (copy.data() == nullptr) return ParseResult::Error(ParseError::kTooLarge, "Message");
    simdjson::ondemand::document doc;
    if (auto e = inner_parser_.iterate(copy.data(), copy.size(), copy.size() + simdjson::SIMDJSON_PADDING).get(doc)) {
      return FieldError(e, "Message");
    }
    object obj;
    if (auto e = doc.get_object().get(obj)) {
      return e == simdjson::INCORRECT_TYPE ? ParseResult::Error(ParseError::kNotAnObject, "Message")
                                           : FieldError(e, "Message");
    }
    recipients_.clear();
    destinations_.clear();
    SesMessage m;
    if (ParseResult r = ReadMessage(obj, m); !r.ok()) return r;
    const char* location = nullptr;
    if (doc.current_location().get(location) != simdjson::OUT_OF_BOUNDS) {
      return ParseResult::Error(ParseError::kInvalidJson, "Message");
    }
    return Build(m, pos, out);
  }

  ParseResult ReadMessage(object obj, SesMessage& m) {
    for (auto field : obj) {
      std::string_view key;
      if (auto e = field.unescaped_key().get(key)) return FieldError(e, "key");
      value v;
      if (auto e = field.value().get(v)) return FieldError(e, "value");
      if (ParseResult r = MessageField(key, v, m); !r.ok()) return r;
    }
    return {};
  }

  ParseResult MessageField(std::string_view key, value v, SesMessage& m) {
    if (key == "notificationType" || key == "eventType") {
      if (auto e = JsonString(v, arena_, m.kind)) return FieldError(e, "notificationType");
    } else if (key == "mail") {
      return ReadMail(v, m);
    } else if (key == "bounce") {
      m.has_bounce = true;
      return ReadSection(v, m, "bounce");
    } else if (key == "delivery") {
      m.has_delivery = true;
      return ReadSection(v, m, "delivery");
    } else if (key == "deliveryDelay") {
      m.has_delay = true;
      return ReadSection(v, m, "deliveryDelay");
    } else if (key == "complaint") {
      m.has_complaint = true;
      return ReadSection(v, m, "complaint");
    } else if (key == "reject") {
      return ReadSection(v, m, "reject");
    }
    return {};
  }

  // The first string of a tag's value array ({"ses:configuration-set":["ConfigSet"]}).
  std::string_view FirstString(value v) {
    array arr;
    std::string_view s;
    if (v.get_array().get(arr)) return {};
    for (auto item : arr) {
      value iv;
      if (item.get(iv) || JsonString(iv, arena_, s)) return {};
      return s;
    }
    return {};
  }

  ParseResult ReadMail(value v, SesMessage& m) {
    object mail;
    if (auto e = v.get_object().get(mail)) return FieldError(e, "mail");
    for (auto field : mail) {
      std::string_view key;
      if (auto e = field.unescaped_key().get(key)) return FieldError(e, "mail");
      value fv;
      if (auto e = field.value().get(fv)) return FieldError(e, "mail");
      std::optional<json_type> t = JsonTypeOf(fv);
      if (!t) return ParseResult::Error(ParseError::kInvalidJson, "mail");
      if (*t == json_type::null) continue;
      if (key == "timestamp") {
        m.mail_time = JsonTimeMs(fv, arena_);
        if (!m.mail_time) return ParseResult::Error(ParseError::kBadTimestamp, "mail.timestamp");
      } else if (key == "source") {
        if (auto e = JsonString(fv, arena_, m.source)) return FieldError(e, "mail.source");
      } else if (key == "messageId") {
        if (auto e = JsonString(fv, arena_, m.message_id)) return FieldError(e, "mail.messageId");
      } else if (key == "destination") {
        array arr;
        if (auto e = fv.get_array().get(arr)) return FieldError(e, "mail.destination");
        for (auto item : arr) {
          value iv;
          std::string_view s;
          if (auto e = item.get(iv)) return FieldError(e, "mail.destination");
          if (auto e = JsonString(iv, arena_, s)) return FieldError(e, "mail.destination");
          destinations_.push_back(s);
        }
      } else if (key == "tags") {
        object tags;
        if (auto e = fv.get_object().get(tags)) return FieldError(e, "mail.tags");
        for (auto tag : tags) {
          std::string_view name;
          if (auto e = tag.unescaped_key().get(name)) return FieldError(e, "mail.tags");
          value tv;
          if (auto e = tag.value().get(tv)) return FieldError(e, "mail.tags");
          if (name == "ses:configuration-set") {
            m.config_set = FirstString(tv);
          } else if (name == "ses:outgoing-ip") {
            m.outgoing_ip = FirstString(tv);
          }
        }
      }
    }
    return {};
  }

  // bounce / delivery / deliveryDelay / complaint / reject: their keys do not collide, so one reader.
  ParseResult ReadSection(value v, SesMessage& m, std::string_view name) {
    object section;
    if (auto e = v.get_object().get(section)) return FieldError(e, name);
    for (auto field : section) {
      std::string_view key;
      if (auto e = field.unescaped_key().get(key)) return FieldError(e, name);
      value fv;
      if (auto e = field.value().get(fv)) return FieldError(e, name);
      std::optional<json_type> t = JsonTypeOf(fv);
      if (!t) return ParseResult::Error(ParseError::kInvalidJson, name);
      if (*t == json_type::null) continue;
      simdjson::error_code err = simdjson::SUCCESS;
      if (key == "timestamp") {
        m.section_time = JsonTimeMs(fv, arena_);
        if (!m.section_time) return ParseResult::Error(ParseError::kBadTimestamp, "timestamp");
      } else if (key == "bounceType") {
        err = JsonString(fv, arena_, m.bounce_type);
      } else if (key == "bounceSubType") {
        err = JsonString(fv, arena_, m.bounce_subtype);
      } else if (key == "delayType") {
        err = JsonString(fv, arena_, m.delay_type);
      } else if (key == "remoteMtaIp") {
        err = JsonString(fv, arena_, m.remote_mta_ip);
      } else if (key == "reportingMTA") {
        err = JsonString(fv, arena_, m.reporting_mta);
      } else if (key == "smtpResponse") {
        err = JsonString(fv, arena_, m.smtp_response);
      } else if (key == "reason") {
        err = JsonString(fv, arena_, m.reject_reason);
      } else if (key == "recipients") {
        array arr;
        if (auto e = fv.get_array().get(arr)) return FieldError(e, "delivery.recipients");
        for (auto item : arr) {
          value iv;
          SesRecipient r;
          if (auto e = item.get(iv)) return FieldError(e, "delivery.recipients");
          if (auto e = JsonString(iv, arena_, r.email)) return FieldError(e, "delivery.recipients");
          recipients_.push_back(r);
        }
      } else if (key == "bouncedRecipients" || key == "delayedRecipients" || key == "complainedRecipients") {
        if (ParseResult r = ReadRecipients(fv); !r.ok()) return r;
      }
      if (err) return FieldError(err, name);
    }
    return {};
  }

  ParseResult ReadRecipients(value v) {
    array arr;
    if (auto e = v.get_array().get(arr)) return FieldError(e, "recipients");
    for (auto item : arr) {
      object o;
      if (auto e = item.get_object().get(o)) return FieldError(e, "recipients");
      SesRecipient r;
      for (auto field : o) {
        std::string_view key;
        if (auto e = field.unescaped_key().get(key)) return FieldError(e, "recipients");
        value fv;
        if (auto e = field.value().get(fv)) return FieldError(e, "recipients");
        simdjson::error_code err = simdjson::SUCCESS;
        if (key == "emailAddress") {
          err = JsonString(fv, arena_, r.email);
        } else if (key == "status") {
          err = JsonString(fv, arena_, r.status);
        } else if (key == "diagnosticCode") {
          err = JsonString(fv, arena_, r.diagnostic);
        }
        if (err) return FieldError(err, "emailAddress");
      }
      recipients_.push_back(r);
    }
    return {};
  }

  ParseResult Build(const SesMessage& m, const Position& pos, std::vector<DeliveryEvent>& out) {
    if (m.kind.empty()) return ParseResult::Error(ParseError::kMissingField, "notificationType");
    DeliveryEvent base;
    base.position = pos;
    std::string_view text;
    if (m.kind == "Bounce") {
      if (!m.has_bounce) return ParseResult::Error(ParseError::kMissingField, "bounce");
      base.esp_class = EspClass{Esp::kSes, m.bounce_type, m.bounce_subtype};
      if (IsSuppressionSubtype(m.bounce_subtype)) {
        base.outcome = Outcome::kRejected;
        base.locally_generated = true;
      } else {
        base.outcome = Outcome::kBounced;
      }
    } else if (m.kind == "Delivery") {
      if (!m.has_delivery) return ParseResult::Error(ParseError::kMissingField, "delivery");
      base.outcome = Outcome::kDelivered;
      text = m.smtp_response;
    } else if (m.kind == "DeliveryDelay") {
      if (!m.has_delay) return ParseResult::Error(ParseError::kMissingField, "deliveryDelay");
      base.outcome = Outcome::kDeferred;
      if (!m.delay_type.empty()) base.esp_class = EspClass{Esp::kSes, "DeliveryDelay", m.delay_type};
    } else if (m.kind == "Complaint") {
      if (!m.has_complaint) return ParseResult::Error(ParseError::kMissingField, "complaint");
      base.outcome = Outcome::kComplaint;
    } else if (m.kind == "Reject") {
      base.outcome = Outcome::kRejected;
      base.locally_generated = true;
      text = m.reject_reason;
      recipients_.clear();
      for (std::string_view d : destinations_) recipients_.push_back(SesRecipient{d, {}, {}});
    } else if (m.kind == "Send" || m.kind == "Open" || m.kind == "Click" || m.kind == "Rendering Failure" ||
               m.kind == "Subscription" || m.kind == "AmazonSnsSubscriptionSucceeded") {
      return ParseResult::Skip(SkipReason::kNotDelivery);
    } else {
      return ParseResult::Error(ParseError::kUnknownRecordType, "notificationType");
    }
    if (m.section_time) {
      base.event_time_ms = *m.section_time;
    } else if (m.mail_time) {
      base.event_time_ms = *m.mail_time;
    } else {
      return ParseResult::Error(ParseError::kMissingField, "timestamp");
    }
    if (recipients_.empty()) return ParseResult::Error(ParseError::kMissingField, "recipients");
    base.sender = AddressInAngles(m.source);
    base.sender_domain = DomainOf(base.sender);
    base.message_id = m.message_id;
    base.campaign = m.config_set;
    base.sending_ip = m.outgoing_ip;
    base.mx_ip = m.remote_mta_ip;
    std::string_view unused_ip;
    SplitHostParenIp(m.reporting_mta, base.mta_host, unused_ip);
    if (!text.empty()) base.reply = ReplyFromText(text);
    const size_t start = out.size();
    for (const SesRecipient& r : recipients_) {
      DeliveryEvent e = base;
      e.recipient = AddressInAngles(r.email);
      if (e.recipient.empty()) {
        out.resize(start);
        return ParseResult::Error(ParseError::kMissingField, "emailAddress");
      }
      if (!IsPlausibleAddress(e.recipient)) {
        out.resize(start);
        return ParseResult::Error(ParseError::kBadRecipient, "emailAddress");
      }
      e.recipient_domain = DomainOf(e.recipient);
      if (!r.diagnostic.empty()) e.reply = ReplyFromText(StripDiagnosticType(r.diagnostic));
      EnhancedCode status;
      if (!e.reply.enhanced.present() && ParseEnhancedCode(TrimSpaces(r.status), &status)) e.reply.enhanced = status;
      out.push_back(e);
    }
    return {};
  }

  simdjson::ondemand::parser inner_parser_;
  std::vector<SesRecipient> recipients_;
  std::vector<std::string_view> destinations_;
};

}  // namespace

std::unique_ptr<Parser> NewSesParser(const ParserOptions&) { return std::make_unique<SesParser>(); }

}  // namespace bs
