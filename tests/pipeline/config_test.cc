// The configuration loader's contract: defaults, file:line errors for unknown or wrong keys, environment
// overrides, librdkafka property checks, and the example config documenting every key at its default.
#include "pipeline/config/config.h"

#include <set>
#include <string>

#include "gtest/gtest.h"
#include "pipeline/source/kafka_consumer.h"
#include "tests/testing/paths.h"

namespace bs {
namespace {

constexpr char kMinimal[] = R"(
[kafka]
brokers = "b1:9092,b2:9092"
input_topics = ["mta-logs"]
)";

std::string Message(const absl::StatusOr<Config>& c) { return std::string(c.status().message()); }

TEST(ConfigTest, MinimalFileGetsDocumentedDefaults) {
  absl::StatusOr<Config> c = ParseConfig(kMinimal, "min.toml", {});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->kafka.brokers, "b1:9092,b2:9092");
  EXPECT_EQ(c->kafka.input_topics, std::vector<std::string>{"mta-logs"});
  EXPECT_EQ(c->kafka.group_id, "bouncestream");
  EXPECT_EQ(c->kafka.delivery, DeliveryMode::kAtLeastOnce);
  EXPECT_EQ(c->topics.suppressions, "bouncestream-suppressions");
  EXPECT_EQ(c->topics.classified, "");
  EXPECT_EQ(c->input.format, Format::kAuto);
  EXPECT_EQ(c->processing.workers, 2);
  EXPECT_EQ(c->processing.max_in_flight_bytes, 64ll << 20);
  EXPECT_EQ(c->alerts.window_ms, 5 * 60 * 1000);
  EXPECT_EQ(c->rules.reload, RulesOptions::Reload::kSighup);
  EXPECT_EQ(c->metrics.listen, "127.0.0.1:9464");
  EXPECT_EQ(c->log.level, LogOptions::Level::kInfo);
  EXPECT_TRUE(c->warnings.empty());
}

TEST(ConfigTest, EveryKindOfValueIsRead) {
  absl::StatusOr<Config> c = ParseConfig(R"(
[kafka]
brokers = "k:9092"
input_topics = "single-topic"      # a single string is a one-element list
delivery = "exactly_once"
group_instance_id = "pod-3"
[kafka.properties]
"session.timeout.ms" = 10000       # numbers and booleans become librdkafka strings
"enable.idempotence" = true
"client.id" = "x"
[input]
format = "postfix"
[input.formats]
"single-topic" = "exim"
[processing]
workers = 7
max_in_flight_mb = 3
[alerts]
window_minutes = 10
grace_seconds = 30
[rules]
local_dir = "/etc/rules"
reload = "watch"
[log]
level = "debug"
format = "json"
hash_addresses = true
hash_key = "k"
)",
                                         "all.toml", {});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->kafka.input_topics, std::vector<std::string>{"single-topic"});
  EXPECT_EQ(c->kafka.delivery, DeliveryMode::kExactlyOnce);
  EXPECT_EQ(c->kafka.group_instance_id, "pod-3");
  EXPECT_EQ(c->kafka.properties.values.at("session.timeout.ms"), "10000");
  EXPECT_EQ(c->kafka.properties.values.at("enable.idempotence"), "true");
  EXPECT_EQ(c->kafka.properties.origin.at("client.id"), "all.toml:10");
  EXPECT_EQ(c->input.format, Format::kPostfix);
  EXPECT_EQ(c->input.formats.at("single-topic"), Format::kExim);
  EXPECT_EQ(c->processing.workers, 7);
  EXPECT_EQ(c->processing.max_in_flight_bytes, 3ll << 20);
  EXPECT_EQ(c->alerts.window_ms, 10 * 60 * 1000);
  EXPECT_EQ(c->alerts.grace_ms, 30 * 1000);
  EXPECT_EQ(c->rules.reload, RulesOptions::Reload::kWatch);
  EXPECT_EQ(c->log.level, LogOptions::Level::kDebug);
  EXPECT_EQ(c->log.format, LogOptions::Format::kJson);
  EXPECT_TRUE(c->log.hash_addresses);
}

