// KumoMTA JSON log records (one object per line, or one per Kafka message). Field reference:
// LOG_FORMATS.md §1. Records of the common shape are read by the fast scanner (kumomta_fast.h); every
// other one, and every error, by one pass over the object's fields with simdjson On-Demand, the reference
// reading: strings that need no unescaping stay views into the record, the rest live in simdjson's string
// buffer until the next Parse.
#include "parsers/kumomta.h"

#include <simdjson.h>

#include <cstring>
#include <vector>

#include "parsers/kumomta_fast.h"
#include "parsers/kumomta_fields.h"
#include "pipeline/base/event_time.h"
#include "pipeline/base/strings.h"

namespace bs {
namespace {

using simdjson::ondemand::json_type;
using simdjson::ondemand::object;
using simdjson::ondemand::value;

// The raw bytes of a field's key (just after its opening quote), or nullptr. Keys are compared in place
// with KeyIs: no scan for the closing quote, no copy, no unescaping (the hot path of every record).
// Comparing a few bytes past a short key is safe: records are followed by kRecordPadding readable bytes.
const char* KeyPtr(simdjson::simdjson_result<simdjson::ondemand::field>& f) {
  simdjson::ondemand::raw_json_string rk;
  if (f.key().get(rk)) return nullptr;
  return rk.raw();
}

// True when the key at `p` is exactly `lit` (an escaped key never equals one of ours).
template <size_t N>
inline bool KeyIs(const char* p, const char (&lit)[N]) {
  return std::memcmp(p, lit, N - 1) == 0 && p[N - 1] == '"';
}

// A string value as a view into the record when it has no escapes (most do not), else unescaped into
// simdjson's buffer (valid until the next document).
simdjson::error_code GetString(value& v, std::string_view& out) {
  std::string_view tok = v.raw_json_token();
  while (!tok.empty() && (tok.back() == ' ' || tok.back() == '\n' || tok.back() == '\r' || tok.back() == '\t')) {
    tok.remove_suffix(1);
  }
  if (tok.size() >= 2 && tok.front() == '"' && tok.back() == '"' && tok.find('\\') == std::string_view::npos) {
    out = tok.substr(1, tok.size() - 2);
    return simdjson::SUCCESS;
  }
  return v.get_string().get(out);
}

simdjson::error_code GetString(simdjson::simdjson_result<value> r, std::string_view& out) {
  value v;
  if (auto err = std::move(r).get(v)) return err;
  return GetString(v, out);
}

// The top-level fields we read; everything else is skipped without looking at its value.
enum class Field { kNone, kType, kRecipient, kSender, kId, kQueue, kEventTime, kTimestamp, kNumAttempts,
                   kEgressPool, kEgressSource, kResponse, kPeerAddress, kSourceAddress, kMeta };

Field FieldOf(const char* k) {
  if (k == nullptr) return Field::kNone;
  switch (k[0]) {
    case 'i': return KeyIs(k, "id") ? Field::kId : Field::kNone;
    case 't': return KeyIs(k, "type") ? Field::kType : KeyIs(k, "timestamp") ? Field::kTimestamp : Field::kNone;
    case 'm': return KeyIs(k, "meta") ? Field::kMeta : Field::kNone;
    case 'q': return KeyIs(k, "queue") ? Field::kQueue : Field::kNone;
    case 's': return KeyIs(k, "sender") ? Field::kSender : KeyIs(k, "source_address") ? Field::kSourceAddress : Field::kNone;
    case 'r': return KeyIs(k, "response") ? Field::kResponse : KeyIs(k, "recipient") ? Field::kRecipient : Field::kNone;
    case 'e':
      return KeyIs(k, "event_time")      ? Field::kEventTime
             : KeyIs(k, "egress_pool")   ? Field::kEgressPool
             : KeyIs(k, "egress_source") ? Field::kEgressSource
                                         : Field::kNone;
    case 'n': return KeyIs(k, "num_attempts") ? Field::kNumAttempts : Field::kNone;
    case 'p': return KeyIs(k, "peer_address") ? Field::kPeerAddress : Field::kNone;
    default: return Field::kNone;
  }
}

class KumoMtaParser final : public Parser {
 public:
  explicit KumoMtaParser(KumoMtaPath path) {
    if (path == KumoMtaPath::kFastWithFallback) fast_ = std::make_unique<kumomta::FastScanner>();
  }

