// The decisions that need history (DECISIONS.md §4), each with positive and negative cases, at simulated
// event times: 552 twice, re-engagement after deferrals in 3 campaigns, recurring mailbox full, verify
// for never-accepted addresses, greylisting followed by success, unsuppress after a delivery, sender-side
// refusals leaving recipient state alone, campaign identity fallbacks, per-tenant policy, TTL expiry, and
// a multi-campaign scenario.
#include <set>
#include <tuple>

#include "gtest/gtest.h"
#include "pipeline/sink/encoders.h"
#include "pipeline/state/suppression_decider.h"
#include "tests/pipeline/state_events.h"

namespace bs {
namespace {

using testing::kDay;
using testing::kHour;
using testing::kMinute;
using testing::kT0;

class StatefulDecisionsTest : public ::testing::Test {
 protected:
  // Decides one event; returns its records.
  std::vector<SuppressionRecord> D(SuppressionDecider& d, const ClassifiedEvent& ce) {
    std::vector<SuppressionRecord> out;
    d.Decide(ce, out);
    return out;
  }
  std::vector<SuppressionRecord> D(const ClassifiedEvent& ce) { return D(decider_, ce); }
  // Decides events, expecting none of them to decide anything.
  void Quiet(const std::vector<ClassifiedEvent>& events) {
    for (const auto& ce : events) {
      auto out = D(ce);
      for (const auto& r : out) ADD_FAILURE() << "unexpected " << r.key << " " << r.decision;
    }
  }

