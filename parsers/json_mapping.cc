// Generic JSON mapping (see json_mapping.h).
#include "parsers/json_mapping.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
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

using Path = std::vector<std::string>;

// "a.b\.c" → {"a", "b.c"}; nullopt for an empty segment.
std::optional<Path> CompilePath(std::string_view dotted) {
  Path path;
  if (dotted.empty()) return path;
  std::string seg;
  for (size_t i = 0; i < dotted.size(); ++i) {
    char c = dotted[i];
    if (c == '\\' && i + 1 < dotted.size() && dotted[i + 1] == '.') {
      seg += '.';
      ++i;
    } else if (c == '.') {
      if (seg.empty()) return std::nullopt;
      path.push_back(std::move(seg));
      seg.clear();
    } else {
      seg += c;
    }
  }
  if (seg.empty()) return std::nullopt;
  path.push_back(std::move(seg));
  return path;
}

const std::vector<std::pair<std::string, Outcome>>& DefaultOutcomes() {
  static const auto* kDefaults = new std::vector<std::pair<std::string, Outcome>>{
      {"delivered", Outcome::kDelivered},     {"delivery", Outcome::kDelivered},
      {"sent", Outcome::kDelivered},          {"success", Outcome::kDelivered},
      {"relayed", Outcome::kDelivered},       {"deferred", Outcome::kDeferred},
      {"delayed", Outcome::kDeferred},        {"delay", Outcome::kDeferred},
      {"transient", Outcome::kDeferred},      {"transientfailure", Outcome::kDeferred},
      {"tempfail", Outcome::kDeferred},       {"soft_bounce", Outcome::kDeferred},
      {"bounced", Outcome::kBounced},         {"bounce", Outcome::kBounced},
      {"failed", Outcome::kBounced},          {"hard_bounce", Outcome::kBounced},
      {"permfail", Outcome::kBounced},        {"expired", Outcome::kExpired},
      {"expiration", Outcome::kExpired},      {"rejected", Outcome::kRejected},
      {"dropped", Outcome::kRejected},        {"blocked", Outcome::kRejected},
      {"refused", Outcome::kRejected},        {"complaint", Outcome::kComplaint},
      {"complained", Outcome::kComplaint},    {"spamreport", Outcome::kComplaint},
      {"spam_complaint", Outcome::kComplaint}, {"feedback", Outcome::kComplaint},
      {"oob", Outcome::kOutOfBand},           {"out_of_band", Outcome::kOutOfBand},
  };
  return *kDefaults;
}

class JsonMappingParser final : public JsonEventParser {
 public:
  explicit JsonMappingParser(const JsonFieldMap& map)
      : outcome_values_(map.outcome_values.empty() ? DefaultOutcomes() : map.outcome_values) {
    auto compile = [](const std::string& dotted) { return CompilePath(dotted).value_or(Path{}); };
    recipient_ = compile(map.recipient);
    outcome_ = compile(map.outcome);
    time_ = compile(map.time);
    sender_ = compile(map.sender);
    message_id_ = compile(map.message_id);
    campaign_ = compile(map.campaign);
    tenant_ = compile(map.tenant);
    sending_ip_ = compile(map.sending_ip);
    mx_host_ = compile(map.mx_host);
    mx_ip_ = compile(map.mx_ip);
    code_ = compile(map.code);
    enhanced_ = compile(map.enhanced);
    text_ = compile(map.text);
    attempt_ = compile(map.attempt);
  }

