// PowerMTA accounting CSV parser: one test per quirk of LOG_FORMATS.md §2, and every corpus record.
#include "parsers/powermta.h"

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

constexpr std::string_view kHeader23 =
    "type,timeLogged,timeQueued,orig,rcpt,orcpt,dsnAction,dsnStatus,dsnDiag,dsnMta,bounceCat,srcType,srcMta,"
    "dlvType,dlvSourceIp,dlvDestinationIp,dlvEsmtpAvailable,dlvSize,vmta,jobId,envId,queue,vmtaPool";

int64_t Iso(std::string_view s) { return ParseIsoTime(s).value(); }

// Feeds lines to one parser; keeps the last record's events.
class Feeder {
 public:
  explicit Feeder(ParserOptions options = {}) : parser_(NewPowerMtaParser(options)) {}
  std::string Feed(std::string_view line) {
    events_.clear();
    ParseResult r = ParsePadded(*parser_, line, events_, storage_);
    last_ = r;
    return Fate(r, events_.size());
  }
  const DeliveryEvent& event(size_t i = 0) const { return events_.at(i); }
  const ParseResult& last() const { return last_; }

 private:
  std::unique_ptr<Parser> parser_;
  std::vector<DeliveryEvent> events_;
  std::string storage_;
  ParseResult last_;
};

TEST(PowerMtaTest, HeaderLineIsSkippedAndConfiguresColumns) {
  Feeder f;
  EXPECT_EQ(f.Feed(kHeader23), "skip:informational_line");
  EXPECT_EQ(f.Feed("d,2026-09-21 12:00:00+0000,2026-09-21 11:59:00+0000,b@em.example.com,u0@gmail.com,,relayed,"
                   "2.0.0 (success),\"smtp;250 2.0.0 OK 1681081256 - gsmtp\",gmail-smtp-in.l.google.com "
                   "(142.251.16.27),,smtp,,smtp,15.204.101.125,142.250.1.1,\"PIPELINING,8BITMIME\",1234,"
                   "db-gmail,job0,,gmail.com/db-gmail,db-pool"),
            "events:1");
  const DeliveryEvent& e = f.event();
  EXPECT_EQ(e.outcome, Outcome::kDelivered);
  EXPECT_EQ(e.event_time_ms, Iso("2026-09-21T12:00:00Z"));
  EXPECT_EQ(e.recipient, "u0@gmail.com");
  EXPECT_EQ(e.recipient_domain, "gmail.com");
  EXPECT_EQ(e.sender, "b@em.example.com");
  EXPECT_EQ(e.sender_domain, "em.example.com");
  EXPECT_EQ(e.reply.code, 250);
  EXPECT_EQ(e.reply.enhanced, (EnhancedCode{2, 0, 0}));
  EXPECT_EQ(e.reply.text, "OK 1681081256 - gsmtp");
  EXPECT_EQ(e.mx_host, "gmail-smtp-in.l.google.com");
  EXPECT_EQ(e.mx_ip, "142.251.16.27");
  EXPECT_EQ(e.sending_ip, "15.204.101.125");
  EXPECT_EQ(e.egress_source, "db-gmail");
  EXPECT_EQ(e.egress_pool, "db-pool");
  EXPECT_EQ(e.campaign, "job0");
  EXPECT_FALSE(e.locally_generated);
}

TEST(PowerMtaTest, ColumnsAreReadByNameNotPosition) {
  Feeder a, b;
  a.Feed("type,timeLogged,orig,rcpt,dsnStatus,dsnDiag,vmta");
  b.Feed("type,vmta,dsnDiag,rcpt,TIMELOGGED,dsnStatus,orig,extraColumn");
  ASSERT_EQ(a.Feed("b,1178807915,o@port25.com,u@domain.com,5.1.1 (bad mailbox),smtp;550 no such user,v1"),
            "events:1");
  DeliveryEvent ea = a.event();
  ASSERT_EQ(b.Feed("b,v1,smtp;550 no such user,u@domain.com,1178807915,5.1.1 (bad mailbox),o@port25.com,zzz"),
            "events:1");
  const DeliveryEvent& eb = b.event();
  EXPECT_EQ(ea.recipient, eb.recipient);
  EXPECT_EQ(ea.sender, eb.sender);
  EXPECT_EQ(ea.event_time_ms, eb.event_time_ms);
  EXPECT_EQ(ea.reply.code, eb.reply.code);
  EXPECT_EQ(eb.egress_source, "v1");
  EXPECT_EQ(eb.reply.enhanced, (EnhancedCode{5, 1, 1}));
}