  testing::StateEvents ev_;
  SuppressionDecider decider_{"v1"};
};

// ---- 552: retry once, the second one suppresses -------------------------------------------------------

TEST_F(StatefulDecisionsTest, SecondStorageExceededSuppressesWithBothRecordsAsEvidence) {
  auto first = ev_.StorageExceeded("Full@Example.com", kT0, "a");
  auto second = ev_.StorageExceeded("full@example.com", kT0 + kDay, "b");
  EXPECT_TRUE(D(first).empty()) << "the first 552 is retry_once: nothing to emit";
  auto out = D(second);
  ASSERT_EQ(out.size(), 1u);
  const SuppressionRecord& r = out[0];
  EXPECT_FALSE(r.hygiene);
  EXPECT_EQ(r.key, "full@example.com");
  EXPECT_EQ(r.action, Action::kSuppressAddress);
  EXPECT_EQ(r.category, Category::kMailboxFull);
  EXPECT_EQ(r.decision, decision::kStorageExceededTwice);
  EXPECT_EQ(r.rule, "generic.mailbox_full.552");
  EXPECT_EQ(r.code, 552);
  ASSERT_EQ(r.evidence.size(), 2u);
  EXPECT_EQ(r.evidence[0].position, first.event.position.ToString());
  EXPECT_EQ(r.evidence[0].event_time_ms, kT0);
  EXPECT_EQ(r.evidence[1].position, second.event.position.ToString());
  EXPECT_EQ(r.first_seen_ms, kT0);
  EXPECT_EQ(r.decided_at_ms, kT0 + kDay);
  EXPECT_EQ(decider_.suppressed_keys(), 1u);
  // A third 552 changes nothing.
  EXPECT_TRUE(D(ev_.StorageExceeded("full@example.com", kT0 + 2 * kDay, "c")).empty());
}

TEST_F(StatefulDecisionsTest, StorageExceededDoesNotSuppressWhenRepeatedOrRecovered) {
  auto first = ev_.StorageExceeded("a@example.com", kT0);
  EXPECT_TRUE(D(first).empty());
  EXPECT_TRUE(D(first).empty()) << "the same record again is not a second 552";
  // A delivery in between: the mailbox was emptied.
  EXPECT_TRUE(D(ev_.Delivered("a@example.com", kT0 + kHour)).empty());
  EXPECT_TRUE(D(ev_.StorageExceeded("a@example.com", kT0 + kDay)).empty());
  EXPECT_EQ(decider_.suppressed_keys(), 0u);
  // Disabled by policy.
  DeciderOptions o;
  o.policy.suppress_repeated_storage_exceeded = false;
  SuppressionDecider off("v1", o);
  EXPECT_TRUE(D(off, ev_.StorageExceeded("b@example.com", kT0)).empty());
  EXPECT_TRUE(D(off, ev_.StorageExceeded("b@example.com", kT0 + kDay)).empty());
}

// ---- deferrals in 3 campaigns → reengage ---------------------------------------------------------------

TEST_F(StatefulDecisionsTest, DeferralsInThreeCampaignsReengageOnce) {
  auto a = ev_.MailboxFull("x@example.com", kT0, "a");
  auto a2 = ev_.Greylisted("x@example.com", kT0 + kMinute, "a");  // a retry in the same campaign
  auto b = ev_.Unavailable("x@example.com", kT0 + kDay, "b");
  auto c = ev_.Greylisted("x@example.com", kT0 + 2 * kDay, "c");
  // Accepted once before (so the never-accepted rule stays out of this test).
  Quiet({ev_.Delivered("x@example.com", kT0 - kDay), a, a2, b});
  auto out = D(c);
  ASSERT_EQ(out.size(), 1u);
  const SuppressionRecord& r = out[0];
  EXPECT_TRUE(r.hygiene);
  EXPECT_EQ(r.action, Action::kReengage);
  EXPECT_EQ(r.decision, decision::kDeferredInCampaigns);
  EXPECT_EQ(r.campaign, "c");
  EXPECT_EQ(r.epoch, 0u);
  ASSERT_EQ(r.evidence.size(), 3u) << "the first deferral of each campaign";
  EXPECT_EQ(r.evidence[0].position, a.event.position.ToString());
  EXPECT_EQ(r.evidence[1].position, b.event.position.ToString());
  EXPECT_EQ(r.evidence[2].position, c.event.position.ToString());
  EXPECT_EQ(r.first_seen_ms, kT0);
  EXPECT_EQ(decider_.suppressed_keys(), 0u) << "re-engagement is not a suppression";
  std::string line;
  EncodeSuppression(r, line);
  EXPECT_NE(line.find("\"type\":\"hygiene\""), std::string::npos) << line;
  EXPECT_NE(line.find("\"action\":\"reengage\""), std::string::npos) << line;
  // A fourth campaign in the same streak: still one event.
  EXPECT_TRUE(D(ev_.Greylisted("x@example.com", kT0 + 3 * kDay, "d")).empty());
}

TEST_F(StatefulDecisionsTest, DeferralsInTwoCampaignsOrInterruptedBySuccessDoNotReengage) {
  // Many retries, two campaigns.
  Quiet({ev_.Delivered("two@example.com", kT0 - kDay)});
  for (int i = 0; i < 4; ++i) Quiet({ev_.Greylisted("two@example.com", kT0 + i * kHour, "a")});
  for (int i = 0; i < 4; ++i) Quiet({ev_.Greylisted("two@example.com", kT0 + kDay + i * kHour, "b")});
  // 4xx then success, in three campaigns: greylisting, no action.
  for (int c = 0; c < 3; ++c) {
    const std::string campaign = "camp" + std::to_string(c);
    Quiet({ev_.Greylisted("grey@corp.example", kT0 + c * kDay, campaign),
           ev_.Delivered("grey@corp.example", kT0 + c * kDay + 7 * kMinute, campaign)});
  }
  // Two campaigns, a success, one more.
  Quiet({ev_.MailboxFull("mix@example.com", kT0, "a"), ev_.MailboxFull("mix@example.com", kT0 + kDay, "b"),
         ev_.Delivered("mix@example.com", kT0 + 2 * kDay, "b"), ev_.MailboxFull("mix@example.com", kT0 + 3 * kDay, "c")});
  EXPECT_EQ(decider_.store().histories_in_use(), 2u) << "the greylisted address's history ends with its success";
}

TEST_F(StatefulDecisionsTest, ANewStreakAfterSuccessReengagesAgainWithItsOwnId) {
  for (int c = 0; c < 3; ++c) D(ev_.Greylisted("r@example.com", kT0 + c * kDay, "s1-" + std::to_string(c)));
  D(ev_.Delivered("r@example.com", kT0 + 4 * kDay));
  std::vector<SuppressionRecord> second;
  for (int c = 0; c < 3; ++c) {
    auto out = D(ev_.Greylisted("r@example.com", kT0 + (5 + c) * kDay, "s2-" + std::to_string(c)));
    second.insert(second.end(), out.begin(), out.end());
  }
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].epoch, 1u);
  SuppressionRecord first_like = second[0];
  first_like.epoch = 0;
  EXPECT_NE(SuppressionId(second[0]), SuppressionId(first_like));
}

