// AlertAggregator on simulated time, beyond the basics in alert_aggregator_test.cc: hopping window
// assignment (against a brute-force recount), idle partitions, grace and late data with the side output,
// each threshold, per-provider overrides, baselines, lifecycle without flapping, stale keys, escalation
// warnings, domain-wide deferrals, evidence, and independence from how partitions interleave.
#include <algorithm>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "pipeline/window/alert_aggregator.h"

namespace bs {
namespace {

constexpr int64_t kSec = 1000;
constexpr int64_t kMin = 60 * kSec;
constexpr int64_t kT0 = 1793606400000;  // 2026-11-02T08:00:00Z, a multiple of 5 minutes

struct Spec {
  int64_t t = kT0;
  Category category = Category::kDelivered;
  uint16_t code = 250;
  std::string_view ip = "203.0.113.7";
  std::string_view sender_domain = "news.example.com";
  Provider provider = Provider::kGmail;
  std::string_view recipient_domain = "gmail.com";
  std::string_view text = "OK";
  std::string_view rule = "";
  uint16_t attempt = 1;
  int64_t line = 0;
};

ClassifiedEvent Make(const Spec& s) {
  ClassifiedEvent ce;
  ce.event.event_time_ms = s.t;
  ce.event.outcome = s.category == Category::kDelivered ? Outcome::kDelivered
                     : s.code >= 500                     ? Outcome::kBounced
                                                         : Outcome::kDeferred;
  ce.event.sending_ip = s.ip;
  ce.event.sender_domain = s.sender_domain;
  ce.event.recipient_domain = s.recipient_domain;
  ce.event.reply.text = s.text;
  ce.event.reply.code = s.code;
  ce.event.attempt = s.attempt;
  ce.event.position.source = "test.log";
  ce.event.position.offset = s.line;
  ce.cls.provider = s.provider;
  ce.cls.category = s.category;
  ce.cls.code = s.code;
  ce.cls.rule = !s.rule.empty() ? s.rule : s.category == Category::kDelivered ? "generic.delivered" : "test.rule";
  return ce;
}

Spec Ok(int64_t t) { return Spec{.t = t}; }
Spec RateLimited(int64_t t) {
  return Spec{.t = t, .category = Category::kRateLimited, .code = 421, .text = "421 4.7.28 rate limited - gsmtp",
              .rule = "gmail.rate_limited.4_7_28"};
}

// `n` attempts spread over the minute starting at t, `failures` of them made by `fail`.
void Minute(std::vector<Spec>& v, int64_t t, int n, int failures, Spec (*fail)(int64_t) = RateLimited,
            Spec (*ok)(int64_t) = Ok) {
  for (int i = 0; i < n; ++i) v.push_back(i < failures ? fail(t + i * (kMin / n)) : ok(t + i * (kMin / n)));
}

AlertPolicy Tumbling() {
  AlertPolicy p;
  p.advance_ms = p.window_ms;
  return p;
}

std::vector<AlertRecord> RunAll(const AlertPolicy& policy, const std::vector<Spec>& specs, int partitions = 1) {
  AlertAggregator a(policy, partitions);
  std::vector<AlertRecord> out;
  for (size_t i = 0; i < specs.size(); ++i) {
    a.Add(static_cast<int>(i % partitions), Make(specs[i]));
    if (i % 100 == 99) a.Drain(out);
  }
  for (int p = 0; p < partitions; ++p) a.FinishPartition(p);
  a.Drain(out);
  return out;
}

std::vector<AlertRecord> Of(const std::vector<AlertRecord>& all, AlertKind kind) {
  std::vector<AlertRecord> v;
  for (const auto& r : all) {
    if (r.kind == kind) v.push_back(r);
  }
  return v;
}

std::string States(const std::vector<AlertRecord>& v) {
  std::string s;
  for (const auto& r : v) s += AlertStateName(r.state).substr(0, 1);
  return s;
}

// ---------------------------------------------------------------------------------------------------
// Window assignment.

TEST(WindowAssignmentTest, FirstWindowStartIsTheEarliestWindowHoldingT) {
  for (auto [size, advance] : {std::pair<int64_t, int64_t>{5 * kMin, kMin}, {5 * kMin, 5 * kMin}, {10 * kMin, 2 * kMin},
                               {3 * kMin, kMin}}) {
    for (int64_t t : {kT0, kT0 + 1, kT0 - 1, kT0 + kMin - 1, kT0 + 7 * kMin + 59 * kSec, int64_t{0}, int64_t{-1},
                      -5 * kMin, -5 * kMin + 1}) {
      int64_t s = FirstWindowStart(t, size, advance);
      EXPECT_EQ(((s % advance) + advance) % advance, 0) << t;  // epoch-aligned
      EXPECT_LE(s, t) << t;
      EXPECT_LT(t, s + size) << t;
      EXPECT_GE(t, s - advance + size) << "the window before it would hold t too: " << t;
      // Windows holding t: s, s+advance, ... up to the one starting at or before t: size/advance of them.
      int n = 0;
      for (int64_t w = s; w <= t; w += advance) n += (w <= t && t < w + size);
      EXPECT_EQ(n, size / advance) << t;
    }
  }
}

// With update_factor 1 and no cooldown, an open incident reports every window whose count is at least the
// last reported one; failures grow every minute, so every window is reported and each record shows one
// window's sums: compare them with a brute-force recount. Arrival order is shuffled within each minute.
TEST(WindowAssignmentTest, HoppingWindowsCountEveryEventInEachWindowHoldingIt) {
  for (auto [size, advance] : {std::pair<int64_t, int64_t>{5 * kMin, kMin}, {6 * kMin, 2 * kMin}, {4 * kMin, 4 * kMin}}) {
    AlertPolicy p;
    p.window_ms = size;
    p.advance_ms = advance;
    p.update_factor = 1.0;
    p.update_cooldown_ms = 0;
    p.cold_start_rate = 0;
    p.thresholds[static_cast<size_t>(AlertKind::kRateLimit)] = KindThreshold{1, 1, 0.0, 0.0};
    std::vector<Spec> specs;
    uint64_t x = 12345;
    for (int m = 0; m < 60; ++m) {
      const size_t first = specs.size();
      Minute(specs, kT0 + m * kMin, 10 + m + 1, m + 1);
      for (size_t i = specs.size() - 1; i > first; --i) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        std::swap(specs[i], specs[first + (x >> 33) % (i - first + 1)]);
      }
    }
    auto out = Of(RunAll(p, specs), AlertKind::kRateLimit);
    // Every window from the first holding minute 0 to the last full one; the windows sliding off the end
    // of the data count less than the last report and stay quiet (they resolve nothing: the data ends).
    ASSERT_EQ(out.size(), static_cast<size_t>(60 * kMin / advance)) << size << "/" << advance;
    EXPECT_EQ(out.front().state, AlertState::kFiring);
    EXPECT_EQ(out.front().window_start_ms, FirstWindowStart(kT0, size, advance));
    int64_t prev = INT64_MIN;
    for (const auto& r : out) {
      EXPECT_EQ(r.window_end_ms - r.window_start_ms, size);
      EXPECT_EQ(r.window_start_ms % advance, 0);
      if (prev != INT64_MIN) {
        EXPECT_EQ(r.window_start_ms, prev + advance) << "a window was skipped";
      }
      prev = r.window_start_ms;
      uint64_t count = 0, attempts = 0;
      for (const auto& s : specs) {
        if (s.t >= r.window_start_ms && s.t < r.window_end_ms) {
          ++attempts;
          count += s.category == Category::kRateLimited;
        }
      }
      EXPECT_EQ(r.count, count) << "window " << (r.window_start_ms - kT0) / kMin;
      EXPECT_EQ(r.attempts, attempts) << "window " << (r.window_start_ms - kT0) / kMin;
      EXPECT_EQ(r.soft, count);
      EXPECT_EQ(r.hard, 0u);
    }
  }
}

TEST(WindowAssignmentTest, InvalidShapeFallsBackToTumbling) {
  AlertPolicy p;
  p.window_ms = 5 * kMin;
  p.advance_ms = 2 * kMin;  // 5 is not a multiple of 2
  EXPECT_FALSE(ValidateAlertPolicy(p).ok());
  p.update_factor = 1.0;
  p.update_cooldown_ms = 0;
  p.thresholds[static_cast<size_t>(AlertKind::kRateLimit)] = KindThreshold{1, 1, 0.0, 0.0};
  std::vector<Spec> specs;
  for (int m = 0; m < 30; ++m) Minute(specs, kT0 + m * kMin, 10, 5);
  for (const auto& r : RunAll(p, specs)) EXPECT_EQ(r.window_start_ms % (5 * kMin), 0);
  EXPECT_TRUE(ValidateAlertPolicy(AlertPolicy{}).ok());
  AlertPolicy bad;
  bad.thresholds[0].min_rate = 1.5;
  EXPECT_FALSE(ValidateAlertPolicy(bad).ok());
}

// ---------------------------------------------------------------------------------------------------
// Watermarks, idleness, grace, late data.

TEST(WatermarkTest, IdlePartitionStopsHoldingTheWatermarkAndRejoins) {
  AlertPolicy p;
  p.idle_timeout_ms = 15 * kMin;
  AlertAggregator a(p, 2);
  std::vector<AlertRecord> out;
  a.Add(1, Make(RateLimited(kT0)));  // partition 1 then goes quiet
  for (int m = 0; m < 14; ++m) a.Add(0, Make(Ok(kT0 + m * kMin)));
  a.Drain(out);
  EXPECT_FALSE(a.idle(1)) << "13 minutes behind: within the timeout";
  EXPECT_EQ(a.watermark(), kT0 - p.out_of_orderness_ms) << "the quiet partition holds the watermark";
  for (int m = 14; m < 40; ++m) a.Add(0, Make(Ok(kT0 + m * kMin)));
  a.Drain(out);
  EXPECT_TRUE(a.idle(1));
  EXPECT_FALSE(a.idle(0));
  EXPECT_EQ(a.watermark(), kT0 + 39 * kMin - p.out_of_orderness_ms) << "partition 0 alone decides";
  // Partition 1 wakes up with an old event: its windows have closed, so it is late, and counted as its.
  a.Add(1, Make(RateLimited(kT0 + 2 * kMin)));
  EXPECT_EQ(a.late_events(), 1u);
  EXPECT_EQ(a.late_events(1), 1u);
  EXPECT_EQ(a.late_events(0), 0u);
  // It catches up: no longer idle, and it holds the watermark again (which never goes back).
  a.Add(1, Make(Ok(kT0 + 38 * kMin)));
  EXPECT_FALSE(a.idle(1));
  a.Add(0, Make(Ok(kT0 + 50 * kMin)));
  a.Drain(out);
  EXPECT_EQ(a.watermark(), kT0 + 39 * kMin - p.out_of_orderness_ms);
}

TEST(WatermarkTest, AParkedPartitionAheadDoesNotMakeTheActiveOnesIdle) {
  // Kafka runtime: partition 0 read everything up to a day ahead and is parked (caught up, quiet);
  // partition 1 is still working through the day. Idleness is relative to the partitions that take part.
  AlertPolicy p;
  AlertAggregator a(p, 2);
  std::vector<AlertRecord> out;
  a.Add(0, Make(Ok(kT0 + 24 * 60 * kMin)));
  a.ParkPartition(0, true);
  for (int m = 0; m < 30; ++m) a.Add(1, Make(Ok(kT0 + m * kMin)));
  a.Drain(out);
  EXPECT_FALSE(a.idle(1));
  EXPECT_EQ(a.watermark(), kT0 + 29 * kMin - p.out_of_orderness_ms) << "partition 1 decides, not stuck";
  a.ParkPartition(0, false);
  a.Drain(out);
  EXPECT_TRUE(a.idle(1)) << "unparked, partition 0 is the newest again and partition 1 lags a day";
}

TEST(WatermarkTest, WithoutIdlenessAQuietPartitionStallsWindows) {
  AlertPolicy p;
  p.idle_timeout_ms = 0;
  AlertAggregator a(p, 2);
  std::vector<AlertRecord> out;
  a.Add(1, Make(Ok(kT0)));
  std::vector<Spec> specs;
  for (int m = 0; m < 60; ++m) Minute(specs, kT0 + m * kMin, 20, 15);
  for (const auto& s : specs) a.Add(0, Make(s));
  a.Drain(out);
  EXPECT_TRUE(out.empty()) << "partition 1's watermark is still at T0 − 1 min";
  EXPECT_FALSE(a.idle(1));
  a.FinishPartition(1);
  a.Drain(out);
  EXPECT_FALSE(out.empty());
}

TEST(WatermarkTest, GraceKeepsAWindowOpenAndLateEventsGoToTheSideOutput) {
  AlertPolicy p = Tumbling();
  p.grace_ms = 2 * kMin;
  p.out_of_orderness_ms = 0;
  p.thresholds[static_cast<size_t>(AlertKind::kRateLimit)] = KindThreshold{1, 1, 0.0, 0.0};
  p.cold_start_rate = 0;
  AlertAggregator a(p, 1);
  std::vector<LateEvent> late;
  a.set_late_output(&late);
  std::vector<AlertRecord> out;
  a.Add(0, Make(RateLimited(kT0 + kMin)));
  a.Add(0, Make(Ok(kT0 + 6 * kMin)));  // watermark T0+6: past the window's end, within its grace
  a.Drain(out);
  EXPECT_TRUE(out.empty());
  Spec in_grace = RateLimited(kT0 + 4 * kMin);
  a.Add(0, Make(in_grace));
  EXPECT_EQ(a.late_events(), 0u) << "within the grace period: still counted";
  a.Add(0, Make(Ok(kT0 + 7 * kMin)));  // watermark reaches end + grace
  a.Drain(out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].window_start_ms, kT0);
  EXPECT_EQ(out[0].count, 2u);
  Spec too_late = RateLimited(kT0 + 3 * kMin);
  too_late.line = 42;
  a.Add(0, Make(too_late));
  EXPECT_EQ(a.late_events(), 1u);
  ASSERT_EQ(late.size(), 1u);
  EXPECT_EQ(late[0].partition, 0);
  EXPECT_EQ(late[0].event_time_ms, kT0 + 3 * kMin);
  EXPECT_EQ(late[0].watermark_ms, kT0 + 7 * kMin);
  EXPECT_EQ(late[0].position, "test.log:42");
}

