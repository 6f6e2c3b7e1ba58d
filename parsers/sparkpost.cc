// SparkPost events (see sparkpost.h). One pass per object; the msys envelope recurses into its event.
#include "parsers/sparkpost.h"

#include <optional>

#include "parsers/json_event_parser.h"
#include "parsers/text_fields.h"
#include "pipeline/base/strings.h"

namespace bs {
namespace {

using simdjson::ondemand::json_type;
using simdjson::ondemand::object;
using simdjson::ondemand::value;

struct SparkPostEvent {
  bool has_type = false;
  std::string_view type;
  std::string_view bounce_class;
  std::string_view error_code;
  std::string_view raw_reason;
  std::string_view reason;
  std::string_view rcpt_to;
  std::string_view raw_rcpt_to;
  std::string_view msg_from;
  std::string_view campaign_id;
  std::string_view subaccount_id;
  std::string_view sending_ip;
  std::string_view ip_pool;
  std::string_view binding;
  std::string_view ip_address;
  std::string_view message_id;
  std::optional<uint64_t> num_retries;
  std::optional<int64_t> time;
};

enum class Kind { kEvent, kRejected, kSkip, kUnknown };

Kind KindOf(std::string_view type, Outcome& outcome) {
  if (type == "delivery") { outcome = Outcome::kDelivered; return Kind::kEvent; }
  if (type == "delay") { outcome = Outcome::kDeferred; return Kind::kEvent; }
  if (type == "bounce") { outcome = Outcome::kBounced; return Kind::kEvent; }
  if (type == "out_of_band") { outcome = Outcome::kOutOfBand; return Kind::kEvent; }
  if (type == "spam_complaint") { outcome = Outcome::kComplaint; return Kind::kEvent; }
  if (type == "policy_rejection" || type == "generation_failure" || type == "generation_rejection") {
    outcome = Outcome::kRejected;
    return Kind::kRejected;
  }
  if (type == "injection" || type == "sms_status" || type == "open" || type == "initial_open" || type == "click" ||
      type == "amp_open" || type == "amp_initial_open" || type == "amp_click" || type == "list_unsubscribe" ||
      type == "link_unsubscribe" || StartsWith(type, "relay_")) {
    return Kind::kSkip;
  }
  return Kind::kUnknown;
}

class SparkPostParser final : public JsonEventParser {
 protected:
  ParseResult ParseObject(object obj, const Position& pos, std::vector<DeliveryEvent>& out) override {
    SparkPostEvent m;
    bool envelope = false;
    SkipReason skip = SkipReason::kNone;
    for (auto field : obj) {
      std::string_view key;
      if (auto e = field.unescaped_key().get(key)) return FieldError(e, "key");
      value v;
      if (auto e = field.value().get(v)) return FieldError(e, "value");
      std::optional<json_type> t = JsonTypeOf(v);
      if (!t) return ParseResult::Error(ParseError::kInvalidJson, "value");
      if (*t == json_type::null) continue;
      if (key == "msys") {
        envelope = true;
        object msys;
        if (auto e = v.get_object().get(msys)) return FieldError(e, "msys");
        // {"message_event": {…}} (or track_event, gen_event, unsubscribe_event, relay_event); {} is the ping.
        for (auto kind : msys) {
          value ev;
          if (auto e = kind.value().get(ev)) return FieldError(e, "msys");
          object event;
          if (auto e = ev.get_object().get(event)) return FieldError(e, "msys event");
          ParseResult r = ParseObject(event, pos, out);
          if (!r.ok()) return r;
          if (skip == SkipReason::kNone) skip = r.skip;
        }
      } else if (ParseResult r = EventField(key, v, m); !r.ok()) {
        return r;
      }
    }
    if (envelope && !m.has_type) return ParseResult::Skip(skip == SkipReason::kNone ? SkipReason::kNotDelivery : skip);
    return Build(m, pos, out);
  }