// ---- recurring mailbox full → suppression --------------------------------------------------------------

TEST_F(StatefulDecisionsTest, MailboxFullInFourCampaignsOverAWeekSuppresses) {
  std::vector<SuppressionRecord> all;
  for (int c = 0; c < 4; ++c) {
    auto out = D(ev_.MailboxFull("abandoned@example.com", kT0 + c * 3 * kDay, "w" + std::to_string(c)));
    all.insert(all.end(), out.begin(), out.end());
  }
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].action, Action::kReengage) << "third campaign: re-engage first";
  EXPECT_FALSE(all[1].hygiene);
  EXPECT_EQ(all[1].decision, decision::kMailboxFullRecurring);
  EXPECT_EQ(all[1].action, Action::kSuppressAddress);
  EXPECT_EQ(all[1].category, Category::kMailboxFull);
  EXPECT_EQ(all[1].evidence.size(), 4u);
  EXPECT_EQ(all[1].first_seen_ms, kT0);
  EXPECT_EQ(decider_.suppressed_keys(), 1u);
}

TEST_F(StatefulDecisionsTest, MailboxFullTooSoonOrNotRecurringDoesNotSuppress) {
  // Four campaigns within two days: full for now, not abandoned.
  for (int c = 0; c < 4; ++c) D(ev_.MailboxFull("busy@example.com", kT0 + c * 12 * kHour, "q" + std::to_string(c)));
  // Four campaigns over weeks, but only three were mailbox full.
  D(ev_.MailboxFull("some@example.com", kT0, "a"));
  D(ev_.Greylisted("some@example.com", kT0 + 7 * kDay, "b"));
  D(ev_.MailboxFull("some@example.com", kT0 + 14 * kDay, "c"));
  D(ev_.MailboxFull("some@example.com", kT0 + 21 * kDay, "d"));
  EXPECT_EQ(decider_.suppressed_keys(), 0u);
  // Disabled.
  DeciderOptions o;
  o.policy.mailbox_full_campaigns = 0;
  SuppressionDecider off("v1", o);
  for (int c = 0; c < 4; ++c) D(off, ev_.MailboxFull("abandoned@example.com", kT0 + c * 5 * kDay, std::to_string(c)));
  EXPECT_EQ(off.suppressed_keys(), 0u);
}

// ---- never accepted → verify ---------------------------------------------------------------------------

TEST_F(StatefulDecisionsTest, NeverAcceptedAfterFiveAttemptsInTwoCampaignsVerifiesOnce) {
  std::vector<SuppressionRecord> all;
  for (int i = 0; i < 6; ++i) {
    auto out = D(ev_.Unavailable("ghost@example.com", kT0 + i * kHour, i < 3 ? "a" : "b"));
    if (i < 4) {
      EXPECT_TRUE(out.empty()) << i;
    }
    all.insert(all.end(), out.begin(), out.end());
  }
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].action, Action::kVerify);
  EXPECT_EQ(all[0].decision, decision::kNeverAccepted);
  EXPECT_TRUE(all[0].hygiene);
  EXPECT_EQ(all[0].evidence.size(), 3u) << "first of each campaign, and the fifth attempt";
  EXPECT_EQ(all[0].first_seen_ms, kT0);
  EXPECT_EQ(all[0].decided_at_ms, kT0 + 4 * kHour);
}

