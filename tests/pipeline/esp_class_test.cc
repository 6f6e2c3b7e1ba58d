// ESP classes in classification: the class tables (no sender-side block ever suppresses), the precedence
// of the SMTP reply over the ESP's verdict, and the parse → classify stage (ChunkProcessor) with the real
// rule set and the decider's suppression gate, on records shaped like the corpus ones.
#include "pipeline/worker/esp_class.h"

#include <cstring>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "pipeline/base/strings.h"
#include "pipeline/sink/encoders.h"
#include "pipeline/state/suppression_decider.h"
#include "pipeline/worker/chunk_processor.h"

namespace bs {
namespace {

bool Suppresses(const Classification& c) {
  return c.action == Action::kSuppressAddress || c.action == Action::kSuppressDomain;
}

// Every class value the ESPs document (LOG_FORMATS.md §5–8), so that a table row added later is covered.
std::vector<EspClass> AllDocumentedClasses() {
  std::vector<EspClass> out;
  for (std::string_view t : {"Permanent", "Transient", "Undetermined"}) {
    for (std::string_view s : {"General", "NoEmail", "Suppressed", "OnAccountSuppressionList",
                               "OnTenantSuppressionList", "UnsubscribedRecipient", "MailboxFull", "MessageTooLarge",
                               "ContentRejected", "AttachmentRejected", "Undetermined"}) {
      out.push_back({Esp::kSes, t, s});
    }
  }
  for (std::string_view s : {"InternalFailure", "General", "MailboxFull", "SpamDetected", "RecipientServerError",
                             "IPFailure", "TransientCommunicationFailure", "BYOIPHostNameLookupUnavailable",
                             "Undetermined", "SendingDeferral"}) {
    out.push_back({Esp::kSes, "DeliveryDelay", s});
  }
  for (std::string_view c : {"1", "10", "20", "21", "22", "23", "24", "25", "30", "40", "50", "51", "52", "53", "54",
                             "60", "70", "80", "90", "100"}) {
    out.push_back({Esp::kSparkPost, c, {}});
  }
  for (std::string_view t : {"bounce", "blocked", "deferred"}) {
    for (std::string_view s : {"", "Invalid Address", "Technical Failure", "Content", "Reputation",
                               "Frequency or Volume Too High", "Mailbox Unavailable", "Unclassified"}) {
      out.push_back({Esp::kSendGrid, t, s});
    }
  }
  for (std::string_view s : {"Bounced Address", "Invalid", "Unsubscribed Address", "Spam Reporting Address",
                             "Invalid SMTPAPI header"}) {
    out.push_back({Esp::kSendGrid, "dropped", s});
  }
  for (std::string_view t : {"permanent", "temporary"}) {
    for (std::string_view s : {"generic", "bounce", "suppress-bounce", "suppress-unsubscribe", "suppress-complaint",
                               "espblock", "old", "greylisted", "hardfail"}) {
      out.push_back({Esp::kMailgun, t, s});
    }
  }
  return out;
}

// Classes that name a refusal of us (our IP, reputation, content, volume, configuration) or of nobody in
// particular: none of them may ever suppress an address.
bool IsSenderSideOrVague(const EspClass& c) {
  auto is = [&](Esp esp, std::string_view type, std::string_view subtype = {}) {
    return c.esp == esp && EqualsIgnoreCase(c.type, type) && (subtype.empty() || EqualsIgnoreCase(c.subtype, subtype));
  };
  for (std::string_view k : {"1", "20", "21", "22", "23", "24", "25", "30", "40", "50", "51", "52", "53", "54", "70"}) {
    if (is(Esp::kSparkPost, k)) return true;
  }
  if (is(Esp::kSendGrid, "blocked") || is(Esp::kSendGrid, "deferred")) return true;
  for (std::string_view s : {"Technical Failure", "Content", "Reputation", "Frequency or Volume Too High", "Unclassified"}) {
    if (is(Esp::kSendGrid, "bounce", s)) return true;
  }
  for (std::string_view s : {"General", "Undetermined", "MailboxFull", "MessageTooLarge", "ContentRejected",
                             "AttachmentRejected"}) {
    if (is(Esp::kSes, "Permanent", s) || is(Esp::kSes, "Transient", s) || is(Esp::kSes, "Undetermined", s)) return true;
  }
  if (is(Esp::kSes, "DeliveryDelay")) return true;
  for (std::string_view s : {"generic", "espblock", "old", "greylisted", "bounce", "hardfail"}) {
    if (is(Esp::kMailgun, "permanent", s) || is(Esp::kMailgun, "temporary", s)) return true;
  }
  return false;
}

TEST(EspClassTest, TextAsWritten) {
  EXPECT_EQ(EspClassText({Esp::kSes, "Permanent", "NoEmail"}), "ses:Permanent/NoEmail");
  EXPECT_EQ(EspClassText({Esp::kSparkPost, "10", {}}), "sparkpost:10");
  EXPECT_EQ(EspClassText({Esp::kSendGrid, "blocked", "Reputation"}), "sendgrid:blocked/Reputation");
  EXPECT_EQ(EspClassText({}), "");
}

TEST(EspClassTest, RecipientVerdicts) {
  for (const EspClass& c : {EspClass{Esp::kSes, "Permanent", "NoEmail"}, EspClass{Esp::kSes, "Permanent", "Suppressed"},
                            EspClass{Esp::kSparkPost, "10", {}}, EspClass{Esp::kSendGrid, "bounce", "Invalid Address"},
                            EspClass{Esp::kSendGrid, "dropped", "Bounced Address"},
                            EspClass{Esp::kMailgun, "permanent", "suppress-bounce"}}) {
    std::optional<Classification> cls = EspClassification(c);
    ASSERT_TRUE(cls.has_value()) << EspClassText(c);
    EXPECT_EQ(cls->action, Action::kSuppressAddress) << EspClassText(c);
    EXPECT_EQ(cls->scope, Scope::kAddress) << EspClassText(c);
    EXPECT_EQ(cls->bounce_type, BounceType::kHard) << EspClassText(c);
    EXPECT_TRUE(StartsWith(cls->rule, "esp.")) << cls->rule;
  }
  EXPECT_EQ(EspClassification({Esp::kSes, "Permanent", "NoEmail"})->category, Category::kUserUnknown);
  EXPECT_EQ(EspClassification({Esp::kSes, "Transient", "MailboxFull"})->category, Category::kMailboxFull);
  EXPECT_EQ(EspClassification({Esp::kSparkPost, "22", {}})->category, Category::kMailboxFull);
  // Classes that say nothing stay with the reply.
  EXPECT_FALSE(EspClassification({Esp::kSes, "Undetermined", "Undetermined"}).has_value());
  EXPECT_FALSE(EspClassification({Esp::kSparkPost, "1", {}}).has_value());
  EXPECT_FALSE(EspClassification({Esp::kMailgun, "permanent", "generic"}).has_value());
  EXPECT_FALSE(EspClassification({}).has_value());
}

// DECISIONS.md, the first rule: no ESP class for a block of us (or a vague one) maps to a suppression,
// and the ones that do suppress are recipient failures at address scope.
TEST(EspClassTest, NoSenderSideClassSuppresses) {
  int sender_side = 0, suppressing = 0;
  for (const EspClass& c : AllDocumentedClasses()) {
    std::optional<Classification> cls = EspClassification(c);
    if (IsSenderSideOrVague(c)) {
      ++sender_side;
      if (cls) {
        EXPECT_FALSE(Suppresses(*cls)) << EspClassText(c) << " → " << ActionName(cls->action);
      }
    }
    if (cls && Suppresses(*cls)) {
      ++suppressing;
      EXPECT_FALSE(IsSenderSideOrVague(c)) << EspClassText(c);
      EXPECT_EQ(cls->scope, Scope::kAddress) << EspClassText(c);
      EXPECT_TRUE(IsRecipientScope(cls->scope));
    }
    // Blocks point at us: an alert-side scope, never the recipient's.
    if (cls && (cls->category == Category::kReputation || cls->category == Category::kSpamContent ||
                cls->category == Category::kRateLimited || cls->category == Category::kPolicy)) {
      EXPECT_FALSE(IsRecipientScope(cls->scope)) << EspClassText(c);
    }
  }
  EXPECT_GT(sender_side, 60);  // the list above really covers the blocks
  EXPECT_EQ(suppressing, 9);   // SES NoEmail + 3 lists, SparkPost 10, SendGrid Invalid Address + 2 drops, Mailgun list
  // Case does not matter (ESPs are not consistent about it); "blocked" wins over any classification.
  ASSERT_TRUE(EspClassification({Esp::kSendGrid, "Blocked", "Invalid Address"}).has_value());
  EXPECT_FALSE(Suppresses(*EspClassification({Esp::kSendGrid, "Blocked", "Invalid Address"})));
}

TEST(EspClassTest, ReplyWinsUnlessWeak) {
  DeliveryEvent e;
  e.outcome = Outcome::kBounced;
  e.esp_class = {Esp::kSparkPost, "10", {}};
  Classification known;
  known.rule = "generic.policy.554";
  known.category = Category::kPolicy;
  known.action = Action::kInvestigate;
  known.scope = Scope::kSendingIp;
  Classification c = known;
  EXPECT_FALSE(ApplyEspClass(e, c));
  EXPECT_EQ(c.rule, "generic.policy.554");
  Classification unknown;
  unknown.rule = "unknown";
  unknown.code = 550;
  EXPECT_TRUE(ApplyEspClass(e, unknown));
  EXPECT_EQ(unknown.rule, "esp.sparkpost.10_invalid_recipient");
  EXPECT_EQ(unknown.code, 550);  // the reply's codes stay
  // A deferral never takes a suppressing verdict; a delivery takes none.
  e.outcome = Outcome::kDeferred;
  Classification deferred;
  deferred.rule = "unknown";
  EXPECT_FALSE(ApplyEspClass(e, deferred));
  e.outcome = Outcome::kDelivered;
  EXPECT_FALSE(ApplyEspClass(e, deferred));
}

// The parse → classify stage with the real rule set, then the decider's gate.
class EspClassifyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto rules = RuleSet::Load({});
    ASSERT_TRUE(rules.ok()) << rules.status();
    rules_ = *rules;
  }

