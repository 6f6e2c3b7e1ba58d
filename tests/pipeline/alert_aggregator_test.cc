// Tests of AlertAggregator's contract on simulated time: fire/update/resolve, volume floors and baselines,
// the watermark over partitions, late events, single-occurrence kinds and key families. More window tests
// (hopping, idleness, grace, escalation, overrides) are in alert_windows_test.cc.
#include "pipeline/window/alert_aggregator.h"

#include "gtest/gtest.h"

namespace bs {
namespace {

constexpr int64_t kMin = 60 * 1000;
constexpr int64_t kT0 = 1793606400000;  // 2026-11-02T08:00:00Z, a multiple of 5 minutes

// Builds events at simulated times; no clock is read anywhere.
class AlertAggregatorTest : public ::testing::Test {
 protected:
  ClassifiedEvent Ev(int64_t t, Category c, std::string_view ip = "203.0.113.7",
                     std::string_view sender_domain = "news.example.com", Provider p = Provider::kGmail) {
    ClassifiedEvent ce;
    ce.event.event_time_ms = t;
    ce.event.outcome = c == Category::kDelivered ? Outcome::kDelivered : Outcome::kDeferred;
    ce.event.sending_ip = ip;
    ce.event.sender_domain = sender_domain;
    ce.event.reply.text = c == Category::kDelivered ? "OK" : "rate limited - gsmtp";
    ce.cls.provider = p;
    ce.cls.category = c;
    ce.cls.rule = c == Category::kRateLimited ? "gmail.rate_limit" : "generic.delivered";
    ce.cls.code = c == Category::kDelivered ? 250 : 421;
    return ce;
  }
  // `n` attempts in the minute starting at `t`, `failures` of them rate-limited.
  void Minute(AlertAggregator& a, int64_t t, int n, int failures, int partition = 0) {
    for (int i = 0; i < n; ++i) {
      a.Add(partition, Ev(t + i * (kMin / n), i < failures ? Category::kRateLimited : Category::kDelivered));
    }
  }
  AlertPolicy policy_;
};

TEST_F(AlertAggregatorTest, BurstFiresOnceUpdatesAndResolves) {
  policy_.advance_ms = policy_.window_ms;  // tumbling: one evaluation per 5-minute window
  AlertAggregator a(policy_, 1);
  std::vector<AlertRecord> out;
  // 20 quiet minutes, 15 minutes at 50 %, then 20 quiet minutes.
  for (int m = 0; m < 20; ++m) Minute(a, kT0 + m * kMin, 20, 0);
  for (int m = 20; m < 35; ++m) Minute(a, kT0 + m * kMin, 20, m < 25 ? 5 : 12);
  for (int m = 35; m < 55; ++m) Minute(a, kT0 + m * kMin, 20, 0);
  a.Drain(out);
  a.FinishPartition(0);
  a.Drain(out);
  ASSERT_GE(out.size(), 2u);
  EXPECT_EQ(out.front().state, AlertState::kFiring);
  EXPECT_EQ(out.front().kind, AlertKind::kRateLimit);
  EXPECT_EQ(out.front().key.sending_ip, "203.0.113.7");
  EXPECT_EQ(out.front().key.provider, Provider::kGmail);
  EXPECT_EQ(out.front().window_start_ms, kT0 + 20 * kMin);
  EXPECT_EQ(out.front().count, 25u);
  EXPECT_EQ(out.front().attempts, 100u);
  EXPECT_DOUBLE_EQ(out.front().rate, 0.25);
  EXPECT_EQ(out.front().action, Action::kRetrySlower);
  EXPECT_FALSE(out.front().samples.empty());
  EXPECT_EQ(out.back().state, AlertState::kResolved);
  int firing = 0, updated = 0;
  for (const auto& r : out) {
    EXPECT_EQ(r.id, out.front().id) << "one incident, one id";
    firing += r.state == AlertState::kFiring;
    updated += r.state == AlertState::kUpdated;
  }
  EXPECT_EQ(firing, 1);
  EXPECT_EQ(updated, 1) << "5 → 12 per minute more than doubles the count";
}

TEST_F(AlertAggregatorTest, VolumeFloorAndBaselineKeepNoisyKeysQuiet) {
  AlertAggregator a(policy_, 1);
  std::vector<AlertRecord> out;
  // 100 % failure but only 5 attempts per window: below the volume floor.
  for (int m = 0; m < 30; ++m) a.Add(0, Ev(kT0 + m * kMin, Category::kRateLimited, "198.51.100.1"));
  // A key that always runs at 20 % learns that baseline; 25 % later is not 3× above it.
  for (int m = 0; m < 60; ++m) Minute(a, kT0 + m * kMin, 20, m < 30 ? 4 : 5);
  a.FinishPartition(0);
  a.Drain(out);
  for (const auto& r : out) ADD_FAILURE() << AlertKindName(r.kind) << " " << r.key.sending_ip << " " << r.rate;
}

TEST_F(AlertAggregatorTest, WatermarkIsTheMinimumOverPartitions) {
  AlertAggregator a(policy_, 2);
  std::vector<AlertRecord> out;
  for (int m = 0; m < 10; ++m) Minute(a, kT0 + m * kMin, 20, 10, 0);
  a.Drain(out);
  EXPECT_TRUE(out.empty()) << "partition 1 has not started: nothing may close";
  // Within the idle timeout of partition 0's time: partition 0 still holds the watermark.
  Minute(a, kT0 + 12 * kMin, 1, 0, 1);
  a.Drain(out);
  EXPECT_FALSE(out.empty()) << "both partitions past the first windows";
  EXPECT_EQ(a.watermark(), kT0 + 9 * kMin + 57000 - policy_.out_of_orderness_ms);
}

TEST_F(AlertAggregatorTest, LateEventsAreCountedNotDropped) {
  AlertAggregator a(policy_, 1);
  std::vector<AlertRecord> out;
  Minute(a, kT0, 20, 0);
  Minute(a, kT0 + 20 * kMin, 20, 0);
  a.Drain(out);  // windows before ~T0+19m are closed
  EXPECT_EQ(a.late_events(), 0u);
  a.Add(0, Ev(kT0 + 1 * kMin, Category::kRateLimited));
  EXPECT_EQ(a.late_events(), 1u);
  // Within the allowed out-of-orderness: not late.
  a.Add(0, Ev(kT0 + 20 * kMin + 10, Category::kRateLimited));
  EXPECT_EQ(a.late_events(), 1u);
}

TEST_F(AlertAggregatorTest, SingleBlocklistHitFiresAndAuthIsKeyedBySenderDomain) {
  AlertAggregator a(policy_, 1);
  std::vector<AlertRecord> out;
  auto bl = Ev(kT0, Category::kIpBlocklisted, "198.51.100.21", "shop.example.net", Provider::kProofpoint);
  bl.cls.blocklist = "spamhaus";
  a.Add(0, bl);
  for (int i = 0; i < 30; ++i) {
    for (std::string_view ip : {"203.0.113.7", "203.0.113.8"}) {
      a.Add(0, Ev(kT0 + i * 1000, i % 2 ? Category::kDmarcFailure : Category::kDelivered, ip, "alerts.example.org",
                  Provider::kMicrosoft));
    }
  }
  a.FinishPartition(0);
  a.Drain(out);
  ASSERT_EQ(out.size(), 2u);
  // Records of one window come in a fixed key order (hash of the key); find each by kind.
  if (out[0].kind != AlertKind::kBlocklist) std::swap(out[0], out[1]);
  EXPECT_EQ(out[0].kind, AlertKind::kBlocklist);
  EXPECT_EQ(out[0].severity, "critical");
  EXPECT_EQ(out[0].blocklists, std::vector<std::string>{"spamhaus"});
  EXPECT_EQ(out[1].kind, AlertKind::kDmarcFailure);
  EXPECT_EQ(out[1].key.sender_domain, "alerts.example.org");
  EXPECT_TRUE(out[1].key.sending_ip.empty()) << "one DMARC incident across both IPs";
  EXPECT_EQ(out[1].count, 30u);
}

}  // namespace
}  // namespace bs