TEST(WatermarkTest, AnEventWithSomeWindowsStillOpenCountsInThoseOnly) {
  AlertPolicy p;  // 5-minute windows every minute
  p.out_of_orderness_ms = 0;
  p.update_factor = 1.0;
  p.update_cooldown_ms = 0;
  p.cold_start_rate = 0;
  p.thresholds[static_cast<size_t>(AlertKind::kRateLimit)] = KindThreshold{1, 1, 0.0, 0.0};
  AlertAggregator a(p, 1);
  std::vector<AlertRecord> out;
  for (int m = 0; m < 8; ++m) a.Add(0, Make(RateLimited(kT0 + m * kMin)));
  a.Drain(out);  // watermark T0+7: windows starting up to T0+2 are closed
  const size_t before = out.size();
  a.Add(0, Make(RateLimited(kT0 + 4 * kMin + 30 * kSec)));  // in windows T0+0..T0+4; T0+3 and T0+4 still open
  EXPECT_EQ(a.late_events(), 0u);
  a.FinishPartition(0);
  a.Drain(out);
  std::map<int64_t, uint64_t> count;
  for (const auto& r : out) count[r.window_start_ms] = r.count;
  ASSERT_TRUE(count.count(kT0 + 2 * kMin) && count.count(kT0 + 3 * kMin));
  EXPECT_EQ(count[kT0 + 2 * kMin], 5u) << "closed before the event came: minutes 2..6";
  EXPECT_EQ(count[kT0 + 3 * kMin], 6u) << "minutes 3..7 and the event at 4:30";
  EXPECT_GT(out.size(), before);
}

