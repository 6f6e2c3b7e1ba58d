#include "pipeline/sink/encoders.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "pipeline/base/json_writer.h"
#include "pipeline/base/stable_hash.h"
#include "pipeline/base/strings.h"
#include "pipeline/worker/esp_class.h"
#include "simdjson.h"

namespace bs {

std::string_view AlertKindName(AlertKind k) {
  static constexpr std::string_view kNames[] = {
      "rate_limit",   "dmarc_failure", "spf_failure",   "dkim_failure", "auth_failure",    "blocklist",
      "reputation",   "spam_content",  "sender_config", "tls_failure",  "domain_deferrals", "silence",
  };
  return kNames[static_cast<size_t>(k)];
}

std::string_view AlertStateName(AlertState s) {
  switch (s) {
    case AlertState::kFiring: return "firing";
    case AlertState::kUpdated: return "updated";
    case AlertState::kResolved: return "resolved";
  }
  return "firing";
}

std::string EnhancedToString(const EnhancedCode& e) {
  if (!e.present()) return "";
  return absl::StrCat(e.cls, ".", e.subject, ".", e.detail);
}

namespace {

bool Hashing(const AddressHasher* p) { return p != nullptr && p->enabled(); }

// `text` with addresses replaced when hashing (a copy only then).
std::string_view Redacted(const AddressHasher* p, std::string_view text, std::string& scratch) {
  if (!Hashing(p) || !AddressHasher::HasAddress(text)) return text;
  scratch.clear();
  p->RedactTo(text, scratch);
  return scratch;
}

}  // namespace

std::string SuppressionId(const SuppressionRecord& r) { return SuppressionId(r, r.key); }

std::string SuppressionId(const SuppressionRecord& r, std::string_view key) {
  std::string_view action = r.hygiene_action.empty() ? ActionName(r.action) : r.hygiene_action;
  StableHash h;
  h.Add(key).Add(action);
  if (r.epoch > 0) h.Add(static_cast<int64_t>(r.epoch));
  return h.Hex();
}

void EncodeSuppression(const SuppressionRecord& r, std::string& out, const AddressHasher* privacy) {
  const bool hashing = Hashing(privacy);
  const std::string hashed_key = hashing ? privacy->Key(r.key) : std::string();
  const std::string_view key = hashing ? std::string_view(hashed_key) : std::string_view(r.key);
  std::string scratch;
  JsonWriter w(out);
  w.BeginObject();
  w.KVInt("schema", 1);
  w.KV("id", SuppressionId(r, key));
  w.KV("type", r.hygiene ? "hygiene" : "suppression");
  w.KV("key", key);
  w.KV("scope", ScopeName(r.scope));
  w.KV("action", r.hygiene_action.empty() ? ActionName(r.action) : std::string_view(r.hygiene_action));
  w.KV("category", CategoryName(r.category));
  w.KV("provider", ProviderName(r.provider));
  w.KV("rule", r.rule);
  if (!r.decision.empty()) w.KV("decision", r.decision);
  w.KV("ruleset_version", r.ruleset_version);
  w.Key("reply");
  w.BeginObject();
  w.KVInt("code", r.code);
  w.KV("enhanced", EnhancedToString(r.enhanced));
  w.KV("text", Redacted(privacy, r.text, scratch));
  w.EndObject();
  if (!r.campaign.empty()) w.KV("campaign", Redacted(privacy, r.campaign, scratch));
  if (!r.tenant.empty()) w.KV("tenant", Redacted(privacy, r.tenant, scratch));
  w.Key("evidence");
  w.BeginArray();
  for (const Evidence& e : r.evidence) {
    w.BeginObject();
    w.KV("position", e.position);
    w.KVInt("event_time", e.event_time_ms);
    w.EndObject();
  }
  w.EndArray();
  w.KVInt("first_seen", r.first_seen_ms);
  w.KVInt("decided_at", r.decided_at_ms);
  if (r.epoch > 0) w.KVInt("epoch", r.epoch);
  w.EndObject();
}

void EncodeAlert(const AlertRecord& r, std::string& out, const AddressHasher* privacy) {
  std::string scratch;
  JsonWriter w(out);
  w.BeginObject();
  w.KVInt("schema", 1);
  w.KV("id", r.id);
  w.KV("kind", AlertKindName(r.kind));
  w.KV("state", AlertStateName(r.state));
  w.Key("key");
  w.BeginObject();
  w.KV("provider", ProviderName(r.key.provider));
  if (!r.key.sending_ip.empty()) w.KV("sending_ip", r.key.sending_ip);
  if (!r.key.sender_domain.empty()) w.KV("sender_domain", r.key.sender_domain);
  if (!r.key.mta.empty()) w.KV("mta", r.key.mta);
  if (!r.key.domain.empty()) w.KV("domain", r.key.domain);
  w.EndObject();
  w.Key("window");
  w.BeginObject();
  w.KVInt("start", r.window_start_ms);
  w.KVInt("end", r.window_end_ms);
  w.EndObject();
  if (r.since_ms) w.KVInt("since", r.since_ms);
  w.Key("count");
  w.Uint(r.count);
  w.Key("soft");
  w.Uint(r.soft);
  w.Key("hard");
  w.Uint(r.hard);
  w.Key("attempts");
  w.Uint(r.attempts);
  w.Key("rate");
  w.Double(r.rate);
  w.Key("baseline");
  w.Double(r.baseline);
  w.KV("severity", r.severity);
  if (!r.escalation.empty()) {
    w.Key("escalation");
    w.BeginArray();
    for (const auto& s : r.escalation) w.String(s);
    w.EndArray();
  }
  w.KV("action", ActionName(r.action));
  w.Key("samples");
  w.BeginArray();
  for (const auto& s : r.samples) w.String(Redacted(privacy, s, scratch));
  w.EndArray();
  w.Key("rules");
  w.BeginArray();
  for (const auto& s : r.rules) w.String(s);
  w.EndArray();
  if (!r.blocklists.empty()) {
    w.Key("blocklists");
    w.BeginArray();
    for (const auto& s : r.blocklists) w.String(s);
    w.EndArray();
  }
  w.EndObject();
}

void EncodeDeadLetter(const DeadLetter& d, std::string& out, const AddressHasher* privacy) {
  std::string scratch;
  // Redacted on the bytes, before base64, so an invalid-UTF-8 record hides its addresses too.
  const std::string_view bytes = Redacted(privacy, d.bytes, scratch);
  JsonWriter w(out);
  w.BeginObject();
  w.KVInt("schema", 1);
  w.KV("error", ParseErrorName(d.error));
  if (!d.detail.empty()) w.KV("detail", d.detail);
  w.KV("position", d.position.ToString());
  if (simdjson::validate_utf8(bytes.data(), bytes.size())) {
    w.KV("record", bytes);
  } else {
    w.KV("record_base64", absl::Base64Escape(Av(bytes)));
  }
  if (Hashing(privacy)) {
    w.Key("redacted");
    w.Bool(true);
  }
  w.EndObject();
}

void EncodeClassified(const ClassifiedEvent& ce, std::string_view ruleset_version, std::string& out,
                      const AddressHasher* privacy) {
  const DeliveryEvent& e = ce.event;
  const Classification& c = ce.cls;
  const bool hashing = Hashing(privacy);
  std::string scratch;
  JsonWriter w(out);
  w.BeginObject();
  w.KVInt("schema", 1);
  w.KVInt("event_time", e.event_time_ms);
  w.KV("outcome", OutcomeName(e.outcome));
  if (hashing) {
    w.KV("recipient", privacy->Key(e.recipient));
    if (!e.sender.empty()) w.KV("sender", privacy->Key(e.sender));
  } else {
    w.KV("recipient", e.recipient);
    if (!e.sender.empty()) w.KV("sender", e.sender);
  }
  if (!e.campaign.empty()) w.KV("campaign", e.campaign);
  if (!e.tenant.empty()) w.KV("tenant", e.tenant);
  if (!e.sending_ip.empty()) w.KV("sending_ip", e.sending_ip);
  if (!e.mx_host.empty()) w.KV("mx", e.mx_host);
  if (e.esp_class.present()) w.KV("esp_class", EspClassText(e.esp_class));  // "ses:Permanent/NoEmail"
  w.Key("reply");
  w.BeginObject();
  w.KVInt("code", c.code);
  w.KV("enhanced", EnhancedToString(c.enhanced));
  w.KV("text", Redacted(privacy, e.reply.text, scratch));
  w.EndObject();
  w.Key("classification");
  w.BeginObject();
  w.KV("provider", ProviderName(c.provider));
  w.KV("bounce_type", BounceTypeName(c.bounce_type));
  w.KV("category", CategoryName(c.category));
  w.KV("action", ActionName(c.action));
  w.KV("scope", ScopeName(c.scope));
  w.KV("rule", c.rule);
  if (!c.blocklist.empty()) w.KV("blocklist", c.blocklist);
  w.KV("ruleset_version", ruleset_version);
  w.EndObject();
  w.KV("position", e.position.ToString());
  w.EndObject();
}

void EncodeLate(const ClassifiedEvent& e, int64_t watermark_ms, int partition, std::string_view ruleset_version,
                std::string& out, const AddressHasher* privacy) {
  absl::StrAppend(&out, "{\"schema\":1,\"late\":{\"watermark\":", watermark_ms, ",\"partition\":", partition,
                  "},\"event\":");
  EncodeClassified(e, ruleset_version, out, privacy);
  out += '}';
}

}  // namespace bs