TEST(ConfigTest, UnknownKeysAndSectionsAreErrorsWithFileAndLine) {
  absl::StatusOr<Config> c = ParseConfig(R"([kafka]
brokers = "b:9092"
input_topics = ["t"]
grup_id = "g"

[topic]
alerts = "a"

[processing]
threads = 4
)",
                                         "cfg.toml", {});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Message(c),
            "cfg.toml:4: [kafka] unknown key 'grup_id' (did you mean 'group_id'?)\n"
            "cfg.toml:6: unknown section [topic] (did you mean 'topics'?)\n"
            "cfg.toml:10: [processing] unknown key 'threads'");
}

TEST(ConfigTest, WrongTypesAndValuesNameTheLine) {
  absl::StatusOr<Config> c = ParseConfig(R"([kafka]
brokers = 9092
input_topics = [1, 2]
delivery = "twice"
[processing]
workers = "many"
commit_interval_ms = 5
[metrics]
listen = "nowhere"
[input]
format = "sendmail"
)",
                                         "t.toml", {});
  ASSERT_FALSE(c.ok());
  const std::string m = Message(c);
  EXPECT_NE(m.find("t.toml:2: [kafka] brokers must be a string"), std::string::npos) << m;
  EXPECT_NE(m.find("t.toml:3: [kafka] input_topics must be a list of strings"), std::string::npos) << m;
  EXPECT_NE(m.find("t.toml:4: [kafka] delivery must be one of \"at_least_once\", \"exactly_once\""), std::string::npos)
      << m;
  EXPECT_NE(m.find("t.toml:6: [processing] workers must be an integer"), std::string::npos) << m;
  EXPECT_NE(m.find("t.toml:7: [processing] commit_interval_ms must be between 10 and 600000"), std::string::npos) << m;
  EXPECT_NE(m.find("t.toml:9: [metrics] listen = \"nowhere\" is not host:port"), std::string::npos) << m;
  EXPECT_NE(m.find("t.toml:11: [input] format unknown log format \"sendmail\""), std::string::npos) << m;
  // The missing required keys are reported too, in the same run.
  EXPECT_NE(m.find("[kafka] brokers is required"), std::string::npos) << m;
}

TEST(ConfigTest, TomlSyntaxErrorHasTheLine) {
  absl::StatusOr<Config> c = ParseConfig("[kafka]\nbrokers = \"b\"\ninput_topics = [\"t\"\n", "s.toml", {});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(Message(c).rfind("s.toml:", 0), 0u) << Message(c);
}

TEST(ConfigTest, RequiredKeys) {
  absl::StatusOr<Config> c = ParseConfig("[topics]\nalerts = \"a\"\n", "r.toml", {});
  ASSERT_FALSE(c.ok());
  EXPECT_NE(Message(c).find("r.toml: [kafka] brokers is required"), std::string::npos) << Message(c);
  EXPECT_NE(Message(c).find("r.toml: [kafka] input_topics is required"), std::string::npos) << Message(c);
}

TEST(ConfigTest, OutputsMustNotReuseInputOrEachOther) {
  absl::StatusOr<Config> c = ParseConfig(R"([kafka]
brokers = "b"
input_topics = ["logs"]
[topics]
alerts = "logs"
dlq = "bouncestream-suppressions"
classified = ""
)",
                                         "o.toml", {});
  ASSERT_FALSE(c.ok());
  EXPECT_NE(Message(c).find("o.toml:5: [topics] alerts = \"logs\" is already used by kafka.input_topics"),
            std::string::npos)
      << Message(c);
  EXPECT_NE(Message(c).find("o.toml:6: [topics] dlq = \"bouncestream-suppressions\" is already used by"),
            std::string::npos)
      << Message(c);
}

TEST(ConfigTest, OptionalAndRequiredOutputTopics) {
  // classified, late and repartition may be empty (off); the others must name a topic.
  absl::StatusOr<Config> c = ParseConfig(R"([kafka]
brokers = "b"
input_topics = ["logs"]
[topics]
repartition = ""
late = ""
)",
                                         "p.toml", {});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->topics.repartition.empty());
  c = ParseConfig("[kafka]\nbrokers = \"b\"\ninput_topics = [\"logs\"]\n[topics]\nchangelog = \"\"\n", "q.toml", {});
  ASSERT_FALSE(c.ok());
  EXPECT_NE(Message(c).find("q.toml:5: [topics] changelog must name a topic"), std::string::npos) << Message(c);
}

