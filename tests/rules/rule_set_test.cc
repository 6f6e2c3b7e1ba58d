// Classification semantics of RuleSet: precedence (priority, then tier, then file order), code-only
// fallbacks, the effects of normalisation, provider detection order, overrides, local replies, unknown
// replies, and the product's first rule checked over every rule that ships.
#include "rules/rule_set.h"

#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "rules/rule_set_impl.h"
#include "tests/rules/rule_test_util.h"
#include "tests/testing/paths.h"

namespace bs {
namespace {

using ::bs::testing::TempRuleDir;

std::string R(const std::string& id, const std::string& body, const std::string& category = "policy",
              const std::string& action = "investigate", const std::string& scope = "sending_ip") {
  return "[[rule]]\nid = \"" + id + "\"\n" + body + "category = \"" + category + "\"\naction = \"" + action +
         "\"\nscope = \"" + scope + "\"\n";
}

ReplyInput In(std::string_view text, std::string_view mx = "", std::string_view domain = "") {
  ReplyInput in;
  in.text = text;
  in.mx_host = mx;
  in.recipient_domain = domain;
  return in;
}

class RuleSetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_.WithBase();
    dir_.Write("generic.rules",
               "[ruleset]\nprovider = \"generic\"\n" +
                   R("generic.delivered", "codes = [\"250\"]\n", "delivered", "none", "none") +
                   R("generic.user_unknown", "codes = [\"5xx\"]\nenhanced = [\"5.1.*\"]\n", "user_unknown",
                     "suppress_address", "address") +
                   R("generic.rate.421", "codes = [\"421\"]\n", "rate_limited", "retry_slower") +
                   R("generic.spam.text", "priority = 40\ntext = '(?i)spam'\n", "spam_content", "review_content",
                     "content") +
                   R("generic.first", "priority = 30\ntext = 'tie'\n", "policy") +
                   R("generic.second", "priority = 30\ntext = 'tie'\n", "reputation") +
                   R("generic.rcpt_only", "priority = 35\nstages = [\"rcpt\"]\ntext = 'stagey'\n", "relay_denied",
                     "investigate", "domain") +
                   R("generic.local", "local = true\n", "network_error", "retry", "none"));
    dir_.Write("blocklists.rules",
               "[ruleset]\nprovider = \"blocklists\"\n" +
                   R("blocklists.spamhaus", "text = '(?i)spamhaus'\nblocklist = \"spamhaus\"\n", "ip_blocklisted",
                     "request_delisting") +
                   R("blocklists.tie", "priority = 30\ntext = 'tie'\n", "ip_blocklisted", "request_delisting"));
    dir_.Write("gmail.rules",
               "[ruleset]\nprovider = \"gmail\"\n" +
                   R("gmail.rate.rcpt", "codes = [\"550\"]\nenhanced = [\"5.2.1\"]\ntext = 'receiving mail at a rate'\n",
                     "rate_limited", "retry_slower", "address") +
                   R("gmail.user_unknown", "codes = [\"550\"]\nenhanced = [\"5.1.1\"]\n", "user_unknown",
                     "suppress_address", "address") +
                   R("gmail.tie", "priority = 30\ntext = 'tie'\n", "dmarc_failure", "fix_authentication",
                     "sender_domain") +
                   R("gmail.spamhaus_low", "priority = 150\ntext = 'spamhaus'\n", "reputation"));
    dir_.Write("yahoo.rules",
               "[ruleset]\nprovider = \"yahoo\"\n" +
                   R("yahoo.tss04", "text = '\\[TSS04\\]'\n", "rate_limited", "retry_slower"));
    auto rs = LoadRuleSet(dir_.path(), {});
    ASSERT_TRUE(rs.ok()) << rs.status();
    rs_ = *rs;
  }

  Classification C(const ReplyInput& in) {
    Classification a = rs_->Classify(in, scratch_);
    Classification b = rs_->ClassifyReference(in, scratch_);
    EXPECT_EQ(a.rule, b.rule) << "RE2::Set and per-regex answers differ for: " << in.text;
    return a;
  }

  TempRuleDir dir_;
  std::shared_ptr<const RuleSetImpl> rs_;
  ClassifyScratch scratch_;
};