 protected:
  ParseResult ParseObject(object obj, const Position& pos, std::vector<DeliveryEvent>& out) override {
    DeliveryEvent e;
    e.position = pos;
    value v;
    // Outcome first: records that are not deliveries need nothing else.
    std::string_view outcome_text;
    if (ParseResult r = ReadString(obj, outcome_, "outcome", outcome_text); !r.ok()) return r;
    if (outcome_text.empty()) return ParseResult::Error(ParseError::kMissingField, "outcome");
    bool known = false;
    for (const auto& [name, outcome] : outcome_values_) {
      if (EqualsIgnoreCase(name, TrimSpaces(outcome_text))) {
        e.outcome = outcome;
        known = true;
        break;
      }
    }
    if (!known) return Finish(obj, ParseResult::Skip(SkipReason::kNotDelivery));

    simdjson::error_code err = Lookup(obj, time_, v);
    if (err == simdjson::NO_SUCH_FIELD || (!err && JsonTypeOf(v) == json_type::null)) {
      return ParseResult::Error(ParseError::kMissingField, "time");
    }
    if (err) return FieldError(err, "time");
    std::optional<int64_t> t = JsonTimeMs(v, arena_);
    if (!t) return ParseResult::Error(ParseError::kBadTimestamp, "time");
    e.event_time_ms = *t;

    recipients_.clear();
    err = Lookup(obj, recipient_, v);
    if (err == simdjson::NO_SUCH_FIELD || (!err && JsonTypeOf(v) == json_type::null)) {
      return ParseResult::Error(ParseError::kMissingField, "recipient");
    }
    if (err) return FieldError(err, "recipient");
    if (JsonTypeOf(v) == json_type::array) {
      array arr;
      if (auto ae = v.get_array().get(arr)) return FieldError(ae, "recipient");
      for (auto item : arr) {
        value iv;
        std::string_view s;
        if (auto ie = item.get(iv)) return FieldError(ie, "recipient");
        if (auto ie = JsonString(iv, arena_, s)) return FieldError(ie, "recipient");
        recipients_.push_back(s);
      }
    } else {
      std::string_view s;
      if (auto se = JsonString(v, arena_, s)) return FieldError(se, "recipient");
      recipients_.push_back(s);
    }
    if (recipients_.empty()) return ParseResult::Error(ParseError::kMissingField, "recipient");

    std::string_view text, enhanced, code, attempt;
    struct Text {
      const Path& path;
      const char* detail;
      std::string_view* out;
    };
    for (const Text& f : {Text{sender_, "sender", &e.sender}, Text{message_id_, "message_id", &e.message_id},
                          Text{campaign_, "campaign", &e.campaign}, Text{tenant_, "tenant", &e.tenant},
                          Text{sending_ip_, "sending_ip", &e.sending_ip}, Text{mx_host_, "mx_host", &e.mx_host},
                          Text{mx_ip_, "mx_ip", &e.mx_ip}, Text{text_, "text", &text},
                          Text{enhanced_, "enhanced", &enhanced}, Text{code_, "code", &code},
                          Text{attempt_, "attempt", &attempt}}) {
      if (ParseResult r = ReadString(obj, f.path, f.detail, *f.out); !r.ok()) return r;
    }
    e.sender = AddressInAngles(e.sender);
    e.sender_domain = DomainOf(e.sender);
    e.reply = ReplyFromText(StripDiagnosticType(text));
    if (!code.empty()) {
      std::optional<uint64_t> c = ParseDecimal(TrimSpaces(code));
      if (!c || *c > 999) return ParseResult::Error(ParseError::kBadFieldType, "code");
      e.reply.code = static_cast<uint16_t>(*c);
    }
    if (!enhanced.empty()) {
      EnhancedCode enh;
      if (!ParseEnhancedCode(TrimSpaces(enhanced), &enh)) return ParseResult::Error(ParseError::kBadFieldType, "enhanced");
      e.reply.enhanced = enh;
    }
    if (!attempt.empty()) {
      std::optional<uint64_t> a = ParseDecimal(TrimSpaces(attempt));
      if (!a || *a > 65535) return ParseResult::Error(ParseError::kBadFieldType, "attempt");
      e.attempt = static_cast<uint16_t>(*a);
    }
    for (std::string_view r : recipients_) {
      r = TrimSpaces(r);
      if (r.empty()) return ParseResult::Error(ParseError::kMissingField, "recipient");
      if (!IsPlausibleAddress(r)) return ParseResult::Error(ParseError::kBadRecipient, "recipient");
    }
    ParseResult done = Finish(obj, {});
    if (!done.ok()) return done;
    for (std::string_view r : recipients_) {
      e.recipient = TrimSpaces(r);
      e.recipient_domain = DomainOf(e.recipient);
      out.push_back(e);
    }
    return {};
  }