// ---------------------------------------------------------------------------------------------------
// Thresholds and overrides.

// One 5-minute window of `attempts` attempts with `failures` rate limits, after `quiet` clean windows.
std::vector<AlertRecord> OneWindow(const AlertPolicy& p, int attempts, int failures, int quiet = 0) {
  std::vector<Spec> specs;
  for (int i = 0; i < quiet * 50; ++i) specs.push_back(Ok(kT0 + i * (quiet * 5 * kMin) / (quiet * 50)));
  const int64_t w = kT0 + quiet * 5 * kMin;
  for (int i = 0; i < attempts; ++i) specs.push_back(i < failures ? RateLimited(w + i * 1000) : Ok(w + i * 1000));
  return Of(RunAll(p, specs), AlertKind::kRateLimit);
}

bool Fires(const std::vector<AlertRecord>& v) { return !v.empty() && v.front().state == AlertState::kFiring; }

TEST(ThresholdTest, EachThresholdIsNeededToOpen) {
  AlertPolicy p = Tumbling();
  auto& t = p.thresholds[static_cast<size_t>(AlertKind::kRateLimit)];
  t = KindThreshold{20, 10, 0.25, 3.0};
  // A key's first window has no baseline: it needs the cold-start rate (50 %) as well.
  EXPECT_TRUE(Fires(OneWindow(p, 20, 10))) << "at every floor, 50 %";
  EXPECT_FALSE(Fires(OneWindow(p, 19, 10))) << "below min attempts";
  EXPECT_FALSE(Fires(OneWindow(p, 30, 14))) << "cold key at 47 %";
  EXPECT_TRUE(Fires(OneWindow(p, 30, 15))) << "cold key at 50 %";
  // After one clean window (baseline 0):
  EXPECT_FALSE(Fires(OneWindow(p, 36, 9, 1))) << "25 % but below min count";
  EXPECT_FALSE(Fires(OneWindow(p, 44, 10, 1))) << "10 failures but 22.7 % < 25 %";
  EXPECT_TRUE(Fires(OneWindow(p, 40, 10, 1))) << "25 %, 10 failures, 40 attempts";
  // The factor over the baseline: after windows at 10 %, 25 % is 2.5 × — not with a factor of 3.
  std::vector<Spec> specs;
  for (int m = 0; m < 30; ++m) Minute(specs, kT0 + m * kMin, 20, 2);
  for (int m = 30; m < 35; ++m) Minute(specs, kT0 + m * kMin, 20, 5);
  EXPECT_FALSE(Fires(Of(RunAll(p, specs), AlertKind::kRateLimit)));
  t.baseline_factor = 2.0;
  EXPECT_TRUE(Fires(Of(RunAll(p, specs), AlertKind::kRateLimit)));
}