TEST_F(RuleSetTest, VersionFromFile) { EXPECT_EQ(rs_->version(), "test-1"); }

TEST_F(RuleSetTest, CodeOnlyFallbacks) {
  Classification c = C(In("550 5.1.1 whatever the text says"));
  EXPECT_EQ(c.rule, "generic.user_unknown");
  EXPECT_EQ(c.action, Action::kSuppressAddress);
  EXPECT_EQ(c.code, 550);
  EXPECT_EQ(c.enhanced, (EnhancedCode{5, 1, 1}));
  EXPECT_EQ(C(In("421 try later")).rule, "generic.rate.421");
  // 4xx with a 5.1.x enhanced code is not a user-unknown (codes = 5xx).
  EXPECT_EQ(C(In("451 5.1.1 later")).rule, "unknown");
}

TEST_F(RuleSetTest, HigherPriorityTextBeatsCodeRule) {
  Classification c = C(In("550 5.1.1 rejected as spam"));
  EXPECT_EQ(c.rule, "generic.spam.text");
  EXPECT_EQ(c.category, Category::kSpamContent);
}

TEST_F(RuleSetTest, TiesBreakByTierThenFileOrder) {
  // Same priority 30 in gmail, blocklists and generic: the provider's rule wins for a gmail reply.
  EXPECT_EQ(C(In("550 tie", "gmail-smtp-in.l.google.com")).rule, "gmail.tie");
  // For another provider, blocklists beats generic.
  EXPECT_EQ(C(In("550 tie", "mx.example.net")).rule, "blocklists.tie");
  Explanation e = rs_->Explain(In("550 tie", "mx.example.net"), scratch_);
  EXPECT_EQ(e.matched_set, "blocklists");
  EXPECT_EQ(e.also_matched, (std::vector<std::string>{"generic.first", "generic.second"}));
}

TEST_F(RuleSetTest, FileOrderBreaksRemainingTies) {
  dir_.Remove("blocklists.rules");
  auto rs = LoadRuleSet(dir_.path(), {});
  ASSERT_TRUE(rs.ok());
  EXPECT_EQ((*rs)->Classify(In("550 tie"), scratch_).rule, "generic.first");
}

TEST_F(RuleSetTest, BlocklistsOutrankProviderByDefaultPriority) {
  Classification c = C(In("550 blocked using zen.spamhaus.org", "gmail-smtp-in.l.google.com"));
  EXPECT_EQ(c.rule, "blocklists.spamhaus");
  EXPECT_EQ(c.blocklist, "spamhaus");
  EXPECT_EQ(c.provider, Provider::kGmail);
}

TEST_F(RuleSetTest, ProviderRulesApplyOnlyToTheirProvider) {
  const char* reply = "550 5.2.1 The user is receiving mail at a rate that prevents delivery";
  EXPECT_EQ(C(In(reply, "alt1.gmail-smtp-in.l.google.com")).rule, "gmail.rate.rcpt");
  EXPECT_EQ(C(In(reply, "mx.example.org")).rule, "unknown");
}

TEST_F(RuleSetTest, ProviderDetectionOrder) {
  // MX beats reply identifiers, which beat the recipient domain.
  Explanation e = rs_->Explain(In("421 4.7.0 [TSS04] deferred - gsmtp", "mta5.am0.yahoodns.net", "gmail.com"),
                               scratch_);
  EXPECT_EQ(e.result.provider, Provider::kYahoo);
  EXPECT_EQ(e.detected_by, DetectedBy::kMx);
  EXPECT_EQ(e.result.rule, "yahoo.tss04");

  e = rs_->Explain(In("550 5.1.1 nope - gsmtp", "mx.unknown.example", "yahoo.com"), scratch_);
  EXPECT_EQ(e.result.provider, Provider::kGmail);
  EXPECT_EQ(e.detected_by, DetectedBy::kReply);

  e = rs_->Explain(In("550 5.1.1 nope", "", "YAHOO.com"), scratch_);
  EXPECT_EQ(e.result.provider, Provider::kYahoo);
  EXPECT_EQ(e.detected_by, DetectedBy::kRecipientDomain);

  e = rs_->Explain(In("550 5.1.1 nope", "", "example.com"), scratch_);
  EXPECT_EQ(e.result.provider, Provider::kOther);
  EXPECT_EQ(e.detected_by, DetectedBy::kNone);

  // Suffixes match on label boundaries only, case-insensitively, trailing dot ignored.
  EXPECT_EQ(C(In("550 x", "MX.GOOGLE.COM.")).provider, Provider::kGmail);
  EXPECT_EQ(C(In("550 x", "notgoogle.com")).provider, Provider::kOther);
}

