#include "parsers/postfix.h"

#include <tuple>

#include "gtest/gtest.h"
#include "pipeline/base/event_time.h"
#include "tests/parsers/parser_test_util.h"
#include "tests/testing/paths.h"

namespace bs {
namespace {

using testing::Fate;
using testing::ParsePadded;

// 2026-11-30T12:00:00Z: the reference (a file's mtime) for year inference.
constexpr int64_t kReference = 1796040000000;

ParserOptions WithReference(int64_t ms) {
  ParserOptions o;
  o.reference_time_ms = ms;
  return o;
}

class PostfixTest : public ::testing::Test {
 protected:
  ParseResult Parse(std::string_view line) {
    events_.clear();
    return ParsePadded(*parser_, line, events_, storage_);
  }
  std::string FateOf(std::string_view line) { return Fate(Parse(line), events_.size()); }

  std::unique_ptr<Parser> parser_ = NewPostfixParser(WithReference(kReference));
  std::vector<DeliveryEvent> events_;
  std::string storage_;
};

TEST_F(PostfixTest, BouncedLineWithMultiLineGmailReply) {
  auto r = Parse(
      "Apr  5 14:21:51 kedumba postfix/smtp[2500]: 39D9336AFA81: to=<anincorrect@openaustralia.org>, "
      "relay=aspmx.l.google.com[173.194.79.27]:25, delay=1, delays=0.08/0/0.58/0.34, dsn=5.1.1, status=bounced "
      "(host aspmx.l.google.com[173.194.79.27] said: 550-5.1.1 The email account that you tried to reach does "
      "not exist. 550 5.1.1 Please try again - gsmtp (in reply to RCPT TO command))");
  ASSERT_TRUE(r.ok()) << ParseErrorName(r.error) << " " << r.detail;
  ASSERT_EQ(events_.size(), 1u);
  const DeliveryEvent& e = events_[0];
  EXPECT_EQ(e.outcome, Outcome::kBounced);
  EXPECT_EQ(e.recipient, "anincorrect@openaustralia.org");
  EXPECT_EQ(e.recipient_domain, "openaustralia.org");
  EXPECT_EQ(e.mx_host, "aspmx.l.google.com");
  EXPECT_EQ(e.mx_ip, "173.194.79.27");
  EXPECT_EQ(e.mta_host, "kedumba");
  EXPECT_EQ(e.message_id, "39D9336AFA81");
  EXPECT_EQ(e.reply.code, 550);
  EXPECT_EQ(e.reply.enhanced, (EnhancedCode{5, 1, 1}));
  EXPECT_EQ(e.stage, SmtpStage::kRcpt);
  EXPECT_TRUE(e.reply.text.rfind("550-5.1.1 The email account", 0) == 0) << e.reply.text;
  EXPECT_TRUE(e.reply.text.find("(in reply to") == std::string_view::npos) << e.reply.text;
  EXPECT_EQ(e.event_time_ms, *ParseIsoTime("2026-04-05T14:21:51Z"));
}

TEST_F(PostfixTest, YearInferenceCrossesNewYear) {
  // A file written just after New Year: "Dec 31" lies in the future of the reference's year, so it is
  // last year's; "Jan  1" is this year's.
  auto january = NewPostfixParser(WithReference(*ParseIsoTime("2027-01-01T00:30:00Z")));
  std::vector<DeliveryEvent> ev;
  std::string storage;
  auto line = [](std::string_view stamp) {
    return std::string(stamp) +
           " mx postfix/smtp[1]: ABCDE12345: to=<a@b.example>, relay=b.example[192.0.2.1]:25, delay=1, "
           "delays=0/0/0/1, dsn=2.0.0, status=sent (250 2.0.0 OK)";
  };
  ASSERT_TRUE(ParsePadded(*january, line("Dec 31 23:59:59"), ev, storage).ok());
  ASSERT_TRUE(ParsePadded(*january, line("Jan  1 00:10:00"), ev, storage).ok());
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0].event_time_ms, *ParseIsoTime("2026-12-31T23:59:59Z"));
  EXPECT_EQ(ev[1].event_time_ms, *ParseIsoTime("2027-01-01T00:10:00Z"));
}

