// Exactly once and restart safety of the stateful decider, on long random streams: replaying the same
// records into the same state decides nothing new; restoring from a snapshot, or from incremental
// changelog flushes, gives the same future decisions as never having stopped; and the compact decider
// agrees byte for byte with the slow reference model (with TTL sweeps, late records and replays).
#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "pipeline/state/changelog.h"
#include "pipeline/state/reference_decider.h"
#include "pipeline/state/suppression_decider.h"
#include "tests/pipeline/state_events.h"

namespace bs {
namespace {

using testing::kDay;
using testing::kHour;
using testing::kT0;

// A random but realistic stream: a list of addresses mailed in weekly campaigns (some with no campaign
// id, Postfix-style), mostly delivered, with greylisting, full mailboxes, 552s, unknown users, a null-MX
// domain, refusals of us, recoveries, and a few records out of order.
std::vector<ClassifiedEvent> RandomStream(testing::StateEvents& ev, uint64_t seed, int addresses, int weeks,
                                          int per_week) {
  std::mt19937_64 rng(seed);
  std::vector<ClassifiedEvent> out;
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<uint64_t>(n)); };
  std::vector<std::string> rcpt;
  for (int i = 0; i < addresses; ++i) {
    const char* domains[] = {"gmail.com", "Outlook.com", "corp.example", "gmx.de", "dead.example"};
    rcpt.push_back("u" + std::to_string(i) + "@" + domains[i % 5]);
  }
  const char* tenants[] = {"acme", "acme", "globex"};
  for (int w = 0; w < weeks; ++w) {
    const std::string campaign = "c" + std::to_string(w % 7);
    for (int k = 0; k < per_week; ++k) {
      const int i = pick(addresses);
      int64_t t = kT0 + w * 7 * kDay + pick(static_cast<int>(3 * kDay / 1000)) * 1000LL;
      if (pick(50) == 0) t -= pick(static_cast<int>(kDay / 1000)) * 1000LL;  // a late record
      const std::string& r = rcpt[i];
      const int roll = pick(1000);
      ClassifiedEvent ce;
      if (i % 5 == 4 && roll < 600) {
        ce = ev.NullMx(r, t, campaign);
      } else if (i % 11 == 3 && roll < 700) {
        ce = ev.UserUnknown(r, t, campaign);
      } else if (i % 13 == 5 && roll < 800) {
        ce = roll < 300 ? ev.StorageExceeded(r, t, campaign) : ev.MailboxFull(r, t, campaign);
      } else if (i % 7 == 2 && roll < 700) {
        ce = ev.Unavailable(r, t, campaign);
      } else if (roll < 120) {
        ce = ev.Greylisted(r, t, campaign);
      } else if (roll < 160) {
        ce = ev.RateLimited(r, t, campaign);
      } else if (roll < 180) {
        ce = ev.DmarcFailure(r, t, campaign);
      } else {
        ce = ev.Delivered(r, t, campaign);
      }
      if (pick(4) == 0) ce = ev.WithSender(ce, pick(2) ? "bounces+" + campaign + "@news.example.com" : "bounces@x.example");
      out.push_back(ev.WithTenant(ce, tenants[pick(3)]));
    }
  }
  return out;
}

DeciderOptions ShortTtl() {
  DeciderOptions o;
  o.ttl.history_ms = 20 * kDay;
  o.ttl.suppression_ms = 60 * kDay;
  o.ttl.sweep_interval_ms = 2 * kDay;
  DecisionPolicy globex;
  globex.reengage_campaigns = 2;
  globex.verify_attempts = 3;
  globex.mailbox_full_min_span_ms = kDay;
  o.tenant_policies["globex"] = globex;
  return o;
}

TEST(DeciderEquivalenceTest, AgreesWithTheReferenceModel) {
  for (uint64_t seed : {1u, 2u, 3u}) {
    testing::StateEvents ev;
    auto events = RandomStream(ev, seed, 400, 40, 600);
    for (const DeciderOptions& o : {DeciderOptions{}, ShortTtl()}) {
      SuppressionDecider fast("v1", o);
      ReferenceDecider ref("v1", o);
      auto a = testing::Run(fast, events);
      auto b = testing::Run(ref, events);
      ASSERT_EQ(a.size(), b.size()) << "seed " << seed;
      for (size_t i = 0; i < a.size(); ++i) ASSERT_EQ(a[i], b[i]) << "seed " << seed << " record " << i;
      EXPECT_EQ(fast.suppressed_keys(), ref.suppressed_keys());
      // Every kind of decision happens in these streams.
      std::set<std::string> decisions;
      for (const auto& line : a) {
        const size_t p = line.find("\"decision\":\"");
        decisions.insert(line.substr(p + 12, line.find('"', p + 12) - p - 12));
      }
      EXPECT_EQ(decisions.size(), 6u) << "seed " << seed;
    }
  }
}