TEST_F(RuleSetTest, MicrosoftVariantsToldApart) {
  Explanation e = rs_->Explain(In("550 5.7.1 blocked", "contoso-com.mail.protection.outlook.com"), scratch_);
  EXPECT_EQ(e.result.provider, Provider::kMicrosoft);
  EXPECT_EQ(e.provider_variant, "microsoft365");
  e = rs_->Explain(In("550 5.7.1 blocked", "outlook-com.olc.protection.outlook.com"), scratch_);
  EXPECT_EQ(e.provider_variant, "outlook.com");
  e = rs_->Explain(In("550 5.7.1 part of their network is on our block list (S3150)"), scratch_);
  EXPECT_EQ(e.provider_variant, "outlook.com");
  EXPECT_EQ(e.detected_by, DetectedBy::kReply);
}

TEST_F(RuleSetTest, NormalisationFeedsTheRules) {
  // Codes only in the text, continuation tokens in the middle: code rules still apply...
  Classification c = C(In("550-5.1.1 The email account does not exist. 550-5.1.1 Please check 550 5.1.1 x"));
  EXPECT_EQ(c.rule, "generic.user_unknown");
  EXPECT_EQ(c.code, 550);
  // ...and the text regex sees the text without them ("5.1.1" must not be there for 'tie' to be alone).
  Explanation e = rs_->Explain(In("550-5.7.1 a\n550-5.7.1   b\t550 5.7.1 tie"), scratch_);
  EXPECT_EQ(e.normalized_text, "a b tie");
  EXPECT_EQ(e.on_text, "tie");
}

TEST_F(RuleSetTest, StageConstraint) {
  ReplyInput in = In("550 stagey");
  EXPECT_EQ(C(in).rule, "unknown");
  in.stage = SmtpStage::kRcpt;
  EXPECT_EQ(C(in).rule, "generic.rcpt_only");
}

TEST_F(RuleSetTest, UnknownKeepsBounceTypeFromCode) {
  Classification c = C(In("554 something no rule knows"));
  EXPECT_EQ(c.rule, "unknown");
  EXPECT_EQ(c.category, Category::kUnknown);
  EXPECT_EQ(c.action, Action::kNone);
  EXPECT_EQ(c.bounce_type, BounceType::kHard);
  EXPECT_EQ(C(In("452 something")).bounce_type, BounceType::kSoft);
  // Without any code the class comes from the outcome.
  ReplyInput in = In("no code at all");
  EXPECT_EQ(C(in).bounce_type, BounceType::kHard);  // bounced
  in.outcome = Outcome::kDeferred;
  EXPECT_EQ(C(in).bounce_type, BounceType::kSoft);
  in.outcome = Outcome::kDelivered;
  EXPECT_EQ(C(in).bounce_type, BounceType::kNone);
}

TEST_F(RuleSetTest, ClassPatternsMatchCodelessReplies) {
  // "5xx" holds for a reply that gives only an enhanced code (DSN style), "550" does not.
  Classification c = C(In("5.1.1 <a@b.example>... User Unknown"));
  EXPECT_EQ(c.rule, "generic.user_unknown");
  EXPECT_EQ(c.code, 0);
  EXPECT_EQ(C(In("4.1.1 later")).rule, "unknown");
  EXPECT_EQ(C(In("5.2.1 receiving mail at a rate", "mx.google.com")).rule, "unknown");  // gmail rule says 550
}

TEST_F(RuleSetTest, DeliveredFastPath) {
  ReplyInput in = In("");
  in.outcome = Outcome::kDelivered;
  in.code = 250;
  Explanation e = rs_->Explain(in, scratch_);
  EXPECT_EQ(e.result.rule, "generic.delivered");
  EXPECT_EQ(e.matched_set, "fast_path");
  // A 250 reaching the normal path (raw text) gives the same answer.
  EXPECT_EQ(C(In("250 2.0.0 OK queued as 12345 spam")).rule, "generic.delivered");
}