TEST(PowerMtaTest, Rfc4180QuotingAndCrlf) {
  Feeder f;
  f.Feed("type,timeLogged,rcpt,dsnDiag,dlvEsmtpAvailable,jobId\r\n");
  ASSERT_EQ(f.Feed("b,1178807915,u@d.com,\"smtp;550 5.7.1 spam URL , \"\"Barracuda\"\", www.niche.com\","
                   "\"PIPELINING,SIZE\",\"job,1\"\r\n"),
            "events:1");
  EXPECT_EQ(f.event().reply.code, 550);
  EXPECT_EQ(f.event().reply.text, "spam URL , \"Barracuda\", www.niche.com");
  EXPECT_EQ(f.event().campaign, "job,1");
  // An empty quoted cell and a lone CR terminator.
  ASSERT_EQ(f.Feed("d,1178807915,u@d.com,\"\",x,\"\"\r"), "events:1");
  EXPECT_EQ(f.event().reply.code, 0);
  EXPECT_EQ(f.event().campaign, "");
}

TEST(PowerMtaTest, QuotingErrors) {
  Feeder f;
  f.Feed("type,timeLogged,rcpt,dsnDiag");
  EXPECT_EQ(f.Feed("b,1178807915,u@d.com,\"smtp;550 unterminated"), "error:truncated_record");
  EXPECT_EQ(f.Feed("b,1178807915,u@d.com,\"smtp;550\"junk"), "error:unrecognized_line");
}

TEST(PowerMtaTest, CellCountMustMatchHeader) {
  Feeder f;
  f.Feed("type,timeLogged,rcpt,dsnDiag,bounceCat");
  // Unquoted commas inside dsnDiag (a re-serialised 2017 line) would shift bounceCat.
  EXPECT_EQ(f.Feed("b,1178807915,u@d.com,Smtp;550 5.7.1 spam URL , Barracuda, www.niche.com,spam-related"),
            "error:unrecognized_line");
  EXPECT_EQ(f.Feed("b,1178807915,u@d.com"), "error:truncated_record");
  EXPECT_EQ(f.Feed("b,1178807915,u@d.com,,"), "events:1");  // trailing empty cells count
}

TEST(PowerMtaTest, RecordTypes) {
  Feeder f;
  f.Feed("type,timeLogged,rcpt,dsnAction,bounceCat,queue,dsnDiag");
  struct Case {
    std::string_view line;
    std::string fate;
    Outcome outcome;
  };
  const Case cases[] = {
      {"d,1178807903,u@d.com,relayed,,,", "events:1", Outcome::kDelivered},
      {"delivery,1178807903,u@d.com,relayed,,,", "events:1", Outcome::kDelivered},
      {"b,1178807903,u@d.com,failed,bad-mailbox,,", "events:1", Outcome::kBounced},
      {"b,1178807903,u@d.com,failed,message-expired,,", "events:1", Outcome::kExpired},
      {"t,1178807903,u@d.com,delayed,,,smtp;421 try later", "events:1", Outcome::kDeferred},
      {"tq,1178807903,u@d.com,delayed,,,", "events:1", Outcome::kDeferred},
      {"rb,1178807903,u@d.com,failed,bad-mailbox,,", "events:1", Outcome::kOutOfBand},
      {"rs,1178807903,u@d.com,failed,,,", "events:1", Outcome::kOutOfBand},
      {"f,1178807903,u@d.com,,,,", "events:1", Outcome::kComplaint},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(f.Feed(c.line), c.fate) << c.line;
    if (c.fate == "events:1") {
      EXPECT_EQ(f.event().outcome, c.outcome) << c.line;
    }
  }
  EXPECT_EQ(f.Feed("rs,1178807903,u@d.com,delivered,,,"), "skip:not_a_delivery_record");
  EXPECT_EQ(f.Feed("r,1178807903,u@d.com,,,,"), "skip:not_a_delivery_record");
  EXPECT_EQ(f.Feed("x,1178807903,u@d.com,,,,"), "error:unknown_record_type");
  EXPECT_EQ(f.last().detail, "type");
}