TEST(ThresholdTest, ProviderOverrideReplacesTheKindDefault) {
  AlertPolicy p = Tumbling();
  p.provider_thresholds[{Provider::kYahoo, AlertKind::kRateLimit}] = KindThreshold{20, 10, 0.6, 3.0};
  EXPECT_EQ(p.Threshold(Provider::kYahoo, AlertKind::kRateLimit).min_rate, 0.6);
  EXPECT_EQ(p.Threshold(Provider::kGmail, AlertKind::kRateLimit).min_rate, 0.05);
  EXPECT_EQ(p.Threshold(Provider::kOther, AlertKind::kDomainDeferrals).min_attempts, 20u) << "documented default";
  std::vector<Spec> specs;
  for (Provider prov : {Provider::kGmail, Provider::kYahoo}) {
    for (int m = 0; m < 10; ++m) {
      for (int i = 0; i < 40; ++i) {
        Spec s = m >= 5 && i < 22 ? RateLimited(kT0 + m * kMin + i * kSec) : Ok(kT0 + m * kMin + i * kSec);
        s.provider = prov;
        specs.push_back(s);
      }
    }
  }
  auto out = Of(RunAll(p, specs), AlertKind::kRateLimit);
  ASSERT_FALSE(out.empty());
  for (const auto& r : out) EXPECT_EQ(r.key.provider, Provider::kGmail) << "yahoo needs 60 %; this was 55 %";
}

// ---------------------------------------------------------------------------------------------------
// Baselines and lifecycle.

TEST(BaselineTest, NoisyKeyLearnsItsRateAndOnlyAMultipleFires) {
  AlertPolicy p = Tumbling();
  std::vector<Spec> specs;
  int m = 0;
  for (; m < 60; ++m) Minute(specs, kT0 + m * kMin, 20, 2);   // 10 % for an hour: the baseline
  for (; m < 90; ++m) Minute(specs, kT0 + m * kMin, 20, 5);   // 25 %: 2.5 × — not an incident
  for (; m < 120; ++m) Minute(specs, kT0 + m * kMin, 20, 2);
  for (; m < 130; ++m) Minute(specs, kT0 + m * kMin, 20, 14);  // 70 %: fires
  for (; m < 160; ++m) Minute(specs, kT0 + m * kMin, 20, 2);
  auto out = Of(RunAll(p, specs), AlertKind::kRateLimit);
  ASSERT_EQ(States(out), "fr") << "only the 70 % stretch";
  EXPECT_EQ(out[0].window_start_ms, kT0 + 120 * kMin);
  EXPECT_GT(out[0].baseline, 0.1);
  EXPECT_LT(out[0].baseline, 0.2);
  EXPECT_DOUBLE_EQ(out[1].baseline, out[0].baseline) << "frozen while open";
}

TEST(BaselineTest, HoppingWindowsLearnAtTheSameSpeedPerMinute) {
  // α is the weight of one window length of data, whatever the advance: the same history gives about the
  // same baseline with tumbling and hopping windows (α = 0.3 per 1-minute evaluation would give ~0.2).
  std::vector<Spec> specs;
  int m = 0;
  for (; m < 10; ++m) Minute(specs, kT0 + m * kMin, 20, 2);    // 10 %
  for (; m < 20; ++m) Minute(specs, kT0 + m * kMin, 20, 4);    // 20 %: below 3 × 10 %
  for (; m < 30; ++m) Minute(specs, kT0 + m * kMin, 20, 20);   // 100 %
  double baseline[2];
  int i = 0;
  for (AlertPolicy p : {Tumbling(), AlertPolicy{}}) {
    auto out = Of(RunAll(p, specs), AlertKind::kRateLimit);
    ASSERT_TRUE(Fires(out));
    baseline[i++] = out[0].baseline;
  }
  EXPECT_NEAR(baseline[0], 0.1 + 0.1 * (1 - 0.7 * 0.7), 1e-9) << "two windows at 10 %, two at 20 %";
  EXPECT_NEAR(baseline[1], baseline[0], 0.02);
}

