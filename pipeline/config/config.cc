// The configuration loader: TOML (toml++, header-only without exceptions, as in rules/rule_file.cc) →
// option structs, then environment overrides, then validation. One table describes every key (its
// section, type and setter), so the file, the environment and the list of accepted keys cannot disagree.
#include "pipeline/config/config.h"

#undef TOML_HEADER_ONLY
#undef TOML_SHARED_LIB
#define TOML_HEADER_ONLY 1
#define TOML_EXCEPTIONS 0
#include <toml++/toml.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "parsers/json_mapping.h"
#include "pipeline/base/strings.h"

extern char** environ;

namespace bs {
namespace {

constexpr std::string_view kEnvPrefix = "BOUNCESTREAM_";

enum class Type : uint8_t { kString, kInt, kBool, kStringList, kDouble };

struct Value {
  Type type = Type::kString;
  std::string s;
  int64_t i = 0;
  double d = 0;
  bool b = false;
  std::vector<std::string> list;
};

// A setter returns "" on success or what is wrong with the value.
using Setter = std::function<std::string(Config&, const Value&)>;

struct Field {
  std::string_view key;
  Type type;
  Setter set;
};

// A sub-table whose keys are free: librdkafka properties and per-topic formats (string maps), per-kind
// and per-provider alert thresholds, per-tenant decision policies (tables of known keys).
enum class MapKind : uint8_t { kProperties, kConsumerProperties, kProducerProperties, kFormats, kJsonFields, kJsonOutcomes, kThresholds, kTenants };
struct SubTable {
  std::string_view name;
  MapKind kind;
};

struct Section {
  std::string_view name;
  std::vector<Field> fields;
  std::vector<SubTable> tables;
};

Setter StringField(std::function<std::string&(Config&)> get) {
  return [get](Config& c, const Value& v) {
    get(c) = v.s;
    return std::string();
  };
}

template <typename T>
Setter IntField(std::function<T&(Config&)> get, int64_t lo, int64_t hi, int64_t scale = 1) {
  return [get, lo, hi, scale](Config& c, const Value& v) {
    if (v.i < lo || v.i > hi) return absl::StrCat("must be between ", lo, " and ", hi);
    get(c) = static_cast<T>(v.i * scale);
    return std::string();
  };
}

Setter DoubleField(std::function<double&(Config&)> get, double lo, double hi) {
  return [get, lo, hi](Config& c, const Value& v) {
    if (!(v.d >= lo && v.d <= hi)) return absl::StrCat("must be between ", lo, " and ", hi);
    get(c) = v.d;
    return std::string();
  };
}

Setter BoolField(std::function<bool&(Config&)> get) {
  return [get](Config& c, const Value& v) {
    get(c) = v.b;
    return std::string();
  };
}

template <typename E>
Setter EnumField(std::function<E&(Config&)> get, std::vector<std::pair<std::string_view, E>> names) {
  return [get, names](Config& c, const Value& v) {
    for (const auto& [n, e] : names) {
      if (v.s == n) {
        get(c) = e;
        return std::string();
      }
    }
    std::vector<std::string> all;
    for (const auto& [n, e] : names) all.push_back(absl::StrCat("\"", Av(n), "\""));
    return absl::StrCat("must be one of ", absl::StrJoin(all, ", "));
  };
}

// The keys of [input.json]: JsonFieldMap's paths by name (the loader, validation and describe share it).
template <typename Map, typename Str = std::conditional_t<std::is_const_v<Map>, const std::string, std::string>>
std::vector<std::pair<std::string_view, Str*>> JsonFieldPaths(Map& m) {
  return {{"recipient", &m.recipient},   {"outcome", &m.outcome},       {"time", &m.time},
          {"sender", &m.sender},         {"message_id", &m.message_id}, {"campaign", &m.campaign},
          {"tenant", &m.tenant},         {"sending_ip", &m.sending_ip}, {"mx_host", &m.mx_host},
          {"mx_ip", &m.mx_ip},           {"code", &m.code},             {"enhanced", &m.enhanced},
          {"text", &m.text},             {"attempt", &m.attempt}};
}

std::string JoinNames(const std::vector<std::string_view>& names) {
  std::string out;
  for (std::string_view n : names) absl::StrAppend(&out, out.empty() ? "" : ", ", Av(n));
  return out;
}

std::string SetFormat(Format& out, const std::string& name) {
  std::optional<Format> f = FormatFromName(name);
  if (!f) return absl::StrCat("unknown log format \"", name, "\" (kumomta, postfix, powermta, exim, sendgrid, ",
                              "mailgun, ses, sparkpost, json, auto)");
  out = *f;
  return "";
}

const std::vector<Section>& Schema() {
  static const auto* schema = new std::vector<Section>{
      {"kafka",
       {
           {"brokers", Type::kString, StringField([](Config& c) -> std::string& { return c.kafka.brokers; })},
           {"group_id", Type::kString, StringField([](Config& c) -> std::string& { return c.kafka.group_id; })},
           {"group_instance_id", Type::kString,
            StringField([](Config& c) -> std::string& { return c.kafka.group_instance_id; })},
           {"input_topics", Type::kStringList,
            [](Config& c, const Value& v) {
              c.kafka.input_topics = v.list;
              return std::string();
            }},
           {"delivery", Type::kString,
            EnumField<DeliveryMode>([](Config& c) -> DeliveryMode& { return c.kafka.delivery; },
                                    {{"at_least_once", DeliveryMode::kAtLeastOnce},
                                     {"exactly_once", DeliveryMode::kExactlyOnce}})},
           {"transactional_id", Type::kString,
            StringField([](Config& c) -> std::string& { return c.kafka.transactional_id; })},
       },
       {{"properties", MapKind::kProperties},
        {"consumer_properties", MapKind::kConsumerProperties},
        {"producer_properties", MapKind::kProducerProperties}}},
      {"topics",
       {
           {"alerts", Type::kString, StringField([](Config& c) -> std::string& { return c.topics.alerts; })},
           {"suppressions", Type::kString,
            StringField([](Config& c) -> std::string& { return c.topics.suppressions; })},
           {"dlq", Type::kString, StringField([](Config& c) -> std::string& { return c.topics.dlq; })},
           {"classified", Type::kString, StringField([](Config& c) -> std::string& { return c.topics.classified; })},
           {"late", Type::kString, StringField([](Config& c) -> std::string& { return c.topics.late; })},
           {"changelog", Type::kString, StringField([](Config& c) -> std::string& { return c.topics.changelog; })},
           {"repartition", Type::kString,
            StringField([](Config& c) -> std::string& { return c.topics.repartition; })},
           {"create_missing", Type::kBool, BoolField([](Config& c) -> bool& { return c.topics.create_missing; })},
           {"replication_factor", Type::kInt,
            IntField<int>([](Config& c) -> int& { return c.topics.replication_factor; }, -1, 32)},
       },
       {}},
      {"input",
       {
           {"format", Type::kString, [](Config& c, const Value& v) { return SetFormat(c.input.format, v.s); }},
           {"powermta_header", Type::kString,
            StringField([](Config& c) -> std::string& { return c.input.powermta_header; })},
       },
       {{"formats", MapKind::kFormats}, {"json", MapKind::kJsonFields}, {"json_outcomes", MapKind::kJsonOutcomes}}},
      {"processing",
       {
           {"workers", Type::kInt, IntField<int>([](Config& c) -> int& { return c.processing.workers; }, 1, 256)},
           {"max_batch_messages", Type::kInt,
            IntField<int>([](Config& c) -> int& { return c.processing.max_batch_messages; }, 1, 1000000)},
           {"max_batch_wait_ms", Type::kInt,
            IntField<int>([](Config& c) -> int& { return c.processing.max_batch_wait_ms; }, 1, 60000)},
           {"max_in_flight_mb", Type::kInt,
            IntField<int64_t>([](Config& c) -> int64_t& { return c.processing.max_in_flight_bytes; }, 1, 65536,
                              1 << 20)},
           {"commit_interval_ms", Type::kInt,
            IntField<int>([](Config& c) -> int& { return c.processing.commit_interval_ms; }, 10, 600000)},
           {"idle_partition_seconds", Type::kInt,
            IntField<int>([](Config& c) -> int& { return c.processing.idle_partition_ms; }, 0, 86400, 1000)},
       },
       {}},
      {"alerts",
       {
           {"window_minutes", Type::kInt,
            IntField<int64_t>([](Config& c) -> int64_t& { return c.alerts.window_ms; }, 1, 24 * 60, 60 * 1000)},
           {"advance_seconds", Type::kInt,
            IntField<int64_t>([](Config& c) -> int64_t& { return c.alerts.advance_ms; }, 1, 86400, 1000)},
           {"out_of_orderness_seconds", Type::kInt,
            IntField<int64_t>([](Config& c) -> int64_t& { return c.alerts.out_of_orderness_ms; }, 0, 86400, 1000)},
           {"grace_seconds", Type::kInt,
            IntField<int64_t>([](Config& c) -> int64_t& { return c.alerts.grace_ms; }, 0, 86400, 1000)},
           {"resolve_after_minutes", Type::kInt,
            IntField<int64_t>([](Config& c) -> int64_t& { return c.alerts.resolve_after_ms; }, 1, 7 * 24 * 60,
                              60 * 1000)},
           {"stale_after_minutes", Type::kInt,
            IntField<int64_t>([](Config& c) -> int64_t& { return c.alerts.stale_after_ms; }, 1, 30 * 24 * 60,
                              60 * 1000)},
           {"idle_timeout_minutes", Type::kInt,
            IntField<int64_t>([](Config& c) -> int64_t& { return c.alerts.idle_timeout_ms; }, 0, 7 * 24 * 60,
                              60 * 1000)},
           {"update_factor", Type::kDouble,
            DoubleField([](Config& c) -> double& { return c.alerts.update_factor; }, 1, 1000)},
           {"update_cooldown_minutes", Type::kInt,
            IntField<int64_t>([](Config& c) -> int64_t& { return c.alerts.update_cooldown_ms; }, 0, 24 * 60,
                              60 * 1000)},
           {"key_ttl_hours", Type::kInt,
            IntField<int64_t>([](Config& c) -> int64_t& { return c.alerts.key_ttl_ms; }, 0, 365 * 24,
                              3600 * 1000)},
           {"baseline_alpha", Type::kDouble,
            DoubleField([](Config& c) -> double& { return c.alerts.baseline_alpha; }, 0.001, 1)},
           {"cold_start_rate", Type::kDouble,
            DoubleField([](Config& c) -> double& { return c.alerts.cold_start_rate; }, 0, 1)},
           {"rising_delta", Type::kDouble, DoubleField([](Config& c) -> double& { return c.alerts.rising_delta; }, 0, 1)},
           {"escalation_run_minutes", Type::kInt,
            IntField<int64_t>([](Config& c) -> int64_t& { return c.alerts.escalation_run_ms; }, 0, 7 * 24 * 60,
                              60 * 1000)},
           {"ageing_after_minutes", Type::kInt,
            IntField<int64_t>([](Config& c) -> int64_t& { return c.alerts.ageing_after_ms; }, 0, 30 * 24 * 60,
                              60 * 1000)},
           {"ageing_attempts", Type::kInt,
            IntField<uint16_t>([](Config& c) -> uint16_t& { return c.alerts.ageing_attempts; }, 1, 65535)},
       },
       {{"thresholds", MapKind::kThresholds}}},
      {"decisions",
       {
           {"reengage_campaigns", Type::kInt,
            IntField<int>([](Config& c) -> int& { return c.decisions.policy.reengage_campaigns; }, 1,
                          kMaxStreakCampaigns)},
           {"verify_attempts", Type::kInt,
            IntField<int>([](Config& c) -> int& { return c.decisions.policy.verify_attempts; }, 1, 255)},
           {"verify_min_campaigns", Type::kInt,
            IntField<int>([](Config& c) -> int& { return c.decisions.policy.verify_min_campaigns; }, 1,
                          kMaxStreakCampaigns)},
           {"suppress_repeated_storage_exceeded", Type::kBool,
            BoolField([](Config& c) -> bool& { return c.decisions.policy.suppress_repeated_storage_exceeded; })},
           {"mailbox_full_campaigns", Type::kInt,
            IntField<int>([](Config& c) -> int& { return c.decisions.policy.mailbox_full_campaigns; }, 0,
                          kMaxStreakCampaigns)},
           {"mailbox_full_min_span_days", Type::kInt,
            IntField<int64_t>([](Config& c) -> int64_t& { return c.decisions.policy.mailbox_full_min_span_ms; }, 0,
                              3650, kDayMs)},
           {"unsuppress_on_delivery", Type::kBool,
            BoolField([](Config& c) -> bool& { return c.decisions.policy.unsuppress_on_delivery; })},
           {"campaign_fallback", Type::kString,
            EnumField<CampaignFallback>([](Config& c) -> CampaignFallback& { return c.decisions.campaign_fallback; },
                                        {{"none", CampaignFallback::kNone},
                                         {"sender_tag", CampaignFallback::kSenderTag},
                                         {"day", CampaignFallback::kDay},
                                         {"sender_tag_or_day", CampaignFallback::kSenderTagOrDay}})},
           {"sender_tag_separator", Type::kString,
            [](Config& c, const Value& v) {
              if (v.s.size() != 1 || v.s[0] == '@') return std::string("must be one character other than '@'");
              c.decisions.sender_tag_separator = v.s[0];
              return std::string();
            }},
           {"history_ttl_days", Type::kInt,
            IntField<int64_t>([](Config& c) -> int64_t& { return c.decisions.ttl.history_ms; }, 1, 3650, kDayMs)},
           {"suppression_ttl_days", Type::kInt,
            IntField<int64_t>([](Config& c) -> int64_t& { return c.decisions.ttl.suppression_ms; }, 1, 3650, kDayMs)},
           {"sweep_interval_minutes", Type::kInt,
            IntField<int64_t>([](Config& c) -> int64_t& { return c.decisions.ttl.sweep_interval_ms; }, 1, 7 * 24 * 60,
                              60 * 1000)},
           {"expected_addresses", Type::kInt,
            IntField<size_t>([](Config& c) -> size_t& { return c.decisions.expected_addresses; }, 0, 1000000000)},
       },
       {{"tenants", MapKind::kTenants}}},
      {"alerts.silence",  // [alerts.silence]: pipeline/window/silence_detector.h
       {
           {"enabled", Type::kBool, BoolField([](Config& c) -> bool& { return c.alerts.silence.enabled; })},
           {"window_minutes", Type::kInt,
            IntField<int64_t>([](Config& c) -> int64_t& { return c.alerts.silence.window_ms; }, 1, 24 * 60,
                              60 * 1000)},
           {"min_events_per_window", Type::kInt,
            IntField<uint64_t>([](Config& c) -> uint64_t& { return c.alerts.silence.min_events_per_window; }, 1,
                               1000000000)},
           {"quiet_percent", Type::kInt,
            IntField<int>([](Config& c) -> int& { return c.alerts.silence.quiet_percent; }, 0, 99)},
           {"quiet_windows", Type::kInt,
            IntField<int>([](Config& c) -> int& { return c.alerts.silence.quiet_windows; }, 1, 1000)},
           {"rest_min_percent", Type::kInt,
            IntField<int>([](Config& c) -> int& { return c.alerts.silence.rest_min_percent; }, 0, 100)},
           {"warmup_windows", Type::kInt,
            IntField<int>([](Config& c) -> int& { return c.alerts.silence.warmup_windows; }, 0, 1000)},
           {"baseline_alpha", Type::kDouble,
            DoubleField([](Config& c) -> double& { return c.alerts.silence.baseline_alpha; }, 0.001, 1)},
       },
       {}},
      {"rules",
       {
           {"dir", Type::kString, StringField([](Config& c) -> std::string& { return c.rules.dir; })},
           {"local_dir", Type::kString, StringField([](Config& c) -> std::string& { return c.rules.local_dir; })},
           {"reload", Type::kString,
            EnumField<RulesOptions::Reload>([](Config& c) -> RulesOptions::Reload& { return c.rules.reload; },
                                            {{"off", RulesOptions::Reload::kOff},
                                             {"sighup", RulesOptions::Reload::kSighup},
                                             {"watch", RulesOptions::Reload::kWatch}})},
           {"watch_interval_seconds", Type::kInt,
            IntField<int>([](Config& c) -> int& { return c.rules.watch_interval_seconds; }, 1, 3600)},
       },
       {}},
      {"state",
       {
           {"snapshot_dir", Type::kString, StringField([](Config& c) -> std::string& { return c.state.snapshot_dir; })},
           {"restore_timeout_seconds", Type::kInt,
            IntField<int>([](Config& c) -> int& { return c.state.restore_timeout_seconds; }, 1, 86400)},
           {"join_warmup_records", Type::kInt,
            IntField<int>([](Config& c) -> int& { return c.state.join_warmup_records; }, 0, 10000000)},
       },
       {}},
      {"metrics",
       {
           {"listen", Type::kString, StringField([](Config& c) -> std::string& { return c.metrics.listen; })},
       },
       {}},
      {"log",
       {
           {"level", Type::kString,
            EnumField<LogOptions::Level>([](Config& c) -> LogOptions::Level& { return c.log.level; },
                                         {{"debug", LogOptions::Level::kDebug},
                                          {"info", LogOptions::Level::kInfo},
                                          {"warn", LogOptions::Level::kWarn},
                                          {"error", LogOptions::Level::kError}})},
           {"format", Type::kString,
            EnumField<LogOptions::Format>([](Config& c) -> LogOptions::Format& { return c.log.format; },
                                          {{"text", LogOptions::Format::kText}, {"json", LogOptions::Format::kJson}})},
           {"hash_addresses", Type::kBool, BoolField([](Config& c) -> bool& { return c.log.hash_addresses; })},
           {"hash_key", Type::kString, StringField([](Config& c) -> std::string& { return c.log.hash_key; })},
       },
       {}},
      {"privacy",  // [privacy]: pipeline/base/address_hash.h
       {
           {"hash_addresses", Type::kBool, BoolField([](Config& c) -> bool& { return c.privacy.hash_addresses; })},
           {"hash_key", Type::kString, StringField([](Config& c) -> std::string& { return c.privacy.hash_key; })},
       },
       {}},
  };
  return *schema;
}

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

// " (did you mean 'x'?)" when one candidate is close.
std::string Suggest(std::string_view got, const std::vector<std::string_view>& candidates) {
  std::string_view best;
  size_t best_d = 3;
  for (std::string_view c : candidates) {
    size_t d = EditDistance(got, c);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  return best.empty() ? "" : absl::StrCat(" (did you mean '", Av(best), "'?)");
}

// Properties bouncestream sets itself; setting them by hand would break its guarantees.
const char* ManagedProperty(std::string_view name) {
  if (name == "bootstrap.servers" || name == "metadata.broker.list") return "set it with [kafka] brokers";
  if (name == "group.id") return "set it with [kafka] group_id";
  if (name == "group.instance.id") return "set it with [kafka] group_instance_id";
  if (name == "transactional.id") return "set it with [kafka] transactional_id";
  if (name == "enable.auto.offset.store" || name == "enable.auto.commit") {
    return "bouncestream stores and commits offsets itself, only after outputs are acknowledged";
  }
  if (name == "enable.partition.eof") return "bouncestream sets it for backfills";
  return nullptr;
}

class Loader {
 public:
  Loader(std::string_view file, Config& config) : file_(file), config_(config) {}

  void Error(std::string_view where, std::string_view msg) {
    errors_.push_back(absl::StrCat(Av(where), ": ", Av(msg)));
  }
  std::string At(const toml::node& n) const { return absl::StrCat(file_, ":", n.source().begin.line); }

  void LoadToml(const toml::table& root) {
    std::vector<std::string_view> section_names;
    for (const Section& s : Schema()) section_names.push_back(s.name);
    for (const auto& [k, node] : root) {
      std::string_view key = k.str();
      const Section* section = FindSection(key);
      if (section == nullptr) {
        Error(At(node), absl::StrCat("unknown section [", Av(key), "]", Suggest(key, section_names)));
        continue;
      }
      const toml::table* table = node.as_table();
      if (table == nullptr) {
        Error(At(node), absl::StrCat("'", Av(key), "' must be a table ([", Av(key), "])"));
        continue;
      }
      LoadSection(*section, *table);
    }
  }

  void LoadSection(const Section& section, const toml::table& table) {
    std::vector<std::string_view> names;
    for (const Field& f : section.fields) names.push_back(f.key);
    for (const SubTable& t : section.tables) names.push_back(t.name);
    // Tables of known keys start from the section's values (a tenant's policy from [decisions]), so they
    // are read after the section's own keys.
    std::vector<std::pair<const SubTable*, const toml::table*>> deferred;
    for (const auto& [k, node] : table) {
      std::string_view key = k.str();
      if (const SubTable* sub = FindTable(section, key)) {
        const toml::table* t = node.as_table();
        if (t == nullptr) {
          Error(At(node), absl::StrCat("[", Av(section.name), "] '", Av(key), "' must be a table"));
          continue;
        }
        if (sub->kind == MapKind::kThresholds || sub->kind == MapKind::kTenants) {
          deferred.emplace_back(sub, t);
        } else {
          LoadMap(section, *sub, *t);
        }
        continue;
      }
      // A nested section of known keys ([alerts.silence]).
      if (const Section* nested = FindSection(absl::StrCat(Av(section.name), ".", Av(key))); nested && node.as_table()) {
        LoadSection(*nested, *node.as_table());
        continue;
      }
      const Field* field = FindField(section, key);
      if (field == nullptr) {
        Error(At(node), absl::StrCat("[", Av(section.name), "] unknown key '", Av(key), "'", Suggest(key, names)));
        continue;
      }
      std::optional<Value> v = FromToml(*field, node);
      if (!v) {
        Error(At(node), absl::StrCat("[", Av(section.name), "] ", Av(key), " must be ", TypeName(field->type)));
        continue;
      }
      Apply(section, *field, *v, At(node));
    }
    for (const auto& [sub, t] : deferred) {
      if (sub->kind == MapKind::kThresholds) {
        LoadThresholds(*t);
      } else {
        LoadTenants(section, *t);
      }
    }
  }

  // [alerts.thresholds.KIND] min_attempts, min_count, min_rate, baseline_factor; and
  // [alerts.thresholds.KIND.PROVIDER] with the same keys, starting from the kind's values.
  void LoadThresholds(const toml::table& t) {
    std::vector<std::string_view> kinds;
    for (int i = 0; i < kAlertKindCount; ++i) kinds.push_back(AlertKindName(static_cast<AlertKind>(i)));
    for (const auto& [k, node] : t) {
      std::string_view name = k.str();
      if (name == AlertKindName(AlertKind::kSilence)) {
        Error(At(node), "[alerts.thresholds] 'silence' has no rate thresholds: set it in [alerts.silence]");
        continue;
      }
      auto it = std::find(kinds.begin(), kinds.end(), name);
      const toml::table* kt = node.as_table();
      if (it == kinds.end() || kt == nullptr) {
        Error(At(node), absl::StrCat("[alerts.thresholds] '", Av(name), "' is not an alert kind",
                                     Suggest(name, kinds), "; kinds: ", absl::StrJoin(kinds, ", ", AvFormatter())));
        continue;
      }
      const AlertKind kind = static_cast<AlertKind>(it - kinds.begin());
      const std::string where = absl::StrCat("[alerts.thresholds.", Av(name), "]");
      KindThreshold& base = config_.alerts.thresholds[static_cast<size_t>(kind)];
      std::vector<std::pair<std::string_view, const toml::table*>> providers;
      for (const auto& [pk, pnode] : *kt) {
        if (const toml::table* pt = pnode.as_table()) {
          providers.emplace_back(pk.str(), pt);
          continue;
        }
        SetThresholdKey(where, pk.str(), pnode, base);
      }
      for (const auto& [pname, pt] : providers) {
        std::optional<Provider> provider = ProviderFromName(pname);
        if (!provider) {
          Error(At(*pt), absl::StrCat(where, " '", Av(pname), "' is neither a threshold key nor a provider name"));
          continue;
        }
        auto key = std::make_pair(*provider, kind);
        auto existing = config_.alerts.provider_thresholds.find(key);
        KindThreshold th = existing != config_.alerts.provider_thresholds.end() ? existing->second : base;
        const std::string pwhere = absl::StrCat("[alerts.thresholds.", Av(name), ".", Av(pname), "]");
        for (const auto& [pk, pnode] : *pt) SetThresholdKey(pwhere, pk.str(), pnode, th);
        config_.alerts.provider_thresholds[key] = th;
      }
    }
  }

  void SetThresholdKey(std::string_view where, std::string_view key, const toml::node& node, KindThreshold& th) {
    std::optional<double> v;
    if (const auto* i = node.as_integer()) v = static_cast<double>(i->get());
    if (const auto* f = node.as_floating_point()) v = f->get();
    const bool is_count = key == "min_attempts" || key == "min_count";
    if (!is_count && key != "min_rate" && key != "baseline_factor") {
      Error(At(node), absl::StrCat(Av(where), " unknown key '", Av(key), "'",
                                   Suggest(key, {"min_attempts", "min_count", "min_rate", "baseline_factor"})));
      return;
    }
    if (!v || (is_count && node.as_integer() == nullptr)) {
      Error(At(node), absl::StrCat(Av(where), " ", Av(key), " must be ", is_count ? "an integer" : "a number"));
      return;
    }
    if (is_count && (*v < 1 || *v > 1e9)) {
      Error(At(node), absl::StrCat(Av(where), " ", Av(key), " must be between 1 and 1000000000"));
      return;
    }
    if (key == "min_rate" && !(*v >= 0 && *v <= 1)) {
      Error(At(node), absl::StrCat(Av(where), " min_rate must be between 0 and 1 (a share of attempts)"));
      return;
    }
    if (key == "baseline_factor" && !(*v >= 0 && *v <= 1000)) {
      Error(At(node), absl::StrCat(Av(where), " baseline_factor must be between 0 and 1000"));
      return;
    }
    if (key == "min_attempts") th.min_attempts = static_cast<uint64_t>(*v);
    if (key == "min_count") th.min_count = static_cast<uint64_t>(*v);
    if (key == "min_rate") th.min_rate = *v;
    if (key == "baseline_factor") th.baseline_factor = *v;
  }

  // [decisions.tenants.NAME]: the policy keys of [decisions] for records of tenant NAME, starting from
  // the [decisions] values of the file.
  void LoadTenants(const Section& section, const toml::table& t) {
    static constexpr std::string_view kPolicyKeys[] = {
        "reengage_campaigns",     "verify_attempts",         "verify_min_campaigns", "suppress_repeated_storage_exceeded",
        "mailbox_full_campaigns", "mailbox_full_min_span_days", "unsuppress_on_delivery"};
    std::vector<std::string_view> names(std::begin(kPolicyKeys), std::end(kPolicyKeys));
    for (const auto& [k, node] : t) {
      std::string tenant(k.str());
      const toml::table* tt = node.as_table();
      if (tt == nullptr) {
        Error(At(node), absl::StrCat("[decisions.tenants] \"", tenant, "\" must be a table ([decisions.tenants.",
                                     tenant, "])"));
        continue;
      }
      Config scratch;
      scratch.decisions.policy = config_.decisions.policy;
      const std::string where = absl::StrCat("[decisions.tenants.", tenant, "]");
      for (const auto& [fk, fnode] : *tt) {
        std::string_view key = fk.str();
        const Field* field = FindField(section, key);
        if (field == nullptr || std::find(names.begin(), names.end(), key) == names.end()) {
          Error(At(fnode), absl::StrCat(where, " unknown key '", Av(key), "' (a tenant sets only ",
                                        absl::StrJoin(names, ", ", AvFormatter()), ")", Suggest(key, names)));
          continue;
        }
        std::optional<Value> v = FromToml(*field, fnode);
        std::string err = v ? field->set(scratch, *v) : absl::StrCat("must be ", TypeName(field->type));
        if (!err.empty()) Error(At(fnode), absl::StrCat(where, " ", Av(key), " ", err));
      }
      config_.decisions.tenant_policies[tenant] = scratch.decisions.policy;
    }
  }

  void LoadMap(const Section& section, const SubTable& sub, const toml::table& t) {
    for (const auto& [k, node] : t) {
      std::string name(k.str());
      std::string value;
      if (const auto* s = node.as_string()) {
        value = s->get();
      } else if (const auto* i = node.as_integer()) {
        value = std::to_string(i->get());
      } else if (const auto* b = node.as_boolean()) {
        value = b->get() ? "true" : "false";
      } else if (const auto* f = node.as_floating_point()) {
        std::ostringstream os;
        os << f->get();
        value = os.str();
      } else {
        Error(At(node), absl::StrCat("[", Av(section.name), ".", Av(sub.name), "] \"", name,
                                     "\" must be a string, number or boolean"));
        continue;
      }
      SetMapEntry(sub.kind, name, value, At(node));
    }
  }

  void SetMapEntry(MapKind kind, const std::string& name, const std::string& value, const std::string& origin) {
    if (kind == MapKind::kJsonFields || kind == MapKind::kJsonOutcomes) {
      SetJsonEntry(kind, name, value, origin);
      return;
    }
    if (kind == MapKind::kFormats) {
      Format f;
      std::string err = SetFormat(f, value);
      if (!err.empty()) {
        Error(origin, absl::StrCat("[input.formats] \"", name, "\": ", err));
        return;
      }
      config_.input.formats[name] = f;
      return;
    }
    if (const char* why = ManagedProperty(name)) {
      Error(origin, absl::StrCat("librdkafka property \"", name, "\" cannot be set here: ", why));
      return;
    }
    KafkaProperties& p = kind == MapKind::kProperties           ? config_.kafka.properties
                         : kind == MapKind::kConsumerProperties ? config_.kafka.consumer_properties
                                                                : config_.kafka.producer_properties;
    p.values[name] = value;
    p.origin[name] = origin;
  }

  // [input.json] KEY = "dotted.path" (keys: JsonFieldMap's fields); [input.json_outcomes] VALUE = "outcome".
  void SetJsonEntry(MapKind kind, const std::string& name, const std::string& value, const std::string& origin) {
    JsonFieldMap& m = config_.input.json;
    if (kind == MapKind::kJsonOutcomes) {
      static constexpr Outcome kOutcomes[] = {Outcome::kDelivered, Outcome::kDeferred,  Outcome::kBounced,
                                              Outcome::kExpired,   Outcome::kRejected,  Outcome::kOutOfBand,
                                              Outcome::kComplaint};
      std::vector<std::string_view> names;
      for (Outcome o : kOutcomes) {
        names.push_back(OutcomeName(o));
        if (value == OutcomeName(o)) {
          m.outcome_values.emplace_back(name, o);
          return;
        }
      }
      Error(origin, absl::StrCat("[input.json_outcomes] \"", name, "\": unknown outcome \"", value, "\"",
                                 Suggest(value, names), "; outcomes: ", JoinNames(names)));
      return;
    }
    std::vector<std::string_view> names;
    for (const auto& [key, field] : JsonFieldPaths(m)) {
      names.push_back(key);
      if (name == key) {
        *field = value;
        origins_[absl::StrCat("input.json.", name)] = origin;
        return;
      }
    }
    Error(origin, absl::StrCat("[input.json] unknown key '", name, "'", Suggest(name, names),
                               "; keys: ", JoinNames(names)));
  }

  void LoadEnv(const Environment& env) {
    for (const auto& [var, value] : env) {
      if (!StartsWith(var, kEnvPrefix)) continue;
      std::string_view rest = std::string_view(var).substr(kEnvPrefix.size());
      std::string origin = absl::StrCat("environment ", var);
      // Free-form sub-tables first: their prefix is longer than the section's.
      bool done = false;
      for (const Section& s : Schema()) {
        for (const SubTable& t : s.tables) {
          // Topic and tenant names do not survive upper-casing; thresholds are tables of tables.
          // [input.json] keys keep their underscores; outcome values are free text (file only).
          if (t.kind == MapKind::kJsonOutcomes) continue;
          if (t.kind == MapKind::kFormats || t.kind == MapKind::kThresholds || t.kind == MapKind::kTenants) continue;
          std::string prefix = Upper(absl::StrCat(Av(s.name), "_", Av(t.name), "_"));
          if (StartsWith(rest, prefix) && rest.size() > prefix.size()) {
            std::string name = Lower(rest.substr(prefix.size()));
            if (t.kind != MapKind::kJsonFields) std::replace(name.begin(), name.end(), '_', '.');
            SetMapEntry(t.kind, name, value, origin);
            done = true;
          }
        }
      }
      if (done) continue;
      const Section* section = nullptr;
      for (const Section& s : Schema()) {
        std::string prefix = Upper(absl::StrCat(Av(s.name), "_"));
        if (StartsWith(rest, prefix) && (section == nullptr || s.name.size() > section->name.size())) section = &s;
      }
      if (section == nullptr) {
        config_.warnings.push_back(absl::StrCat(origin, ": not a configuration override (no section '",
                                                Av(Lower(rest.substr(0, rest.find('_')))), "'); ignored"));
        continue;
      }
      std::string key = Lower(rest.substr(section->name.size() + 1));
      const Field* field = FindField(*section, key);
      if (field == nullptr) {
        std::vector<std::string_view> names;
        for (const Field& f : section->fields) names.push_back(f.key);
        Error(origin, absl::StrCat("[", Av(section->name), "] has no key '", key, "'", Suggest(key, names)));
        continue;
      }
      std::optional<Value> v = FromString(*field, value);
      if (!v) {
        Error(origin, absl::StrCat("[", Av(section->name), "] ", key, " must be ", TypeName(field->type)));
        continue;
      }
      Apply(*section, *field, *v, origin);
    }
  }

  // Where a key was last set ("file:line", "environment VAR"), or the file when it kept its default.
  std::string OriginOf(std::string_view section, std::string_view key) const {
    auto it = origins_.find(absl::StrCat(Av(section), ".", Av(key)));
    return it == origins_.end() ? file_ : it->second;
  }

  std::vector<std::string>& errors() { return errors_; }

 private:
  static std::string Upper(std::string_view s) {
    std::string out(s);
    // "alerts.silence" → "ALERTS_SILENCE" (environment variable names have no dots).
    for (char& c : out) c = (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c == '.' ? '_' : c;
    return out;
  }
  static std::string Lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = AsciiLower(c);
    return out;
  }
  static const Section* FindSection(std::string_view name) {
    for (const Section& s : Schema()) {
      if (s.name == name) return &s;
    }
    return nullptr;
  }
  static const Field* FindField(const Section& s, std::string_view key) {
    for (const Field& f : s.fields) {
      if (f.key == key) return &f;
    }
    return nullptr;
  }
  static const SubTable* FindTable(const Section& s, std::string_view key) {
    for (const SubTable& t : s.tables) {
      if (t.name == key) return &t;
    }
    return nullptr;
  }
  static const char* TypeName(Type t) {
    switch (t) {
      case Type::kString: return "a string";
      case Type::kInt: return "an integer";
      case Type::kBool: return "true or false";
      case Type::kStringList: return "a list of strings";
      case Type::kDouble: return "a number";
    }
    return "?";
  }

  static std::optional<Value> FromToml(const Field& f, const toml::node& n) {
    Value v;
    v.type = f.type;
    switch (f.type) {
      case Type::kString:
        if (const auto* s = n.as_string()) {
          v.s = s->get();
          return v;
        }
        return std::nullopt;
      case Type::kInt:
        if (const auto* i = n.as_integer()) {
          v.i = i->get();
          return v;
        }
        return std::nullopt;
      case Type::kBool:
        if (const auto* b = n.as_boolean()) {
          v.b = b->get();
          return v;
        }
        return std::nullopt;
      case Type::kDouble:
        if (const auto* i = n.as_integer()) {
          v.d = static_cast<double>(i->get());
          return v;
        }
        if (const auto* d = n.as_floating_point()) {
          v.d = d->get();
          return v;
        }
        return std::nullopt;
      case Type::kStringList:
        if (const auto* s = n.as_string()) {
          v.list.push_back(s->get());
          return v;
        }
        if (const auto* a = n.as_array()) {
          for (const auto& el : *a) {
            const auto* s = el.as_string();
            if (s == nullptr) return std::nullopt;
            v.list.push_back(s->get());
          }
          return v;
        }
        return std::nullopt;
    }
    return std::nullopt;
  }

  // absl::StrJoin over std::string_view (Debian's Abseil has its own string_view type).
  struct AvFormatter {
    void operator()(std::string* out, std::string_view s) const { out->append(s.data(), s.size()); }
  };

  static std::optional<Value> FromString(const Field& f, const std::string& s) {
    Value v;
    v.type = f.type;
    switch (f.type) {
      case Type::kString:
        v.s = s;
        return v;
      case Type::kInt:
        if (!absl::SimpleAtoi(Av(s), &v.i)) return std::nullopt;
        return v;
      case Type::kDouble:
        if (!absl::SimpleAtod(Av(s), &v.d)) return std::nullopt;
        return v;
      case Type::kBool: {
        std::string l = Lower(s);
        if (l == "true" || l == "1" || l == "yes") {
          v.b = true;
        } else if (l == "false" || l == "0" || l == "no") {
          v.b = false;
        } else {
          return std::nullopt;
        }
        return v;
      }
      case Type::kStringList: {
        size_t start = 0;
        while (start <= s.size()) {
          size_t comma = s.find(',', start);
          if (comma == std::string::npos) comma = s.size();
          std::string item = s.substr(start, comma - start);
          item.erase(0, item.find_first_not_of(" \t"));
          item.erase(item.find_last_not_of(" \t") + 1);
          if (!item.empty()) v.list.push_back(item);
          start = comma + 1;
        }
        return v;
      }
    }
    return std::nullopt;
  }

  void Apply(const Section& section, const Field& field, const Value& v, const std::string& origin) {
    std::string err = field.set(config_, v);
    if (!err.empty()) {
      Error(origin, absl::StrCat("[", Av(section.name), "] ", Av(field.key), " ", err));
      return;
    }
    origins_[absl::StrCat(Av(section.name), ".", Av(field.key))] = origin;
  }

  std::string file_;
  Config& config_;
  std::vector<std::string> errors_;
  std::map<std::string, std::string> origins_;
};

bool ValidListen(std::string_view s) {
  size_t colon = s.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  int port = 0;
  if (!absl::SimpleAtoi(Av(s.substr(colon + 1)), &port)) return false;
  return port >= 0 && port <= 65535;  // 0: any free port (tests)
}

void Validate(Loader& l, Config& c, ConfigUse use) {
  // Each path alone (so the error names its line), then the whole map (outcome values).
  bool json_paths_ok = true;
  for (const auto& [key, path] : JsonFieldPaths(c.input.json)) {
    JsonFieldMap one;
    for (const auto& [k, p] : JsonFieldPaths(one)) {
      if (k == key) *p = *path;
    }
    if (absl::Status s = ValidateJsonFieldMap(one); !s.ok()) {
      l.Error(l.OriginOf("input.json", key), absl::StrCat("[input.json] ", s.message()));
      json_paths_ok = false;
    }
  }
  if (absl::Status s = ValidateJsonFieldMap(c.input.json); json_paths_ok && !s.ok()) {
    l.Error(l.OriginOf("input.json_outcomes", ""), absl::StrCat("[input.json_outcomes] ", s.message()));
  }
  if (absl::Status s = c.decisions.Validate(); !s.ok()) {
    l.Error(l.OriginOf("decisions", ""), absl::StrCat("[decisions] ", s.message()));
  }
  if (absl::Status s = ValidateAlertPolicy(c.alerts); !s.ok()) {
    l.Error(l.OriginOf("alerts", "advance_seconds"), absl::StrCat("[alerts] ", s.message()));
  }
  if (c.privacy.hash_addresses && c.privacy.hash_key.empty()) {
    l.Error(l.OriginOf("privacy", "hash_addresses"),
            "[privacy] hash_addresses needs hash_key (a secret: set BOUNCESTREAM_PRIVACY_HASH_KEY); a known key "
            "would let anyone hash guessed addresses");
  }
  // A replay reads files: only the processing sections matter, [kafka] and [topics] may be absent.
  if (use == ConfigUse::kReplay) return;
  if (c.kafka.brokers.empty()) {
    l.Error(l.OriginOf("kafka", "brokers"), "[kafka] brokers is required (or BOUNCESTREAM_KAFKA_BROKERS)");
  }
  if (c.kafka.input_topics.empty()) {
    l.Error(l.OriginOf("kafka", "input_topics"),
            "[kafka] input_topics is required: the topics of MTA log records to read");
  }
  if (c.kafka.group_id.empty()) l.Error(l.OriginOf("kafka", "group_id"), "[kafka] group_id must not be empty");
  // Outputs must not feed back into the inputs, and two outputs must not share a topic (their keys and
  // compaction differ).
  std::map<std::string, std::string> used;
  for (const std::string& t : c.kafka.input_topics) {
    if (t.empty()) l.Error(l.OriginOf("kafka", "input_topics"), "[kafka] input_topics has an empty name");
    used[t] = "kafka.input_topics";
  }
  const std::pair<const char*, const std::string*> outputs[] = {
      {"alerts", &c.topics.alerts},           {"suppressions", &c.topics.suppressions},
      {"dlq", &c.topics.dlq},                 {"classified", &c.topics.classified},
      {"late", &c.topics.late},
      {"changelog", &c.topics.changelog},     {"repartition", &c.topics.repartition}};
  for (const auto& [key, topic] : outputs) {
    if (topic->empty()) {
      // Optional outputs; an empty repartition topic judges alert windows in each process alone.
      if (std::string_view(key) != "classified" && std::string_view(key) != "late" &&
          std::string_view(key) != "repartition") {
        l.Error(l.OriginOf("topics", key), absl::StrCat("[topics] ", key, " must name a topic"));
      }
      continue;
    }
    auto [it, fresh] = used.emplace(*topic, absl::StrCat("topics.", key));
    if (!fresh) {
      l.Error(l.OriginOf("topics", key),
              absl::StrCat("[topics] ", key, " = \"", *topic, "\" is already used by ", it->second));
    }
  }
  for (const auto& [topic, format] : c.input.formats) {
    (void)format;
    if (std::find(c.kafka.input_topics.begin(), c.kafka.input_topics.end(), topic) == c.kafka.input_topics.end()) {
      l.Error(l.OriginOf("input", "formats"),
              absl::StrCat("[input.formats] \"", topic, "\" is not one of [kafka] input_topics"));
    }
  }
  if (!c.metrics.listen.empty() && !ValidListen(c.metrics.listen)) {
    l.Error(l.OriginOf("metrics", "listen"),
            absl::StrCat("[metrics] listen = \"", c.metrics.listen, "\" is not host:port (or \"\" for off)"));
  }
  if (c.rules.reload == RulesOptions::Reload::kWatch && c.rules.dir.empty() && c.rules.local_dir.empty()) {
    l.Error(l.OriginOf("rules", "reload"),
            "[rules] reload = \"watch\" needs dir or local_dir (the built-in rules never change)");
  }
  // One secret for both: the log's tokens then match the hashed outputs.
  if (c.log.hash_addresses && c.log.hash_key.empty()) c.log.hash_key = c.privacy.hash_key;
  if (c.log.hash_addresses && c.log.hash_key.empty()) {
    c.warnings.push_back(
        "[log] hash_addresses without hash_key: addresses are hashed with a fixed key (set BOUNCESTREAM_LOG_HASH_KEY)");
  }
}

}  // namespace

std::string_view DeliveryModeName(DeliveryMode m) {
  return m == DeliveryMode::kExactlyOnce ? "exactly_once" : "at_least_once";
}

absl::StatusOr<Config> ParseConfig(std::string_view content, std::string_view file_name, const Environment& env,
                                   ConfigUse use) {
  Config config;
  Loader loader(file_name, config);
  toml::parse_result parsed = toml::parse(content, file_name);
  if (!parsed) {
    const auto& err = parsed.error();
    return absl::InvalidArgumentError(absl::StrCat(Av(file_name), ":", err.source().begin.line, ": ",
                                                   Av(err.description())));
  }
  loader.LoadToml(parsed.table());
  loader.LoadEnv(env);
  Validate(loader, config, use);
  if (!loader.errors().empty()) {
    // File errors by line, then the environment's, then those of the file as a whole.
    auto line_of = [&](const std::string& e) -> int64_t {
      if (!StartsWith(e, file_name) || e.size() <= file_name.size() || e[file_name.size()] != ':') return INT64_MAX;
      int64_t line = 0;
      for (size_t i = file_name.size() + 1; i < e.size() && e[i] >= '0' && e[i] <= '9'; ++i) line = line * 10 + (e[i] - '0');
      return line > 0 ? line : INT64_MAX;
    };
    std::stable_sort(loader.errors().begin(), loader.errors().end(),
                     [&](const std::string& a, const std::string& b) { return line_of(a) < line_of(b); });
    return absl::InvalidArgumentError(absl::StrJoin(loader.errors(), "\n"));
  }
  return config;
}

absl::StatusOr<Config> LoadConfigFile(const std::string& path, const Environment& env, ConfigUse use) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read config file ", path));
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseConfig(ss.str(), path, env, use);
}

Environment ProcessEnvironment() {
  Environment env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view kv(*e);
    if (!StartsWith(kv, kEnvPrefix)) continue;
    size_t eq = kv.find('=');
    if (eq == std::string_view::npos) continue;
    env.emplace(std::string(kv.substr(0, eq)), std::string(kv.substr(eq + 1)));
  }
  return env;
}