TEST(PowerMtaTest, TransientQueueWithoutRecipientTakesDomainFromQueue) {
  Feeder f;
  f.Feed("type,timeLogged,rcpt,queue,dsnDiag");
  ASSERT_EQ(f.Feed("tq,1178807903,,yahoo.com/vmta1,smtp;421 4.7.0 [TSS04] Messages deferred"), "events:1");
  EXPECT_EQ(f.event().recipient, "");
  EXPECT_EQ(f.event().recipient_domain, "yahoo.com");
  EXPECT_EQ(f.event().reply.enhanced, (EnhancedCode{4, 7, 0}));
  EXPECT_EQ(f.Feed("t,1178807903,,yahoo.com/vmta1,smtp;421 x"), "error:missing_field");
  EXPECT_EQ(f.last().detail, "rcpt");
}

TEST(PowerMtaTest, BothTimeFormats) {
  Feeder f;
  f.Feed("type,timeLogged,rcpt");
  ASSERT_EQ(f.Feed("d,1178807903,u@d.com"), "events:1");
  EXPECT_EQ(f.event().event_time_ms, 1178807903000);
  ASSERT_EQ(f.Feed("d,2014-08-24 16:00:14+0530,u@d.com"), "events:1");
  EXPECT_EQ(f.event().event_time_ms, Iso("2014-08-24T10:30:14Z"));
  ASSERT_EQ(f.Feed("d,2014-08-24 16:00:14 -0200,u@d.com"), "events:1");
  EXPECT_EQ(f.event().event_time_ms, Iso("2014-08-24T18:00:14Z"));
  EXPECT_EQ(f.Feed("d,yesterday,u@d.com"), "error:bad_timestamp");
  EXPECT_EQ(f.Feed("d,,u@d.com"), "error:missing_field");
}

TEST(PowerMtaTest, TimeQueuedIsTheFallbackTime) {
  Feeder f;
  f.Feed("type,timeQueued,rcpt");
  ASSERT_EQ(f.Feed("b,2016-05-29 01:10:51+0200,u@d.com"), "events:1");
  EXPECT_EQ(f.event().event_time_ms, Iso("2016-05-28T23:10:51Z"));
}

TEST(PowerMtaTest, DsnFields) {
  Feeder f;
  f.Feed("type,timeLogged,rcpt,dsnStatus,dsnDiag,dsnMta,dlvDestinationIp");
  // Prefix case varies; the enhanced code of the reply wins over dsnStatus's.
  ASSERT_EQ(f.Feed("b,1,u@d.com,5.0.0 (undefined status),Smtp; 550 5.7.1 blocked,mx.d.com (1.2.3.4),9.9.9.9"),
            "events:1");
  EXPECT_EQ(f.event().reply.code, 550);
  EXPECT_EQ(f.event().reply.enhanced, (EnhancedCode{5, 7, 1}));
  EXPECT_EQ(f.event().reply.text, "blocked");
  EXPECT_EQ(f.event().mx_host, "mx.d.com");
  EXPECT_EQ(f.event().mx_ip, "1.2.3.4");
  // No prefix, no (ip): dlvDestinationIp fills the MX address.
  ASSERT_EQ(f.Feed("d,1,u@d.com,2.0.0,250 ok,mx.gmail.com,142.250.1.1"), "events:1");
  EXPECT_EQ(f.event().reply.code, 250);
  EXPECT_EQ(f.event().mx_host, "mx.gmail.com");
  EXPECT_EQ(f.event().mx_ip, "142.250.1.1");
  // Without dsnDiag the description in dsnStatus is the text, and PowerMTA wrote it itself.
  ASSERT_EQ(f.Feed("b,1,u@d.com,5.1.2 (bad destination system: no such domain),,,"), "events:1");
  EXPECT_EQ(f.event().reply.code, 0);
  EXPECT_EQ(f.event().reply.enhanced, (EnhancedCode{5, 1, 2}));
  EXPECT_EQ(f.event().reply.text, "bad destination system: no such domain");
  EXPECT_TRUE(f.event().locally_generated);
}