TEST_F(RuleSetTest, LocalRepliesOnlyMatchLocalRules) {
  ReplyInput in = In("550 5.1.1 spam connection refused");
  in.locally_generated = true;
  Classification c = C(in);
  EXPECT_EQ(c.rule, "generic.local");
  EXPECT_EQ(c.scope, Scope::kNone);
  // Recognised by the text prefix too (raw lines without the flag).
  EXPECT_EQ(C(In("KumoMTA internal: failed to connect")).rule, "generic.local");
}

TEST_F(RuleSetTest, OverridesReplaceAndAdd) {
  TempRuleDir over;
  over.Write("local.rules", "[ruleset]\nprovider = \"generic\"\n" +
                                R("generic.rate.421", "codes = [\"421\"]\n", "greylisted", "retry", "none") +
                                R("local.new", "priority = 500\ntext = 'acme-special'\n", "policy"));
  over.Write("VERSION", "acme-3\n");
  auto rs = LoadRuleSet(dir_.path(), {over.path()});
  ASSERT_TRUE(rs.ok()) << rs.status();
  EXPECT_EQ((*rs)->version(), "test-1+acme-3");
  EXPECT_EQ((*rs)->Classify(In("421 later"), scratch_).category, Category::kGreylisted);
  EXPECT_EQ((*rs)->Classify(In("550 5.1.1 acme-special"), scratch_).rule, "local.new");
  EXPECT_EQ((*rs)->rules().size(), rs_->rules().size() + 1);
  // Through the public API as well.
  auto pub = RuleSet::Load({dir_.path(), over.path()});
  ASSERT_TRUE(pub.ok());
  EXPECT_EQ((*pub)->version(), "test-1+acme-3");
}

TEST_F(RuleSetTest, OverrideOutsideTheFastScannerSyntaxFallsBackToRe2Set) {
  EXPECT_EQ(rs_->scanner().rfind("ScanDfa (", 0), 0u) << rs_->scanner();
  TempRuleDir over;
  // \p{Lu}: a Unicode class, which RE2 knows and ScanDfa does not.
  over.Write("local.rules", "[ruleset]\nprovider = \"generic\"\n" +
                                R("local.unicode", "priority = 500\ntext = 'acme \\p{Lu}x'\n", "policy"));
  auto rs = LoadRuleSet(dir_.path(), {over.path()});
  ASSERT_TRUE(rs.ok()) << rs.status();
  EXPECT_EQ((*rs)->scanner().rfind("RE2::Set only: pattern ", 0), 0u) << (*rs)->scanner();
  EXPECT_NE((*rs)->scanner().find("\\p"), std::string::npos) << (*rs)->scanner();
  // Classification still works, through RE2::Set, and agrees with the per-regex reference.
  for (const char* text : {"550 5.7.1 acme Qx", "550 5.7.1 acme qx", "550 5.1.1 user unknown", "421 later"}) {
    Classification a = (*rs)->Classify(In(text), scratch_);
    Classification b = (*rs)->ClassifyReference(In(text), scratch_);
    EXPECT_EQ(a.rule, b.rule) << text;
    EXPECT_EQ(a.category, b.category) << text;
  }
  EXPECT_EQ((*rs)->Classify(In("550 5.7.1 acme Qx"), scratch_).rule, "local.unicode");
  EXPECT_NE((*rs)->Classify(In("550 5.7.1 acme qx"), scratch_).rule, "local.unicode");
}

TEST_F(RuleSetTest, NoAllocationOnceWarm) {
  // Warm up, then the scratch buffers keep their storage.
  const char* reply = "550-5.7.1 a long reply about spam 550 5.7.1 blocked using zen.spamhaus.org - gsmtp";
  for (int i = 0; i < 3; ++i) C(In(reply, "mx.google.com"));
  const auto& s = scratch_.impl();
  const char* norm = s.norm_buf.data();
  size_t cap = s.matches.capacity();
  for (int i = 0; i < 100; ++i) rs_->Classify(In(reply, "mx.google.com"), scratch_);
  EXPECT_EQ(s.norm_buf.data(), norm);
  EXPECT_EQ(s.matches.capacity(), cap);
}

