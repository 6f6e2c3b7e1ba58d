#include "pipeline/state/suppression_decider.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "pipeline/sink/encoders.h"

namespace bs {
namespace {

ClassifiedEvent Event(Outcome outcome, Category category, Action action, Scope scope,
                      std::string_view recipient = "User@Example.com") {
  ClassifiedEvent ce;
  ce.event.outcome = outcome;
  ce.event.recipient = recipient;
  ce.event.recipient_domain = DomainOf(recipient);
  ce.event.event_time_ms = 1000;
  ce.event.position = Position{"f.log", -1, 7};
  ce.event.reply = {550, {5, 1, 1}, "550 5.1.1 no such user"};
  ce.cls.category = category;
  ce.cls.action = action;
  ce.cls.scope = scope;
  ce.cls.bounce_type = BounceType::kHard;
  ce.cls.rule = "test.rule";
  ce.cls.code = 550;
  return ce;
}

TEST(SuppressionDeciderTest, UserUnknownSuppressesOnceWithEvidence) {
  SuppressionDecider d("v1");
  SuppressionRecord r;
  auto ce = Event(Outcome::kBounced, Category::kUserUnknown, Action::kSuppressAddress, Scope::kAddress);
  ASSERT_TRUE(d.Decide(ce, r));
  EXPECT_EQ(r.key, "user@example.com");
  EXPECT_EQ(r.action, Action::kSuppressAddress);
  EXPECT_EQ(r.rule, "test.rule");
  EXPECT_EQ(r.ruleset_version, "v1");
  ASSERT_EQ(r.evidence.size(), 1u);
  EXPECT_EQ(r.evidence[0].position, "f.log:7");
  EXPECT_EQ(r.decided_at_ms, 1000);
  // The same bounce again, and in another case: no second suppression.
  EXPECT_FALSE(d.Decide(ce, r));
  EXPECT_FALSE(d.Decide(Event(Outcome::kBounced, Category::kUserUnknown, Action::kSuppressAddress, Scope::kAddress,
                              "user@EXAMPLE.COM"),
                        r));
  EXPECT_EQ(d.suppressed_keys(), 1u);
}

TEST(SuppressionDeciderTest, DomainSuppressionIsOnePerDomain) {
  SuppressionDecider d("v1");
  SuppressionRecord r;
  ASSERT_TRUE(d.Decide(Event(Outcome::kBounced, Category::kDomainNoMail, Action::kSuppressDomain, Scope::kDomain,
                             "a@nullmx.example"),
                       r));
  EXPECT_EQ(r.key, "@nullmx.example");
  EXPECT_FALSE(d.Decide(Event(Outcome::kBounced, Category::kDomainNoMail, Action::kSuppressDomain, Scope::kDomain,
                              "b@nullmx.example"),
                        r));
}

// The first rule: refusals of our sending never suppress, whatever a (mis)configured rule says.
TEST(SuppressionDeciderTest, NeverSuppressesWhenWeWereRefused) {
  SuppressionDecider d("v1");
  SuppressionRecord r;
  const Category sender_side[] = {Category::kRateLimited,   Category::kDmarcFailure,  Category::kSpfFailure,
                                  Category::kDkimFailure,   Category::kAuthFailure,   Category::kIpBlocklisted,
                                  Category::kDomainBlocklisted, Category::kReputation, Category::kSpamContent,
                                  Category::kPolicy,        Category::kTlsFailure,    Category::kSenderConfig,
                                  Category::kMessageTooLarge, Category::kGreylisted, Category::kUnknown};
  for (Category c : sender_side) {
    for (Scope s : {Scope::kAddress, Scope::kSendingIp, Scope::kSenderDomain, Scope::kContent}) {
      EXPECT_FALSE(d.Decide(Event(Outcome::kBounced, c, Action::kSuppressAddress, s), r))
          << CategoryName(c) << " " << ScopeName(s);
    }
  }
  // Recipient failures outside address/domain scope, or with a non-suppress action, do not suppress.
  EXPECT_FALSE(d.Decide(Event(Outcome::kBounced, Category::kUserUnknown, Action::kSuppressAddress, Scope::kSendingIp), r));
  EXPECT_FALSE(d.Decide(Event(Outcome::kBounced, Category::kUserUnknown, Action::kMonitor, Scope::kAddress), r));
  EXPECT_EQ(d.suppressed_keys(), 0u);
}

TEST(SuppressionDeciderTest, DeferralsAndLocalFailuresNeverSuppress) {
  SuppressionDecider d("v1");
  SuppressionRecord r;
  EXPECT_FALSE(d.Decide(Event(Outcome::kDeferred, Category::kUserUnknown, Action::kSuppressAddress, Scope::kAddress), r));
  EXPECT_FALSE(d.Decide(Event(Outcome::kRejected, Category::kUserUnknown, Action::kSuppressAddress, Scope::kAddress), r));
  auto local = Event(Outcome::kBounced, Category::kUserUnknown, Action::kSuppressAddress, Scope::kAddress);
  local.event.locally_generated = true;
  EXPECT_FALSE(d.Decide(local, r));
  // An out-of-band DSN is a permanent answer from the recipient's side.
  EXPECT_TRUE(d.Decide(Event(Outcome::kOutOfBand, Category::kUserUnknown, Action::kSuppressAddress, Scope::kAddress), r));
}

// The first rule also holds for the decisions that need history: refusals of us never build a streak,
// however often they repeat, in however many campaigns.
TEST(SuppressionDeciderTest, HistoryDecisionsNeverComeFromRefusalsOfUs) {
  SuppressionDecider d("v1");
  std::vector<SuppressionRecord> out;
  const Category sender_side[] = {Category::kRateLimited, Category::kDmarcFailure, Category::kIpBlocklisted,
                                  Category::kReputation,  Category::kSpamContent,  Category::kMessageTooLarge,
                                  Category::kSenderConfig, Category::kTlsFailure,  Category::kPolicy};
  const std::string campaigns[] = {"a", "b", "c", "d", "e", "f"};
  for (int c = 0; c < 6; ++c) {
    for (Category cat : sender_side) {
      for (Outcome o : {Outcome::kDeferred, Outcome::kBounced}) {
        auto ce = Event(o, cat, Action::kRetry, Scope::kSendingIp, "victim@example.com");
        ce.event.event_time_ms = 1000 + c * 86400000LL;
        ce.event.campaign = campaigns[c];
        ce.event.reply = {552, {5, 3, 4}, "552 5.3.4 Message size exceeds fixed limit"};
        d.Decide(ce, out);
        // A mailbox-full reply whose rule blames our sending (a misconfigured rule) does not count either.
        auto full = Event(o, Category::kMailboxFull, Action::kRetryOnce, Scope::kSendingIp, "victim@example.com");
        full.event.event_time_ms = ce.event.event_time_ms + 1;
        full.event.campaign = campaigns[c];
        d.Decide(full, out);
      }
    }
  }
  EXPECT_TRUE(out.empty()) << out.size() << " records, first " << out.front().key << " " << out.front().decision;
  EXPECT_EQ(d.store().addresses(), 0u) << "refusals of us never create recipient state";
}

// Failures the MTA wrote itself (not the remote side) do not build a streak.
TEST(SuppressionDeciderTest, LocallyGeneratedFailuresDoNotCount) {
  SuppressionDecider d("v1");
  std::vector<SuppressionRecord> out;
  for (int c = 0; c < 6; ++c) {
    auto ce = Event(Outcome::kBounced, Category::kMailboxFull, Action::kRetryOnce, Scope::kAddress);
    ce.event.locally_generated = true;
    ce.event.event_time_ms = 1000 + c * 86400000LL;
    d.Decide(ce, out);
  }
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(d.store().addresses(), 0u);
}

// One event can decide more than one thing (here: re-engage and verify at once); the vector form gets both.
TEST(SuppressionDeciderTest, OneEventCanDecideSeveralRecords) {
  SuppressionDecider d("v1");
  std::vector<SuppressionRecord> out;
  const std::string campaigns[] = {"a", "b", "c"};
  size_t last = 0;
  for (int i = 0; i < 5; ++i) {
    auto ce = Event(Outcome::kDeferred, Category::kMailboxUnavailable, Action::kRetry, Scope::kAddress);
    ce.event.event_time_ms = 1000 + i * 3600000LL;
    ce.event.campaign = campaigns[i < 2 ? 0 : i - 2];
    ce.event.position.offset = 100 + i;
    last = d.Decide(ce, out);
  }
  ASSERT_EQ(last, 2u);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].action, Action::kReengage);
  EXPECT_EQ(out[1].action, Action::kVerify);
  EXPECT_NE(SuppressionId(out[0]), SuppressionId(out[1]));
}

}  // namespace
}  // namespace bs