 private:
  ParseResult EventField(std::string_view key, value v, SparkPostEvent& m) {
    simdjson::error_code err = simdjson::SUCCESS;
    if (key == "type") {
      m.has_type = true;
      if ((err = JsonString(v, arena_, m.type))) return FieldError(err, "type");
    } else if (key == "timestamp") {
      m.time = JsonTimeMs(v, arena_);
      if (!m.time) return ParseResult::Error(ParseError::kBadTimestamp, "timestamp");
    } else if (key == "bounce_class") {
      if (JsonScalarText(v, arena_, m.bounce_class) || !ParseDecimal(TrimSpaces(m.bounce_class))) {
        return ParseResult::Error(ParseError::kBadFieldType, "bounce_class");
      }
    } else if (key == "error_code") {
      err = JsonScalarText(v, arena_, m.error_code);
    } else if (key == "raw_reason") {
      err = JsonString(v, arena_, m.raw_reason);
    } else if (key == "reason") {
      err = JsonString(v, arena_, m.reason);
    } else if (key == "rcpt_to") {
      if ((err = JsonString(v, arena_, m.rcpt_to))) return FieldError(err, "rcpt_to");
    } else if (key == "raw_rcpt_to") {
      err = JsonString(v, arena_, m.raw_rcpt_to);
    } else if (key == "msg_from") {
      err = JsonString(v, arena_, m.msg_from);
    } else if (key == "campaign_id") {
      err = JsonScalarText(v, arena_, m.campaign_id);
    } else if (key == "subaccount_id") {
      err = JsonScalarText(v, arena_, m.subaccount_id);
    } else if (key == "sending_ip") {
      err = JsonString(v, arena_, m.sending_ip);
    } else if (key == "ip_pool" || (key == "binding_group" && m.ip_pool.empty())) {
      err = JsonString(v, arena_, m.ip_pool);
    } else if (key == "binding") {
      err = JsonString(v, arena_, m.binding);
    } else if (key == "ip_address") {
      err = JsonString(v, arena_, m.ip_address);
    } else if (key == "message_id") {
      err = JsonString(v, arena_, m.message_id);
    } else if (key == "num_retries") {
      m.num_retries = JsonUint(v, arena_);
    }
    if (err && err != simdjson::INCORRECT_TYPE) return FieldError(err, "field");
    return {};
  }

  ParseResult Build(const SparkPostEvent& m, const Position& pos, std::vector<DeliveryEvent>& out) {
    if (!m.has_type) return ParseResult::Error(ParseError::kMissingField, "type");
    DeliveryEvent e;
    e.position = pos;
    Kind kind = KindOf(m.type, e.outcome);
    if (kind == Kind::kSkip) return ParseResult::Skip(SkipReason::kNotDelivery);
    if (kind == Kind::kUnknown) return ParseResult::Error(ParseError::kUnknownRecordType, "type");
    e.locally_generated = kind == Kind::kRejected;
    const std::optional<uint64_t> bounce_class = ParseDecimal(TrimSpaces(m.bounce_class));
    if (bounce_class) {
      e.esp_class = EspClass{Esp::kSparkPost, TrimSpaces(m.bounce_class), {}};
      // Auto-replies, (un)subscribe requests and challenge-responses come back as bounces but are answers.
      if (*bounce_class == 60 || *bounce_class == 80 || *bounce_class == 90 || *bounce_class == 100) {
        return ParseResult::Skip(SkipReason::kNotDelivery);
      }
      if (*bounce_class == 25) e.locally_generated = true;
    }
    if (!m.time) return ParseResult::Error(ParseError::kMissingField, "timestamp");
    e.event_time_ms = *m.time;
    std::string_view rcpt = TrimSpaces(!m.rcpt_to.empty() ? m.rcpt_to : m.raw_rcpt_to);
    if (rcpt.empty()) return ParseResult::Error(ParseError::kMissingField, "rcpt_to");
    if (!IsPlausibleAddress(rcpt)) return ParseResult::Error(ParseError::kBadRecipient, "rcpt_to");
    e.recipient = rcpt;
    e.recipient_domain = DomainOf(rcpt);
    e.sender = m.msg_from;
    e.sender_domain = DomainOf(m.msg_from);
    e.campaign = m.campaign_id;
    e.tenant = m.subaccount_id;
    e.sending_ip = m.sending_ip;
    e.egress_pool = m.ip_pool;
    e.egress_source = m.binding;
    if (e.outcome != Outcome::kRejected && e.outcome != Outcome::kComplaint) e.mx_ip = m.ip_address;
    e.message_id = m.message_id;
    if (m.num_retries && *m.num_retries < 65535) e.attempt = static_cast<uint16_t>(*m.num_retries + 1);
    e.reply = ReplyFromText(!m.raw_reason.empty() ? m.raw_reason : m.reason);
    if (std::optional<uint64_t> code = ParseDecimal(TrimSpaces(m.error_code)); code && IsSmtpCode(*code)) {
      e.reply.code = static_cast<uint16_t>(*code);
    }
    out.push_back(e);
    return {};
  }
};

}  // namespace

std::unique_ptr<Parser> NewSparkPostParser(const ParserOptions&) { return std::make_unique<SparkPostParser>(); }

}  // namespace bs