  // Classifies one record of `format`; returns the first event's classification.
  const ClassifiedEvent& Run(Format format, std::string_view record) {
    chunk_.buffer = std::make_unique<char[]>(record.size() + kRecordPadding);
    std::memset(chunk_.buffer.get(), 0, record.size() + kRecordPadding);
    std::memcpy(chunk_.buffer.get(), record.data(), record.size());
    chunk_.size = record.size();
    chunk_.capacity = record.size() + kRecordPadding;
    chunk_.records = {RecordSpan{0, record.size(), 1}};
    processor_ = std::make_unique<ChunkProcessor>(rules_, ParserOptions{});
    absl::Status s = processor_->Process(chunk_, 0, "test", format, result_);
    EXPECT_TRUE(s.ok()) << s;
    EXPECT_TRUE(result_.dead_letters.empty());
    static const ClassifiedEvent kNone{};
    if (result_.events.empty()) {
      ADD_FAILURE() << "no event from " << record;
      return kNone;
    }
    return result_.events[0];
  }

  std::shared_ptr<const RuleSet> rules_;
  std::unique_ptr<ChunkProcessor> processor_;
  Chunk chunk_;
  ChunkResult result_;
};

std::string SesBounce(std::string_view type, std::string_view subtype, std::string_view diagnostic) {
  std::string r = R"({"notificationType":"Bounce","bounce":{"bounceType":")" + std::string(type) +
                  R"(","bounceSubType":")" + std::string(subtype) +
                  R"(","bouncedRecipients":[{"emailAddress":"jane@example.com")";
  if (!diagnostic.empty()) r += R"(,"diagnosticCode":")" + std::string(diagnostic) + "\"";
  return r + R"(}],"timestamp":"2016-01-27T14:59:38.237Z"},"mail":{"source":"a@ours.example"}})";
}

