// Format names, auto-detection from a file's first bytes (every corpus file, and heads that must not be
// mistaken), and the parser factory.
#include "parsers/format.h"

#include <string>

#include "gtest/gtest.h"
#include "tests/testing/paths.h"

namespace bs {
namespace {

std::string Head(const std::string& file, size_t bytes = 4096) {
  std::string text = testing::ReadFileOrDie(testing::CorpusDir() + "/logs/" + file);
  return text.substr(0, bytes);
}

TEST(FormatTest, NamesRoundTrip) {
  for (Format f : {Format::kAuto, Format::kKumoMta, Format::kPostfix, Format::kPowerMta, Format::kExim,
                   Format::kSendGrid, Format::kMailgun, Format::kSes, Format::kSparkPost, Format::kJsonMapping}) {
    std::optional<Format> back = FormatFromName(FormatName(f));
    ASSERT_TRUE(back.has_value()) << FormatName(f);
    EXPECT_EQ(*back, f);
  }
  EXPECT_FALSE(FormatFromName("qmail").has_value());
}

TEST(FormatTest, DetectsEveryCorpusFile) {
  const std::pair<std::string, Format> cases[] = {
      {"kumomta.jsonl", Format::kKumoMta},
      {"postfix.log", Format::kPostfix},
      {"postfix_msgonly.log", Format::kPostfix},
      {"exim_mainlog.log", Format::kExim},
      {"pmta_acct.csv", Format::kPowerMta},
      {"pmta_acct_bounce_custom.csv", Format::kPowerMta},
      {"pmta_acct_default23_fixture.csv", Format::kPowerMta},
      {"pmta_acct_guide_v40.csv", Format::kPowerMta},
      {"pmta_acct_other.txt", Format::kPowerMta},  // '#' annotations, then a 'b' record
      {"sendgrid_events.json", Format::kSendGrid},
      {"mailgun_events.json", Format::kMailgun},
      {"ses_bounces.json", Format::kSes},
      {"sparkpost_events.json", Format::kSparkPost},
  };
  for (const auto& [file, format] : cases) {
    EXPECT_EQ(FormatName(DetectFormat(Head(file))), FormatName(format)) << file;
    // A small head (one pretty-printed element) is enough too.
    EXPECT_EQ(FormatName(DetectFormat(Head(file, 700))), FormatName(format)) << file << " (700 bytes)";
  }
}

TEST(FormatTest, DetectsSingleRecordsOfEachFormat) {
  EXPECT_EQ(DetectFormat(R"({"Type":"Notification","TopicArn":"arn:aws:sns:x","Message":"{\"notificationType\":1}"})"),
            Format::kSes);
  EXPECT_EQ(DetectFormat(R"({"eventType":"Delivery","mail":{},"delivery":{}})"), Format::kSes);
  EXPECT_EQ(DetectFormat(R"({"signature":{"token":"t"},"event-data":{"event":"delivered"}})"), Format::kMailgun);
  EXPECT_EQ(DetectFormat(R"([{"email":"a@b.com","event":"bounce","timestamp":1}])"), Format::kSendGrid);
  EXPECT_EQ(DetectFormat(R"({"type":"bounce","rcpt_to":"a@b.com","raw_rcpt_to":"a@b.com"})"), Format::kSparkPost);
  EXPECT_EQ(DetectFormat("{\"type\":\"Bounce\",\"queue\":\"q\"}\n{\"type\":\"Delivery\"}"), Format::kKumoMta);
  EXPECT_EQ(DetectFormat("\xEF\xBB\xBF{\"type\":\"Bounce\",\"response\":{\"code\":550}}"), Format::kKumoMta);
  // A key's name as a value does not count.
  EXPECT_EQ(DetectFormat(R"({"note":"msys","type":"x","queue":"q"})"), Format::kKumoMta);
  EXPECT_EQ(DetectFormat("t,2026-01-01 00:00:00+0000,a@b.com,c@d.com\n"), Format::kPowerMta);
  EXPECT_EQ(DetectFormat("type,timeLogged,orig,rcpt\r\n"), Format::kPowerMta);
  EXPECT_EQ(DetectFormat("Mar  1 10:00:00 mx1 exim[500]: [1/3] 2024-03-01 10:00:00 10HmaX-000000005vi-0000 ** a@b"),
            Format::kExim);
  EXPECT_EQ(DetectFormat("Dec 3 14:31:07 pegasus splogger[32130]: 1VnnFx-0008Lk-Gt => user@gmail.com R=dnslookup"),
            Format::kExim);
  EXPECT_EQ(DetectFormat("2003-04-25 11:17:07 +0100 Start queue run: pid=12762"), Format::kExim);
  EXPECT_EQ(DetectFormat("2020-03-19T09:29:05.858036+00:00 mail postfix/smtp[156]: 3wvx6q2jBgz8yNw: to=<a@b>"),
            Format::kPostfix);
  EXPECT_EQ(DetectFormat("NOQUEUE: reject: RCPT from unknown[1.2.3.4]: 554 5.7.1"), Format::kPostfix);
}

TEST(FormatTest, SaysAutoWhenItCannotTell) {
  EXPECT_EQ(DetectFormat(""), Format::kAuto);
  EXPECT_EQ(DetectFormat("   \n\n"), Format::kAuto);
  EXPECT_EQ(DetectFormat("hello world\nthis is not a mail log\n"), Format::kAuto);
  EXPECT_EQ(DetectFormat(R"({"level":"info","msg":"started"})"), Format::kAuto);
  EXPECT_EQ(DetectFormat("# only a comment\n"), Format::kAuto);
  EXPECT_EQ(DetectFormat(std::string("\0\x01\x02\xff\xfe binary", 13)), Format::kAuto);
  EXPECT_EQ(DetectFormat("a,b,c,d\n1,2,3,4\n"), Format::kAuto);
}

TEST(FormatTest, FactoryBuildsEveryFormat) {
  for (Format f : {Format::kKumoMta, Format::kPostfix, Format::kPowerMta, Format::kExim, Format::kSendGrid,
                   Format::kMailgun, Format::kSes, Format::kSparkPost, Format::kJsonMapping}) {
    auto p = CreateParser(f, ParserOptions{});
    EXPECT_TRUE(p.ok()) << FormatName(f) << ": " << p.status();
  }
  EXPECT_FALSE(CreateParser(Format::kAuto, ParserOptions{}).ok());
}

}  // namespace
}  // namespace bs