namespace {

bool IsSecret(std::string_view name) {
  if (Contains(name, "location")) return false;
  return Contains(name, "password") || Contains(name, "secret") || Contains(name, "key");
}

std::string Quote(std::string_view s) {
  std::string out = "\"";
  for (char ch : s) {
    if (ch == '"' || ch == '\\') out += '\\';
    out += ch;
  }
  return out + "\"";
}

}  // namespace

std::string DescribeConfig(const Config& c) {
  std::string out;
  auto kv = [&](std::string_view k, std::string_view v) { absl::StrAppend(&out, Av(k), " = ", Quote(v), "\n"); };
  auto kn = [&](std::string_view k, int64_t v) { absl::StrAppend(&out, Av(k), " = ", v, "\n"); };
  auto kd = [&](std::string_view k, double v) { absl::StrAppend(&out, Av(k), " = ", v, "\n"); };
  auto kb = [&](std::string_view k, bool v) { absl::StrAppend(&out, Av(k), " = ", v ? "true" : "false", "\n"); };
  out += "[kafka]\n";
  kv("brokers", c.kafka.brokers);
  kv("group_id", c.kafka.group_id);
  kv("group_instance_id", c.kafka.group_instance_id);
  std::vector<std::string> topics;
  for (const auto& t : c.kafka.input_topics) topics.push_back(Quote(t));
  absl::StrAppend(&out, "input_topics = [", absl::StrJoin(topics, ", "), "]\n");
  kv("delivery", DeliveryModeName(c.kafka.delivery));
  kv("transactional_id", c.kafka.transactional_id);
  const std::pair<const char*, const KafkaProperties*> props[] = {{"properties", &c.kafka.properties},
                                                                  {"consumer_properties", &c.kafka.consumer_properties},
                                                                  {"producer_properties", &c.kafka.producer_properties}};
  for (const auto& [name, p] : props) {
    if (p->values.empty()) continue;
    absl::StrAppend(&out, "\n[kafka.", name, "]\n");
    for (const auto& [k, v] : p->values) absl::StrAppend(&out, Quote(k), " = ", Quote(IsSecret(k) ? "<redacted>" : v), "\n");
  }
  out += "\n[topics]\n";
  kv("alerts", c.topics.alerts);
  kv("suppressions", c.topics.suppressions);
  kv("dlq", c.topics.dlq);
  kv("classified", c.topics.classified);
  kv("late", c.topics.late);
  kv("changelog", c.topics.changelog);
  kv("repartition", c.topics.repartition);
  absl::StrAppend(&out, "create_missing = ", c.topics.create_missing ? "true" : "false", "\n");
  kn("replication_factor", c.topics.replication_factor);
  out += "\n[input]\n";
  kv("format", FormatName(c.input.format));
  kv("powermta_header", c.input.powermta_header);
  if (!c.input.formats.empty()) {
    out += "\n[input.formats]\n";
    for (const auto& [t, f] : c.input.formats) absl::StrAppend(&out, Quote(t), " = ", Quote(FormatName(f)), "\n");
  }
  out += "\n[input.json]\n";
  const JsonFieldMap& jm = c.input.json;
  for (const auto& [k, v] : JsonFieldPaths(jm)) kv(k, *v);
  if (!jm.outcome_values.empty()) {
    out += "\n[input.json_outcomes]\n";
    for (const auto& [value, o] : jm.outcome_values) {
      absl::StrAppend(&out, Quote(value), " = ", Quote(OutcomeName(o)), "\n");
    }
  }
  out += "\n[processing]\n";
  kn("workers", c.processing.workers);
  kn("max_batch_messages", c.processing.max_batch_messages);
  kn("max_batch_wait_ms", c.processing.max_batch_wait_ms);
  kn("max_in_flight_mb", c.processing.max_in_flight_bytes >> 20);
  kn("commit_interval_ms", c.processing.commit_interval_ms);
  kn("idle_partition_seconds", c.processing.idle_partition_ms / 1000);
  out += "\n[alerts]\n";
  kn("window_minutes", c.alerts.window_ms / 60000);
  kn("advance_seconds", c.alerts.advance_ms / 1000);
  kn("out_of_orderness_seconds", c.alerts.out_of_orderness_ms / 1000);
  kn("grace_seconds", c.alerts.grace_ms / 1000);
  kn("resolve_after_minutes", c.alerts.resolve_after_ms / 60000);
  kn("stale_after_minutes", c.alerts.stale_after_ms / 60000);
  kn("idle_timeout_minutes", c.alerts.idle_timeout_ms / 60000);
  kd("update_factor", c.alerts.update_factor);
  kn("update_cooldown_minutes", c.alerts.update_cooldown_ms / 60000);
  kn("key_ttl_hours", c.alerts.key_ttl_ms / 3600000);
  kd("baseline_alpha", c.alerts.baseline_alpha);
  kd("cold_start_rate", c.alerts.cold_start_rate);
  kd("rising_delta", c.alerts.rising_delta);
  kn("escalation_run_minutes", c.alerts.escalation_run_ms / 60000);
  kn("ageing_after_minutes", c.alerts.ageing_after_ms / 60000);
  kn("ageing_attempts", c.alerts.ageing_attempts);
  out += "\n[alerts.thresholds]\n";
  auto threshold = [&](const std::string& header, const KindThreshold& t) {
    absl::StrAppend(&out, "\n[", header, "]\n");
    kn("min_attempts", static_cast<int64_t>(t.min_attempts));
    kn("min_count", static_cast<int64_t>(t.min_count));
    kd("min_rate", t.min_rate);
    kd("baseline_factor", t.baseline_factor);
  };
  for (int i = 0; i < kAlertKindCount; ++i) {
    if (static_cast<AlertKind>(i) == AlertKind::kSilence) continue;  // [alerts.silence]
    const std::string kind(AlertKindName(static_cast<AlertKind>(i)));
    threshold(absl::StrCat("alerts.thresholds.", kind), c.alerts.thresholds[static_cast<size_t>(i)]);
    for (const auto& [key, t] : c.alerts.provider_thresholds) {
      if (key.second == static_cast<AlertKind>(i)) {
        threshold(absl::StrCat("alerts.thresholds.", kind, ".", Av(ProviderName(key.first))), t);
      }
    }
  }
  out += "\n[decisions]\n";
  auto policy = [&](const DecisionPolicy& p) {
    kn("reengage_campaigns", p.reengage_campaigns);
    kn("verify_attempts", p.verify_attempts);
    kn("verify_min_campaigns", p.verify_min_campaigns);
    kb("suppress_repeated_storage_exceeded", p.suppress_repeated_storage_exceeded);
    kn("mailbox_full_campaigns", p.mailbox_full_campaigns);
    kn("mailbox_full_min_span_days", p.mailbox_full_min_span_ms / kDayMs);
    kb("unsuppress_on_delivery", p.unsuppress_on_delivery);
  };
  policy(c.decisions.policy);
  static constexpr std::string_view kFallbacks[] = {"none", "sender_tag", "day", "sender_tag_or_day"};
  kv("campaign_fallback", kFallbacks[static_cast<int>(c.decisions.campaign_fallback)]);
  kv("sender_tag_separator", std::string(1, c.decisions.sender_tag_separator));
  kn("history_ttl_days", c.decisions.ttl.history_ms / kDayMs);
  kn("suppression_ttl_days", c.decisions.ttl.suppression_ms / kDayMs);
  kn("sweep_interval_minutes", c.decisions.ttl.sweep_interval_ms / 60000);
  kn("expected_addresses", static_cast<int64_t>(c.decisions.expected_addresses));
  out += "\n[decisions.tenants]\n";
  std::map<std::string, DecisionPolicy> tenants(c.decisions.tenant_policies.begin(), c.decisions.tenant_policies.end());
  for (const auto& [name, p] : tenants) {
    absl::StrAppend(&out, "\n[decisions.tenants.", Quote(name), "]\n");
    policy(p);
  }
  out += "\n[alerts.silence]\n";
  absl::StrAppend(&out, "enabled = ", c.alerts.silence.enabled ? "true" : "false", "\n");
  kn("window_minutes", c.alerts.silence.window_ms / 60000);
  kn("min_events_per_window", static_cast<int64_t>(c.alerts.silence.min_events_per_window));
  kn("quiet_percent", c.alerts.silence.quiet_percent);
  kn("quiet_windows", c.alerts.silence.quiet_windows);
  kn("rest_min_percent", c.alerts.silence.rest_min_percent);
  kn("warmup_windows", c.alerts.silence.warmup_windows);
  absl::StrAppend(&out, "baseline_alpha = ", c.alerts.silence.baseline_alpha, "\n");
  out += "\n[rules]\n";
  kv("dir", c.rules.dir);
  kv("local_dir", c.rules.local_dir);
  kv("reload", c.rules.reload == RulesOptions::Reload::kOff      ? "off"
               : c.rules.reload == RulesOptions::Reload::kSighup ? "sighup"
                                                                 : "watch");
  kn("watch_interval_seconds", c.rules.watch_interval_seconds);
  out += "\n[state]\n";
  kv("snapshot_dir", c.state.snapshot_dir);
  kn("restore_timeout_seconds", c.state.restore_timeout_seconds);
  kn("join_warmup_records", c.state.join_warmup_records);
  out += "\n[metrics]\n";
  kv("listen", c.metrics.listen);
  out += "\n[log]\n";
  static constexpr std::string_view kLevels[] = {"debug", "info", "warn", "error"};
  kv("level", kLevels[static_cast<int>(c.log.level)]);
  kv("format", c.log.format == LogOptions::Format::kJson ? "json" : "text");
  absl::StrAppend(&out, "hash_addresses = ", c.log.hash_addresses ? "true" : "false", "\n");
  kv("hash_key", c.log.hash_key.empty() ? "" : "<redacted>");
  out += "\n[privacy]\n";
  absl::StrAppend(&out, "hash_addresses = ", c.privacy.hash_addresses ? "true" : "false", "\n");
  kv("hash_key", c.privacy.hash_key.empty() ? "" : "<redacted>");
  return out;
}

std::vector<std::string> ConfigKeys() {
  std::vector<std::string> keys;
  for (const Section& s : Schema()) {
    for (const Field& f : s.fields) keys.push_back(absl::StrCat(Av(s.name), ".", Av(f.key)));
    for (const SubTable& t : s.tables) keys.push_back(absl::StrCat(Av(s.name), ".", Av(t.name), ".*"));
  }
  return keys;
}

}  // namespace bs
