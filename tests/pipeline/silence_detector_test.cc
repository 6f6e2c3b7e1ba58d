// Tests of SilenceDetector on a simulated event clock (no clock is read): a provider or MTA host that goes
// quiet fires once and resolves when its events return; low-volume keys and a stream that is quiet as a
// whole never fire; partial windows at the end of input are not judged; output does not depend on the
// order of events within a window or on how often the watermark is advanced.
#include "pipeline/window/silence_detector.h"

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace bs {
namespace {

constexpr int64_t kMin = 60 * 1000;
constexpr int64_t kW = 15 * kMin;       // the default window
constexpr int64_t kT0 = 1793606400000;  // 2026-11-02T08:00:00Z, a multiple of 15 minutes

struct Src {
  Provider provider;
  const char* host;
  int per_minute;
};

ClassifiedEvent Ev(int64_t t, Provider p, std::string_view host) {
  ClassifiedEvent ce;
  ce.event.event_time_ms = t;
  ce.event.outcome = Outcome::kDelivered;
  ce.event.mta_host = host;
  ce.cls.provider = p;
  return ce;
}

// Feeds `minutes` minutes from `from` with the given sources; the watermark follows the newest event
// (out-of-orderness 0) and is advanced every `advance_every` minutes. `reverse` reverses each minute.
void Feed(SilenceDetector& d, int64_t from, int minutes, const std::vector<Src>& srcs, std::vector<AlertRecord>& out,
          int advance_every = 1, bool reverse = false) {
  for (int m = 0; m < minutes; ++m) {
    const int64_t t = from + m * kMin;
    std::vector<ClassifiedEvent> minute;
    for (const Src& s : srcs) {
      for (int i = 0; i < s.per_minute; ++i) minute.push_back(Ev(t + i * (kMin / s.per_minute), s.provider, s.host));
    }
    if (reverse) std::reverse(minute.begin(), minute.end());
    for (const auto& ce : minute) d.Add(ce);
    if ((m + 1) % advance_every == 0) d.Advance(t + kMin - 1, out);
  }
}

std::vector<AlertRecord> Silences(const std::vector<AlertRecord>& out) {
  std::vector<AlertRecord> v;
  for (const auto& r : out) {
    if (r.kind == AlertKind::kSilence) v.push_back(r);
  }
  return v;
}

TEST(SilenceDetectorTest, QuietProviderFiresOnceAndResolvesWhenBack) {
  SilencePolicy p;
  SilenceDetector d(p, 24 * 60 * kMin);
  std::vector<AlertRecord> out;
  // Both providers on both hosts, so no host goes quiet when gmail does.
  const std::vector<Src> both = {{Provider::kGmail, "mta1", 10}, {Provider::kGmail, "mta2", 10},
                                 {Provider::kYahoo, "mta1", 10}, {Provider::kYahoo, "mta2", 10}};
  const std::vector<Src> yahoo = {{Provider::kYahoo, "mta1", 10}, {Provider::kYahoo, "mta2", 10}};
  Feed(d, kT0, 6 * 15, both, out);                  // windows 0–5: 300 gmail events each
  EXPECT_TRUE(out.empty());
  Feed(d, kT0 + 6 * kW, 4 * 15, yahoo, out);        // windows 6–9: gmail quiet
  ASSERT_EQ(out.size(), 1u) << "fires once, not once per quiet window";
  const AlertRecord f = out[0];  // a copy: `out` grows below
  EXPECT_EQ(f.kind, AlertKind::kSilence);
  EXPECT_EQ(f.state, AlertState::kFiring);
  EXPECT_EQ(f.key.provider, Provider::kGmail);
  EXPECT_TRUE(f.key.mta.empty());
  EXPECT_EQ(f.window_start_ms, kT0 + 7 * kW) << "after quiet_windows = 2 quiet windows";
  EXPECT_EQ(f.window_end_ms, kT0 + 8 * kW);
  EXPECT_EQ(f.since_ms, kT0 + 6 * kW) << "since the first quiet window";
  EXPECT_EQ(f.count, 0u);
  EXPECT_EQ(f.attempts, 300u) << "the rest of the providers in the window";
  EXPECT_NEAR(f.baseline, 300.0, 1e-6);
  EXPECT_EQ(f.action, Action::kInvestigate);
  EXPECT_EQ(f.id.size(), 16u);
  EXPECT_EQ(d.open_incidents(), 1u);
  Feed(d, kT0 + 10 * kW, 2 * 15, both, out);        // windows 10–11: back
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[1].state, AlertState::kResolved);
  EXPECT_EQ(out[1].id, f.id) << "one incident, one id";
  EXPECT_EQ(out[1].window_start_ms, kT0 + 10 * kW);
  EXPECT_EQ(out[1].count, 300u);
  EXPECT_EQ(d.open_incidents(), 0u);
  // Quiet again later: a new incident with a new id.
  Feed(d, kT0 + 12 * kW, 3 * 15, yahoo, out);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[2].state, AlertState::kFiring);
  EXPECT_NE(out[2].id, f.id);
}

