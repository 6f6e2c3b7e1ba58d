// The service configuration (`bouncestream run --config FILE`): plain option structs with documented
// defaults, and the one loader that fills them from a TOML file plus environment overrides.
//
// Every key, its default and its meaning are in docs/bouncestream.example.toml (keep the two in step; a
// test checks that the example loads and that every key here appears in it). Unknown sections and keys
// are errors with file:line, so a typo never silently falls back to a default.
//
// Environment overrides (for Kubernetes): BOUNCESTREAM_<SECTION>_<KEY>=value overrides a key
// (BOUNCESTREAM_KAFKA_GROUP_INSTANCE_ID); lists are comma-separated. librdkafka properties are set with
// BOUNCESTREAM_KAFKA_PROPERTIES_<PROPERTY>, dots written as underscores (..._SASL_PASSWORD →
// sasl.password), so secrets never need to be in the file. Variables whose section is not one of ours
// (BOUNCESTREAM_POD_NAMESPACE) are ignored with a warning; an unknown key in one of our sections is an error.
#ifndef BOUNCESTREAM_PIPELINE_CONFIG_CONFIG_H_
#define BOUNCESTREAM_PIPELINE_CONFIG_CONFIG_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "parsers/format.h"
#include "pipeline/state/decider_options.h"
#include "pipeline/window/alert_policy.h"