TEST(ConfigTest, ManagedLibrdkafkaPropertiesAreRejected) {
  for (const char* prop : {"bootstrap.servers", "group.id", "enable.auto.commit", "enable.auto.offset.store",
                           "transactional.id"}) {
    std::string text = std::string(kMinimal) + "[kafka.properties]\n\"" + prop + "\" = \"x\"\n";
    absl::StatusOr<Config> c = ParseConfig(text, "m.toml", {});
    ASSERT_FALSE(c.ok()) << prop;
    EXPECT_NE(Message(c).find(std::string("m.toml:6: librdkafka property \"") + prop + "\" cannot be set here"),
              std::string::npos)
        << Message(c);
  }
}

TEST(ConfigTest, EnvironmentOverridesKeysAndProperties) {
  Environment env = {
      {"BOUNCESTREAM_KAFKA_BROKERS", "env-broker:9093"},
      {"BOUNCESTREAM_KAFKA_GROUP_INSTANCE_ID", "bouncestream-2"},
      {"BOUNCESTREAM_KAFKA_INPUT_TOPICS", "a, b,,c"},
      {"BOUNCESTREAM_PROCESSING_WORKERS", "5"},
      {"BOUNCESTREAM_LOG_HASH_ADDRESSES", "true"},
      {"BOUNCESTREAM_LOG_HASH_KEY", "s3cret"},
      {"BOUNCESTREAM_KAFKA_PROPERTIES_SASL_PASSWORD", "pw"},
      {"BOUNCESTREAM_KAFKA_PROPERTIES_SSL_ENDPOINT_IDENTIFICATION_ALGORITHM", "https"},
      {"BOUNCESTREAM_KAFKA_PRODUCER_PROPERTIES_COMPRESSION_TYPE", "lz4"},
      {"BOUNCESTREAM_POD_NAMESPACE", "kafka"},  // not ours: ignored with a warning
      {"UNRELATED", "x"},
  };
  absl::StatusOr<Config> c = ParseConfig(kMinimal, "e.toml", env);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->kafka.brokers, "env-broker:9093");
  EXPECT_EQ(c->kafka.group_instance_id, "bouncestream-2");
  EXPECT_EQ(c->kafka.input_topics, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(c->processing.workers, 5);
  EXPECT_TRUE(c->log.hash_addresses);
  EXPECT_EQ(c->log.hash_key, "s3cret");
  EXPECT_EQ(c->kafka.properties.values.at("sasl.password"), "pw");
  EXPECT_EQ(c->kafka.properties.origin.at("sasl.password"), "environment BOUNCESTREAM_KAFKA_PROPERTIES_SASL_PASSWORD");
  EXPECT_EQ(c->kafka.properties.values.at("ssl.endpoint.identification.algorithm"), "https");
  EXPECT_EQ(c->kafka.producer_properties.values.at("compression.type"), "lz4");
  EXPECT_TRUE(c->kafka.consumer_properties.values.empty());
  ASSERT_EQ(c->warnings.size(), 1u);
  EXPECT_NE(c->warnings[0].find("BOUNCESTREAM_POD_NAMESPACE"), std::string::npos);
}