TEST(DeciderEquivalenceTest, ReplayingTheSameRecordsDecidesNothingNew) {
  testing::StateEvents ev;
  auto events = RandomStream(ev, 7, 300, 12, 500);
  for (const DeciderOptions& o : {DeciderOptions{}, ShortTtl()}) {
    SuppressionDecider d("v1", o);
    auto first = testing::Run(d, events);
    EXPECT_GT(first.size(), 20u);
    auto second = testing::Run(d, events);
    EXPECT_TRUE(second.empty()) << second.size() << " new records, first: " << (second.empty() ? "" : second[0]);
    // Replaying a slice from the middle also decides nothing.
    std::vector<ClassifiedEvent> slice(events.begin() + events.size() / 3, events.begin() + events.size() / 2);
    EXPECT_TRUE(testing::Run(d, slice).empty());
  }
  // Ids are a function of the input: a fresh state over the same records gives the same bytes.
  SuppressionDecider a("v1"), b("v1");
  EXPECT_EQ(testing::Run(a, events), testing::Run(b, events));
}

TEST(DeciderEquivalenceTest, RestoringFromASnapshotDecidesLikeNeverStopping) {
  testing::StateEvents ev;
  auto events = RandomStream(ev, 11, 300, 20, 500);
  const size_t cut = events.size() * 2 / 5;
  std::vector<ClassifiedEvent> head(events.begin(), events.begin() + cut), tail(events.begin() + cut, events.end());
  for (const DeciderOptions& o : {DeciderOptions{}, ShortTtl()}) {
    SuppressionDecider live("v1", o);
    testing::Run(live, head);
    std::string snapshot;
    state::FramedChangelogWriter w(snapshot);
    ASSERT_TRUE(live.store().Snapshot(w).ok());
    SuppressionDecider restored("v1", o);
    ASSERT_TRUE(restored.Restore(snapshot).ok());
    EXPECT_EQ(restored.store().addresses(), live.store().addresses());
    EXPECT_EQ(restored.suppressed_keys(), live.suppressed_keys());
    auto a = testing::Run(live, tail);
    auto b = testing::Run(restored, tail);
    EXPECT_GT(a.size(), 10u);
    EXPECT_EQ(a, b);
  }
}

TEST(DeciderEquivalenceTest, RestoringFromIncrementalFlushesDecidesLikeNeverStopping) {
  testing::StateEvents ev;
  auto events = RandomStream(ev, 13, 300, 20, 500);
  DeciderOptions o = ShortTtl();
  o.track_changelog = true;
  SuppressionDecider live("v1", o);
  // Flush every 997 events, as the runtime does at each commit; the topic is the concatenation.
  std::string topic;
  state::FramedChangelogWriter w(topic);
  const size_t cut = events.size() * 3 / 5;
  std::vector<SuppressionRecord> out;
  for (size_t i = 0; i < cut; ++i) {
    live.Decide(events[i], out);
    if (i % 997 == 996) {
      ASSERT_TRUE(live.store().FlushChangelog(w).ok());
    }
  }
  ASSERT_TRUE(live.store().FlushChangelog(w).ok());
  EXPECT_GT(live.store().swept(), 0u) << "the stream must exercise tombstones";
  // A compacted topic keeps the last record per key; applying everything in order is the same.
  SuppressionDecider restored("v1", o);
  ASSERT_TRUE(restored.Restore(topic).ok());
  EXPECT_EQ(restored.store().addresses(), live.store().addresses());
  std::vector<ClassifiedEvent> tail(events.begin() + cut, events.end());
  auto a = testing::Run(live, tail);
  auto b = testing::Run(restored, tail);
  EXPECT_GT(a.size(), 5u);
  EXPECT_EQ(a, b);
  // Compaction: keep only the last record of each key.
  std::vector<std::pair<std::string, std::string>> last;  // key → framed record
  {
    std::map<std::string, std::string> by_key;
    std::vector<std::string> order;
    std::string_view in = topic;
    state::ChangelogRecordView rec;
    while (*state::ReadFramedRecord(in, rec)) {
      std::string one;
      state::FramedChangelogWriter one_w(one);
      if (rec.tombstone) {
        ASSERT_TRUE(one_w.Delete(rec.key).ok());
      } else {
        ASSERT_TRUE(one_w.Put(rec.key, rec.value).ok());
      }
      if (!by_key.count(std::string(rec.key))) order.emplace_back(rec.key);
      by_key[std::string(rec.key)] = one;
    }
    std::string compacted;
    for (const auto& k : order) compacted += by_key[k];
    SuppressionDecider from_compacted("v1", o);
    ASSERT_TRUE(from_compacted.Restore(compacted).ok());
    EXPECT_EQ(testing::Run(from_compacted, tail), a);
  }
}

}  // namespace
}  // namespace bs