namespace bs {

enum class DeliveryMode : uint8_t { kAtLeastOnce, kExactlyOnce };
std::string_view DeliveryModeName(DeliveryMode m);

// librdkafka properties with where each was set ("file:line" or "environment VAR"), for error messages.
struct KafkaProperties {
  std::map<std::string, std::string> values;
  std::map<std::string, std::string> origin;
};

struct KafkaOptions {
  std::string brokers;                    // bootstrap.servers; required
  std::string group_id = "bouncestream";  // consumer group
  std::string group_instance_id;          // static membership when set (the pod name on Kubernetes)
  std::vector<std::string> input_topics;  // required
  DeliveryMode delivery = DeliveryMode::kAtLeastOnce;
  // Exactly-once only: the producer's transactional.id. Empty = "<group_id>-<group_instance_id>", or
  // "<group_id>-<host name>" without static membership. Must be stable across restarts of one instance
  // (a restart fences the previous incarnation's open transaction) and unique among running instances.
  std::string transactional_id;
  KafkaProperties properties;           // passed to every client
  KafkaProperties consumer_properties;  // consumer only (after `properties`)
  KafkaProperties producer_properties;  // producers only (after `properties`)
};

struct TopicOptions {
  std::string alerts = "bouncestream-alerts";
  std::string suppressions = "bouncestream-suppressions";  // compacted
  std::string dlq = "bouncestream-dlq";
  std::string classified;  // empty = the classified output is off
  std::string late;        // events later than every window holding them; empty = off (they are counted)
  std::string changelog = "bouncestream-changelog";  // compacted, co-partitioned with the input
  std::string repartition = "bouncestream-repartition";
  // Create missing output topics at start (suppressions and changelog compacted; as many partitions as
  // the largest input topic). Off by default: production topics come from the operator's tooling.
  bool create_missing = false;
  int replication_factor = -1;  // for created topics; -1 = the broker's default
};

struct InputOptions {
  Format format = Format::kAuto;        // every input topic; kAuto = detected from each message
  std::map<std::string, Format> formats;  // per-topic override
  std::string powermta_header;          // ParserOptions::powermta_header
  // [input.json] and [input.json_outcomes]: where `--format json` finds each field (ParserOptions::json).
  JsonFieldMap json;
};

struct ProcessingOptions {
  int workers = 2;                 // parse/classify threads
  int max_batch_messages = 5000;   // messages per dispatched batch (all partitions together)
  int max_batch_wait_ms = 50;      // a batch is dispatched after this long even if not full
  int64_t max_in_flight_bytes = 64ll << 20;  // input bytes not yet committed; above it partitions pause
  int commit_interval_ms = 1000;   // at-least-once commit cadence; exactly-once transaction length
  // A partition that reached its end and got nothing new for this long stops holding the alert windows
  // back (wall time: Kafka's notion of an idle input); one that never had data stops at once.
  int idle_partition_ms = 30000;
};

struct RulesOptions {
  std::string dir;        // rule files; empty = the rules built into the binary
  std::string local_dir;  // local overrides layered over `dir` (same id replaces, new ids add)
  enum class Reload : uint8_t { kOff, kSighup, kWatch } reload = Reload::kSighup;
  int watch_interval_seconds = 10;
};

struct StateOptions {
  std::string snapshot_dir;  // reserved for local snapshots; not used yet (the changelog restores state)
  int restore_timeout_seconds = 300;
  // On assignment, the last this-many records before a Postfix/Exim partition's committed offset are read
  // again to rebuild the sender join (queue id → from=), which is not in the changelog. 0 = off.
  int join_warmup_records = 50000;
};

struct MetricsOptions {
  std::string listen = "127.0.0.1:9464";  // host:port of /metrics, /healthz, /readyz; empty = off
};

struct LogOptions {
  enum class Level : uint8_t { kDebug, kInfo, kWarn, kError } level = Level::kInfo;
  enum class Format : uint8_t { kText, kJson } format = Format::kText;
  bool hash_addresses = false;  // keyed hash of addresses in logs
  std::string hash_key;         // the key (set it from the environment: BOUNCESTREAM_LOG_HASH_KEY)
};

// [privacy]: addresses in every output as HMAC-SHA256(hash_key, lower-cased address) in hex
// (pipeline/base/address_hash.h, pipeline/sink/encoders.h say what is hashed where).
struct PrivacyOptions {
  bool hash_addresses = false;
  std::string hash_key;  // required with hash_addresses; set it from the environment: BOUNCESTREAM_PRIVACY_HASH_KEY
};

struct Config {
  KafkaOptions kafka;
  TopicOptions topics;
  InputOptions input;
  ProcessingOptions processing;
  AlertPolicy alerts;  // [alerts]: window shape, out-of-orderness, grace, lifecycle times
  DeciderOptions decisions;  // [decisions]: thresholds, campaign fallback and TTLs of the stateful decisions
  RulesOptions rules;
  StateOptions state;
  MetricsOptions metrics;
  LogOptions log;
  PrivacyOptions privacy;
  // Things worth telling but not fatal (an environment variable that names no section of ours).
  std::vector<std::string> warnings;
};

using Environment = std::map<std::string, std::string>;

// What the configuration is for: the service (`run`, backfill) needs [kafka]; a file replay reads only the
// processing sections ([alerts], [decisions], [input], [rules]…) and may omit [kafka].
enum class ConfigUse : uint8_t { kService, kReplay };

// Parses `content` (named `file_name` in messages), applies `env` overrides and validates. All problems
// are reported together, one per line, as "file:line: message".
absl::StatusOr<Config> ParseConfig(std::string_view content, std::string_view file_name, const Environment& env,
                                   ConfigUse use = ConfigUse::kService);
// Reads the file, then as ParseConfig.
absl::StatusOr<Config> LoadConfigFile(const std::string& path, const Environment& env,
                                      ConfigUse use = ConfigUse::kService);
// The BOUNCESTREAM_* variables of this process (for main; library code takes an Environment).
Environment ProcessEnvironment();

// The effective configuration as TOML (for `config check --print`); secrets (properties whose name
// contains "password", "secret" or "key" but not "location") are shown as "<redacted>".
std::string DescribeConfig(const Config& config);

// Every "section.key" the loader accepts (sub-tables as "kafka.properties.*"), for the example-config test.
std::vector<std::string> ConfigKeys();

}  // namespace bs

#endif  // BOUNCESTREAM_PIPELINE_CONFIG_CONFIG_H_