TEST(ConfigTest, EnvironmentErrorsNameTheVariable) {
  Environment env = {{"BOUNCESTREAM_KAFKA_BROKER", "x"},
                     {"BOUNCESTREAM_PROCESSING_WORKERS", "lots"},
                     {"BOUNCESTREAM_LOG_HASH_ADDRESSES", "maybe"},
                     {"BOUNCESTREAM_KAFKA_PROPERTIES_GROUP_ID", "g"}};
  absl::StatusOr<Config> c = ParseConfig(kMinimal, "e.toml", env);
  ASSERT_FALSE(c.ok());
  const std::string m = Message(c);
  EXPECT_NE(m.find("environment BOUNCESTREAM_KAFKA_BROKER: [kafka] has no key 'broker' (did you mean 'brokers'?)"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("environment BOUNCESTREAM_PROCESSING_WORKERS: [processing] workers must be an integer"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("environment BOUNCESTREAM_LOG_HASH_ADDRESSES: [log] hash_addresses must be true or false"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("environment BOUNCESTREAM_KAFKA_PROPERTIES_GROUP_ID: librdkafka property \"group.id\" cannot"),
            std::string::npos)
      << m;
}

TEST(ConfigTest, EnvironmentCanSupplyTheRequiredKeys) {
  absl::StatusOr<Config> c = ParseConfig("", "empty.toml",
                                         {{"BOUNCESTREAM_KAFKA_BROKERS", "b:1"}, {"BOUNCESTREAM_KAFKA_INPUT_TOPICS", "t"}});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->kafka.brokers, "b:1");
}

TEST(ConfigTest, LibrdkafkaPropertiesAreCheckedWithTheirOrigin) {
  absl::StatusOr<Config> c = ParseConfig(std::string(kMinimal) + R"([kafka.properties]
"session.timeout.ms" = "not-a-number"
"no.such.property" = "1"
"security.protocol" = "SASL_SSL"
)",
                                         "p.toml", {{"BOUNCESTREAM_KAFKA_PROPERTIES_ACKS", "sometimes"}});
  ASSERT_TRUE(c.ok()) << c.status();  // the loader leaves values to librdkafka…
  absl::Status s = CheckKafkaProperties(c->kafka);  // …which refuses these three
  ASSERT_FALSE(s.ok());
  const std::string m(s.message());
  EXPECT_NE(m.find("p.toml:6: [kafka.properties] \"session.timeout.ms\": Invalid value"), std::string::npos) << m;
  EXPECT_NE(m.find("p.toml:7: [kafka.properties] \"no.such.property\": No such configuration property"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("environment BOUNCESTREAM_KAFKA_PROPERTIES_ACKS: [kafka.properties] \"acks\""), std::string::npos)
      << m;
  EXPECT_EQ(m.find("security.protocol"), std::string::npos) << m;

  absl::StatusOr<Config> good = ParseConfig(kMinimal, "g.toml", {});
  ASSERT_TRUE(good.ok());
  EXPECT_TRUE(CheckKafkaProperties(good->kafka).ok());
}

TEST(ConfigTest, DescribeRedactsSecretsAndParsesBackToTheSameConfig) {
  absl::StatusOr<Config> c = ParseConfig(std::string(kMinimal) + "[kafka.properties]\n\"sasl.password\" = \"hunter2\"\n"
                                         "\"ssl.key.location\" = \"/k\"\n[processing]\nworkers = 3\n",
                                         "d.toml", {});
  ASSERT_TRUE(c.ok()) << c.status();
  std::string text = DescribeConfig(*c);
  EXPECT_EQ(text.find("hunter2"), std::string::npos) << text;
  EXPECT_NE(text.find("\"sasl.password\" = \"<redacted>\""), std::string::npos) << text;
  EXPECT_NE(text.find("\"ssl.key.location\" = \"/k\""), std::string::npos) << text;
  absl::StatusOr<Config> back = ParseConfig(text, "described.toml", {});
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(DescribeConfig(*back), text);
  EXPECT_EQ(back->processing.workers, 3);
}

// The example config documents every key the loader accepts, at its default value.
TEST(ConfigTest, ExampleConfigHasEveryKeyAtItsDefault) {
  const std::string path = testing::SourceDir() + "/docs/bouncestream.example.toml";
  const std::string text = testing::ReadFileOrDie(path);
  absl::StatusOr<Config> example = ParseConfig(text, path, {});
  ASSERT_TRUE(example.ok()) << example.status();
  ASSERT_TRUE(CheckKafkaProperties(example->kafka).ok());
  for (const std::string& key : ConfigKeys()) {
    // "kafka.properties.*" is a table of free keys; "alerts.silence.enabled" a key of [alerts.silence].
    if (key.size() > 2 && key.substr(key.size() - 2) == ".*") {
      std::string header = "[" + key.substr(0, key.size() - 2) + "]";
      EXPECT_NE(text.find("\n" + header + "\n"), std::string::npos) << "example lacks " << header;
      continue;
    }
    const std::string name = key.substr(key.rfind('.') + 1);
    EXPECT_NE(text.find("\n" + name + " = "), std::string::npos) << "example lacks " << key;
  }
  // Every value equals the default: the example with brokers and topics taken from a minimal file
  // describes the same configuration as that minimal file.
  absl::StatusOr<Config> defaults =
      ParseConfig(std::string("[kafka]\nbrokers = \"") + example->kafka.brokers + "\"\ninput_topics = [\"" +
                      example->kafka.input_topics.at(0) + "\"]\n",
                  "defaults.toml", {});
  ASSERT_TRUE(defaults.ok()) << defaults.status();
  EXPECT_EQ(DescribeConfig(*example), DescribeConfig(*defaults));
}

// [decisions] and its tenants, [alerts] thresholds per kind and provider reach the option structs; a
// tenant and a provider override start from the values they refine.
TEST(ConfigTest, DecisionsAndThresholds) {
  absl::StatusOr<Config> c = ParseConfig(std::string(kMinimal) + R"(
[decisions]
verify_attempts = 9
reengage_campaigns = 2
campaign_fallback = "day"
sender_tag_separator = "-"
history_ttl_days = 10
[decisions.tenants.acme]
reengage_campaigns = 4
[decisions.tenants.beta]
unsuppress_on_delivery = false
[alerts]
baseline_alpha = 0.5
update_factor = 3
[alerts.thresholds.rate_limit]
min_count = 3
min_rate = 0.1
[alerts.thresholds.rate_limit.gmail]
min_attempts = 100
[alerts.thresholds.domain_deferrals.other]
min_rate = 0.8
)",
                                         "d.toml", {{"BOUNCESTREAM_DECISIONS_VERIFY_MIN_CAMPAIGNS", "3"}});
  ASSERT_TRUE(c.ok()) << c.status();
  const DeciderOptions& d = c->decisions;
  EXPECT_EQ(d.policy.verify_attempts, 9);
  EXPECT_EQ(d.policy.reengage_campaigns, 2);
  EXPECT_EQ(d.policy.verify_min_campaigns, 3);  // from the environment
  EXPECT_EQ(d.campaign_fallback, CampaignFallback::kDay);
  EXPECT_EQ(d.sender_tag_separator, '-');
  EXPECT_EQ(d.ttl.history_ms, 10 * kDayMs);
  ASSERT_EQ(d.tenant_policies.size(), 2u);
  EXPECT_EQ(d.PolicyFor("acme").reengage_campaigns, 4);
  EXPECT_EQ(d.PolicyFor("acme").verify_attempts, 9);  // inherited from [decisions]
  EXPECT_FALSE(d.PolicyFor("beta").unsuppress_on_delivery);
  EXPECT_TRUE(d.PolicyFor("other-tenant").unsuppress_on_delivery);
  EXPECT_DOUBLE_EQ(c->alerts.baseline_alpha, 0.5);
  EXPECT_DOUBLE_EQ(c->alerts.update_factor, 3.0);
  const KindThreshold& rl = c->alerts.Threshold(Provider::kYahoo, AlertKind::kRateLimit);
  EXPECT_EQ(rl.min_count, 3u);
  EXPECT_DOUBLE_EQ(rl.min_rate, 0.1);
  EXPECT_EQ(rl.min_attempts, 20u);  // the default
  const KindThreshold& gm = c->alerts.Threshold(Provider::kGmail, AlertKind::kRateLimit);
  EXPECT_EQ(gm.min_attempts, 100u);
  EXPECT_EQ(gm.min_count, 3u);  // from the kind's table
  const KindThreshold& dd = c->alerts.Threshold(Provider::kOther, AlertKind::kDomainDeferrals);
  EXPECT_DOUBLE_EQ(dd.min_rate, 0.8);
  EXPECT_EQ(dd.min_attempts, 20u);  // the built-in override it refines, not the kind's 50
  // What config check --print shows reads back to the same configuration.
  absl::StatusOr<Config> back = ParseConfig(DescribeConfig(*c), "back.toml", {});
  ASSERT_TRUE(back.ok()) << back.status() << "\n" << DescribeConfig(*c);
  EXPECT_EQ(DescribeConfig(*back), DescribeConfig(*c));
}

TEST(ConfigTest, DecisionAndThresholdErrorsNameTheLine) {
  absl::StatusOr<Config> c = ParseConfig(std::string(kMinimal) + R"(
[decisions]
verify_attempts = 0
campaign_fallback = "week"
sender_tag_separator = "@"
[decisions.tenants.acme]
history_ttl_days = 3
[alerts.thresholds.rate_limt]
min_count = 3
[alerts.thresholds.blocklist]
min_rate = 1.5
min_cont = 2
[alerts.thresholds.blocklist.hotmail]
min_count = 1
[alerts.thresholds.silence]
min_count = 1
)",
                                         "bad.toml", {});
  ASSERT_FALSE(c.ok());
  const std::string m = Message(c);
  EXPECT_NE(m.find("bad.toml:7: [decisions] verify_attempts must be between 1 and 255"), std::string::npos) << m;
  EXPECT_NE(m.find("bad.toml:8: [decisions] campaign_fallback must be one of"), std::string::npos) << m;
  EXPECT_NE(m.find("bad.toml:9: [decisions] sender_tag_separator must be one character"), std::string::npos) << m;
  EXPECT_NE(m.find("bad.toml:11: [decisions.tenants.acme] unknown key 'history_ttl_days'"), std::string::npos) << m;
  EXPECT_NE(m.find("bad.toml:12: [alerts.thresholds] 'rate_limt' is not an alert kind (did you mean 'rate_limit'?)"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("bad.toml:15: [alerts.thresholds.blocklist] min_rate must be between 0 and 1"), std::string::npos)
      << m;
  EXPECT_NE(m.find("bad.toml:16: [alerts.thresholds.blocklist] unknown key 'min_cont' (did you mean 'min_count'?)"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("bad.toml:17: [alerts.thresholds.blocklist] 'hotmail' is neither"), std::string::npos) << m;
  EXPECT_NE(m.find("bad.toml:19: [alerts.thresholds] 'silence' has no rate thresholds"), std::string::npos) << m;
}

// A replay reads files: its config needs no [kafka]; the service's does.
TEST(ConfigTest, ReplayConfigNeedsNoKafka) {
  constexpr char kReplayOnly[] = "[decisions]\nverify_attempts = 7\n";
  absl::StatusOr<Config> r = ParseConfig(kReplayOnly, "r.toml", {}, ConfigUse::kReplay);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->decisions.policy.verify_attempts, 7);
  absl::StatusOr<Config> s = ParseConfig(kReplayOnly, "r.toml", {});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(Message(s).find("[kafka] brokers is required"), std::string::npos) << Message(s);
  // Processing errors are still errors in a replay.
  EXPECT_FALSE(ParseConfig("[alerts]\nwindow_minutes = 5\nadvance_seconds = 7\n", "r.toml", {}, ConfigUse::kReplay).ok());
}

TEST(ConfigTest, KubernetesConfigsLoad) {
  for (const char* rel : {"/k8s/base/config/bouncestream.toml", "/k8s/overlays/example/bouncestream.toml"}) {
    const std::string path = testing::SourceDir() + rel;
    absl::StatusOr<Config> c = LoadConfigFile(path, {{"BOUNCESTREAM_KAFKA_GROUP_INSTANCE_ID", "bouncestream-0"},
                                                     {"BOUNCESTREAM_KAFKA_PROPERTIES_SASL_PASSWORD", "x"}});
    ASSERT_TRUE(c.ok()) << path << ": " << c.status();
    EXPECT_TRUE(CheckKafkaProperties(c->kafka).ok()) << path;
    EXPECT_EQ(c->kafka.group_instance_id, "bouncestream-0");
  }
  EXPECT_EQ(LoadConfigFile("/nonexistent/bouncestream.toml", {}).status().code(), absl::StatusCode::kNotFound);
}

// [input.json]: the field map of `--format json`, from the file and the environment, shown by describe.
TEST(ConfigTest, JsonFieldMap) {
  absl::StatusOr<Config> defaults = ParseConfig(kMinimal, "min.toml", {});
  ASSERT_TRUE(defaults.ok()) << defaults.status();
  EXPECT_EQ(defaults->input.json.recipient, JsonFieldMap().recipient);
  EXPECT_TRUE(defaults->input.json.outcome_values.empty());
  absl::StatusOr<Config> c = ParseConfig(std::string(kMinimal) + R"(
[input]
format = "json"

[input.json]
recipient = "rcpt.address"
outcome = "result"
time = "ts"
text = "smtp.reply"
code = "smtp.code"
enhanced = "smtp.status"
sending_ip = "egress\\.ip"
campaign = "meta.campaign"

[input.json_outcomes]
ok = "delivered"
soft = "deferred"
hard = "bounced"
)",
                                         "json.toml", {{"BOUNCESTREAM_INPUT_JSON_MX_HOST", "peer.host"}});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->input.format, Format::kJsonMapping);
  const JsonFieldMap& m = c->input.json;
  EXPECT_EQ(m.recipient, "rcpt.address");
  EXPECT_EQ(m.outcome, "result");
  EXPECT_EQ(m.time, "ts");
  EXPECT_EQ(m.text, "smtp.reply");
  EXPECT_EQ(m.code, "smtp.code");
  EXPECT_EQ(m.enhanced, "smtp.status");
  EXPECT_EQ(m.sending_ip, "egress\\.ip");
  EXPECT_EQ(m.campaign, "meta.campaign");
  EXPECT_EQ(m.mx_host, "peer.host");  // BOUNCESTREAM_INPUT_JSON_MX_HOST keeps its underscore
  EXPECT_EQ(m.sender, "");
  ASSERT_EQ(m.outcome_values.size(), 3u);
  std::map<std::string, Outcome> outcomes(m.outcome_values.begin(), m.outcome_values.end());
  EXPECT_EQ(outcomes, (std::map<std::string, Outcome>{
                          {"ok", Outcome::kDelivered}, {"soft", Outcome::kDeferred}, {"hard", Outcome::kBounced}}));
  // Describe writes the map so that it parses back to the same configuration.
  const std::string described = DescribeConfig(*c);
  EXPECT_NE(described.find("[input.json]\nrecipient = \"rcpt.address\"\n"), std::string::npos) << described;
  absl::StatusOr<Config> again = ParseConfig(described, "described.toml", {});
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(DescribeConfig(*again), described);
}

