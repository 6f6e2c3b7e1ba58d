// Exim main log parser: one test per quirk of LOG_FORMATS.md §4, and every corpus line.
#include "parsers/exim.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "pipeline/base/event_time.h"
#include "tests/parsers/parser_test_util.h"
#include "tests/testing/paths.h"

namespace bs {
namespace {

using ::bs::testing::Fate;
using ::bs::testing::ParsePadded;

int64_t Iso(std::string_view s) { return ParseIsoTime(s).value(); }

class Feeder {
 public:
  explicit Feeder(ParserOptions options = {}) : parser_(NewEximParser(options)) {}
  std::string Feed(std::string_view line, int64_t lineno = 1) {
    events_.clear();
    last_ = ParsePadded(*parser_, line, events_, storage_, Position{"mainlog", -1, lineno});
    return Fate(last_, events_.size());
  }
  const DeliveryEvent& event(size_t i = 0) const { return events_.at(i); }
  const ParseResult& last() const { return last_; }

 private:
  std::unique_ptr<Parser> parser_;
  std::vector<DeliveryEvent> events_;
  std::string storage_;
  ParseResult last_;
};

TEST(EximTest, DeliveredWithHostAndConfirmation) {
  Feeder f;
  ASSERT_EQ(f.Feed("2012-02-13 14:57:25 1RwtZn-000Hp3-BF => kumq@gmail.com R=dnslookup T=remote_smtp "
                   "H=gmail-smtp-in.l.google.com [209.85.137.27] X=TLSv1:RC4-SHA:128 "
                   "C=\"250 2.0.0 OK 1329130645 b5si5289243lbn.22\""),
            "events:1");
  const DeliveryEvent& e = f.event();
  EXPECT_EQ(e.outcome, Outcome::kDelivered);
  EXPECT_EQ(e.event_time_ms, Iso("2012-02-13T14:57:25Z"));
  EXPECT_EQ(e.message_id, "1RwtZn-000Hp3-BF");
  EXPECT_EQ(e.recipient, "kumq@gmail.com");
  EXPECT_EQ(e.recipient_domain, "gmail.com");
  EXPECT_EQ(e.mx_host, "gmail-smtp-in.l.google.com");
  EXPECT_EQ(e.mx_ip, "209.85.137.27");
  EXPECT_EQ(e.reply.code, 250);
  EXPECT_EQ(e.reply.enhanced, (EnhancedCode{2, 0, 0}));
  EXPECT_EQ(e.reply.text, "OK 1329130645 b5si5289243lbn.22");
  EXPECT_FALSE(e.locally_generated);
}

TEST(EximTest, MessageIdsBeforeAndAfter497) {
  Feeder f;
  EXPECT_EQ(f.Feed("2017-07-30 18:51:05.712 10HmaX-000000005vi-0000 => a@b.example R=r T=t H=mx.b.example "
                   "[192.0.2.1] C=\"250 OK\""),
            "events:1");
  EXPECT_EQ(f.event().message_id, "10HmaX-000000005vi-0000");
  EXPECT_EQ(f.event().event_time_ms, Iso("2017-07-30T18:51:05.712Z"));
  EXPECT_EQ(f.Feed("2017-07-30 18:51:05 1RwtZn-000Hp3-BF => a@b.example R=r T=t H=mx [192.0.2.1]"), "events:1");
  EXPECT_EQ(f.event().message_id, "1RwtZn-000Hp3-BF");
  // Not an id (wrong group lengths): the line carries no delivery.
  EXPECT_EQ(f.Feed("2017-07-30 18:51:05 1RwtZn-000Hp3-BFX => a@b.example R=r T=t H=mx [192.0.2.1]"),
            "skip:informational_line");
}

TEST(EximTest, FieldsHostInterfaceSender) {
  Feeder f;
  ASSERT_EQ(f.Feed("1999-03-02 09:44:33 10HmaZ-000000005vi-0000 ** userz@domain.com F=<CALLER@test.ex> R=all "
                   "T=smtp H=127.0.0.1 [127.0.0.1]:PORT_S I=[10.1.2.3]:10001 : SMTP error from remote mail server "
                   "after RCPT TO:<userz@domain.com>: 550 Recipient refused"),
            "events:1");
  const DeliveryEvent& e = f.event();
  EXPECT_EQ(e.outcome, Outcome::kBounced);
  EXPECT_EQ(e.mx_host, "127.0.0.1");
  EXPECT_EQ(e.mx_ip, "127.0.0.1");
  EXPECT_EQ(e.sending_ip, "10.1.2.3");
  EXPECT_EQ(e.sender, "CALLER@test.ex");
  EXPECT_EQ(e.sender_domain, "test.ex");
  EXPECT_EQ(e.stage, SmtpStage::kRcpt);
  EXPECT_EQ(e.reply.code, 550);
  EXPECT_EQ(e.reply.text, "Recipient refused");
  // IPv6 in brackets, a reused connection marker.
  ASSERT_EQ(f.Feed("2013-12-03 14:31:07 1VnnFx-0008Lk-Gt => user@gmail.com R=dnslookup T=remote_smtp "
                   "H=gmail-smtp-in.l.google.com [2a00:1450:4008:c01::1b]* X=TLSv1:RC4-SHA:128"),
            "events:1");
  EXPECT_EQ(f.event().mx_ip, "2a00:1450:4008:c01::1b");
  EXPECT_EQ(f.event().reply.code, 0);
}

TEST(EximTest, ModernErrorLayout) {
  Feeder f;
  ASSERT_EQ(f.Feed("1999-03-02 09:44:33 10HmaX-000000005vi-0000 ** userx@domain1 F=<CALLER@test.ex> R=others "
                   "T=smtp H=localhost4.test.ex [127.0.0.1] : SMTP error from remote mail server after HELO "
                   "the.local.host.name: 550 Go away (C)"),
            "events:1");
  EXPECT_EQ(f.event().stage, SmtpStage::kHelo);
  EXPECT_EQ(f.event().reply.code, 550);
  EXPECT_EQ(f.event().reply.text, "Go away (C)");
  ASSERT_EQ(f.Feed("1999-03-02 09:44:33 10HmaX-000000005vi-0000 ** userx@domain1 R=others T=smtp "
                   "H=localhost4.test.ex [127.0.0.1] : SMTP error from remote mail server after initial "
                   "connection: 550 Go away (A)"),
            "events:1");
  EXPECT_EQ(f.event().stage, SmtpStage::kConnect);
  ASSERT_EQ(f.Feed("1999-03-02 09:44:33 10HmbB-000000005vi-0000 ** j@test.ex R=client T=send_to_server "
                   "H=127.0.0.1 [127.0.0.1] : SMTP error from remote mail server after pipelined MAIL "
                   "FROM:<CALLER@test.ex>: 550 Perm error"),
            "events:1");
  EXPECT_EQ(f.event().stage, SmtpStage::kMail);
  EXPECT_EQ(f.event().reply.text, "Perm error");
}

TEST(EximTest, OlderErrorLayoutWithHostInTheText) {
  Feeder f;
  ASSERT_EQ(f.Feed("2012-02-13 15:02:27 1Rwtcp-0000Ac-BW ** p@brightconsult.ru R=dnslookup T=remote_smtp: SMTP "
                   "error from remote mail server after RCPT TO:<p@brightconsult.ru>: host tmg.navicons.ru "
                   "[86.110.12.210]: 550 5.7.1 :127.0.0.5:Client host 194.226.74.6 blocked using 88.blocklist.zap"),
            "events:1");
  const DeliveryEvent& e = f.event();
  EXPECT_EQ(e.mx_host, "tmg.navicons.ru");
  EXPECT_EQ(e.mx_ip, "86.110.12.210");
  EXPECT_EQ(e.stage, SmtpStage::kRcpt);
  EXPECT_EQ(e.reply.code, 550);
  EXPECT_EQ(e.reply.enhanced, (EnhancedCode{5, 7, 1}));
  EXPECT_EQ(e.reply.text, ":127.0.0.5:Client host 194.226.74.6 blocked using 88.blocklist.zap");
  // "remote mailer" wording of the 2000s, and "end of data".
  ASSERT_EQ(f.Feed("2006-11-21 15:01:39 1Gmary-0002iA-00 ** x@some-domain.com R=dnslookup T=remote_smtp: SMTP "
                   "error from remote mailer after end of data: host mx.some-domain.com [1.1.1.1]: 550 Mailbox "
                   "unavailable"),
            "events:1");
  EXPECT_EQ(f.event().stage, SmtpStage::kData);
  EXPECT_EQ(f.event().mx_host, "mx.some-domain.com");
}

TEST(EximTest, DeferCodes) {
  Feeder f;
  ASSERT_EQ(f.Feed("2012-02-13 14:39:22 1RookS-000Pg8-VO == u@london.com R=dnslookup T=remote_smtp defer (-44): "
                   "SMTP error from remote mail server after RCPT TO:<u@london.com>: host mx0.gmx.com "
                   "[74.208.5.90]: 450 4.3.2 Too many mails (mail bomb), try again in 1 hour(s) 25 minute(s)"),
            "events:1");
  EXPECT_EQ(f.event().outcome, Outcome::kDeferred);
  EXPECT_EQ(f.event().stage, SmtpStage::kRcpt);
  EXPECT_EQ(f.event().reply.code, 450);
  EXPECT_EQ(f.event().reply.enhanced, (EnhancedCode{4, 3, 2}));
  // The errno alone tells the stage when the text does not.
  ASSERT_EQ(f.Feed("1999-03-02 09:44:33 10HmaZ-000000005vi-0000 == z@d.com R=all T=smtp defer (-45) H=127.0.0.1 "
                   "[127.0.0.1]: 450 not right now"),
            "events:1");
  EXPECT_EQ(f.event().stage, SmtpStage::kMail);
  ASSERT_EQ(f.Feed("1999-03-02 09:44:33 10HmaZ-000000005vi-0000 == z@d.com R=all T=smtp defer (-46): later"),
            "events:1");
  EXPECT_EQ(f.event().stage, SmtpStage::kData);
  ASSERT_EQ(f.Feed("2002-12-19 16:20:23 16aiQz-0002Q5-00 == m@endrest.example R=dnslookup T=smtp defer (146): "
                   "Connection refused"),
            "events:1");
  EXPECT_EQ(f.event().stage, SmtpStage::kConnect);
  EXPECT_TRUE(f.event().locally_generated);
  EXPECT_EQ(f.event().reply.text, "Connection refused");
  // No attempt was made: not a deferral to count.
  EXPECT_EQ(f.Feed("1999-03-02 09:44:33 10HmaX-000000005vi-0000 == u@simple R=all T=smtp defer (-54): retry time "
                   "not reached for any host for 'simple'"),
            "skip:informational_line");
  EXPECT_EQ(f.Feed("2012-02-13 14:59:56 1RwtdJ-0000Ac-Ch == l@terraoil.ru R=dnslookup T=remote_smtp defer (-1): "
                   "domain matches queue_smtp_domains, or -odqs set"),
            "skip:informational_line");
}

TEST(EximTest, MultiLineRepliesKeepLiteralBackslashN) {
  Feeder f;
  ASSERT_EQ(f.Feed("2018-07-17 04:41:15 1fdHyN-00061Y-LL == test@gmail.com R=dnslookup T=remote_smtp defer (-44): "
                   "SMTP error from remote mail server after RCPT TO:<test2.gmail.com>: host "
                   "alt4.gmail-smtp-in.l.google.com [127.0.0.1]: 452-4.2.2 The email account that you tried to "
                   "reach is over quota.\\n452 4.2.2  https://support.google.com/mail/?p=OverQuotaTemp - gsmtp"),
            "events:1");
  EXPECT_EQ(f.event().reply.code, 452);
  EXPECT_EQ(f.event().reply.enhanced, (EnhancedCode{4, 2, 2}));
  EXPECT_NE(f.event().reply.text.find("\\n452 4.2.2"), std::string_view::npos);
}

TEST(EximTest, ExpiredAndLocalFailures) {
  Feeder f;
  ASSERT_EQ(f.Feed("2012-02-13 14:39:22 1RookS-000Pg8-VO ** f@london.com: retry timeout exceeded"), "events:1");
  EXPECT_EQ(f.event().outcome, Outcome::kExpired);
  EXPECT_TRUE(f.event().locally_generated);
  EXPECT_EQ(f.event().reply.text, "retry timeout exceeded");
  ASSERT_EQ(f.Feed("1995-12-19 16:20:23 0tRiQz-0002Q5-00 ** jim@trek99.example <jim@trek99.example>: unknown mail "
                   "domain"),
            "events:1");
  EXPECT_EQ(f.event().outcome, Outcome::kBounced);
  EXPECT_EQ(f.event().recipient, "jim@trek99.example");
  EXPECT_EQ(f.event().reply.text, "unknown mail domain");
}

TEST(EximTest, LocalDeliveriesAreSkipped) {
  Feeder f;
  EXPECT_EQ(f.Feed("2012-02-13 14:39:22 1RwtJa-000AFB-07 => :blackhole: <t@somehost.ru> R=blackhole_router"),
            "skip:local_delivery");
  EXPECT_EQ(f.Feed("2002-10-31 08:59:13 16ZCW1-0005MB-00 => marv <marv@hitch.fict.example> R=localuser "
                   "T=local_delivery"),
            "skip:local_delivery");
  EXPECT_EQ(f.Feed("1999-03-02 09:44:33 10HmaX-000000005vi-0000 ** |/bin/showenv <pipe@test.ex> R=system_aliases "
                   "T=address_pipe : return message generated"),
            "skip:local_delivery");
  // A delivery through a host to an address given without its domain takes the original address.
  ASSERT_EQ(f.Feed("2002-10-31 08:59:13 16ZCW1-0005MB-00 => marv <marv@hitch.fict.example> R=smarthost T=smtp "
                   "H=relay.example [192.0.2.7]"),
            "events:1");
  EXPECT_EQ(f.event().recipient, "marv@hitch.fict.example");
}

TEST(EximTest, ArrivalCarriesTheSenderForTheJoin) {
  Feeder f;
  ASSERT_EQ(f.Feed("2002-10-31 08:57:53 16ZCW1-0005MB-00 <= kryten@dwarf.fict.example H=mailer.fict.example "
                   "[192.168.123.123] U=exim P=smtp S=5678 id=<incoming message id>"),
            "events:1");
  EXPECT_EQ(f.event().outcome, Outcome::kEnvelope);
  EXPECT_EQ(f.event().sender, "kryten@dwarf.fict.example");
  EXPECT_EQ(f.event().sender_domain, "dwarf.fict.example");
  EXPECT_EQ(f.event().message_id, "16ZCW1-0005MB-00");
  EXPECT_EQ(f.event().recipient, "");
  EXPECT_EQ(f.Feed("2012-02-13 14:39:22 1RwtJa-000AFJ-3B <= <> R=1RookS-000Pg8-VO U=mailnull P=local S=3958"),
            "skip:informational_line");
}

TEST(EximTest, TimestampVariants) {
  Feeder f;
  ASSERT_EQ(f.Feed("2003-04-25 11:17:07 +0100 1RwtZn-000Hp3-BF => a@b.c R=r T=t H=h [192.0.2.1]"), "events:1");
  EXPECT_EQ(f.event().event_time_ms, Iso("2003-04-25T10:17:07Z"));
  ASSERT_EQ(f.Feed("2003-04-25 11:17:07.250 -0130 [4321] 1RwtZn-000Hp3-BF => a@b.c R=r T=t H=h [192.0.2.1]"),
            "events:1");
  EXPECT_EQ(f.event().event_time_ms, Iso("2003-04-25T12:47:07.250Z"));
  EXPECT_EQ(f.Feed("1RwtZn-000Hp3-BF => a@b.c R=r T=t H=h [192.0.2.1]"), "error:bad_timestamp");
  EXPECT_EQ(f.Feed("2003-13-25 11:17:07 1RwtZn-000Hp3-BF => a@b.c R=r T=t H=h [192.0.2.1]"), "error:bad_timestamp");
}

TEST(EximTest, SyslogPrefixes) {
  ParserOptions options;
  options.reference_time_ms = Iso("2014-01-02T00:00:00Z");
  Feeder f(options);
  // syslog_timestamp=false: only the syslog stamp, year-less; December before a January reference is last year.
  ASSERT_EQ(f.Feed("Dec 3 14:31:07 pegasus splogger[32130]: 1VnnFx-0008Lk-Gt => user@gmail.com R=dnslookup "
                   "T=remote_smtp H=gmail-smtp-in.l.google.com [2a00:1450:4008:c01::1b]"),
            "events:1");
  EXPECT_EQ(f.event().event_time_ms, Iso("2013-12-03T14:31:07Z"));
  EXPECT_EQ(f.event().mta_host, "pegasus");
  // Exim's own stamp wins over the syslog one.
  ASSERT_EQ(f.Feed("Jan  1 10:00:00 mx1 exim[77]: 2014-01-01 09:59:59 1VnnFx-0008Lk-Gt => u@d.com R=r T=t H=h "
                   "[192.0.2.1]"),
            "events:1");
  EXPECT_EQ(f.event().event_time_ms, Iso("2014-01-01T09:59:59Z"));
  ASSERT_EQ(f.Feed("2020-03-19T09:29:05.858036+00:00 mx1 exim[77]: 1VnnFx-0008Lk-Gt => u@d.com R=r T=t H=h "
                   "[192.0.2.1]"),
            "events:1");
  EXPECT_EQ(f.event().event_time_ms, Iso("2020-03-19T09:29:05.858Z"));
  ASSERT_EQ(f.Feed("exim[14706]: 2006-11-21 15:01:39 1Gmary-0002iA-00 ** x@some-domain.com R=dnslookup "
                   "T=remote_smtp: SMTP error from remote mailer after RCPT TO:<x@some-domain.com>: host "
                   "mx.some-domain.com [1.1.1.1]: 550 Mailbox unavailable"),
            "events:1");
  EXPECT_EQ(f.Feed("Dec 33 14:31:07 pegasus exim[1]: x"), "error:bad_timestamp");
  EXPECT_EQ(f.Feed("Dec 3 14:31:07 pegasus not-a-tag 1VnnFx-0008Lk-Gt => u@d.com"), "error:unrecognized_line");
}

TEST(EximTest, SyslogSplitPartsAreJoined) {
  Feeder f;
  const std::string head =
      "Mar  1 10:00:00 mx1 exim[500]: [1/3] 2024-03-01 10:00:00 10HmaX-000000005vi-0000 ** u@d.example R=r "
      "T=smtp H=mx.d.example [192.0.2.9]: SMTP error from remote mail server after RCPT TO:<u@d.example>: 550-5.1.1 "
      "first line";
  EXPECT_EQ(f.Feed(head, 10), "skip:continued_in_next_record");
  // Another process's line in between is parsed on its own.
  EXPECT_EQ(f.Feed("Mar  1 10:00:00 mx1 exim[501]: 2024-03-01 10:00:00 10HmaY-000000005vi-0000 Completed", 11),
            "skip:informational_line");
  EXPECT_EQ(f.Feed("Mar  1 10:00:00 mx1 exim[500]: [2/3] \\n550-5.1.1 second", 12), "skip:continued_in_next_record");
  ASSERT_EQ(f.Feed("Mar  1 10:00:00 mx1 exim[500]: [3/3]  line\\n550 5.1.1 last", 13), "events:1");
  const DeliveryEvent& e = f.event();
  EXPECT_EQ(e.position.offset, 10);
  EXPECT_EQ(e.recipient, "u@d.example");
  EXPECT_EQ(e.reply.code, 550);
  EXPECT_EQ(e.reply.enhanced, (EnhancedCode{5, 1, 1}));
  EXPECT_EQ(e.reply.text, "first line\\n550-5.1.1 second line\\n550 5.1.1 last");
  // A continuation whose first part never came.
  EXPECT_EQ(f.Feed("Mar  1 10:00:00 mx1 exim[500]: [2/2] orphan", 14), "error:truncated_record");
  // Two groups interleaved.
  EXPECT_EQ(f.Feed("Mar  1 10:00:01 mx1 exim[600]: [1/2] 2024-03-01 10:00:01 10HmaZ-000000005vi-0000 => a@x.example "
                   "R=r T=t H=mx.x.example [192.0.2.1] C=\"250 ",
                   20),
            "skip:continued_in_next_record");
  EXPECT_EQ(f.Feed("Mar  1 10:00:01 mx1 exim[700]: [1/2] 2024-03-01 10:00:01 10HmbA-000000005vi-0000 => b@y.example "
                   "R=r T=t H=mx.y.example [192.0.2.2] C=\"250 ",
                   21),
            "skip:continued_in_next_record");
  ASSERT_EQ(f.Feed("Mar  1 10:00:01 mx1 exim[600]: [2/2] OK\"", 22), "events:1");
  EXPECT_EQ(f.event().recipient, "a@x.example");
  EXPECT_EQ(f.event().reply.text, "OK");
  ASSERT_EQ(f.Feed("Mar  1 10:00:01 mx1 exim[700]: [2/2] queued\"", 23), "events:1");
  EXPECT_EQ(f.event().recipient, "b@y.example");
  EXPECT_EQ(f.event().position.offset, 21);
}

TEST(EximTest, RejectedRcpt) {
  Feeder f;
  ASSERT_EQ(f.Feed("2019-10-20 09:56:39 H=123-123-12-123.example.example.net [123.123.12.123] "
                   "F=<example@example.com> rejected RCPT <example@exampley.com>: Unrouteable address"),
            "events:1");
  EXPECT_EQ(f.event().outcome, Outcome::kRejected);
  EXPECT_EQ(f.event().recipient, "example@exampley.com");
  EXPECT_EQ(f.event().sender, "example@example.com");
  EXPECT_EQ(f.event().reply.text, "Unrouteable address");
  EXPECT_EQ(f.event().stage, SmtpStage::kRcpt);
  EXPECT_TRUE(f.event().locally_generated);
}

TEST(EximTest, BadInput) {
  Feeder f;
  EXPECT_EQ(f.Feed(""), "error:empty_record");
  EXPECT_EQ(f.Feed("2012-02-13 14:57:25 1RwtZn-000Hp3-BF"), "error:truncated_record");
  EXPECT_EQ(f.Feed("2012-02-13 14:57:25 1RwtZn-000Hp3-BF =>"), "error:truncated_record");
  EXPECT_EQ(f.Feed("2012-02-13 14:57:25 1RwtZn-000Hp3-BF => a\xc3@b.c R=r"), "error:invalid_utf8");
  EXPECT_EQ(f.Feed("2012-02-13 14:57:25 1RwtZn-000Hp3-BF => [email]a@b.c[/email] R=r T=t H=h [1.2.3.4]"),
            "error:bad_recipient");
  EXPECT_EQ(f.Feed(std::string(kMaxRecordBytes + 1, 'x')), "error:record_too_large");
  EXPECT_EQ(f.Feed("garbage"), "error:bad_timestamp");
}

// Every corpus line: events, a counted skip, or an expected error.
TEST(EximTest, Corpus) {
  std::vector<std::string> expected(100, "events:1");
  auto set = [&](std::initializer_list<int> lines, const char* fate) {
    for (int l : lines) expected[l - 1] = fate;
  };
  // Completed, Frozen, "Spool file is locked", "Failed to connect", "Start queue run", `<= <>` bounce
  // arrivals, and deferrals that record no attempt (queue_smtp_domains, retry time not reached).
  set({3, 6, 7, 8, 10, 11, 12, 21, 26, 34, 37, 38, 82, 85, 89}, "skip:informational_line");
  // :blackhole:, local users (no H=), pipes.
  set({2, 14, 22, 31, 45, 49, 50, 66, 67, 68, 69, 70, 97}, "skip:local_delivery");
  // A forum post's BBCode around the address.
  set({20}, "error:bad_recipient");

  std::string text = testing::ReadFileOrDie(testing::CorpusDir() + "/logs/exim_mainlog.log");
  auto lines = testing::SplitLines(text);
  ASSERT_EQ(lines.size(), 100u);
  ParserOptions options;
  options.reference_time_ms = Iso("2014-06-01T00:00:00Z");
  auto parser = NewEximParser(options);
  int delivered = 0, bounced = 0, deferred = 0, expired = 0, envelopes = 0, rejected = 0;
  std::vector<std::string> fates = testing::ParseAll(
      *parser, lines, "exim_mainlog.log", [&](size_t i, const ParseResult&, const std::vector<DeliveryEvent>& ev) {
        for (const DeliveryEvent& e : ev) {
          EXPECT_GT(e.event_time_ms, 0) << "line " << i + 1;
          EXPECT_EQ(e.message_id.size() == 16 || e.message_id.size() == 23 || e.outcome == Outcome::kRejected,
                    true)
              << "line " << i + 1;
          switch (e.outcome) {
            case Outcome::kDelivered: ++delivered; break;
            case Outcome::kBounced: ++bounced; break;
            case Outcome::kDeferred: ++deferred; break;
            case Outcome::kExpired: ++expired; break;
            case Outcome::kEnvelope: ++envelopes; break;
            case Outcome::kRejected: ++rejected; break;
            default: ADD_FAILURE() << "line " << i + 1;
          }
          if (e.outcome == Outcome::kBounced || e.outcome == Outcome::kDeferred) {
            EXPECT_FALSE(e.reply.text.empty()) << "line " << i + 1;
          }
        }
      });
  for (size_t i = 0; i < fates.size(); ++i) EXPECT_EQ(fates[i], expected[i]) << "line " << i + 1;
  EXPECT_EQ(delivered, 19);
  EXPECT_EQ(bounced, 24);
  EXPECT_EQ(deferred, 19);
  EXPECT_EQ(expired, 1);
  EXPECT_EQ(envelopes, 7);
  EXPECT_EQ(rejected, 1);
}

}  // namespace
}  // namespace bs
