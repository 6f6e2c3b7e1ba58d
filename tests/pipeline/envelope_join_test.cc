// EnvelopeJoin: senders joined by (input, queue id), forgotten on `removed`, the oldest evicted beyond
// capacity, senders interned once.
#include "pipeline/worker/envelope_join.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace bs {
namespace {

DeliveryEvent Envelope(std::string_view source, std::string_view qid, std::string_view sender) {
  DeliveryEvent e;
  e.outcome = Outcome::kEnvelope;
  e.position.source = source;
  e.message_id = qid;
  e.sender = sender;
  return e;
}

DeliveryEvent Removed(std::string_view source, std::string_view qid) {
  DeliveryEvent e = Envelope(source, qid, "");
  e.envelope_removed = true;
  return e;
}

// The sender the join gives an outcome of `qid` ("" when none).
std::string SenderOf(EnvelopeJoin& join, std::string_view source, std::string_view qid) {
  DeliveryEvent e;
  e.outcome = Outcome::kBounced;
  e.position.source = source;
  e.message_id = qid;
  EXPECT_TRUE(join.Apply(e));
  return std::string(e.sender);
}

TEST(EnvelopeJoinTest, JoinsBySourceAndQueueId) {
  EnvelopeJoin join;
  DeliveryEvent a = Envelope("a.log", "AAAA1", "x@one.example");
  DeliveryEvent b = Envelope("b.log", "AAAA1", "y@two.example");
  EXPECT_FALSE(join.Apply(a));
  EXPECT_FALSE(join.Apply(b));
  EXPECT_EQ(SenderOf(join, "a.log", "AAAA1"), "x@one.example");
  EXPECT_EQ(SenderOf(join, "b.log", "AAAA1"), "y@two.example");
  EXPECT_EQ(SenderOf(join, "a.log", "BBBB2"), "");
  // The domain follows the joined sender.
  DeliveryEvent o;
  o.outcome = Outcome::kDeferred;
  o.position.source = "a.log";
  o.message_id = "AAAA1";
  ASSERT_TRUE(join.Apply(o));
  EXPECT_EQ(o.sender_domain, "one.example");
  // A sender already on the outcome is kept.
  o.sender = "own@three.example";
  ASSERT_TRUE(join.Apply(o));
  EXPECT_EQ(o.sender, "own@three.example");
}

TEST(EnvelopeJoinTest, RemovedForgetsTheQueueId) {
  EnvelopeJoin join;
  DeliveryEvent e = Envelope("m.log", "QID001", "s@a.example");
  join.Apply(e);
  DeliveryEvent other = Envelope("m.log", "QID002", "s@a.example");
  join.Apply(other);
  DeliveryEvent r = Removed("m.log", "QID001");
  EXPECT_FALSE(join.Apply(r));
  EXPECT_EQ(join.size(), 1u);
  EXPECT_EQ(join.removed(), 1u);
  EXPECT_EQ(SenderOf(join, "m.log", "QID001"), "");
  EXPECT_EQ(SenderOf(join, "m.log", "QID002"), "s@a.example");
  // Removing an unknown id, or one of another input, changes nothing.
  DeliveryEvent r2 = Removed("other.log", "QID002");
  join.Apply(r2);
  EXPECT_EQ(SenderOf(join, "m.log", "QID002"), "s@a.example");
  EXPECT_EQ(join.removed(), 1u);
  // A reused queue id joins its new sender.
  DeliveryEvent again = Envelope("m.log", "QID001", "t@b.example");
  join.Apply(again);
  EXPECT_EQ(SenderOf(join, "m.log", "QID001"), "t@b.example");
}

TEST(EnvelopeJoinTest, EvictsTheOldestBeyondCapacityIgnoringRemovedOnes) {
  EnvelopeJoin join(3);
  auto add = [&](std::string_view qid, std::string_view sender) {
    DeliveryEvent e = Envelope("f", qid, sender);
    join.Apply(e);
  };
  add("ID0001", "s0@x");
  add("ID0002", "s1@x");
  add("ID0003", "s2@x");
  DeliveryEvent r = Removed("f", "ID0001");
  join.Apply(r);
  add("ID0004", "s3@x");  // 3 open ids: nothing evicted
  EXPECT_EQ(join.evicted(), 0u);
  EXPECT_EQ(join.size(), 3u);
  add("ID0002", "s1b@x");  // re-set: keeps its place in the order
  add("ID0005", "s4@x");   // evicts ID0002, the oldest open one
  EXPECT_EQ(join.evicted(), 1u);
  EXPECT_EQ(SenderOf(join, "f", "ID0002"), "");
  EXPECT_EQ(SenderOf(join, "f", "ID0003"), "s2@x");
  EXPECT_EQ(SenderOf(join, "f", "ID0004"), "s3@x");
  EXPECT_EQ(SenderOf(join, "f", "ID0005"), "s4@x");
}

TEST(EnvelopeJoinTest, SendersAreInternedAndReleased) {
  EnvelopeJoin join;
  std::vector<std::string> qids;
  for (int i = 0; i < 1000; ++i) qids.push_back("Q" + std::to_string(100000 + i));
  for (int i = 0; i < 1000; ++i) {
    DeliveryEvent e = Envelope("f", qids[i], i % 2 ? "bounces+odd@x.example" : "bounces+even@x.example");
    join.Apply(e);
  }
  EXPECT_EQ(join.size(), 1000u);
  EXPECT_EQ(join.senders(), 2u);
  for (int i = 0; i < 1000; i += 2) {
    DeliveryEvent r = Removed("f", qids[i]);
    join.Apply(r);
  }
  EXPECT_EQ(join.senders(), 1u);
  EXPECT_EQ(SenderOf(join, "f", qids[1]), "bounces+odd@x.example");
  EXPECT_EQ(SenderOf(join, "f", qids[0]), "");
  // A freed sender slot is reused for a new text, and the old text does not come back.
  DeliveryEvent e = Envelope("f", qids[0], "new@y.example");
  join.Apply(e);
  EXPECT_EQ(join.senders(), 2u);
  EXPECT_EQ(SenderOf(join, "f", qids[0]), "new@y.example");
  EXPECT_EQ(SenderOf(join, "f", qids[999]), "bounces+odd@x.example");
}

TEST(EnvelopeJoinTest, ManyRemovalsKeepTheQueueBounded) {
  EnvelopeJoin join(8);
  for (int i = 0; i < 100000; ++i) {
    std::string qid = "M" + std::to_string(1000000 + i);
    DeliveryEvent e = Envelope("f", qid, "s@x");
    join.Apply(e);
    DeliveryEvent r = Removed("f", qid);
    join.Apply(r);
  }
  EXPECT_EQ(join.size(), 0u);
  EXPECT_EQ(join.evicted(), 0u);
  EXPECT_EQ(join.removed(), 100000u);
  EXPECT_EQ(join.senders(), 0u);
}

TEST(EnvelopeJoinTest, OrderSurvivesQueueCompaction) {
  EnvelopeJoin join(3);
  auto add = [&](std::string_view qid, std::string_view sender) {
    DeliveryEvent e = Envelope("f", qid, sender);
    join.Apply(e);
  };
  add("OLD001", "a@x");
  add("OLD002", "b@x");
  // Thousands of stale queue entries: the queue is compacted (more than once) around the two open ids.
  for (int i = 0; i < 5000; ++i) {
    std::string qid = "T" + std::to_string(100000 + i);
    add(qid, "t@x");
    DeliveryEvent r = Removed("f", qid);
    join.Apply(r);
  }
  EXPECT_EQ(join.size(), 2u);
  add("NEW001", "c@x");
  add("NEW002", "d@x");  // 4 open ids: evicts OLD001, still the oldest
  EXPECT_EQ(join.evicted(), 1u);
  EXPECT_EQ(SenderOf(join, "f", "OLD001"), "");
  EXPECT_EQ(SenderOf(join, "f", "OLD002"), "b@x");
  add("NEW003", "e@x");  // then OLD002
  EXPECT_EQ(join.evicted(), 2u);
  EXPECT_EQ(SenderOf(join, "f", "OLD002"), "");
  EXPECT_EQ(SenderOf(join, "f", "NEW001"), "c@x");
  EXPECT_EQ(SenderOf(join, "f", "NEW002"), "d@x");
  EXPECT_EQ(SenderOf(join, "f", "NEW003"), "e@x");
}

}  // namespace
}  // namespace bs