TEST_F(PostfixTest, Rfc3339PrefixAndDeferredYahooReply) {
  auto r = Parse(
      "2020-03-19T09:29:05.858036+00:00 638fbdd7968d postfix/smtp[156]: CA1AD20189: to=<example@yahoo.com>, "
      "relay=mta5.am0.yahoodns.net[67.195.228.106]:25, delay=69785, delays=69745/38/2.3/0.17, dsn=4.7.0, "
      "status=deferred (host mta5.am0.yahoodns.net[67.195.228.106] said: 421 4.7.0 [TSS04] Messages from "
      "192.36.214.188 temporarily deferred due to user complaints - 4.16.55.1; see "
      "https://help.yahoo.com/kb/postmaster/SLN3434.html (in reply to MAIL FROM command))");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(events_[0].outcome, Outcome::kDeferred);
  EXPECT_EQ(events_[0].event_time_ms, *ParseIsoTime("2020-03-19T09:29:05.858036+00:00"));
  EXPECT_EQ(events_[0].reply.code, 421);
  EXPECT_EQ(events_[0].stage, SmtpStage::kMail);
}

TEST_F(PostfixTest, QmgrFromLineIsAnEnvelopeForTheJoin) {
  auto r = Parse("Mar  6 01:13:50 letterman postfix/qmgr[1436]: D3120239C2: from=<sender@example.com>, size=5779, nrcpt=1 (queue active)");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(events_.size(), 1u);
  EXPECT_EQ(events_[0].outcome, Outcome::kEnvelope);
  EXPECT_EQ(events_[0].sender, "sender@example.com");
  EXPECT_EQ(events_[0].message_id, "D3120239C2");
}

TEST_F(PostfixTest, ExpiredQmgrLineIsMessageLevel) {
  auto r = Parse("Apr 10 14:50:16 mail postfix/qmgr[3663]: BACE842E72: from=<noreply@domain.com>, status=expired, returned to sender");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(events_[0].outcome, Outcome::kExpired);
  EXPECT_TRUE(events_[0].recipient.empty());
}

TEST_F(PostfixTest, NoqueueRejectIsARejection) {
  auto r = Parse("May 11 04:02:37 host1 postfix/smtpd[26897]: NOQUEUE: reject: RCPT from unknown[1.2.3.4]: 554 5.7.1 <x@y.example>: Relay access denied; from=<a@b.example> to=<x@y.example> proto=ESMTP helo=<h>");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(events_[0].outcome, Outcome::kRejected);
  EXPECT_EQ(events_[0].recipient, "x@y.example");
  EXPECT_EQ(events_[0].sender, "a@b.example");
  EXPECT_EQ(events_[0].reply.code, 554);
  EXPECT_EQ(events_[0].reply.enhanced, (EnhancedCode{5, 7, 1}));
}

TEST_F(PostfixTest, InformationalAndLocalLinesAreSkips) {
  // qmgr `removed`: an envelope event that tells the join to forget the queue id (not an outcome).
  ParseResult removed = Parse("Feb 11 16:49:24 letterman postfix/qmgr[8204]: AAB4D259B1: removed");
  EXPECT_TRUE(removed.ok());
  EXPECT_EQ(removed.skip, SkipReason::kNone);
  ASSERT_EQ(events_.size(), 1u);
  EXPECT_EQ(events_[0].outcome, Outcome::kEnvelope);
  EXPECT_TRUE(events_[0].envelope_removed);
  EXPECT_EQ(events_[0].message_id, "AAB4D259B1");
  EXPECT_EQ(FateOf("Feb 11 16:49:24 letterman postfix/cleanup[8204]: AAB4D259B1: removed"),
            "skip:informational_line");
  EXPECT_EQ(FateOf("Jul 24 04:38:17 mail postfix/smtp[30582]: Verified TLS connection established to x[1.2.3.4]:25"),
            "skip:informational_line");
  EXPECT_EQ(FateOf("Apr  7 15:35:20 m postfix/virtual[20235]: 199041033BE: to=<me@domain.fr>, relay=virtual, delay=0.08, "
                   "delays=0.08/0/0/0, dsn=2.0.0, status=sent (delivered to maildir)"),
            "skip:local_delivery");
}

