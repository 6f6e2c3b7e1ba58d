// WindowExchange: alert windows counted in several "processes" and judged by several mergers, with the
// messages delivered in an arbitrary interleaving (in order per repartition partition, as Kafka keeps
// them), must give exactly the alerts of one aggregator that saw every event; also after one input's
// counter restarts from its commit point, and whatever garbage arrives on the repartition topic.
#include "pipeline/window/window_exchange.h"

#include <algorithm>
#include <deque>
#include <fstream>
#include <iterator>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "bench/loadgen/generator.h"
#include "gtest/gtest.h"
#include "pipeline/sink/encoders.h"
#include "pipeline/source/file_source.h"
#include "pipeline/worker/chunk_processor.h"
#include "rules/rule_set.h"

namespace bs {
namespace {

constexpr int kInputs = 4;
constexpr int kMergers = 5;

int64_t FloorDiv(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

// Generated log with every incident kind, parsed and classified (results kept alive for the views).
struct Events {
  std::shared_ptr<const RuleSet> rules;  // rule ids point into it
  std::vector<std::unique_ptr<Chunk>> chunks;  // events point into their chunk
  std::vector<std::unique_ptr<ChunkResult>> results;
  std::deque<ClassifiedEvent> sentinels;  // copies of real events, far later
  std::vector<const ClassifiedEvent*> all;
};

const Events& TestEvents() {
  static Events* ev = [] {
    auto* e = new Events;
    loadgen::GeneratorOptions o;
    o.records = 30000;
    o.seed = 9;
    o.malformed = false;
    o.extra_incidents = true;
    std::string data;
    loadgen::Generate(o, data);
    const std::string path = ::testing::TempDir() + "/window_exchange.jsonl";
    std::ofstream(path, std::ios::binary) << data;
    auto rules = RuleSet::Load({});
    EXPECT_TRUE(rules.ok()) << rules.status();
    e->rules = *rules;
    ChunkProcessor proc(e->rules, ParserOptions());
    auto src = FileSource::Open(path, 256 << 10);
    EXPECT_TRUE(src.ok()) << src.status();
    while (true) {
      auto chunk = std::make_unique<Chunk>();
      auto more = (*src)->Next(*chunk);
      EXPECT_TRUE(more.ok());
      if (!more.ok() || !*more) break;
      auto r = std::make_unique<ChunkResult>();
      EXPECT_TRUE(proc.Process(*chunk, 0, "gen", Format::kKumoMta, *r).ok());
      e->chunks.push_back(std::move(chunk));
      for (const ClassifiedEvent& ce : r->events) {
        // Cut at 5 h: the SPF incident (from 4 h 20 min) is still open at the end.
        if (ce.event.event_time_ms < o.start_ms + 5LL * 3600 * 1000) e->all.push_back(&ce);
      }
      e->results.push_back(std::move(r));
    }
    // A day and a half later, one delivery per input (as the Kafka tests' sentinels): the window holding
    // it is judged for every key with an open incident, also by judges that got no partial for it.
    int64_t last = 0;
    for (const ClassifiedEvent* ce : e->all) last = std::max(last, ce->event.event_time_ms);
    for (int i = 0; i < kInputs; ++i) {
      e->sentinels.push_back(*e->all[0]);  // three keys: most judges get no partial of its pane
      e->sentinels.back().event.event_time_ms = last + 36LL * 3600 * 1000 + i;
    }
    for (const ClassifiedEvent& ce : e->sentinels) e->all.push_back(&ce);
    return e;
  }();
  return *ev;
}

std::vector<std::string> Encode(const std::vector<AlertRecord>& alerts) {
  std::vector<std::string> out;
  for (const AlertRecord& a : alerts) {
    std::string s;
    EncodeAlert(a, s);
    out.push_back(std::move(s));
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The alerts only one side has (for a readable failure).
std::string Diff(const std::vector<std::string>& got, const std::vector<std::string>& want) {
  std::vector<std::string> extra, missing;
  std::set_difference(got.begin(), got.end(), want.begin(), want.end(), std::back_inserter(extra));
  std::set_difference(want.begin(), want.end(), got.begin(), got.end(), std::back_inserter(missing));
  std::string s;
  for (const auto& a : extra) s += "  extra:   " + a + "\n";
  for (const auto& a : missing) s += "  missing: " + a + "\n";
  return s;
}

std::vector<std::string> Reference(const AlertPolicy& policy) {
  AlertAggregator ref(policy, kInputs);
  std::vector<AlertRecord> out;
  const auto& all = TestEvents().all;
  for (size_t i = 0; i < all.size(); ++i) {
    ref.Add(static_cast<int>(i % kInputs), *all[i]);
    if (i % 700 == 0) ref.Drain(out);
  }
  for (int p = 0; p < kInputs; ++p) ref.FinishPartition(p);
  ref.Flush(out);
  EXPECT_EQ(ref.late_events(), 0u);
  return Encode(out);
}

// The repartition topic: one FIFO per partition.
class Topic final : public PartialOutput {
 public:
  absl::Status SendPartial(int32_t partition, std::string_view, std::string_view bytes) override {
    EXPECT_GE(partition, 0);
    EXPECT_LT(partition, kMergers);
    queues[static_cast<size_t>(partition)].emplace_back(bytes);
    ++sent;
    return absl::OkStatus();
  }
  std::deque<std::string> queues[kMergers];
  size_t sent = 0;
};

struct ExchangeRun {
  std::vector<std::string> alerts;
  uint64_t late = 0, rejected = 0, partials = 0, markers = 0;
};

// Inputs are dealt round-robin (as the reference), shipped every `ship_every` events of an input, and the
// mergers take a random number of their queued messages after every step. With `restart_input` >= 0,
// that input's counter is dropped halfway and a new one starts from its commit point (the first event
// whose last window had not ended by the shipped watermark), as a new owner would after a rebalance.
ExchangeRun RunExchange(const AlertPolicy& policy, uint32_t seed, int ship_every, int restart_input = -1) {
  Topic topic;
  WindowExchange ex(policy, kInputs, kMergers, topic);
  for (int p = 0; p < kInputs; ++p) ex.StartInput(p);
  for (int r = 0; r < kMergers; ++r) ex.AssignMerge(r);
  std::mt19937 rng(seed);
  std::vector<AlertRecord> out;
  auto deliver = [&](bool all) {
    for (int r = 0; r < kMergers; ++r) {
      auto& q = topic.queues[r];
      size_t n = all ? q.size() : std::min<size_t>(q.size(), rng() % 4);
      for (size_t i = 0; i < n; ++i) {
        EXPECT_TRUE(ex.Receive(r, q.front(), out).ok());
        q.pop_front();
      }
    }
  };
  const auto& all = TestEvents().all;
  const int64_t size = policy.window_ms, advance = policy.advance_ms;
  std::vector<int> since_ship(kInputs, 0);
  for (size_t i = 0; i < all.size(); ++i) {
    const int p = static_cast<int>(i % kInputs);
    if (p == restart_input && i == all.size() / 2) {
      const int64_t shipped = ex.shipped_watermark(p);
      ex.DropInput(p);
      ex.StartInput(p);
      ex.RestoreShipped(p, shipped);
      // The commit point: the first event of p whose last window had not ended (+ grace) by `shipped`.
      size_t from = i;
      for (size_t j = p; j < i; j += kInputs) {
        const int64_t end = FloorDiv(all[j]->event.event_time_ms, advance) * advance + size;
        if (shipped == INT64_MIN || end + policy.grace_ms > shipped) {
          from = j;
          break;
        }
      }
      EXPECT_LT(from, i) << "the restart re-reads some records";
      for (size_t j = from; j < i; j += kInputs) ex.Add(p, *all[j]);
    }
    ex.Add(p, *all[i]);
    if (++since_ship[p] >= ship_every) {
      since_ship[p] = 0;
      EXPECT_TRUE(ex.Ship(p).ok());
    }
    if (i % 50 == 0) deliver(false);
    if (i % 5000 == 0) {
      EXPECT_TRUE(ex.Heartbeat().ok());
    }
  }
  for (int p = 0; p < kInputs; ++p) EXPECT_TRUE(ex.Ship(p).ok());
  deliver(true);
  for (int p = 0; p < kInputs; ++p) EXPECT_TRUE(ex.Park(p, true).ok());
  deliver(true);
  for (int r = 0; r < kMergers; ++r) ex.FlushMerge(r, out);
  ExchangeRun run;
  run.alerts = Encode(out);
  run.late = ex.late_events();
  run.rejected = ex.rejected_messages();
  run.partials = ex.partials_sent();
  run.markers = ex.markers_sent();
  return run;
}

AlertPolicy Tumbling() {
  AlertPolicy p;
  p.window_ms = 15 * 60 * 1000;
  p.advance_ms = 15 * 60 * 1000;
  p.idle_timeout_ms = 0;  // as in the Kafka runtime
  return p;
}
AlertPolicy Hopping() {
  AlertPolicy p;
  p.idle_timeout_ms = 0;
  p.grace_ms = 30 * 1000;
  return p;
}

TEST(WindowExchangeTest, MergedAcrossProcessesEqualsOneAggregator) {
  for (const AlertPolicy& policy : {Tumbling(), Hopping()}) {
    const std::vector<std::string> want = Reference(policy);
    ASSERT_GE(want.size(), 5u);
    size_t firing = 0;
    for (const auto& a : want) firing += a.find("\"state\":\"firing\"") != std::string::npos;
    EXPECT_GE(firing, 4u) << "the generated incidents fire";
    for (uint32_t seed : {1u, 2u, 3u}) {
      for (int ship_every : {1, 97, 2000}) {
        ExchangeRun run = RunExchange(policy, seed, ship_every);
        EXPECT_EQ(run.late, 0u);
        EXPECT_EQ(run.rejected, 0u);
        EXPECT_GT(run.partials, 0u);
        EXPECT_GT(run.markers, 0u);
        EXPECT_TRUE(run.alerts == want) << Diff(run.alerts, want) << "window " << policy.window_ms << "/" << policy.advance_ms << " seed " << seed
                                    << " ship_every " << ship_every;
      }
    }
  }
}

TEST(WindowExchangeTest, AnInputRestartedFromItsCommitPointChangesNothing) {
  for (const AlertPolicy& policy : {Tumbling(), Hopping()}) {
    const std::vector<std::string> want = Reference(policy);
    for (int input : {0, 3}) {
      ExchangeRun run = RunExchange(policy, 7, 113, input);
      EXPECT_EQ(run.late, 0u);
      EXPECT_TRUE(run.alerts == want) << Diff(run.alerts, want) << "restarted input " << input;
    }
  }
}

TEST(WindowExchangeTest, AMergerRestoredFromItsStateAndCommitPointChangesNothing) {
  // Merger 1 moves to a new owner halfway: the new one restores the lifecycle state from the changelog
  // (kept here as a compacted map) and re-reads its messages from the commit point (the first one whose
  // windows had not all closed).
  size_t reread = 0;
  for (const AlertPolicy& policy : {Tumbling(), Hopping()}) {
    const std::vector<std::string> want = Reference(policy);
    Topic topic;
    WindowExchange ex(policy, kInputs, kMergers, topic);
    for (int p = 0; p < kInputs; ++p) ex.StartInput(p);
    for (int r = 0; r < kMergers; ++r) ex.AssignMerge(r);
    std::map<std::string, std::string> changelog;  // merger 1's compacted state
    struct Read {
      std::string message;
      int64_t needed_until;
    };
    std::vector<Read> log;  // merger 1's messages, in order
    std::vector<AlertRecord> out;
    auto take = [&] {
      ex.TakeMergeState(1, [&](std::string_view k, std::string_view v, bool tombstone) {
        if (tombstone) {
          changelog.erase(std::string(k));
        } else {
          changelog[std::string(k)] = std::string(v);
        }
      });
    };
    auto deliver = [&] {
      for (int r = 0; r < kMergers; ++r) {
        for (const std::string& m : topic.queues[r]) {
          ASSERT_TRUE(ex.Receive(r, m, out).ok());
          if (r != 1) continue;
          const int64_t pane = WindowExchange::LatestPane(m);
          log.push_back({m, pane == INT64_MIN ? INT64_MIN : pane + policy.window_ms + policy.grace_ms});
          take();
        }
        topic.queues[r].clear();
      }
    };
    const auto& all = TestEvents().all;
    size_t moves = 0;
    for (size_t i = 0; i < all.size(); ++i) {
      ex.Add(static_cast<int>(i % kInputs), *all[i]);
      if (i % 211 == 0) {
        for (int p = 0; p < kInputs; ++p) ASSERT_TRUE(ex.Ship(p).ok());
        deliver();
      }
      if (i == all.size() / 3 || i == 2 * all.size() / 3) {
        ++moves;
        const int64_t wm = ex.merge_watermark(1);
        size_t from = log.size();
        for (size_t j = 0; j < log.size(); ++j) {
          if (log[j].needed_until != INT64_MIN && (wm == INT64_MIN || wm < log[j].needed_until)) {
            from = j;
            break;
          }
        }
        ex.RevokeMerge(1);
        ex.AssignMerge(1);
        ASSERT_GT(changelog.size(), 1u);
        for (const auto& [k, v] : changelog) ASSERT_TRUE(ex.RestoreMergeState(1, k, v)) << k;
        std::vector<Read> again(log.begin() + static_cast<std::ptrdiff_t>(from), log.end());
        log.clear();
        reread += again.size();
        for (const Read& m : again) {
          ASSERT_TRUE(ex.Receive(1, m.message, out).ok());
          log.push_back(m);
          take();
        }
        ASSERT_TRUE(ex.Heartbeat().ok());
        deliver();
      }
    }
    for (int p = 0; p < kInputs; ++p) ASSERT_TRUE(ex.Park(p, true).ok());
    deliver();
    for (int r = 0; r < kMergers; ++r) ex.FlushMerge(r, out);
    EXPECT_EQ(moves, 2u);
    EXPECT_EQ(ex.late_events(), 0u);
    EXPECT_TRUE(Encode(out) == want) << Diff(Encode(out), want) << "window " << policy.window_ms;
  }
  EXPECT_GT(reread, 0u) << "some moves re-read messages of open windows";
}

TEST(WindowExchangeTest, ParkedInputHandsOverItsOpenPanes) {
  // One input parks while its pane is open: the mergers get its counts without waiting for it, and
  // counts that arrive after it unparks replace them.
  const AlertPolicy policy = Tumbling();
  Topic topic;
  WindowExchange ex(policy, 2, 1, topic);
  ex.StartInput(0);
  ex.StartInput(1);
  ex.AssignMerge(0);
  std::vector<AlertRecord> out;
  const auto& all = TestEvents().all;
  // Input 1 gets the first 3000 events then parks; input 0 gets the rest.
  for (size_t i = 0; i < 3000; ++i) ex.Add(1, *all[i]);
  ASSERT_TRUE(ex.Ship(1).ok());
  ASSERT_TRUE(ex.Park(1, true).ok());
  for (size_t i = 3000; i < all.size(); ++i) {
    ex.Add(0, *all[i]);
    if (i % 500 == 0) {
      ASSERT_TRUE(ex.Ship(0).ok());
    }
  }
  ASSERT_TRUE(ex.Ship(0).ok());
  for (auto& m : topic.queues[0]) ASSERT_TRUE(ex.Receive(0, m, out).ok());
  topic.queues[0].clear();
  const int64_t wm = ex.merge_watermark(0);
  EXPECT_GT(wm, all[all.size() / 2]->event.event_time_ms) << "a parked input does not hold the merger back";
  ASSERT_TRUE(ex.Park(0, true).ok());
  for (auto& m : topic.queues[0]) ASSERT_TRUE(ex.Receive(0, m, out).ok());
  ex.FlushMerge(0, out);

  AlertAggregator ref(policy, 2);
  std::vector<AlertRecord> want;
  for (size_t i = 0; i < all.size(); ++i) ref.Add(i < 3000 ? 1 : 0, *all[i]);
  ref.Flush(want);
  EXPECT_TRUE(Encode(out) == Encode(want)) << Diff(Encode(out), Encode(want));
  EXPECT_EQ(ex.late_events(), 0u);
}

TEST(WindowExchangeTest, ForeignAndDamagedMessagesAreCountedAndChangeNothing) {
  const AlertPolicy policy = Tumbling();
  const std::vector<std::string> want = Reference(policy);
  Topic topic;
  WindowExchange ex(policy, kInputs, kMergers, topic);
  for (int p = 0; p < kInputs; ++p) ex.StartInput(p);
  for (int r = 0; r < kMergers; ++r) ex.AssignMerge(r);
  const auto& all = TestEvents().all;
  for (size_t i = 0; i < all.size(); ++i) ex.Add(static_cast<int>(i % kInputs), *all[i]);
  for (int p = 0; p < kInputs; ++p) ASSERT_TRUE(ex.Park(p, true).ok());
  // A process configured with other inputs sends the same bytes with another input count.
  Topic other;
  WindowExchange foreign(policy, kInputs + 1, kMergers, other);
  foreign.StartInput(0);
  for (size_t i = 0; i < 2000; ++i) foreign.Add(0, *all[i]);
  ASSERT_TRUE(foreign.Park(0, true).ok());
  std::vector<AlertRecord> out;
  size_t bad = 0;
  for (int r = 0; r < kMergers; ++r) {
    for (const std::string& m : other.queues[r]) {
      ASSERT_TRUE(ex.Receive(r, m, out).ok());
      ++bad;
    }
    for (const std::string& m : topic.queues[r]) {
      // Truncated copies and flipped magic first: rejected whole, before the real message.
      if (m.size() > 20) {
        ASSERT_TRUE(ex.Receive(r, m.substr(0, m.size() - 3), out).ok());
        ++bad;
      }
      std::string flipped = m;
      flipped[0] = 'X';
      ASSERT_TRUE(ex.Receive(r, flipped, out).ok());
      ++bad;
      ASSERT_TRUE(ex.Receive(r, m, out).ok());
    }
    ASSERT_TRUE(ex.Receive(r, "", out).ok());
    ++bad;
  }
  for (int r = 0; r < kMergers; ++r) ex.FlushMerge(r, out);
  EXPECT_EQ(ex.rejected_messages(), bad);
  EXPECT_TRUE(Encode(out) == want) << Diff(Encode(out), want);
}

TEST(WindowExchangeTest, LatestPaneOfAMessage) {
  const AlertPolicy policy = Tumbling();
  Topic topic;
  WindowExchange ex(policy, 1, 1, topic);
  ex.StartInput(0);
  const auto& all = TestEvents().all;
  int64_t latest = INT64_MIN;
  for (size_t i = 0; i < 400; ++i) {
    ex.Add(0, *all[i]);
    latest = std::max(latest, FloorDiv(all[i]->event.event_time_ms, policy.advance_ms) * policy.advance_ms);
  }
  ASSERT_TRUE(ex.Park(0, true).ok());
  ASSERT_EQ(topic.queues[0].size(), 2u);  // the partials, then the marker
  EXPECT_EQ(WindowExchange::LatestPane(topic.queues[0][0]), latest);
  EXPECT_EQ(WindowExchange::LatestPane(topic.queues[0][1]), INT64_MIN);
  EXPECT_EQ(WindowExchange::LatestPane("junk"), INT64_MIN);
}

}  // namespace
}  // namespace bs