TEST(ConfigTest, JsonFieldMapErrorsNameTheLine) {
  absl::StatusOr<Config> c = ParseConfig(std::string(kMinimal) + R"(
[input.json]
recipient = "to"
recipeint_domain = "x"
time = "a..b"

[input.json_outcomes]
ok = "deliverd"
)",
                                         "bad.toml", {});
  ASSERT_FALSE(c.ok());
  const std::string m = Message(c);
  // kMinimal has 4 lines (with the leading newline), then a blank line: [input.json] is line 6.
  EXPECT_NE(m.find("bad.toml:8: [input.json] unknown key 'recipeint_domain'"), std::string::npos) << m;
  EXPECT_NE(m.find("bad.toml:12: [input.json_outcomes] \"ok\": unknown outcome \"deliverd\" (did you mean 'delivered'?)"),
            std::string::npos) << m;
  EXPECT_NE(m.find("bad.toml:9: [input.json] json mapping: field 'time' has a malformed path 'a..b'"), std::string::npos)
      << m;
  // The required paths cannot be emptied.
  absl::StatusOr<Config> empty = ParseConfig(std::string(kMinimal) + "[input.json]\nrecipient = \"\"\n", "e.toml", {});
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(Message(empty).find("e.toml:6: [input.json] json mapping: field 'recipient' needs a path"), std::string::npos)
      << Message(empty);
  absl::StatusOr<Config> env = ParseConfig(kMinimal, "min.toml", {{"BOUNCESTREAM_INPUT_JSON_RCPT", "x"}});
  ASSERT_FALSE(env.ok());
  EXPECT_NE(Message(env).find("environment BOUNCESTREAM_INPUT_JSON_RCPT: [input.json] unknown key 'rcpt'"),
            std::string::npos) << Message(env);
}

}  // namespace
}  // namespace bs