TEST(PowerMtaTest, JobIdFallsBackToXJobHeader) {
  Feeder f;
  f.Feed("type,timeLogged,rcpt,jobId,header_x-job");
  ASSERT_EQ(f.Feed("d,1,u@d.com,,spring-sale"), "events:1");
  EXPECT_EQ(f.event().campaign, "spring-sale");
  ASSERT_EQ(f.Feed("d,1,u@d.com,job7,spring-sale"), "events:1");
  EXPECT_EQ(f.event().campaign, "job7");
}

TEST(PowerMtaTest, NewHeaderReplacesTheColumnMap) {
  Feeder f;
  f.Feed("type,timeLogged,rcpt");
  ASSERT_EQ(f.Feed("d,1,u@d.com"), "events:1");
  f.Feed("type,rcpt,timeLogged,vmta");
  ASSERT_EQ(f.Feed("d,v@e.com,2,vm"), "events:1");
  EXPECT_EQ(f.event().recipient, "v@e.com");
  EXPECT_EQ(f.event().event_time_ms, 2000);
  EXPECT_EQ(f.Feed("d,1,u@d.com"), "error:truncated_record");
}

TEST(PowerMtaTest, RecordsBeforeAnyHeader) {
  Feeder plain;
  EXPECT_EQ(plain.Feed("d,1,u@d.com"), "error:missing_field");
  EXPECT_EQ(plain.last().detail, "header");
  ParserOptions options;
  options.powermta_header = std::string(kHeader23);
  Feeder configured(options);
  EXPECT_EQ(configured.Feed("d,2026-09-21 12:00:00+0000,2026-09-21 11:59:00+0000,b@em.example.com,u0@gmail.com,,"
                            "relayed,2.0.0,\"250 ok\",mx.gmail.com,,smtp,,smtp,15.204.101.125,142.250.1.1,1,1234,"
                            "db-gmail-pool,job0,,gmail.com/db-gmail-pool,db-gmail-pool"),
            "events:1");
  EXPECT_EQ(configured.event().campaign, "job0");
}

TEST(PowerMtaTest, BadInput) {
  Feeder f;
  f.Feed("type,timeLogged,rcpt");
  EXPECT_EQ(f.Feed(""), "error:empty_record");
  EXPECT_EQ(f.Feed("\r\n"), "error:empty_record");
  EXPECT_EQ(f.Feed("d,1,u\xff@d.com"), "error:invalid_utf8");
  EXPECT_EQ(f.Feed("d,1,[email]u@d.com[/email]"), "error:bad_recipient");
  EXPECT_EQ(f.Feed("d,1,Name <u@d.com>"), "error:bad_recipient");
  std::string huge = "d,1," + std::string(kMaxRecordBytes, 'a');
  EXPECT_EQ(f.Feed(huge), "error:record_too_large");
  std::string binary("d,1,\0\x01\x02@x", 9);
  EXPECT_EQ(f.Feed(binary), "error:bad_recipient");
}

TEST(PowerMtaTest, RecordsUpToOneMebibyte) {
  Feeder f;
  f.Feed("type,timeLogged,rcpt,dsnDiag");
  std::string diag(kMaxRecordBytes - 100, 'x');
  ASSERT_EQ(f.Feed("b,1,u@d.com,\"smtp;550 " + diag + "\"\"\""), "events:1");
  EXPECT_EQ(f.event().reply.code, 550);
  EXPECT_EQ(f.event().reply.text.size(), diag.size() + 1);  // the doubled quote became one
}

TEST(PowerMtaTest, PositionIsKept) {
  auto parser = NewPowerMtaParser({});
  std::string storage;
  std::vector<DeliveryEvent> events;
  ParsePadded(*parser, "type,timeLogged,rcpt", events, storage);
  Position pos{"acct.csv", -1, 42};
  ASSERT_TRUE(ParsePadded(*parser, "d,1,u@d.com", events, storage, pos).ok());
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].position, pos);
}