TEST(LifecycleTest, RateHoveringAroundTheThresholdDoesNotFlap) {
  AlertPolicy p;  // hopping
  std::vector<Spec> specs;
  int m = 0;
  for (; m < 30; ++m) Minute(specs, kT0 + m * kMin, 20, 0);
  // Two hours alternating 3 and 1 failures a minute (15 % / 5 %): around the count and rate floors.
  for (; m < 150; ++m) Minute(specs, kT0 + m * kMin, 20, (m / 3) % 2 ? 3 : 1);
  for (; m < 180; ++m) Minute(specs, kT0 + m * kMin, 20, 0);
  auto out = Of(RunAll(p, specs), AlertKind::kRateLimit);
  ASSERT_FALSE(out.empty());
  EXPECT_EQ(out.front().state, AlertState::kFiring);
  EXPECT_EQ(out.back().state, AlertState::kResolved);
  int firing = 0, resolved = 0;
  for (const auto& r : out) {
    firing += r.state == AlertState::kFiring;
    resolved += r.state == AlertState::kResolved;
    EXPECT_EQ(r.id, out.front().id);
  }
  EXPECT_EQ(firing, 1);
  EXPECT_EQ(resolved, 1);
  EXPECT_GE(out.back().window_start_ms, kT0 + 150 * kMin) << "resolved only after the failures stopped";
  EXPECT_LE(out.size(), 4u) << "updates are rate-limited: " << States(out);
}

TEST(LifecycleTest, ResolvesAfterTheConfiguredQuietTimeAndRefiresWithANewId) {
  AlertPolicy p;
  p.resolve_after_ms = 20 * kMin;
  std::vector<Spec> specs;
  int m = 0;
  for (; m < 20; ++m) Minute(specs, kT0 + m * kMin, 20, 0);
  for (; m < 30; ++m) Minute(specs, kT0 + m * kMin, 20, 12);
  for (; m < 80; ++m) Minute(specs, kT0 + m * kMin, 20, 0);
  for (; m < 90; ++m) Minute(specs, kT0 + m * kMin, 20, 12);
  for (; m < 120; ++m) Minute(specs, kT0 + m * kMin, 20, 0);
  auto out = Of(RunAll(p, specs), AlertKind::kRateLimit);
  std::vector<AlertRecord> f, r;
  for (const auto& a : out) (a.state == AlertState::kFiring ? f : a.state == AlertState::kResolved ? r : f).push_back(a);
  ASSERT_EQ(r.size(), 2u) << States(out);
  // Last window above: the one holding minute 29 starts at 29 and ends at 34; quiet for 20 minutes → 54.
  EXPECT_EQ(r[0].window_end_ms, kT0 + 54 * kMin);
  EXPECT_EQ(out.front().since_ms, out.front().window_start_ms);
  std::string first_id = out.front().id, second_id;
  for (const auto& a : out) {
    if (a.state == AlertState::kFiring && a.id != first_id) second_id = a.id;
  }
  EXPECT_FALSE(second_id.empty());
  EXPECT_NE(first_id, second_id) << "a new incident after a resolve";
}

TEST(LifecycleTest, AKeyThatStopsSendingResolvesAsStale) {
  AlertPolicy p;
  std::vector<Spec> specs;
  for (int m = 0; m < 20; ++m) Minute(specs, kT0 + m * kMin, 20, 0);
  for (int m = 20; m < 30; ++m) Minute(specs, kT0 + m * kMin, 20, 15);
  // The IP is taken out of rotation: other traffic goes on, this key has no attempts at all.
  for (int m = 30; m < 150; ++m) {
    for (int i = 0; i < 20; ++i) {
      Spec s = Ok(kT0 + m * kMin + i * kSec);
      s.ip = "198.51.100.99";
      specs.push_back(s);
    }
  }
  auto out = Of(RunAll(p, specs), AlertKind::kRateLimit);
  ASSERT_GE(out.size(), 2u);
  EXPECT_EQ(out.back().state, AlertState::kResolved);
  EXPECT_EQ(out.back().key.sending_ip, "203.0.113.7");
  EXPECT_EQ(out.back().attempts, 0u);
  // The last attempts were in the window ending at 34 min; stale after 60 more minutes.
  EXPECT_EQ(out.back().window_end_ms, kT0 + 94 * kMin);
}

// ---------------------------------------------------------------------------------------------------
// Escalation warnings.

Spec Blocked(int64_t t) {
  return Spec{.t = t, .category = Category::kReputation, .code = 550, .text = "550 5.7.1 blocked for poor reputation",
              .rule = "gmail.reputation.5_7_1"};
}

std::vector<std::string> EscalationOf(const AlertRecord& r) { return r.escalation; }

TEST(EscalationTest, FirstFiveHundredAfterARunOfFourHundredsUpdatesTheIncident) {
  AlertPolicy p;
  std::vector<Spec> specs;
  int m = 0;
  for (; m < 20; ++m) Minute(specs, kT0 + m * kMin, 40, 0);
  for (; m < 40; ++m) Minute(specs, kT0 + m * kMin, 40, 12);  // 30 % deferred: the rate-limit incident
  for (; m < 45; ++m) {
    Minute(specs, kT0 + m * kMin, 40, 12);
    specs.push_back(Blocked(kT0 + m * kMin + 59 * kSec));  // then 5xx refusals start, below their floor
  }
  for (; m < 80; ++m) Minute(specs, kT0 + m * kMin, 40, 0);
  auto all = RunAll(p, specs);
  auto rl = Of(all, AlertKind::kRateLimit);
  ASSERT_FALSE(rl.empty());
  const AlertRecord* esc = nullptr;
  for (const auto& r : rl) {
    if (r.state == AlertState::kUpdated &&
        std::count(r.escalation.begin(), r.escalation.end(), "4xx_to_5xx") && !esc) {
      esc = &r;
    }
  }
  ASSERT_NE(esc, nullptr) << States(rl);
  EXPECT_EQ(esc->window_start_ms, kT0 + 36 * kMin) << "the first window holding minute 40's 5xx";
  EXPECT_EQ(esc->severity, "critical") << "30 % is major; the escalation raises it";
  EXPECT_TRUE(Of(all, AlertKind::kReputation).empty()) << "reported on the open incident, not as a new one";
  int escalations = 0;
  for (const auto& r : rl) {
    escalations += r.state == AlertState::kUpdated && std::count(r.escalation.begin(), r.escalation.end(), "4xx_to_5xx");
  }
  EXPECT_EQ(escalations, 1) << "only the first 5xx";
}