  ParseResult Parse(std::string_view record, const Position& pos, std::vector<DeliveryEvent>& out) override {
    while (!record.empty() && (record.back() == '\n' || record.back() == '\r')) record.remove_suffix(1);
    if (record.empty()) return ParseResult::Error(ParseError::kEmpty);
    if (record.size() > kMaxRecordBytes) return ParseResult::Error(ParseError::kTooLarge);
    if (fast_ != nullptr) {
      // The event is built in place (no copy of it); taken back out if the slow path is needed.
      DeliveryEvent& e = out.emplace_back();
      e.position = pos;
      kumomta::FastScanner::Scan scan;
      if (fast_->Run(record, scan, e)) {
        // Errors are left to the slow path, which reports them with its own details.
        ParseResult r = kumomta::FinishRecord(scan.fields, e);
        if (r.ok() && r.skip == SkipReason::kNone && scan.has_recipient) {
          e.recipient = scan.recipient;
          e.recipient_domain = scan.recipient_domain;
          return {};
        }
        if (r.ok() && r.skip != SkipReason::kNone) {
          out.pop_back();
          return r;
        }
      }
      out.pop_back();
    }
    recipients_.clear();
    end_ = record.data() + record.size();
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
    // Stage 1 validates UTF-8 over the whole record, so no separate pass is needed.
    if (auto err = parser_.iterate(record.data(), record.size(), record.size() + simdjson::SIMDJSON_PADDING).get(doc)) {
      return ParseResult::Error(err == simdjson::UTF8_ERROR ? ParseError::kInvalidUtf8 : ParseError::kInvalidJson);
    }
    object obj;
    if (auto err = doc.get_object().get(obj)) {
      if (err == simdjson::UTF8_ERROR) return ParseResult::Error(ParseError::kInvalidUtf8);
      if (record.front() != '{') return ParseResult::Error(ParseError::kNotAnObject);
      if (err == simdjson::INCOMPLETE_ARRAY_OR_OBJECT) return ParseResult::Error(ParseError::kTruncated);
      return ParseResult::Error(ParseError::kInvalidJson);
    }
    kumomta::RecordFields f;
    for (auto field : obj) {
      const char* raw_key = KeyPtr(field);
      if (raw_key == nullptr) return ParseResult::Error(ParseError::kInvalidJson);
      const Field key = FieldOf(raw_key);
      if (key == Field::kNone) continue;
      value v;
      if (field.value().get(v)) return ParseResult::Error(ParseError::kInvalidJson);
      json_type t;
      if (v.type().get(t)) return ParseResult::Error(ParseError::kInvalidJson);
      if (t == json_type::null) continue;
      simdjson::error_code err = simdjson::SUCCESS;
      if (key == Field::kType) {
        err = GetString(v, f.type_name);
      } else if (key == Field::kRecipient) {
        if (t == json_type::array) {
          simdjson::ondemand::array arr;
          err = v.get_array().get(arr);
          for (auto item : arr) {
            std::string_view s;
            if ((err = GetString(std::move(item), s))) break;
            recipients_.push_back(s);
          }
        } else {
          std::string_view s;
          err = GetString(v, s);
          if (!err) recipients_.push_back(s);
        }
        if (err) return ParseResult::Error(ParseError::kBadFieldType, "recipient");
      } else if (key == Field::kSender) {
        err = GetString(v, e.sender);
        e.sender_domain = DomainOf(e.sender);
      } else if (key == Field::kId) {
        err = GetString(v, e.message_id);
      } else if (key == Field::kQueue) {
        err = GetString(v, f.queue);
      } else if (key == Field::kEventTime) {
        err = GetString(v, f.event_time);
      } else if (key == Field::kTimestamp) {
        // Integer seconds as kumod writes them; some shippers rewrite it as an RFC 3339 string.
        if (t == json_type::string) {
          std::string_view ts;
          err = GetString(v, ts);
          std::optional<int64_t> ms = err ? std::nullopt : ParseIsoTime(ts);
          if (!ms) return ParseResult::Error(ParseError::kBadTimestamp, "timestamp");
          f.timestamp_s = *ms / 1000;
        } else if (v.get_int64().get(f.timestamp_s) || f.timestamp_s < 0) {
          return ParseResult::Error(ParseError::kBadTimestamp, "timestamp");
        }
      } else if (key == Field::kNumAttempts) {
        uint64_t n = 0;
        err = v.get_uint64().get(n);
        e.attempt = static_cast<uint16_t>(n > 65535 ? 65535 : n);
      } else if (key == Field::kEgressPool) {
        err = GetString(v, e.egress_pool);
      } else if (key == Field::kEgressSource) {
        err = GetString(v, e.egress_source);
      } else if (key == Field::kResponse) {
        f.have_response = true;
        if (ParseResult r = ParseResponse(v, e); !r.ok()) return r;
      } else if (key == Field::kPeerAddress) {
        object peer;
        if ((err = v.get_object().get(peer))) return ParseResult::Error(ParseError::kBadFieldType, "peer_address");
        for (auto pf : peer) {
          const char* pk = KeyPtr(pf);
          if (pk == nullptr) return ParseResult::Error(ParseError::kInvalidJson);
          if (KeyIs(pk, "name")) {
            err = GetString(pf.value(), e.mx_host);
          } else if (KeyIs(pk, "addr")) {
            err = GetString(pf.value(), e.mx_ip);
          }
          if (err) return ParseResult::Error(ParseError::kBadFieldType, "peer_address");
        }
      } else if (key == Field::kSourceAddress) {
        object src;
        if ((err = v.get_object().get(src))) return ParseResult::Error(ParseError::kBadFieldType, "source_address");
        for (auto sf : src) {
          const char* sk = KeyPtr(sf);
          if (sk == nullptr) return ParseResult::Error(ParseError::kInvalidJson);
          if (KeyIs(sk, "address")) {
            std::string_view a;
            if ((err = GetString(sf.value(), a))) break;
            e.sending_ip = kumomta::StripPort(a);
          }
        }
        if (err) return ParseResult::Error(ParseError::kBadFieldType, "source_address");
      } else if (key == Field::kMeta) {
        object meta;
        if ((err = v.get_object().get(meta))) return ParseResult::Error(ParseError::kBadFieldType, "meta");
        for (auto mf : meta) {
          const char* mk = KeyPtr(mf);
          if (mk == nullptr) return ParseResult::Error(ParseError::kInvalidJson);
          if (KeyIs(mk, "campaign") || KeyIs(mk, "campaign_id")) {
            std::string_view s;
            if (!GetString(mf.value(), s)) e.campaign = s;
          } else if (KeyIs(mk, "tenant")) {
            std::string_view s;
            if (!GetString(mf.value(), s)) e.tenant = s;
          }
        }
        if (err) return ParseResult::Error(ParseError::kInvalidJson, "meta");
      }
      if (err) return ParseResult::Error(ParseError::kBadFieldType, "field");
    }
    return kumomta::FinishRecord(f, e);
  }