std::string SparkPostBounce(std::string_view type, std::string_view cls, std::string_view reason) {
  std::string r = R"({"msys":{"message_event":{"type":")" + std::string(type) + R"(","bounce_class":")" +
                  std::string(cls) + R"(","rcpt_to":"jane@example.com","timestamp":"1454442600")";
  if (!reason.empty()) r += R"(,"raw_reason":")" + std::string(reason) + "\"";
  return r + "}}}";
}

TEST_F(EspClassifyTest, SesWithoutReplyTextTakesTheEspVerdict) {
  const ClassifiedEvent& ce = Run(Format::kSes, SesBounce("Permanent", "NoEmail", ""));
  EXPECT_EQ(ce.cls.rule, "esp.ses.permanent_noemail");
  EXPECT_EQ(ce.cls.category, Category::kUserUnknown);
  EXPECT_TRUE(SuppressionDecider::MaySuppress(ce));
  std::string json;
  EncodeClassified(ce, "v", json);
  EXPECT_NE(json.find(R"("esp_class":"ses:Permanent/NoEmail")"), std::string::npos) << json;

  const ClassifiedEvent& suppressed = Run(Format::kSes, SesBounce("Permanent", "Suppressed", ""));
  EXPECT_EQ(suppressed.cls.rule, "esp.ses.suppressed");
  EXPECT_EQ(suppressed.cls.action, Action::kSuppressAddress);
  EXPECT_EQ(suppressed.event.outcome, Outcome::kRejected);  // nothing was sent: the decider's call

  // A vague class with no text: a hard bounce, but no recipient verdict.
  const ClassifiedEvent& general = Run(Format::kSes, SesBounce("Permanent", "General", ""));
  EXPECT_EQ(general.cls.rule, "esp.ses.permanent_general");
  EXPECT_FALSE(SuppressionDecider::MaySuppress(general));
}