// Every record of every PowerMTA corpus file ends as events, a counted skip, or an error we expect.
TEST(PowerMtaTest, Corpus) {
  struct File {
    std::string name;
    std::vector<std::string> fates;
  };
  const File files[] = {
      {"pmta_acct.csv", {"skip:informational_line", "events:1"}},
      {"pmta_acct_bounce_custom.csv", {"skip:informational_line", "events:1", "events:1"}},
      {"pmta_acct_default23_fixture.csv", {"skip:informational_line", "events:1", "events:1", "events:1"}},
      {"pmta_acct_guide_v40.csv", {"skip:informational_line", "events:1", "events:1", "events:1", "events:1"}},
      // '#' annotation lines are not PowerMTA output (unknown type); the 2017 'b' record comes before
      // any header; the 2023 fragment lost its type cell; the real d/b/t/rb/f header is a header.
      {"pmta_acct_other.txt",
       {"error:unknown_record_type", "error:unknown_record_type", "error:unknown_record_type",
        "error:missing_field", "error:unknown_record_type", "error:unknown_record_type",
        "error:unknown_record_type", "skip:informational_line"}},
  };
  for (const File& file : files) {
    std::string text = testing::ReadFileOrDie(testing::CorpusDir() + "/logs/" + file.name);
    auto parser = NewPowerMtaParser({});
    std::vector<DeliveryEvent> all;
    std::vector<std::string> fates =
        testing::ParseAll(*parser, testing::SplitLines(text), file.name,
                          [&](size_t, const ParseResult&, const std::vector<DeliveryEvent>& events) {
                            for (const DeliveryEvent& e : events) {
                              EXPECT_FALSE(e.recipient.empty()) << file.name;
                              EXPECT_GT(e.event_time_ms, 0) << file.name;
                            }
                            all.insert(all.end(), events.begin(), events.end());
                          });
    EXPECT_EQ(fates, file.fates) << file.name;
  }
}

TEST(PowerMtaTest, CorpusRealRecordFields) {
  std::string text = testing::ReadFileOrDie(testing::CorpusDir() + "/logs/pmta_acct.csv");
  auto lines = testing::SplitLines(text);
  ASSERT_EQ(lines.size(), 2u);
  Feeder f;
  f.Feed(lines[0]);
  ASSERT_EQ(f.Feed(lines[1]), "events:1");
  const DeliveryEvent& e = f.event();
  EXPECT_EQ(e.outcome, Outcome::kDelivered);
  EXPECT_EQ(e.event_time_ms, Iso("2014-08-24T10:30:14Z"));
  EXPECT_EQ(e.recipient, "VJAYPRAKASH@YMAIL.COM");
  EXPECT_EQ(e.sender, "Emailstatements.cards@hdfcbank.net");
  EXPECT_EQ(e.reply.code, 250);
  EXPECT_EQ(e.reply.enhanced, (EnhancedCode{2, 0, 0}));
  EXPECT_EQ(e.reply.text, "ok dirdel");
  EXPECT_EQ(e.mx_host, "mta7.am0.yahoodns.net");
  EXPECT_EQ(e.mx_ip, "66.196.118.35");
  EXPECT_EQ(e.sending_ip, "172.30.149.109");
  EXPECT_EQ(e.egress_source, "CAMPAIGN");
  EXPECT_EQ(e.campaign, "");

  std::string bounces = testing::ReadFileOrDie(testing::CorpusDir() + "/logs/pmta_acct_bounce_custom.csv");
  auto blines = testing::SplitLines(bounces);
  Feeder g;
  g.Feed(blines[0]);
  ASSERT_EQ(g.Feed(blines[2]), "events:1");
  EXPECT_EQ(g.event().outcome, Outcome::kBounced);
  EXPECT_EQ(g.event().reply.enhanced, (EnhancedCode{5, 1, 1}));
  EXPECT_EQ(g.event().reply.text, "bad destination mailbox address");
  EXPECT_EQ(g.event().mx_host, "mx1.destindomain.com");
  EXPECT_EQ(g.event().mx_ip, "2.2.2.2");
  EXPECT_EQ(g.event().egress_source, "vmta-mymta03");
  EXPECT_EQ(g.event().sending_ip, "1.1.1.1");
}

}  // namespace
}  // namespace bs