TEST_F(StatefulDecisionsTest, VerifyNeedsTwoCampaignsAndNoAcceptance) {
  for (int i = 0; i < 8; ++i) Quiet({ev_.Unavailable("one@example.com", kT0 + i * kHour, "only")});
  Quiet({ev_.Delivered("was-ok@example.com", kT0)});
  for (int i = 0; i < 8; ++i) {
    Quiet({ev_.Unavailable("was-ok@example.com", kT0 + kHour + i * kHour, i % 2 ? "a" : "b")});
    if (i == 1) Quiet({ev_.Delivered("was-ok@example.com", kT0 + kHour + i * kHour + 1)});
  }
}

// ---- unsuppress --------------------------------------------------------------------------------------

TEST_F(StatefulDecisionsTest, DeliveryAfterSuppressionUnsuppressesWithEvidence) {
  auto bounce = ev_.UserUnknown("back@example.com", kT0);
  auto out = D(bounce);
  ASSERT_EQ(out.size(), 1u);
  const std::string first_id = SuppressionId(out[0]);
  EXPECT_EQ(out[0].decision, decision::kPermanentFailure);
  // A delivery logged before the suppression (a late record) says nothing.
  EXPECT_TRUE(D(ev_.Delivered("back@example.com", kT0 - kHour)).empty());
  auto delivery = ev_.Delivered("back@example.com", kT0 + 30 * kDay);
  out = D(delivery);
  ASSERT_EQ(out.size(), 1u);
  const SuppressionRecord& u = out[0];
  EXPECT_TRUE(u.hygiene);
  EXPECT_EQ(u.hygiene_action, "unsuppress");
  EXPECT_EQ(u.decision, decision::kDeliveredAfterSuppression);
  EXPECT_EQ(u.category, Category::kDelivered);
  EXPECT_EQ(u.code, 250);
  ASSERT_EQ(u.evidence.size(), 2u);
  EXPECT_EQ(u.evidence[0].position, bounce.event.position.ToString());
  EXPECT_EQ(u.evidence[1].position, delivery.event.position.ToString());
  EXPECT_EQ(u.first_seen_ms, kT0);
  EXPECT_EQ(u.decided_at_ms, kT0 + 30 * kDay);
  EXPECT_EQ(decider_.suppressed_keys(), 0u);
  std::string line;
  EncodeSuppression(u, line);
  EXPECT_NE(line.find("\"action\":\"unsuppress\""), std::string::npos) << line;
  // Bouncing again later: suppressed again, with a new id (epoch 1); the old bounce replayed does nothing.
  EXPECT_TRUE(D(bounce).empty());
  out = D(ev_.UserUnknown("back@example.com", kT0 + 40 * kDay));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].epoch, 1u);
  EXPECT_NE(SuppressionId(out[0]), first_id);
}

TEST_F(StatefulDecisionsTest, DomainSuppressionIsLiftedByADeliveryToAnyAddressThere) {
  auto out = D(ev_.NullMx("a@OldBrand.example", kT0));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].key, "@oldbrand.example");
  EXPECT_EQ(out[0].scope, Scope::kDomain);
  EXPECT_TRUE(D(ev_.NullMx("b@oldbrand.example", kT0 + 1)).empty());
  EXPECT_EQ(decider_.store().addresses(), 0u) << "a domain failure creates no address state";
  out = D(ev_.Delivered("c@oldbrand.example", kT0 + 10 * kDay));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].key, "@oldbrand.example");
  EXPECT_EQ(out[0].hygiene_action, "unsuppress");
  EXPECT_EQ(out[0].scope, Scope::kDomain);
  EXPECT_EQ(out[0].evidence.size(), 2u);
  EXPECT_TRUE(D(ev_.Delivered("d@oldbrand.example", kT0 + 11 * kDay)).empty());
  out = D(ev_.NullMx("e@oldbrand.example", kT0 + 12 * kDay));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].epoch, 1u);
}

TEST_F(StatefulDecisionsTest, UnsuppressCanBeDisabledPerTenant) {
  DeciderOptions o;
  DecisionPolicy sticky;
  sticky.unsuppress_on_delivery = false;
  o.tenant_policies["sticky"] = sticky;
  SuppressionDecider d("v1", o);
  D(d, ev_.WithTenant(ev_.UserUnknown("s@example.com", kT0), "sticky"));
  EXPECT_TRUE(D(d, ev_.WithTenant(ev_.Delivered("s@example.com", kT0 + kDay), "sticky")).empty());
  D(d, ev_.UserUnknown("t@example.com", kT0));
  EXPECT_EQ(D(d, ev_.Delivered("t@example.com", kT0 + kDay)).size(), 1u) << "acme keeps the default";
}