TEST(EscalationTest, FirstFiveHundredAfterSubstantialFourHundredsBelowTheRateFires) {
  // 2 % rate limits on a busy key: 20 a window but under the 5 % floor, so no incident; then a 5xx.
  AlertPolicy p;
  std::vector<Spec> specs;
  int m = 0;
  for (; m < 60; ++m) Minute(specs, kT0 + m * kMin, 200, 4);
  specs.push_back(Blocked(kT0 + 60 * kMin));
  for (; m < 90; ++m) Minute(specs, kT0 + m * kMin, 200, 4);
  auto all = RunAll(p, specs);
  EXPECT_TRUE(Of(all, AlertKind::kRateLimit).empty());
  auto rep = Of(all, AlertKind::kReputation);
  ASSERT_EQ(States(rep), "fr");
  EXPECT_EQ(EscalationOf(rep[0]), std::vector<std::string>{"4xx_to_5xx"});
  EXPECT_EQ(rep[0].count, 1u);
  EXPECT_EQ(rep[0].hard, 1u);
}

TEST(EscalationTest, AFiveHundredWithoutAFourHundredRunIsNoEscalation) {
  AlertPolicy p;
  std::vector<Spec> specs;
  for (int m = 0; m < 60; ++m) Minute(specs, kT0 + m * kMin, 200, 0);
  specs.push_back(Blocked(kT0 + 30 * kMin));
  EXPECT_TRUE(RunAll(p, specs).empty()) << "one reputation refusal in 1000 attempts is below every floor";
}

TEST(EscalationTest, RisingDeferralRateAfterTheWindowFilled) {
  AlertPolicy p;
  std::vector<Spec> specs;
  int m = 0;
  for (; m < 20; ++m) Minute(specs, kT0 + m * kMin, 40, 0);
  for (; m < 40; ++m) Minute(specs, kT0 + m * kMin, 40, 8);   // 20 %
  for (; m < 60; ++m) Minute(specs, kT0 + m * kMin, 40, 20);  // 50 %: +30 points
  for (; m < 80; ++m) Minute(specs, kT0 + m * kMin, 40, 0);
  auto rl = Of(RunAll(p, specs), AlertKind::kRateLimit);
  ASSERT_FALSE(rl.empty());
  EXPECT_TRUE(rl[0].escalation.empty());
  const AlertRecord* rising = nullptr;
  for (const auto& r : rl) {
    if (!rising && std::count(r.escalation.begin(), r.escalation.end(), "rising")) rising = &r;
  }
  ASSERT_NE(rising, nullptr) << States(rl);
  EXPECT_EQ(rising->state, AlertState::kUpdated);
  EXPECT_GE(rising->window_start_ms, kT0 + 36 * kMin);
  EXPECT_GE(rising->rate, 0.4);
  // A steady 20 % incident does not "rise" while its first window fills.
  std::vector<Spec> steady;
  for (m = 0; m < 20; ++m) Minute(steady, kT0 + m * kMin, 40, 0);
  for (; m < 60; ++m) Minute(steady, kT0 + m * kMin, 40, 8);
  for (const auto& r : RunAll(p, steady)) EXPECT_TRUE(r.escalation.empty()) << States({r});
}

TEST(EscalationTest, DeferralsAgeingTowardExpiry) {
  AlertPolicy p;
  p.ageing_after_ms = 60 * kMin;
  std::vector<Spec> specs;
  int m = 0;
  for (; m < 20; ++m) Minute(specs, kT0 + m * kMin, 20, 0);
  for (; m < 100; ++m) Minute(specs, kT0 + m * kMin, 20, 8);
  auto rl = Of(RunAll(p, specs), AlertKind::kRateLimit);
  ASSERT_FALSE(rl.empty());
  const AlertRecord* ageing = nullptr;
  for (const auto& r : rl) {
    if (!ageing && std::count(r.escalation.begin(), r.escalation.end(), "ageing")) ageing = &r;
  }
  ASSERT_NE(ageing, nullptr) << States(rl);
  EXPECT_EQ(ageing->window_end_ms - ageing->since_ms, 60 * kMin);
  // Or by attempt number: a deferral on its 8th attempt.
  std::vector<Spec> retries;
  for (m = 0; m < 20; ++m) Minute(retries, kT0 + m * kMin, 20, 0);
  for (; m < 30; ++m) {
    Minute(retries, kT0 + m * kMin, 20, 8);
    retries.back().attempt = 1;
  }
  Spec old = RateLimited(kT0 + 26 * kMin);
  old.attempt = 8;
  retries.push_back(old);
  std::sort(retries.begin(), retries.end(), [](const Spec& a, const Spec& b) { return a.t < b.t; });
  bool aged = false;
  for (const auto& r : Of(RunAll(AlertPolicy{}, retries), AlertKind::kRateLimit)) {
    aged |= std::count(r.escalation.begin(), r.escalation.end(), "ageing") > 0;
  }
  EXPECT_TRUE(aged);
}

// ---------------------------------------------------------------------------------------------------
// Domain-wide deferrals, evidence, determinism.

