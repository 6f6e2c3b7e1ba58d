// The compact state store and the changelog codec: keys are never merged, removal keeps every other key
// reachable, expiry follows event time, memory stays small, and values, tombstones and frames round-trip.
#include "pipeline/state/state_store.h"

#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "pipeline/state/changelog.h"
#include "pipeline/state/state_hash.h"

namespace bs::state {
namespace {

constexpr int64_t kT0 = 1793606400000;
constexpr int64_t kDay = 24LL * 3600 * 1000;

std::string Address(int i) {
  static const char* kDomains[] = {"gmail.com", "outlook.com", "yahoo.com", "corp.example", "gmx.de"};
  return "user." + std::to_string(i) + "@" + kDomains[i % 5];
}

TEST(StateStoreTest, DistinctKeysStayDistinct) {
  StateStore s(StateTtl{}, false);
  // Keys that differ only in the domain, the '@', or case-free look-alikes.
  const std::vector<std::string> keys = {"anna@a.example", "anna@b.example", "anna", "anna@", "anna@a.example.",
                                         "a@nna@a.example", "anna.a@example", ""};
  std::vector<StateStore::Ref> refs;
  for (const auto& k : keys) refs.push_back(s.FindOrInsert(k));
  EXPECT_EQ(s.addresses(), keys.size());
  std::string back;
  for (size_t i = 0; i < keys.size(); ++i) {
    EXPECT_EQ(s.FindOrInsert(keys[i]), refs[i]) << keys[i];
    EXPECT_EQ(s.Find(keys[i]), refs[i]) << keys[i];
    s.KeyOf(refs[i], back);
    EXPECT_EQ(back, keys[i]);
    for (size_t j = 0; j < i; ++j) EXPECT_NE(refs[i], refs[j]);
  }
  EXPECT_EQ(s.Find("bob@a.example"), StateStore::kNotFound);
}

TEST(StateStoreTest, ManyKeysGrowAndLookUpExactly) {
  StateStore s(StateTtl{}, false);
  constexpr int kN = 200000;
  for (int i = 0; i < kN; ++i) s.state(s.FindOrInsert(Address(i))).last_seen_s = static_cast<uint32_t>(i + 1);
  EXPECT_EQ(s.addresses(), static_cast<size_t>(kN));
  for (int i = 0; i < kN; i += 7) {
    const StateStore::Ref r = s.Find(Address(i));
    ASSERT_NE(r, StateStore::kNotFound) << i;
    EXPECT_EQ(s.state(r).last_seen_s, static_cast<uint32_t>(i + 1));
  }
  EXPECT_EQ(s.Find("user.200000@gmail.com"), StateStore::kNotFound);
  // Small: index + record + key bytes, well under 64 bytes an address.
  const double per = static_cast<double>(s.memory().total()) / kN;
  EXPECT_LT(per, 64.0) << "index " << s.memory().index << " records " << s.memory().records << " keys " << s.memory().keys;
}

TEST(StateStoreTest, SweepRemovesExpiredKeysAndKeepsTheRestReachable) {
  StateTtl ttl;
  ttl.history_ms = 10 * kDay;
  ttl.suppression_ms = 100 * kDay;
  ttl.sweep_interval_ms = kDay;
  StateStore s(ttl, true);
  constexpr int kN = 50000;
  s.AdvanceClock(kT0);
  for (int i = 0; i < kN; ++i) {
    const StateStore::Ref r = s.FindOrInsert(Address(i));
    s.RefreshAddress(r, kT0);
    if (i % 10 == 0) s.state(r).flags |= KeyState::kSuppressed;  // suppressed keys live longer
  }
  // Half of them are seen again on day 5.
  s.AdvanceClock(kT0 + 5 * kDay);
  for (int i = 0; i < kN; i += 2) s.RefreshAddress(s.FindOrInsert(Address(i)), kT0 + 5 * kDay);
  std::string flushed;
  FramedChangelogWriter w(flushed);
  ASSERT_TRUE(s.FlushChangelog(w).ok());
  // Day 12: the odd, unsuppressed ones have not been seen for 12 days. The pass that starts now moves a
  // few records an event; Sweep() finishes it.
  s.AdvanceClock(kT0 + 12 * kDay);
  EXPECT_LT(s.swept(), 10u);
  s.Sweep();
  size_t expected = 0;
  for (int i = 0; i < kN; ++i) expected += (i % 2 == 0) || (i % 10 == 0);
  EXPECT_EQ(s.addresses(), expected);
  EXPECT_EQ(s.swept(), kN - expected);
  for (int i = 0; i < kN; ++i) {
    const bool live = (i % 2 == 0) || (i % 10 == 0);
    EXPECT_EQ(s.Find(Address(i)) != StateStore::kNotFound, live) << i;
  }
  // The flush after the sweep carries one tombstone per removed key.
  std::string after;
  FramedChangelogWriter w2(after);
  ASSERT_TRUE(s.FlushChangelog(w2).ok());
  size_t tombstones = 0;
  ChangelogRecordView rec;
  for (std::string_view in = after;;) {
    auto more = ReadFramedRecord(in, rec);
    ASSERT_TRUE(more.ok());
    if (!*more) break;
    tombstones += rec.tombstone;
  }
  EXPECT_EQ(tombstones, kN - expected);
  // Restoring from both flushes gives the swept store.
  StateStore restored(ttl, false);
  ASSERT_TRUE(restored.Restore(flushed + after).ok());
  EXPECT_EQ(restored.addresses(), expected);
  EXPECT_EQ(restored.clock_ms(), s.clock_ms());
}

TEST(StateStoreTest, ExpiredKeyIsTreatedAsNewBeforeTheSweep) {
  StateTtl ttl;
  ttl.history_ms = kDay;
  ttl.sweep_interval_ms = 1000 * kDay;
  StateStore s(ttl, false);
  s.AdvanceClock(kT0);  // the first event sweeps (nothing) and schedules the next sweep far away
  const StateStore::Ref r = s.FindOrInsert("a@example.com");
  s.RefreshAddress(r, kT0);
  s.state(r).accepted_s = Seconds(kT0);
  s.state(r).generation = 3;
  s.EnsureHistory(s.state(r)).attempts = 4;
  s.AdvanceClock(kT0 + 2 * kDay);
  EXPECT_EQ(s.addresses(), 1u) << "not swept yet";
  EXPECT_TRUE(s.Expired(s.state(r)));
  s.RefreshAddress(r, kT0 + 2 * kDay);
  EXPECT_EQ(s.state(r).accepted_s, 0u);
  EXPECT_EQ(s.state(r).generation, 0);
  EXPECT_EQ(s.history(s.state(r)), nullptr);
  EXPECT_EQ(s.histories_in_use(), 0u);
}

TEST(StateStoreTest, SnapshotRoundTripsEveryField) {
  StateStore s(StateTtl{}, false);
  s.AdvanceClock(kT0);
  const StateStore::Ref r = s.FindOrInsert("rich@example.com");
  s.RefreshAddress(r, kT0);
  KeyState& st = s.state(r);
  st.flags |= KeyState::kVerified;
  st.accepted_s = Seconds(kT0 - 1000);
  st.generation = 2;
  st.reengaged = 5;
  KeyHistory& h = s.EnsureHistory(st);
  h.first_ms = kT0 - 5;
  h.last_ms = kT0;
  h.guard_ms = kT0 - 100;
  h.campaign_count = 3;
  h.campaigns[0] = 7;
  h.campaigns[1] = 0xffffffffu;
  h.campaigns[2] = 9;
  h.deferral_mask = 5;
  h.full_mask = 4;
  h.attempts = 200;
  h.streak_flags = KeyHistory::kReengagedInStreak;
  h.evidence[0] = s.MakeEvidence(Position{"a.log", -1, 12}, kT0 - 5);
  h.evidence[2] = s.MakeEvidence(Position{"bounces", 3, 1LL << 40}, kT0);
  h.storage = s.MakeEvidence(Position{"a.log", -1, 13}, kT0 - 4);
  const uint32_t d = s.InternDomain("null.example");
  s.RefreshDomain(d, kT0);
  s.domain_state(d).flags |= KeyState::kSuppressed;
  s.EnsureHistory(s.domain_state(d)).guard_ms = kT0;

  std::string snap;
  FramedChangelogWriter w(snap);
  ASSERT_TRUE(s.Snapshot(w).ok());
  EXPECT_EQ(w.records(), 3u) << "meta, one domain, one address";
  StateStore t(StateTtl{}, false);
  ASSERT_TRUE(t.Restore(snap).ok());
  const StateStore::Ref r2 = t.Find("rich@example.com");
  ASSERT_NE(r2, StateStore::kNotFound);
  const KeyState& st2 = t.state(r2);
  EXPECT_EQ(st2.flags & KeyState::kPersistentFlags, st.flags & KeyState::kPersistentFlags);
  EXPECT_EQ(st2.generation, 2);
  EXPECT_EQ(st2.reengaged, 5);
  EXPECT_EQ(st2.last_seen_s, st.last_seen_s);
  EXPECT_EQ(st2.accepted_s, st.accepted_s);
  const KeyHistory* h2 = t.history(st2);
  ASSERT_NE(h2, nullptr);
  EXPECT_EQ(h2->first_ms, h.first_ms);
  EXPECT_EQ(h2->last_ms, h.last_ms);
  EXPECT_EQ(h2->guard_ms, h.guard_ms);
  EXPECT_EQ(h2->campaign_count, 3);
  EXPECT_EQ(h2->campaigns[1], 0xffffffffu);
  EXPECT_EQ(h2->deferral_mask, 5);
  EXPECT_EQ(h2->full_mask, 4);
  EXPECT_EQ(h2->attempts, 200);
  EXPECT_EQ(h2->streak_flags, KeyHistory::kReengagedInStreak);
  EXPECT_EQ(t.PositionOf(h2->evidence[0]).ToString(), "a.log:12");
  EXPECT_FALSE(h2->evidence[1].present());
  EXPECT_EQ(t.PositionOf(h2->evidence[2]).ToString(), "bounces/3@1099511627776");
  EXPECT_EQ(h2->evidence[2].time_ms, kT0);
  EXPECT_EQ(t.PositionOf(h2->storage).ToString(), "a.log:13");
  EXPECT_EQ(t.clock_ms(), kT0);
  EXPECT_EQ(t.CountSuppressed(), 1u);
  // The same snapshot again: a restored store snapshots to the same bytes.
  std::string again;
  FramedChangelogWriter w2(again);
  ASSERT_TRUE(t.Snapshot(w2).ok());
  EXPECT_EQ(again, snap);
}

TEST(StateStoreTest, MalformedChangelogIsAnError) {
  StateStore s(StateTtl{}, false);
  std::string framed;
  FramedChangelogWriter w(framed);
  ASSERT_TRUE(w.Put("a@example.com", std::string("\x01\x02\x00\x00\x05\x00\x00", 7)).ok());
  ASSERT_TRUE(s.Restore(framed).ok());
  EXPECT_FALSE(s.Restore(framed.substr(0, framed.size() - 2)).ok()) << "truncated frame";
  std::string bad;
  FramedChangelogWriter wb(bad);
  ASSERT_TRUE(wb.Put("b@example.com", std::string("\x02\x01", 2)).ok());
  EXPECT_FALSE(s.Restore(bad).ok()) << "unknown value version";
  std::string trailing;
  FramedChangelogWriter wt(trailing);
  ASSERT_TRUE(wt.Put("c@example.com", std::string("\x01\x02\x00\x00\x05\x00\x00\x07", 8)).ok());
  EXPECT_FALSE(s.Restore(trailing).ok()) << "trailing bytes";
  // A tombstone removes the key.
  std::string del;
  FramedChangelogWriter wd(del);
  ASSERT_TRUE(wd.Delete("a@example.com").ok());
  ASSERT_TRUE(s.Restore(del).ok());
  EXPECT_EQ(s.Find("a@example.com"), StateStore::kNotFound);
}

TEST(ChangelogTest, ValuesRoundTrip) {
  std::string buf;
  ValueWriter w(buf);
  const uint64_t us[] = {0, 1, 127, 128, 300, 1ULL << 35, ~0ULL};
  const int64_t ss[] = {0, -1, 1, -64, 64, INT64_MIN, INT64_MAX, -kT0};
  for (uint64_t v : us) w.Varint(v);
  for (int64_t v : ss) w.Signed(v);
  w.Fixed32(0xdeadbeef);
  w.Bytes("héllo");
  w.Byte(42);
  ValueReader r(buf);
  for (uint64_t v : us) {
    uint64_t got;
    ASSERT_TRUE(r.Varint(got));
    EXPECT_EQ(got, v);
  }
  for (int64_t v : ss) {
    int64_t got;
    ASSERT_TRUE(r.Signed(got));
    EXPECT_EQ(got, v);
  }
  uint32_t f;
  ASSERT_TRUE(r.Fixed32(f));
  EXPECT_EQ(f, 0xdeadbeefu);
  std::string_view s;
  ASSERT_TRUE(r.Bytes(s));
  EXPECT_EQ(s, "héllo");
  uint8_t b;
  ASSERT_TRUE(r.Byte(b));
  EXPECT_EQ(b, 42);
  EXPECT_TRUE(r.done());
  EXPECT_FALSE(r.Byte(b));
  EXPECT_FALSE(r.ok());
}

TEST(ChangelogTest, FramesKeepTombstonesApartFromEmptyValues) {
  std::string framed;
  FramedChangelogWriter w(framed);
  ASSERT_TRUE(w.Put("k1", "v1").ok());
  ASSERT_TRUE(w.Put("k2", "").ok());
  ASSERT_TRUE(w.Delete("k3").ok());
  std::string_view in = framed;
  ChangelogRecordView rec;
  ASSERT_TRUE(*ReadFramedRecord(in, rec));
  EXPECT_EQ(rec.key, "k1");
  EXPECT_EQ(rec.value, "v1");
  EXPECT_FALSE(rec.tombstone);
  ASSERT_TRUE(*ReadFramedRecord(in, rec));
  EXPECT_EQ(rec.key, "k2");
  EXPECT_TRUE(rec.value.empty());
  EXPECT_FALSE(rec.tombstone);
  ASSERT_TRUE(*ReadFramedRecord(in, rec));
  EXPECT_EQ(rec.key, "k3");
  EXPECT_TRUE(rec.tombstone);
  EXPECT_FALSE(*ReadFramedRecord(in, rec));
}

TEST(StateHashTest, StableAndSpread) {
  // Stable: the campaign hash is persisted, so it must not change between builds or processes.
  EXPECT_EQ(HashBytes(""), HashBytes(""));
  EXPECT_NE(CampaignHash("acme", "spring"), CampaignHash("acme", "summer"));
  EXPECT_NE(CampaignHash("acme", "spring"), CampaignHash("other", "spring"));
  EXPECT_NE(CampaignHash("", "ab"), CampaignHash("a", "b"));
  EXPECT_NE(HashAddress("anna", "example.com"), HashAddress("anna@example", "com"));
  // Spread: home slots of similar addresses fill the buckets evenly (no bucket gets 3x its share).
  std::vector<int> buckets(64);
  for (int i = 0; i < 64000; ++i) {
    const uint64_t h = HashAddress("user." + std::to_string(i), "gmail.com");
    ++buckets[(static_cast<uint64_t>(static_cast<uint32_t>(h >> 32)) * 64) >> 32];
  }
  for (int b : buckets) {
    EXPECT_GT(b, 700);
    EXPECT_LT(b, 1300);
  }
}

}  // namespace
}  // namespace bs::state