TEST(SilenceDetectorTest, QuietMtaHostFires) {
  SilencePolicy p;
  SilenceDetector d(p, 0);
  std::vector<AlertRecord> out;
  const std::vector<Src> all = {{Provider::kGmail, "mta1", 10}, {Provider::kGmail, "mta2", 10},
                                {Provider::kGmail, "mta3", 10}};
  const std::vector<Src> no2 = {{Provider::kGmail, "mta1", 15}, {Provider::kGmail, "mta3", 15}};
  Feed(d, kT0, 5 * 15, all, out);
  Feed(d, kT0 + 5 * kW, 3 * 15, no2, out);  // same gmail volume: only the host is quiet
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].key.mta, "mta2");
  EXPECT_EQ(out[0].key.provider, Provider::kOther) << "host keys carry no provider";
  EXPECT_EQ(out[0].attempts, 450u);
}

TEST(SilenceDetectorTest, KeyBelowTheVolumeFloorNeverFires) {
  SilencePolicy p;  // min_events_per_window = 100
  SilenceDetector d(p, 0);
  std::vector<AlertRecord> out;
  // apple: 6 per minute = 90 per window, under the floor; gmail carries the stream.
  Feed(d, kT0, 6 * 15, {{Provider::kGmail, "mta1", 20}, {Provider::kApple, "mta1", 6}}, out);
  Feed(d, kT0 + 6 * kW, 6 * 15, {{Provider::kGmail, "mta1", 20}}, out);
  EXPECT_TRUE(Silences(out).empty());
  // The same with a floor under its volume fires, so the floor is what kept it quiet.
  p.min_events_per_window = 80;
  SilenceDetector d2(p, 0);
  std::vector<AlertRecord> out2;
  Feed(d2, kT0, 6 * 15, {{Provider::kGmail, "mta1", 20}, {Provider::kApple, "mta1", 6}}, out2);
  Feed(d2, kT0 + 6 * kW, 6 * 15, {{Provider::kGmail, "mta1", 20}}, out2);
  ASSERT_EQ(out2.size(), 1u);
  EXPECT_EQ(out2[0].key.provider, Provider::kApple);
}

TEST(SilenceDetectorTest, NoFiringBeforeWarmup) {
  SilencePolicy p;  // warmup_windows = 4
  SilenceDetector d(p, 0);
  std::vector<AlertRecord> out;
  Feed(d, kT0, 3 * 15, {{Provider::kGmail, "mta1", 20}, {Provider::kYahoo, "mta1", 20}}, out);
  Feed(d, kT0 + 3 * kW, 4 * 15, {{Provider::kYahoo, "mta1", 20}}, out);
  EXPECT_TRUE(out.empty()) << "three windows of history are not enough";
}

TEST(SilenceDetectorTest, StreamWideQuietDoesNotFire) {
  SilencePolicy p;
  SilenceDetector d(p, 24 * 60 * kMin);
  std::vector<AlertRecord> out;
  const std::vector<Src> all = {{Provider::kGmail, "mta1", 20}, {Provider::kYahoo, "mta2", 20},
                                {Provider::kMicrosoft, "mta3", 20}};
  Feed(d, kT0, 6 * 15, all, out);
  // Nothing at all for three hours (a night), then everything back: no window of the gap is judged.
  Feed(d, kT0 + 18 * kW, 4 * 15, all, out);
  EXPECT_TRUE(out.empty());
  // Everything drops to a trickle of one gmail event a minute: the rest of each family is far below its
  // usual volume, so nobody is singled out.
  Feed(d, kT0 + 22 * kW, 6 * 15, {{Provider::kGmail, "mta1", 1}}, out);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(d.open_incidents(), 0u);
}