Spec ServerDown(int64_t t) {
  return Spec{.t = t, .category = Category::kServerError, .code = 451, .provider = Provider::kOther,
              .recipient_domain = "smallbiz.example", .text = "451 4.3.0 Temporary server error", .rule = "generic.server_error.x_3_x"};
}
Spec Greylisted(int64_t t) {
  return Spec{.t = t, .category = Category::kGreylisted, .code = 451, .provider = Provider::kOther,
              .recipient_domain = "corp.example", .text = "451 4.7.1 Greylisted", .rule = "generic.greylisted"};
}
Spec OkAt(int64_t t, std::string_view domain) {
  Spec s = Ok(t);
  s.provider = Provider::kOther;
  s.recipient_domain = domain;
  return s;
}

TEST(DomainDeferralsTest, ALargeShareOfOneRecipientDomainDeferredIsOneDomainAlert) {
  AlertPolicy p;
  std::vector<Spec> specs;
  for (int m = 0; m < 90; ++m) {
    for (int i = 0; i < 10; ++i) {
      const int64_t t = kT0 + m * kMin + i * 6 * kSec;
      // smallbiz.example: down from minute 30 to 60 (80 % deferred); corp.example greylists half, always.
      specs.push_back(m >= 30 && m < 60 && i < 8 ? ServerDown(t) : OkAt(t, "smallbiz.example"));
      specs.push_back(i < 5 ? Greylisted(t + kSec) : OkAt(t + kSec, "corp.example"));
    }
  }
  auto all = RunAll(p, specs);
  auto dd = Of(all, AlertKind::kDomainDeferrals);
  ASSERT_EQ(States(dd).front(), 'f');
  EXPECT_EQ(States(dd).back(), 'r');
  for (const auto& r : all) EXPECT_EQ(r.kind, AlertKind::kDomainDeferrals) << "no IP or sender-domain alert";
  for (const auto& r : dd) {
    EXPECT_EQ(r.key.domain, "smallbiz.example") << "greylisting is not a domain problem";
    EXPECT_TRUE(r.key.sending_ip.empty());
    EXPECT_EQ(r.action, Action::kRetrySlower);
  }
  EXPECT_GE(dd[0].window_start_ms, kT0 + 26 * kMin);
  EXPECT_LE(dd[0].window_start_ms, kT0 + 30 * kMin);
}

TEST(DomainDeferralsTest, RefusalsOfUsAreNotCountedTwice) {
  // A rate limit of our IP defers most mail to gmail.com: that is a rate_limit alert, not a domain one.
  AlertPolicy p;
  std::vector<Spec> specs;
  for (int m = 0; m < 20; ++m) Minute(specs, kT0 + m * kMin, 40, 0);
  for (int m = 20; m < 40; ++m) Minute(specs, kT0 + m * kMin, 40, 30);
  for (int m = 40; m < 60; ++m) Minute(specs, kT0 + m * kMin, 40, 0);
  auto all = RunAll(p, specs);
  EXPECT_FALSE(Of(all, AlertKind::kRateLimit).empty());
  EXPECT_TRUE(Of(all, AlertKind::kDomainDeferrals).empty());
}

TEST(EvidenceTest, EarliestThreeDistinctSamplesAndSortedRuleIds) {
  AlertPolicy p = Tumbling();
  std::vector<Spec> specs;
  for (int m = 0; m < 10; ++m) Minute(specs, kT0 + m * kMin, 20, 0);
  const std::string_view texts[] = {"421 4.7.0 try later [A]", "421 4.7.0 try later [B]", "421 4.7.0 try later [C]",
                                    "421 4.7.0 try later [D]"};
  const std::string_view rules[] = {"z.rule", "a.rule", "m.rule", "b.rule", "c.rule", "d.rule"};
  for (int i = 0; i < 40; ++i) {
    Spec s = RateLimited(kT0 + 10 * kMin + (40 - i) * kSec);  // newest first: arrival order ≠ time order
    s.text = texts[i % 4];
    s.rule = rules[i % 6];
    specs.push_back(s);
  }
  std::sort(specs.begin(), specs.end(), [](const Spec& a, const Spec& b) { return a.t < b.t; });
  for (int i = 0; i < 20; ++i) specs.push_back(Ok(kT0 + 10 * kMin + 50 * kSec + i * 100));
  auto rl = Of(RunAll(p, specs), AlertKind::kRateLimit);
  ASSERT_FALSE(rl.empty());
  const AlertRecord& f = rl[0];
  ASSERT_EQ(f.samples.size(), 3u);
  // Times 10:01..10:40 carry texts by i; the earliest three distinct texts are those of i = 39, 38, 37.
  EXPECT_EQ(f.samples[0], texts[39 % 4]);
  EXPECT_EQ(f.samples[1], texts[38 % 4]);
  EXPECT_EQ(f.samples[2], texts[37 % 4]);
  EXPECT_EQ(f.rules, (std::vector<std::string>{"a.rule", "b.rule", "c.rule", "d.rule", "m.rule"}));
}