  ParseResult ParseResponse(value v, DeliveryEvent& e) {
    object resp;
    if (v.get_object().get(resp)) return ParseResult::Error(ParseError::kBadFieldType, "response");
    for (auto f : resp) {
      const char* k = KeyPtr(f);
          if (k == nullptr) return ParseResult::Error(ParseError::kInvalidJson);
      value fv;
      if (f.value().get(fv)) return ParseResult::Error(ParseError::kInvalidJson, "response");
      json_type t;
      if (fv.type().get(t)) return ParseResult::Error(ParseError::kInvalidJson, "response");
      if (t == json_type::null) continue;
      if (KeyIs(k, "code")) {
        uint64_t code = 0;
        if (fv.get_uint64().get(code) || code > 999) return ParseResult::Error(ParseError::kBadFieldType, "response.code");
        e.reply.code = static_cast<uint16_t>(code);
      } else if (KeyIs(k, "content")) {
        if (GetString(fv, e.reply.text)) return ParseResult::Error(ParseError::kBadFieldType, "response.content");
      } else if (KeyIs(k, "command")) {
        std::string_view c;
        if (GetString(fv, c)) return ParseResult::Error(ParseError::kBadFieldType, "response.command");
        e.stage = kumomta::StageFromCommand(c);
      } else if (KeyIs(k, "enhanced_code")) {
        object ec;
        if (fv.get_object().get(ec)) return ParseResult::Error(ParseError::kBadFieldType, "response.enhanced_code");
        uint64_t cls = 0, subject = 0, detail = 0;
        for (auto ef : ec) {
          const char* ek = KeyPtr(ef);
          if (ek == nullptr) return ParseResult::Error(ParseError::kInvalidJson);
          uint64_t n = 0;
          if (ef.value().get_uint64().get(n) || n > 999) {
            return ParseResult::Error(ParseError::kBadFieldType, "response.enhanced_code");
          }
          if (KeyIs(ek, "class")) cls = n;
          else if (KeyIs(ek, "subject")) subject = n;
          else if (KeyIs(ek, "detail")) detail = n;
        }
        if (cls >= 2 && cls <= 5) {
          e.reply.enhanced = {static_cast<uint8_t>(cls), static_cast<uint16_t>(subject), static_cast<uint16_t>(detail)};
        }
      }
    }
    if (StartsWith(e.reply.text, "KumoMTA internal:")) e.locally_generated = true;
    return {};
  }

  std::unique_ptr<kumomta::FastScanner> fast_;  // null: On-Demand only
  simdjson::ondemand::parser parser_;
  std::vector<std::string_view> recipients_;
  const char* end_ = nullptr;  // one past the current record
};

}  // namespace

std::unique_ptr<Parser> NewKumoMtaParser(const ParserOptions& options) {
  return NewKumoMtaParser(options, KumoMtaPath::kFastWithFallback);
}

std::unique_ptr<Parser> NewKumoMtaParser(const ParserOptions&, KumoMtaPath path) {
  return std::make_unique<KumoMtaParser>(path);
}

}  // namespace bs
