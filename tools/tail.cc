// `bouncestream tail`: follows an output topic (alerts by default) and prints each record as one readable
// line — or the JSON itself with --json. Reads every partition without a consumer group (it commits
// nothing and never disturbs the service's group), from the end (new records) or from the beginning.
#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <ctime>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "pipeline/base/strings.h"
#include "pipeline/config/config.h"
#include "pipeline/source/kafka_consumer.h"
#include "simdjson.h"
#include "tools/flags.h"

namespace bs::tools {
namespace {

constexpr char kHelp[] = R"(usage: bouncestream tail (--brokers B | --config FILE) [options]

Follows an output topic and prints each record on one line: alerts as
  2026-11-02 10:42 FIRING   rate_limit gmail ip=203.0.113.7  36/60 (60.0%, baseline 0.4%) critical → retry_slower
suppressions as
  2026-11-02 09:21 SUPPRESS anna@example.com  user_unknown gmail (gmail.user_unknown.5_1_1)
and anything else as its JSON. Reads all partitions without a consumer group: it commits nothing.

options:
  --brokers B         bootstrap brokers (host:port,...)
  --config FILE       take brokers, librdkafka properties (TLS, SASL) and topic names from the service
                      config (environment overrides apply)
  --topic T           topic to follow (default: the alerts topic, "bouncestream-alerts")
  --json              print each record's JSON as is
  --from-beginning    start at the oldest record instead of new records only
  --exit-at-end       stop once every partition's end is reached (scripts and tests)
  -X NAME=VALUE       a librdkafka property (repeatable), e.g. -X security.protocol=SSL
  --help              this text

exit codes: 0 ok, 1 runtime error (unreachable brokers, missing topic), 2 usage error)";

std::string Minute(int64_t ms) {
  time_t s = static_cast<time_t>(ms / 1000);
  struct tm tm;
  gmtime_r(&s, &tm);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02d %02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                tm.tm_min);
  return buf;
}

std::string_view Str(simdjson::ondemand::object& o, std::string_view field) {
  std::string_view v;
  if (o.find_field_unordered(field).get_string().get(v) != simdjson::SUCCESS) return {};
  return v;
}

template <typename T>
T Num(simdjson::ondemand::object& o, std::string_view field) {
  T v{};
  if constexpr (std::is_same_v<T, double>) {
    if (o.find_field_unordered(field).get_double().get(v) != simdjson::SUCCESS) return T{};
  } else {
    if (o.find_field_unordered(field).get_int64().get(v) != simdjson::SUCCESS) return T{};
  }
  return v;
}

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
  return out;
}

// One readable line for an alert or a suppression; empty when the record is neither.
std::string Human(std::string_view json) {
  static simdjson::ondemand::parser parser;
  simdjson::padded_string padded(json);
  simdjson::ondemand::document doc;
  simdjson::ondemand::object o;
  if (parser.iterate(padded).get(doc) != simdjson::SUCCESS || doc.get_object().get(o) != simdjson::SUCCESS) return "";
  std::string_view kind = Str(o, "kind");
  if (!kind.empty()) {
    std::string state = Upper(Str(o, "state"));
    std::string key;
    simdjson::ondemand::object k;
    if (o.find_field_unordered("key").get_object().get(k) == simdjson::SUCCESS) {
      for (auto field : k) {
        std::string_view name, value;
        if (field.unescaped_key().get(name) != simdjson::SUCCESS) continue;
        if (field.value().get_string().get(value) != simdjson::SUCCESS) continue;
        if (name == "provider") {
          key = absl::StrCat(Av(value), key.empty() ? "" : " ", key);
        } else {
          absl::StrAppend(&key, key.empty() ? "" : " ", name == "sending_ip" ? "ip" : Av(name), "=", Av(value));
        }
      }
    }
    int64_t start = 0;
    simdjson::ondemand::object w;
    if (o.find_field_unordered("window").get_object().get(w) == simdjson::SUCCESS) start = Num<int64_t>(w, "start");
    int64_t count = Num<int64_t>(o, "count"), attempts = Num<int64_t>(o, "attempts");
    double rate = Num<double>(o, "rate"), baseline = Num<double>(o, "baseline");
    std::string severity(Str(o, "severity")), action(Str(o, "action")), id(Str(o, "id"));
    return absl::StrFormat("%s %-8s %-14s %s  %d/%d (%.1f%%, baseline %.1f%%) %s -> %s  [%s]", Minute(start), state,
                           std::string(kind), key, count, attempts, rate * 100, baseline * 100, severity, action, id);
  }
  std::string_view type = Str(o, "type");
  if (type == "suppression" || type == "hygiene") {
    std::string skey(Str(o, "key")), action(Str(o, "action")), category(Str(o, "category")),
        provider(Str(o, "provider")), rule(Str(o, "rule"));
    int64_t at = Num<int64_t>(o, "decided_at");
    std::string verb = type == "suppression" ? "SUPPRESS" : Upper(action);
    return absl::StrFormat("%s %-8s %s  %s %s (%s)", Minute(at), verb, skey, category, provider, rule);
  }
  return "";
}