TEST(DeterminismTest, InterleavingAcrossPartitionsDoesNotChangeAlerts) {
  std::vector<Spec> specs;
  int m = 0;
  for (; m < 30; ++m) Minute(specs, kT0 + m * kMin, 30, 1);
  for (; m < 50; ++m) Minute(specs, kT0 + m * kMin, 30, 14);
  for (; m < 80; ++m) Minute(specs, kT0 + m * kMin, 30, 1);
  for (size_t i = 0; i < specs.size(); i += 7) specs[i].text = "421 4.7.0 another text";
  auto one = RunAll(AlertPolicy{}, specs, 1);
  ASSERT_FALSE(one.empty());
  // Three partitions, and within each window the events of one partition arrive first.
  for (int parts : {2, 3}) {
    AlertAggregator a(AlertPolicy{}, parts);
    std::vector<AlertRecord> out;
    std::vector<std::vector<Spec>> by_part(parts);
    for (size_t i = 0; i < specs.size(); ++i) by_part[(i * 7919) % parts].push_back(specs[i]);
    // Feed in rounds of 50 seconds of event time, partition by partition (reverse order in odd rounds).
    std::vector<size_t> next(parts, 0);
    for (int64_t until = kT0; until < kT0 + 90 * kMin; until += 50 * kSec) {
      for (int q = 0; q < parts; ++q) {
        int part = (until / (50 * kSec)) % 2 ? parts - 1 - q : q;
        while (next[part] < by_part[part].size() && by_part[part][next[part]].t < until) {
          a.Add(part, Make(by_part[part][next[part]++]));
        }
      }
      a.Drain(out);
    }
    for (int q = 0; q < parts; ++q) a.FinishPartition(q);
    a.Drain(out);
    EXPECT_EQ(a.late_events(), 0u);
    ASSERT_EQ(out.size(), one.size()) << parts;
    for (size_t i = 0; i < out.size(); ++i) {
      EXPECT_EQ(out[i].id, one[i].id);
      EXPECT_EQ(out[i].state, one[i].state);
      EXPECT_EQ(out[i].count, one[i].count);
      EXPECT_EQ(out[i].attempts, one[i].attempts);
      EXPECT_EQ(out[i].samples, one[i].samples);
      EXPECT_EQ(out[i].window_start_ms, one[i].window_start_ms);
    }
  }
}

}  // namespace
}  // namespace bs

namespace bs {
namespace {

// ---------------------------------------------------------------------------------------------------
// Key lifetime.

TEST(KeyTtlTest, AKeyBackAfterTheTtlStartsOverAndItsStateIsDropped) {
  // A key at 20 % learns that baseline; it comes back at 55 %: below 3 × 20 % if it remembers, above the
  // 50 % cold-start rate if it starts over.
  auto run = [](int64_t gap) {
    AlertPolicy p;
    p.key_ttl_ms = 6 * 60 * kMin;
    std::vector<Spec> specs;
    for (int m = 0; m < 60; ++m) Minute(specs, kT0 + m * kMin, 20, 4);
    // Other traffic meanwhile, so windows keep closing.
    for (int64_t t = kT0 + 60 * kMin; t < kT0 + 60 * kMin + gap; t += kMin) {
      Spec s = Ok(t);
      s.ip = "198.51.100.99";
      specs.push_back(s);
    }
    const int64_t back = kT0 + 60 * kMin + gap;
    for (int m = 0; m < 30; ++m) Minute(specs, back + m * kMin, 20, 11);
    AlertAggregator a(p, 1);
    std::vector<AlertRecord> out;
    size_t keys_in_gap = 0;
    for (const auto& s : specs) {
      a.Add(0, Make(s));
      a.Drain(out);
      if (s.t == back - kMin) keys_in_gap = a.key_count();
    }
    a.FinishPartition(0);
    a.Drain(out);
    return std::pair{Of(out, AlertKind::kRateLimit).size(), keys_in_gap};
  };
  auto [short_alerts, short_keys] = run(5 * 60 * kMin);
  auto [long_alerts, long_keys] = run(8 * 60 * kMin);
  EXPECT_EQ(short_alerts, 0u) << "5 h away: the 20 % baseline still holds";
  EXPECT_GE(long_alerts, 1u) << "8 h away: starts over, and 55 % passes the cold-start rate";
  EXPECT_LT(long_keys, short_keys) << "the idle key's state was dropped";
}

TEST(KeyTtlTest, ChurningRecipientDomainsStayBoundedAndCompactionIsInvisible) {
  // Three days; every hour 40 new recipient domains, four of them busy and deferred at 60 % for their
  // hour; fed as one partition, and as two with the events alternating.
  AlertPolicy p;
  p.key_ttl_ms = 4 * 60 * kMin;
  std::deque<std::string> names;
  std::vector<Spec> specs;
  for (int h = 0; h < 72; ++h) {
    for (int d = 0; d < 40; ++d) {
      names.push_back("d" + std::to_string(h) + "-" + std::to_string(d) + ".example");
      // Four busy domains (an attempt every 10 s, 60 % deferred), the rest one attempt every 2 minutes.
      const int64_t step = d < 4 ? 10 * kSec : 2 * kMin;
      int i = 0;
      for (int64_t t = kT0 + h * 60 * kMin + d * kSec; t < kT0 + (h + 1) * 60 * kMin; t += step, ++i) {
        Spec s = d < 4 && i % 5 < 3 ? ServerDown(t) : OkAt(t, "x");
        s.recipient_domain = names.back();
        specs.push_back(s);
      }
    }
  }
  std::sort(specs.begin(), specs.end(), [](const Spec& a, const Spec& b) { return a.t < b.t; });
  std::vector<std::vector<AlertRecord>> outs;
  size_t max_keys = 0;
  for (int parts : {1, 2}) {
    AlertAggregator a(p, parts);
    std::vector<AlertRecord> out;
    for (size_t i = 0; i < specs.size(); ++i) {
      a.Add(static_cast<int>(i % parts), Make(specs[i]));
      if (i % 512 == 0) {
        a.Drain(out);
        max_keys = std::max(max_keys, a.key_count());
      }
    }
    for (int q = 0; q < parts; ++q) a.FinishPartition(q);
    a.Drain(out);
    EXPECT_EQ(a.late_events(), 0u);
    outs.push_back(out);
  }
  EXPECT_LT(max_keys, 40u * 12) << "about ttl + a quarter of it worth of domains, not three days' 2880";
  auto dd = Of(outs[0], AlertKind::kDomainDeferrals);
  EXPECT_GE(dd.size(), 72u * 4) << "every deferred domain alerts";
  ASSERT_EQ(outs[0].size(), outs[1].size());
  for (size_t i = 0; i < outs[0].size(); ++i) {
    EXPECT_EQ(outs[0][i].id, outs[1][i].id);
    EXPECT_EQ(outs[0][i].count, outs[1][i].count);
  }
}

}  // namespace
}  // namespace bs