// ---- the first rule: refusals of us never touch recipient state ------------------------------------------

TEST_F(StatefulDecisionsTest, SenderSideRefusalsNeverTouchRecipientState) {
  for (int c = 0; c < 5; ++c) {
    const std::string campaign = std::to_string(c);
    Quiet({ev_.RateLimited("victim@gmail.com", kT0 + c * kDay, campaign),
           ev_.DmarcFailure("victim@outlook.com", kT0 + c * kDay, campaign)});
  }
  EXPECT_EQ(decider_.store().addresses(), 0u);
  // An address with deferrals in two campaigns: a third campaign of refusals of us does not complete it.
  Quiet({ev_.Greylisted("x@example.com", kT0, "a"), ev_.Greylisted("x@example.com", kT0 + kDay, "b"),
         ev_.RateLimited("x@example.com", kT0 + 2 * kDay, "c"), ev_.DmarcFailure("x@example.com", kT0 + 2 * kDay, "c")});
  EXPECT_EQ(decider_.store().addresses(), 1u);
  EXPECT_EQ(decider_.suppressed_keys(), 0u);
}

// ---- campaign identity -------------------------------------------------------------------------------

TEST_F(StatefulDecisionsTest, CampaignFromTheSenderTagWhenTheLogHasNone) {
  std::vector<SuppressionRecord> all;
  const char* senders[] = {"bounces+spring@news.example.com", "bounces+spring@news.example.com",
                           "bounces+summer=x=example.com@news.example.com", "bounces+autumn@news.example.com"};
  for (int i = 0; i < 4; ++i) {
    auto out = D(ev_.WithSender(ev_.Greylisted("p@example.com", kT0 + i * kDay), senders[i]));
    all.insert(all.end(), out.begin(), out.end());
  }
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].campaign, "autumn");
  EXPECT_EQ(all[0].decided_at_ms, kT0 + 3 * kDay) << "spring twice is one campaign; VERP suffix cut at '='";
}

TEST_F(StatefulDecisionsTest, CampaignFallsBackToTheDayOrToNothing) {
  // No tag: the calendar day. Two deferrals on one day are one campaign.
  std::vector<SuppressionRecord> all;
  for (int64_t t : {kT0, kT0 + kHour, kT0 + kDay, kT0 + 2 * kDay}) {
    auto out = D(ev_.WithSender(ev_.Greylisted("q@example.com", t), "bounces@news.example.com"));
    all.insert(all.end(), out.begin(), out.end());
  }
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].campaign, "2026-11-04");
  // kNone: without a campaign id every send is the same (empty) campaign: never three.
  DeciderOptions o;
  o.campaign_fallback = CampaignFallback::kNone;
  SuppressionDecider none("v1", o);
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE(D(none, ev_.WithSender(ev_.Greylisted("q@example.com", kT0 + i * kDay), "bounces+t@x.example")).empty());
  }
  // kSenderTag without a tag: same.
  o.campaign_fallback = CampaignFallback::kSenderTag;
  SuppressionDecider tag("v1", o);
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE(D(tag, ev_.WithSender(ev_.Greylisted("q@example.com", kT0 + i * kDay), "plain@x.example")).empty());
  }
}

// ---- per-tenant policy -------------------------------------------------------------------------------