// The product's first rule, over the rules that ship (embedded and source tree): a rule that suppresses
// blames the recipient (scope address/domain), and nothing that blames our sending suppresses.
void CheckInvariant(const RuleSetImpl& rs) {
  ASSERT_GT(rs.rules().size(), 50u);
  const std::set<Category> sender_side = {
      Category::kRateLimited, Category::kDmarcFailure, Category::kSpfFailure, Category::kDkimFailure,
      Category::kAuthFailure, Category::kIpBlocklisted, Category::kDomainBlocklisted, Category::kReputation,
      Category::kSpamContent, Category::kVirus, Category::kTlsFailure, Category::kMessageTooLarge,
      Category::kSenderConfig, Category::kGreylisted, Category::kServerError, Category::kNetworkError};
  for (const auto& cr : rs.rules()) {
    const Rule& r = cr.rule;
    const bool suppresses = r.action == Action::kSuppressAddress || r.action == Action::kSuppressDomain;
    if (suppresses) {
      EXPECT_TRUE(IsRecipientScope(r.scope)) << r.id << " at " << r.file << ":" << r.line;
      EXPECT_EQ(sender_side.count(r.category), 0u) << r.id << " suppresses a sender-side category";
      EXPECT_FALSE(r.local) << r.id;
    }
    if (!IsRecipientScope(r.scope)) {
      EXPECT_FALSE(suppresses) << r.id;
    }
  }
}

TEST(ShippedRules, NeverSuppressWhenRefused) {
  auto embedded = LoadRuleSet("", {});
  ASSERT_TRUE(embedded.ok()) << embedded.status();
  CheckInvariant(**embedded);
  auto source = LoadRuleSet(bs::testing::SourceDir() + "/rules/data", {});
  ASSERT_TRUE(source.ok()) << source.status();
  CheckInvariant(**source);
  // The embedded copy is the source tree's (the build regenerates it when a file changes).
  EXPECT_EQ((*embedded)->version(), (*source)->version());
  EXPECT_EQ((*embedded)->rules().size(), (*source)->rules().size());
}

TEST(ShippedRules, DecisionsTableSplits) {
  auto rs = LoadRuleSet("", {});
  ASSERT_TRUE(rs.ok()) << rs.status();
  ClassifyScratch s;
  struct Case {
    const char* reply;
    Category category;
    bool may_suppress;
  };
  const Case cases[] = {
      {"550 5.7.1 Service unavailable; client host blocked using bl.spamcop.net", Category::kIpBlocklisted, false},
      {"550 5.7.1 Message rejected as spam", Category::kSpamContent, false},
      {"550 5.7.1 Delivery not authorized, message refused", Category::kPolicy, true},
      {"554 5.7.1 Recipient address rejected: Access denied", Category::kMailboxUnavailable, true},
      {"554 No valid recipients", Category::kUserUnknown, true},
      {"554 5.7.1 SPF check failed", Category::kSpfFailure, false},
      {"550 5.7.26 Unauthenticated email is not accepted due to domain's DMARC policy", Category::kDmarcFailure,
       false},
      {"421 4.7.0 Try again later", Category::kRateLimited, false},
      {"503 5.5.1 Bad sequence of commands", Category::kSenderConfig, false},
      {"556 5.1.10 Recipient address has null MX", Category::kDomainNoMail, true},
      {"552 5.2.2 Mailbox full", Category::kMailboxFull, false},
      {"553 5.7.1 Sender address rejected: domain not found", Category::kSenderConfig, false},
  };
  for (const Case& c : cases) {
    Classification got = (*rs)->Classify(In(c.reply, "mx.example.net"), s);
    EXPECT_EQ(got.category, c.category) << c.reply << " → " << got.rule;
    if (!c.may_suppress) {
      EXPECT_NE(got.action, Action::kSuppressAddress) << c.reply;
      EXPECT_NE(got.action, Action::kSuppressDomain) << c.reply;
    }
  }
}

}  // namespace
}  // namespace bs
