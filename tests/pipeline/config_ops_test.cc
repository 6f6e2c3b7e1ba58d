// Tests of the operations sections of the service config: [alerts.silence] (a nested table of known keys)
// and [privacy], from the file and from BOUNCESTREAM_* environment overrides, with their validation.
#include <string>

#include "gtest/gtest.h"
#include "pipeline/config/config.h"

namespace bs {
namespace {

constexpr char kMinimal[] = R"(
[kafka]
brokers = "b1:9092"
input_topics = ["mta-logs"]
)";

TEST(ConfigOpsTest, SilenceDefaultsAndFileValues) {
  absl::StatusOr<Config> d = ParseConfig(kMinimal, "min.toml", {});
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_TRUE(d->alerts.silence.enabled);
  EXPECT_EQ(d->alerts.silence.window_ms, 15 * 60 * 1000);
  EXPECT_EQ(d->alerts.silence.min_events_per_window, 100u);
  EXPECT_EQ(d->alerts.silence.quiet_windows, 2);
  absl::StatusOr<Config> c = ParseConfig(std::string(kMinimal) + R"(
[alerts]
window_minutes = 10
[alerts.silence]
enabled = false
window_minutes = 30
min_events_per_window = 500
quiet_percent = 5
quiet_windows = 3
rest_min_percent = 40
warmup_windows = 2
baseline_alpha = 0.5
)",
                                         "c.toml", {});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->alerts.window_ms, 10 * 60 * 1000) << "[alerts] keys still read";
  const SilencePolicy& s = c->alerts.silence;
  EXPECT_FALSE(s.enabled);
  EXPECT_EQ(s.window_ms, 30 * 60 * 1000);
  EXPECT_EQ(s.min_events_per_window, 500u);
  EXPECT_EQ(s.quiet_percent, 5);
  EXPECT_EQ(s.quiet_windows, 3);
  EXPECT_EQ(s.rest_min_percent, 40);
  EXPECT_EQ(s.warmup_windows, 2);
  EXPECT_DOUBLE_EQ(s.baseline_alpha, 0.5);
  // The effective config prints the section and reads back the same.
  const std::string text = DescribeConfig(*c);
  EXPECT_NE(text.find("[alerts.silence]\nenabled = false\nwindow_minutes = 30\n"), std::string::npos) << text;
  absl::StatusOr<Config> back = ParseConfig(text, "back.toml", {});
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(DescribeConfig(*back), text);
}

TEST(ConfigOpsTest, SilenceErrorsNameFileAndLine) {
  absl::StatusOr<Config> c = ParseConfig(std::string(kMinimal) + R"(
[alerts.silence]
quiet_windws = 3
quiet_percent = 100
)",
                                         "bad.toml", {});
  ASSERT_FALSE(c.ok());
  const std::string m(c.status().message());
  EXPECT_NE(m.find("bad.toml:7: [alerts.silence] unknown key 'quiet_windws' (did you mean 'quiet_windows'?)"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("bad.toml:8: [alerts.silence] quiet_percent must be between 0 and 99"), std::string::npos) << m;
}

TEST(ConfigOpsTest, EnvironmentOverridesNestedAndPrivacyKeys) {
  absl::StatusOr<Config> c =
      ParseConfig(std::string(kMinimal) + "[privacy]\nhash_addresses = true\n", "p.toml",
                  {{"BOUNCESTREAM_ALERTS_SILENCE_QUIET_WINDOWS", "4"},
                   {"BOUNCESTREAM_ALERTS_SILENCE_ENABLED", "false"},
                   {"BOUNCESTREAM_PRIVACY_HASH_KEY", "s3cret"}});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->alerts.silence.quiet_windows, 4);
  EXPECT_FALSE(c->alerts.silence.enabled);
  EXPECT_TRUE(c->privacy.hash_addresses);
  EXPECT_EQ(c->privacy.hash_key, "s3cret");
  const std::string text = DescribeConfig(*c);
  EXPECT_EQ(text.find("s3cret"), std::string::npos) << "the key is a secret";
  EXPECT_NE(text.find("[privacy]\nhash_addresses = true\nhash_key = \"<redacted>\"\n"), std::string::npos) << text;
  // An unknown key of the nested section is an error, not a warning.
  absl::StatusOr<Config> bad =
      ParseConfig(kMinimal, "min.toml", {{"BOUNCESTREAM_ALERTS_SILENCE_QUIET_WINDWS", "4"}});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(std::string(bad.status().message()).find("[alerts.silence] has no key 'quiet_windws'"), std::string::npos)
      << bad.status();
}

TEST(ConfigOpsTest, HashingNeedsAKeyAndTheLogSharesIt) {
  absl::StatusOr<Config> nokey = ParseConfig(std::string(kMinimal) + "[privacy]\nhash_addresses = true\n", "p.toml", {});
  ASSERT_FALSE(nokey.ok());
  EXPECT_NE(std::string(nokey.status().message()).find("p.toml:6: [privacy] hash_addresses needs hash_key"),
            std::string::npos)
      << nokey.status();
  // Replays check it too (they hash their outputs the same way).
  EXPECT_FALSE(ParseConfig("[privacy]\nhash_addresses = true\n", "r.toml", {}, ConfigUse::kReplay).ok());
  // [log] hash_addresses without its own key takes [privacy]'s, so log tokens match the outputs.
  absl::StatusOr<Config> shared = ParseConfig(std::string(kMinimal) + "[log]\nhash_addresses = true\n", "l.toml",
                                              {{"BOUNCESTREAM_PRIVACY_HASH_KEY", "k"}});
  ASSERT_TRUE(shared.ok()) << shared.status();
  EXPECT_EQ(shared->log.hash_key, "k");
  EXPECT_FALSE(shared->privacy.hash_addresses) << "outputs are hashed only when asked";
  EXPECT_TRUE(shared->warnings.empty());
}

}  // namespace
}  // namespace bs