std::atomic<bool> g_stop{false};

}  // namespace

int RunTail(const Args& args) {
  Flags flags;
  // "-X k=v" arrives as a positional "-X" followed by its value; accept it as --property too.
  Args rewritten;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "-X" && i + 1 < args.size()) {
      rewritten.push_back("--property");
      rewritten.push_back(args[++i]);
    } else {
      rewritten.push_back(args[i]);
    }
  }
  if (absl::Status s = flags.Parse(rewritten, {"brokers", "config", "topic", "property"},
                                   {"help", "json", "from-beginning", "exit-at-end"});
      !s.ok()) {
    return UsageError("tail", s);
  }
  if (flags.Has("help")) {
    std::printf("%s\n", kHelp);
    return 0;
  }
  if (!flags.positional().empty()) return UsageError("tail", "unexpected argument");
  KafkaConsumer::Options co;
  std::string topic = "bouncestream-alerts";
  if (flags.Has("config")) {
    absl::StatusOr<Config> c = LoadConfigFile(flags.Get("config"), ProcessEnvironment());
    if (!c.ok()) {
      std::fprintf(stderr, "bouncestream tail: %s\n", std::string(c.status().message()).c_str());
      return 2;
    }
    co.brokers = c->kafka.brokers;
    co.properties = c->kafka.properties.values;
    for (const auto& [k, v] : c->kafka.consumer_properties.values) co.properties[k] = v;
    topic = c->topics.alerts;
  }
  if (flags.Has("brokers")) co.brokers = flags.Get("brokers");
  if (co.brokers.empty()) return UsageError("tail", "--brokers B or --config FILE is required");
  for (const std::string& kv : flags.GetAll("property")) {
    size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) return UsageError("tail", absl::StrCat("-X needs NAME=VALUE, got '", kv, "'"));
    co.properties[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  if (flags.Has("topic")) topic = flags.Get("topic");
  co.partition_eof = true;
  co.auto_commit = false;
  co.log = [](int level, std::string_view m) {
    if (level <= 2) std::fprintf(stderr, "bouncestream tail: %.*s\n", static_cast<int>(m.size()), m.data());
  };
  absl::StatusOr<std::unique_ptr<KafkaConsumer>> consumer = KafkaConsumer::Create(co);
  if (!consumer.ok()) {
    std::fprintf(stderr, "bouncestream tail: %s\n", std::string(consumer.status().message()).c_str());
    return 2;
  }
  absl::StatusOr<int> parts = (*consumer)->PartitionCount(topic, 15000);
  if (!parts.ok()) {
    std::fprintf(stderr, "bouncestream tail: %s\n", std::string(parts.status().message()).c_str());
    return 1;
  }
  std::vector<TopicPartition> assign;
  for (int p = 0; p < *parts; ++p) {
    assign.push_back({topic, p, flags.Has("from-beginning") ? kOffsetBeginning : kOffsetEnd});
  }
  if (absl::Status s = (*consumer)->Assign(assign); !s.ok()) {
    std::fprintf(stderr, "bouncestream tail: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  struct sigaction sa = {};
  sa.sa_handler = [](int) { g_stop.store(true); };
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  const bool json = flags.Has("json");
  const bool exit_at_end = flags.Has("exit-at-end");
  std::vector<bool> at_end(static_cast<size_t>(*parts), false);
  while (!g_stop.load()) {
    std::vector<TopicPartition> eof;
    absl::StatusOr<int> n = (*consumer)->Poll(200, 1000, [&](const KafkaMessage& m) {
      if (m.partition >= 0 && static_cast<size_t>(m.partition) < at_end.size()) at_end[static_cast<size_t>(m.partition)] = false;
      std::string line = json ? std::string() : Human(m.payload);
      if (line.empty()) line = std::string(m.payload);
      line += '\n';
      std::fwrite(line.data(), 1, line.size(), stdout);
    }, &eof);
    if (!n.ok()) {
      std::fprintf(stderr, "bouncestream tail: %s\n", std::string(n.status().message()).c_str());
      return 1;
    }
    std::fflush(stdout);
    for (const TopicPartition& e : eof) {
      if (e.partition >= 0 && static_cast<size_t>(e.partition) < at_end.size()) at_end[static_cast<size_t>(e.partition)] = true;
    }
    if (exit_at_end && std::all_of(at_end.begin(), at_end.end(), [](bool b) { return b; })) break;
  }
  return 0;
}

}  // namespace bs::tools