TEST_F(PostfixTest, TruncatedStatusTextKeepsTheOutcome) {
  auto r = Parse("Dec 29 02:54:12 mail postfix/smtp[7648]: 732BB407C3: to=<r@d.com>, relay=m[1.1.1.1]:25, delay=6, "
                 "delays=0.1/0/5.2/0.87, dsn=4.0.0, status=deferred (host m[1.1.1.1] said: 451 DT:SPM");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(events_[0].outcome, Outcome::kDeferred);
  EXPECT_EQ(events_[0].reply.code, 451);
  EXPECT_EQ(events_[0].reply.text, "451 DT:SPM");
}

TEST_F(PostfixTest, VerificationProbesAndBareConnectionLinesAreSkips) {
  EXPECT_EQ(FateOf("3E29030F8637E: to=<user@yahoo.com>, relay=none, delay=0.01, delays=0.01/0/0/0, dsn=5.1.1, "
                   "status=undeliverable-but-not-cached (User unknown in virtual alias table)"),
            "skip:informational_line");
  EXPECT_EQ(FateOf("connect to intern.nl[194.109.6.98]:25: Connection timed out"), "skip:informational_line");
}

TEST_F(PostfixTest, BrokenLinesAreErrors) {
  EXPECT_EQ(FateOf("Nov 31 99:00:00 mta2 postfix/smtp[1]: 0A1B2C3D4F: to=<x@y>, status=sent (250 ok)"),
            "error:bad_timestamp");
  EXPECT_EQ(FateOf("Dec 29 02:54:12 mail postfix/smtp[7648]: 732BB407C3: to=<r@d.com>, relay=m, dsn=2.0.0"),
            "error:missing_field");
  EXPECT_EQ(FateOf("Dec 29 02:54:12 mail postfix/smtp[7648]: 732BB407C3: to=<>, relay=m, dsn=2.0.0, status=sent (x)"),
            "error:bad_recipient");
  EXPECT_EQ(FateOf("Dec 29 02:54:12 mail postfix/smtp[7648]: 732BB407C3: to=<r@d.com>, relay=m, dsn=2.0.0, status=weird (x)"),
            "error:unknown_record_type");
  EXPECT_EQ(FateOf("complete garbage without shape"), "error:unrecognized_line");
  EXPECT_EQ(FateOf("Dec 29 02:54:12 mail sshd[1]: Accepted publickey for root"), "error:unrecognized_line");
}

// Every line of the two corpus files is an event, a counted skip, or an error with a listed reason; no
// other line of a real Postfix log may be an error.
TEST_F(PostfixTest, CorpusFilesEveryLineAccountedFor) {
  // (file, a piece of the line) → the expected dead-letter reason.
  const std::vector<std::tuple<std::string, std::string, std::string>> expected_errors = {
      {"postfix_msgonly.log", "3wvx6q2jBgz8yNw: to=, relay=", "error:bad_recipient"},  // redacted recipient
  };
  for (const char* name : {"postfix.log", "postfix_msgonly.log"}) {
    std::string text = testing::ReadFileOrDie(testing::CorpusDir() + "/logs/" + name);
    int events = 0, skips = 0, errors = 0;
    for (auto line : testing::SplitLines(text)) {
      std::string fate = FateOf(line);
      if (fate.rfind("events:", 0) == 0) {
        ++events;
        continue;
      }
      if (fate.rfind("skip:", 0) == 0) {
        ++skips;
        continue;
      }
      ++errors;
      bool listed = false;
      for (const auto& [file, piece, reason] : expected_errors) {
        if (file == name && line.find(piece) != std::string_view::npos) {
          listed = true;
          EXPECT_EQ(fate, reason) << line;
        }
      }
      EXPECT_TRUE(listed) << name << ": unexpected " << fate << " for: " << line;
    }
    EXPECT_EQ(static_cast<size_t>(events + skips + errors), testing::SplitLines(text).size());
    EXPECT_GT(events, 20) << name;
    EXPECT_LE(errors, 1) << name;
  }
}

}  // namespace
}  // namespace bs