 private:
  // Finds `path` from the object's start. NO_SUCH_FIELD when absent, including a path that runs into a
  // scalar or past an array's end.
  simdjson::error_code Lookup(object& obj, const Path& path, value& out) {
    if (path.empty()) return simdjson::NO_SUCH_FIELD;
    bool unused;
    if (auto e = obj.reset().get(unused)) return e;
    value cur;
    if (auto e = obj.find_field_unordered(path[0]).get(cur)) return e;
    for (size_t i = 1; i < path.size(); ++i) {
      std::optional<json_type> t = JsonTypeOf(cur);
      if (!t) return simdjson::TAPE_ERROR;
      value next;
      if (*t == json_type::object) {
        if (auto e = cur.find_field_unordered(path[i]).get(next)) return e;
      } else if (*t == json_type::array) {
        std::optional<uint64_t> index = ParseDecimal(path[i]);
        if (!index) return simdjson::NO_SUCH_FIELD;
        array arr;
        if (auto e = cur.get_array().get(arr)) return e;
        auto e = arr.at(*index).get(next);
        if (e == simdjson::INDEX_OUT_OF_BOUNDS) return simdjson::NO_SUCH_FIELD;
        if (e) return e;
      } else {
        return simdjson::NO_SUCH_FIELD;
      }
      cur = next;
    }
    out = cur;
    return simdjson::SUCCESS;
  }

  // A string (or a number, as written) at `path`; empty when absent or null.
  ParseResult ReadString(object& obj, const Path& path, std::string_view detail, std::string_view& out) {
    value v;
    simdjson::error_code err = Lookup(obj, path, v);
    if (err == simdjson::NO_SUCH_FIELD) return {};
    if (err) return FieldError(err, detail);
    if (JsonTypeOf(v) == json_type::null) return {};
    if (auto e = JsonScalarText(v, arena_, out)) return FieldError(e, detail);
    return {};
  }

  // Leaves the object consumed (see JsonEventParser::ParseObject) and returns `result`.
  ParseResult Finish(object& obj, ParseResult result) {
    bool unused;
    if (auto e = obj.reset().get(unused)) return FieldError(e, "object");
    for (auto field : obj) {
      if (auto e = field.error()) return FieldError(e, "object");
    }
    return result;
  }

  std::vector<std::pair<std::string, Outcome>> outcome_values_;
  Path recipient_, outcome_, time_, sender_, message_id_, campaign_, tenant_, sending_ip_, mx_host_, mx_ip_, code_,
      enhanced_, text_, attempt_;
  std::vector<std::string_view> recipients_;
};

}  // namespace

absl::Status ValidateJsonFieldMap(const JsonFieldMap& map) {
  const std::pair<std::string_view, const std::string*> paths[] = {
      {"recipient", &map.recipient}, {"outcome", &map.outcome},     {"time", &map.time},
      {"sender", &map.sender},       {"message_id", &map.message_id}, {"campaign", &map.campaign},
      {"tenant", &map.tenant},       {"sending_ip", &map.sending_ip}, {"mx_host", &map.mx_host},
      {"mx_ip", &map.mx_ip},         {"code", &map.code},           {"enhanced", &map.enhanced},
      {"text", &map.text},           {"attempt", &map.attempt},
  };
  for (const auto& [name, path] : paths) {
    if (!CompilePath(*path)) {
      return absl::InvalidArgumentError(absl::StrCat("json mapping: field '", Av(name), "' has a malformed path '",
                                                     *path, "' (empty segment)"));
    }
  }
  for (std::string_view required : {"recipient", "outcome", "time"}) {
    for (const auto& [name, path] : paths) {
      if (name == required && path->empty()) {
        return absl::InvalidArgumentError(absl::StrCat("json mapping: field '", Av(name), "' needs a path"));
      }
    }
  }
  for (const auto& [value, outcome] : map.outcome_values) {
    if (value.empty()) return absl::InvalidArgumentError("json mapping: an outcome value is empty");
    if (outcome == Outcome::kEnvelope) {
      return absl::InvalidArgumentError("json mapping: 'envelope' is not an outcome a record can map to");
    }
  }
  return absl::OkStatus();
}

std::unique_ptr<Parser> NewJsonMappingParser(const ParserOptions& options) {
  return std::make_unique<JsonMappingParser>(options.json);
}

}  // namespace bs