TEST_F(StatefulDecisionsTest, TenantPolicyAndTenantScopedCampaigns) {
  DeciderOptions o;
  DecisionPolicy strict;
  strict.reengage_campaigns = 2;
  o.tenant_policies["strict"] = strict;
  ASSERT_TRUE(o.Validate().ok());
  SuppressionDecider d("v1", o);
  EXPECT_TRUE(D(d, ev_.WithTenant(ev_.Greylisted("s@example.com", kT0, "a"), "strict")).empty());
  auto out = D(d, ev_.WithTenant(ev_.Greylisted("s@example.com", kT0 + kDay, "b"), "strict"));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].tenant, "strict");
  // The default tenant needs three.
  EXPECT_TRUE(D(d, ev_.Greylisted("n@example.com", kT0, "a")).empty());
  EXPECT_TRUE(D(d, ev_.Greylisted("n@example.com", kT0 + kDay, "b")).empty());
  // Campaign "a" of two tenants is two campaigns.
  EXPECT_TRUE(D(d, ev_.WithTenant(ev_.Greylisted("m@example.com", kT0, "a"), "t1")).empty());
  EXPECT_TRUE(D(d, ev_.WithTenant(ev_.Greylisted("m@example.com", kT0 + 1, "a"), "t2")).empty());
  EXPECT_EQ(D(d, ev_.WithTenant(ev_.Greylisted("m@example.com", kT0 + 2, "a"), "t3")).size(), 1u);
  // Validation.
  o.tenant_policies["bad"].reengage_campaigns = 5;
  EXPECT_FALSE(o.Validate().ok());
}

// ---- TTL, by event time --------------------------------------------------------------------------------

TEST_F(StatefulDecisionsTest, HistoryExpiresAfterTheTtlOfEventTime) {
  DeciderOptions o;
  o.ttl.history_ms = 30 * kDay;
  o.ttl.sweep_interval_ms = kDay;
  SuppressionDecider d("v1", o);
  D(d, ev_.Greylisted("old@example.com", kT0, "a"));
  D(d, ev_.Greylisted("old@example.com", kT0 + kDay, "b"));
  D(d, ev_.Greylisted("keep@example.com", kT0, "a"));
  D(d, ev_.Greylisted("keep@example.com", kT0 + kDay, "b"));
  D(d, ev_.UserUnknown("gone@example.com", kT0 + kDay));
  EXPECT_EQ(d.store().addresses(), 3u);
  // keep@ is seen again within its TTL; old@ is not.
  D(d, ev_.Greylisted("keep@example.com", kT0 + 25 * kDay, "b"));
  // 32 days later, driven only by event times: another address's record moves the clock; the sweep runs.
  D(d, ev_.Delivered("clock@example.com", kT0 + 32 * kDay));
  EXPECT_EQ(d.store().addresses(), 3u) << "old@ swept; keep@, the suppressed gone@ and clock@ stay";
  EXPECT_EQ(d.store().swept(), 1u);
  EXPECT_TRUE(D(d, ev_.Greylisted("old@example.com", kT0 + 32 * kDay, "c")).empty())
      << "its first two campaigns are forgotten";
  EXPECT_EQ(D(d, ev_.Greylisted("keep@example.com", kT0 + 33 * kDay, "c")).size(), 1u);
  // Suppressions live longer (400 days by default), so a delivery 100 days later still unsuppresses.
  EXPECT_EQ(D(d, ev_.Delivered("gone@example.com", kT0 + 100 * kDay)).size(), 1u);
}

TEST_F(StatefulDecisionsTest, ExpiryDoesNotDependOnWhenTheSweepRuns) {
  // The same events with a sweep every minute and every 1000 days give the same decisions.
  std::vector<ClassifiedEvent> events;
  for (int i = 0; i < 12; ++i) {
    events.push_back(ev_.Greylisted("e@example.com", kT0 + i * 11 * kDay, "c" + std::to_string(i)));
    events.push_back(ev_.Greylisted("f@example.com", kT0 + i * 9 * kDay, "c" + std::to_string(i % 5)));
    if (i % 4 == 3) events.push_back(ev_.UserUnknown("g@example.com", kT0 + i * 10 * kDay));
    if (i % 4 == 1) events.push_back(ev_.Delivered("g@example.com", kT0 + i * 10 * kDay + 1));
  }
  std::sort(events.begin(), events.end(),
            [](const auto& a, const auto& b) { return a.event.event_time_ms < b.event.event_time_ms; });
  DeciderOptions often, rarely;
  often.ttl.history_ms = rarely.ttl.history_ms = 20 * kDay;
  often.ttl.suppression_ms = rarely.ttl.suppression_ms = 25 * kDay;
  often.ttl.sweep_interval_ms = kMinute;
  rarely.ttl.sweep_interval_ms = 1000 * kDay;
  SuppressionDecider a("v1", often), b("v1", rarely);
  auto out_a = testing::Run(a, events);
  auto out_b = testing::Run(b, events);
  EXPECT_EQ(out_a, out_b);
  EXPECT_GE(out_a.size(), 4u);
  EXPECT_GT(a.store().swept(), 0u);
  EXPECT_EQ(b.store().swept(), 0u);
}