TEST(SilenceDetectorTest, EndOfInputJudgesNothing) {
  SilencePolicy p;
  p.quiet_windows = 1;
  SilenceDetector d(p, 0);
  std::vector<AlertRecord> out;
  Feed(d, kT0, 6 * 15, {{Provider::kGmail, "mta1", 20}, {Provider::kYahoo, "mta2", 20}}, out);
  // The input ends two minutes into a window in which gmail has not logged yet.
  Feed(d, kT0 + 6 * kW, 2, {{Provider::kYahoo, "mta2", 20}}, out);
  d.Advance(INT64_MAX, out);  // every input finished
  d.Finish();
  EXPECT_TRUE(out.empty());
}

TEST(SilenceDetectorTest, QuietPercentCatchesADropToATrickle) {
  SilencePolicy p;
  p.quiet_percent = 10;
  SilenceDetector d(p, 0);
  std::vector<AlertRecord> out;
  Feed(d, kT0, 6 * 15, {{Provider::kGmail, "mta1", 20}, {Provider::kYahoo, "mta1", 20}}, out);
  Feed(d, kT0 + 6 * kW, 3 * 15, {{Provider::kGmail, "mta1", 1}, {Provider::kYahoo, "mta1", 20}}, out);
  ASSERT_EQ(Silences(out).size(), 1u);
  EXPECT_EQ(out[0].count, 15u);
  EXPECT_NEAR(out[0].rate, 15.0 / 300.0, 1e-9);
  // With the default (0: only none at all) the trickle is not a silence.
  SilenceDetector d0(SilencePolicy{}, 0);
  std::vector<AlertRecord> out0;
  Feed(d0, kT0, 6 * 15, {{Provider::kGmail, "mta1", 20}, {Provider::kYahoo, "mta1", 20}}, out0);
  Feed(d0, kT0 + 6 * kW, 3 * 15, {{Provider::kGmail, "mta1", 1}, {Provider::kYahoo, "mta1", 20}}, out0);
  EXPECT_TRUE(out0.empty());
}

TEST(SilenceDetectorTest, LateEventsAreCountedNotJudged) {
  SilenceDetector d(SilencePolicy{}, 0);
  std::vector<AlertRecord> out;
  Feed(d, kT0, 2 * 15, {{Provider::kGmail, "mta1", 5}}, out);
  d.Add(Ev(kT0 + 1000, Provider::kGmail, "mta1"));  // window 0 was judged at the watermark kT0 + 2W - 1
  EXPECT_EQ(d.late_events(), 1u);
}

TEST(SilenceDetectorTest, DisabledEmitsNothing) {
  SilencePolicy p;
  p.enabled = false;
  SilenceDetector d(p, 0);
  std::vector<AlertRecord> out;
  Feed(d, kT0, 6 * 15, {{Provider::kGmail, "mta1", 20}, {Provider::kYahoo, "mta2", 20}}, out);
  Feed(d, kT0 + 6 * kW, 4 * 15, {{Provider::kYahoo, "mta2", 20}}, out);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(d.key_count(), 0u);
}

// The same events in another order within each minute, with the watermark advanced every minute or every
// 7 minutes, give the same alerts, byte for byte.
TEST(SilenceDetectorTest, DeterministicForOrderAndAdvanceCadence) {
  auto run = [](int advance_every, bool reverse) {
    SilenceDetector d(SilencePolicy{}, 24 * 60 * kMin);
    std::vector<AlertRecord> out;
    const std::vector<Src> all = {{Provider::kGmail, "mta1", 10}, {Provider::kYahoo, "mta2", 10},
                                  {Provider::kMicrosoft, "mta1", 10}, {Provider::kGmail, "mta2", 10}};
    const std::vector<Src> some = {{Provider::kYahoo, "mta2", 10}, {Provider::kGmail, "mta2", 10}};
    Feed(d, kT0, 7 * 15, all, out, advance_every, reverse);
    Feed(d, kT0 + 7 * kW, 3 * 15, some, out, advance_every, reverse);  // microsoft and mta1 quiet
    Feed(d, kT0 + 10 * kW, 2 * 15, all, out, advance_every, reverse);
    d.Advance(kT0 + 12 * kW, out);
    std::vector<std::string> lines;
    for (const auto& r : out) {
      lines.push_back(r.id + " " + std::string(AlertStateName(r.state)) + " " +
                      std::string(ProviderName(r.key.provider)) + " " + r.key.mta + " " +
                      std::to_string(r.window_start_ms) + " " + std::to_string(r.count));
    }
    return lines;
  };
  const auto a = run(1, false);
  ASSERT_EQ(a.size(), 4u) << "microsoft and mta1: fired and resolved";
  EXPECT_EQ(a, run(7, false));
  EXPECT_EQ(a, run(1, true));
  EXPECT_EQ(a, run(7, true));
}

}  // namespace
}  // namespace bs