TEST_F(EspClassifyTest, ReplyTextWinsOverTheEspClass) {
  // SES says NoEmail but the remote reply names a blocklist: the reply decides, nobody is suppressed.
  const ClassifiedEvent& ce = Run(
      Format::kSes, SesBounce("Permanent", "NoEmail", "smtp; 554 5.7.1 Service unavailable; Client host blocked using zen.spamhaus.org"));
  EXPECT_FALSE(StartsWith(ce.cls.rule, "esp.")) << ce.cls.rule;
  EXPECT_FALSE(SuppressionDecider::MaySuppress(ce));
  const ClassifiedEvent& sp = Run(Format::kSparkPost, SparkPostBounce("bounce", "10", "550 5.1.1 <jane@example.com>: Recipient address rejected: User unknown"));
  EXPECT_FALSE(StartsWith(sp.cls.rule, "esp.")) << sp.cls.rule;
  EXPECT_EQ(sp.cls.category, Category::kUserUnknown);
}

TEST_F(EspClassifyTest, SparkPostClasses) {
  const ClassifiedEvent& invalid = Run(Format::kSparkPost, SparkPostBounce("bounce", "10", ""));
  EXPECT_EQ(invalid.cls.rule, "esp.sparkpost.10_invalid_recipient");
  EXPECT_TRUE(SuppressionDecider::MaySuppress(invalid));
  const ClassifiedEvent& spam_block = Run(Format::kSparkPost, SparkPostBounce("bounce", "51", ""));
  EXPECT_EQ(spam_block.cls.scope, Scope::kSendingIp);
  EXPECT_FALSE(SuppressionDecider::MaySuppress(spam_block));
  // A delay carrying a hard class is still only a delay.
  const ClassifiedEvent& delay = Run(Format::kSparkPost, SparkPostBounce("delay", "10", ""));
  EXPECT_FALSE(StartsWith(delay.cls.rule, "esp.")) << delay.cls.rule;
  EXPECT_FALSE(SuppressionDecider::MaySuppress(delay));
}

TEST_F(EspClassifyTest, SendGridBlockedNeverSuppresses) {
  const ClassifiedEvent& ce =
      Run(Format::kSendGrid, R"({"email":"a@b.com","timestamp":1,"event":"bounce","type":"blocked",)"
                             R"("bounce_classification":"Invalid Address"})");
  EXPECT_EQ(ce.cls.rule, "esp.sendgrid.blocked");
  EXPECT_FALSE(IsRecipientScope(ce.cls.scope));
  EXPECT_FALSE(SuppressionDecider::MaySuppress(ce));
  const ClassifiedEvent& invalid =
      Run(Format::kSendGrid, R"({"email":"a@b.com","timestamp":1,"event":"bounce","type":"bounce",)"
                             R"("bounce_classification":"Invalid Address"})");
  EXPECT_EQ(invalid.cls.rule, "esp.sendgrid.invalid_address");
  EXPECT_TRUE(SuppressionDecider::MaySuppress(invalid));
}

}  // namespace
}  // namespace bs