// ---- a multi-campaign scenario -----------------------------------------------------------------------

TEST_F(StatefulDecisionsTest, MultiCampaignScenario) {
  // Four weekly campaigns to the same list.
  const char* campaigns[] = {"w1", "w2", "w3", "w4"};
  std::vector<ClassifiedEvent> events;
  for (int w = 0; w < 4; ++w) {
    const int64_t t = kT0 + w * 7 * kDay;
    const std::string_view c = campaigns[w];
    events.push_back(ev_.Delivered("happy@gmail.com", t, c));
    events.push_back(ev_.UserUnknown("invalid@gmail.com", t + 1, c));         // suppressed once, in w1
    events.push_back(ev_.Greylisted("grey@corp.example", t + 2, c));          // greylisted, then accepted
    events.push_back(ev_.Delivered("grey@corp.example", t + 7 * kMinute, c));
    events.push_back(ev_.MailboxFull("full@gmail.com", t + 3, c));            // reengage w3, suppress w4
    events.push_back(ev_.Unavailable("ghost@example.com", t + 4, c));         // never accepted
    events.push_back(ev_.Unavailable("ghost@example.com", t + kHour, c));
    events.push_back(ev_.RateLimited("blocked@gmail.com", t + 5, c));         // our problem
    events.push_back(ev_.NullMx(std::string("u") + c.data() + "@oldbrand.example", t + 6, c));
    if (w == 0) events.push_back(ev_.StorageExceeded("quota@gmx.de", t + 7, c));
    if (w == 1) events.push_back(ev_.StorageExceeded("quota@gmx.de", t + 7, c));
    if (w == 1) events.push_back(ev_.UserUnknown("moved@yahoo.com", t + 8, c));
    if (w == 3) events.push_back(ev_.Delivered("moved@yahoo.com", t + 8, c));  // came back
  }
  auto lines = testing::Run(decider_, events);
  std::vector<SuppressionRecord> records;
  std::set<std::tuple<std::string, std::string, std::string>> got;
  {
    // Re-decide into a fresh decider to get the records themselves.
    SuppressionDecider fresh("v1");
    std::vector<SuppressionRecord> out;
    for (const auto& ce : events) fresh.Decide(ce, out);
    for (const auto& r : out) {
      got.emplace(r.key, r.hygiene ? (r.hygiene_action.empty() ? std::string(ActionName(r.action)) : r.hygiene_action)
                                   : std::string(ActionName(r.action)),
                  r.decision);
    }
    EXPECT_EQ(out.size(), lines.size());
  }
  const std::set<std::tuple<std::string, std::string, std::string>> want = {
      {"invalid@gmail.com", "suppress_address", "permanent_failure"},
      {"@oldbrand.example", "suppress_domain", "permanent_failure"},
      {"full@gmail.com", "reengage", "deferred_in_campaigns"},
      {"full@gmail.com", "suppress_address", "mailbox_full_recurring"},
      {"ghost@example.com", "verify", "never_accepted"},
      {"ghost@example.com", "reengage", "deferred_in_campaigns"},
      {"quota@gmx.de", "suppress_address", "storage_exceeded_twice"},
      {"moved@yahoo.com", "suppress_address", "permanent_failure"},
      {"moved@yahoo.com", "unsuppress", "delivered_after_suppression"},
  };
  EXPECT_EQ(got, want);
  EXPECT_EQ(lines.size(), want.size()) << "each decision exactly once";
}

}  // namespace
}  // namespace bs
