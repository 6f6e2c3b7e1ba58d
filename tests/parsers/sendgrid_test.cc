// SendGrid Event Webhook parser: each quirk of LOG_FORMATS.md §6, batches, and every corpus element.
#include "parsers/sendgrid.h"

#include <map>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/parsers/parser_test_util.h"
#include "tests/testing/paths.h"

namespace bs {
namespace {

using ::bs::testing::Fate;
using ::bs::testing::ParsePadded;

class SendGridTest : public ::testing::Test {
 protected:
  std::string Feed(std::string_view record) {
    events_.clear();
    last_ = ParsePadded(*parser_, record, events_, storage_);
    return Fate(last_, events_.size());
  }
  const DeliveryEvent& event(size_t i = 0) const { return events_.at(i); }

  std::unique_ptr<Parser> parser_ = NewSendGridParser({});
  std::vector<DeliveryEvent> events_;
  std::string storage_;
  ParseResult last_;
};

TEST_F(SendGridTest, Delivered) {
  ASSERT_EQ(Feed(R"({"ip":"167.89.17.173","response":"250 2.0.0 OK 1461095248 m143si2210036ioe.159 - gsmtp ",)"
                 R"("smtp-id":"<wrf@ismtpd0006p1sjc2.sendgrid.net>","sg_event_id":"nOSv8m0e",)"
                 R"("sg_message_id":"wrfRRvF7Q0GgwUo2CvDmEA.filter0425p1mdw1.13037.57168B4A1D.0","tls":1,)"
                 R"("event":"delivered","email":"recipient@example.com","timestamp":1461095250})"),
            "events:1");
  const DeliveryEvent& e = event();
  EXPECT_EQ(e.outcome, Outcome::kDelivered);
  EXPECT_EQ(e.event_time_ms, 1461095250000);
  EXPECT_EQ(e.recipient, "recipient@example.com");
  EXPECT_EQ(e.recipient_domain, "example.com");
  EXPECT_EQ(e.sending_ip, "167.89.17.173");
  EXPECT_EQ(e.message_id, "wrfRRvF7Q0GgwUo2CvDmEA.filter0425p1mdw1.13037.57168B4A1D.0");
  EXPECT_EQ(e.reply.code, 250);
  EXPECT_EQ(e.reply.enhanced, (EnhancedCode{2, 0, 0}));
  EXPECT_EQ(e.reply.text, "OK 1461095248 m143si2210036ioe.159 - gsmtp");
}

TEST_F(SendGridTest, DeferredWithStringAttempt) {
  ASSERT_EQ(Feed(R"({"email":"a@b.com","timestamp":1513299569,"event":"deferred","response":"400 try again later",)"
                 R"("attempt":"5"})"),
            "events:1");
  EXPECT_EQ(event().outcome, Outcome::kDeferred);
  EXPECT_EQ(event().attempt, 5);
  EXPECT_EQ(event().reply.code, 400);
  EXPECT_EQ(event().reply.text, "try again later");
}

TEST_F(SendGridTest, BounceTypes) {
  ASSERT_EQ(Feed(R"({"email":"a@b.com","timestamp":1,"event":"bounce","status":"5.1.1","type":"bounce",)"
                 R"("reason":"550 5.1.1 The email account that you tried to reach does not exist."})"),
            "events:1");
  EXPECT_EQ(event().outcome, Outcome::kBounced);
  EXPECT_EQ(event().reply.code, 550);
  EXPECT_EQ(event().reply.enhanced, (EnhancedCode{5, 1, 1}));
  // "blocked" is a refusal of us, not of the address.
  ASSERT_EQ(Feed(R"({"email":"a@b.com","timestamp":1,"event":"bounce","status":"5.0.0","type":"blocked",)"
                 R"("reason":"554 blocked using zen.spamhaus.org"})"),
            "events:1");
  EXPECT_EQ(event().outcome, Outcome::kRejected);
  // The reply without an enhanced code: the generic status fills in.
  EXPECT_EQ(event().reply.enhanced, (EnhancedCode{5, 0, 0}));
  EXPECT_EQ(event().reply.code, 554);
  EXPECT_EQ(testing::EspKey(event().esp_class), "sendgrid:blocked");
}

TEST_F(SendGridTest, BounceClassificationIsTheEspClass) {
  ASSERT_EQ(Feed(R"({"email":"a@b.com","timestamp":1,"event":"bounce","type":"bounce",)"
                 R"("bounce_classification":"Invalid Address"})"),
            "events:1");
  EXPECT_EQ(event().esp_class.esp, Esp::kSendGrid);
  EXPECT_EQ(event().esp_class.type, "bounce");
  EXPECT_EQ(event().esp_class.subtype, "Invalid Address");
  ASSERT_EQ(Feed(R"({"email":"a@b.com","timestamp":1,"event":"deferred","response":"421 try later",)"
                 R"("bounce_classification":"Frequency or Volume Too High"})"),
            "events:1");
  EXPECT_EQ(testing::EspKey(event().esp_class), "sendgrid:deferred/Frequency or Volume Too High");
  ASSERT_EQ(Feed(R"({"email":"a@b.com","timestamp":1,"event":"delivered","response":"250 OK"})"), "events:1");
  EXPECT_FALSE(event().esp_class.present());
}

TEST_F(SendGridTest, DroppedIsLocal) {
  ASSERT_EQ(Feed(R"({"email":"u@example.com","timestamp":1461095250,"event":"dropped",)"
                 R"("reason":"Unsubscribed Address"})"),
            "events:1");
  EXPECT_EQ(event().outcome, Outcome::kRejected);
  EXPECT_TRUE(event().locally_generated);
  EXPECT_EQ(event().reply.code, 0);
  EXPECT_EQ(event().reply.text, "Unsubscribed Address");
  EXPECT_EQ(testing::EspKey(event().esp_class), "sendgrid:dropped/Unsubscribed Address");
}

TEST_F(SendGridTest, ComplaintAndNonDeliveries) {
  ASSERT_EQ(Feed(R"({"email":"a@b.com","timestamp":1,"event":"spamreport"})"), "events:1");
  EXPECT_EQ(event().outcome, Outcome::kComplaint);
  for (std::string_view ev : {"processed", "Processed", "open", "click", "unsubscribe", "group_unsubscribe",
                              "group_resubscribe"}) {
    EXPECT_EQ(Feed(R"({"email":"a@b.com","timestamp":1,"event":")" + std::string(ev) + R"("})"),
              "skip:not_a_delivery_record")
        << ev;
  }
  EXPECT_EQ(Feed(R"({"email":"a@b.com","timestamp":1,"event":"teleported"})"), "error:unknown_record_type");
}

TEST_F(SendGridTest, TimestampAsString) {
  ASSERT_EQ(Feed(R"({"email":"a@b.com","timestamp":"1513299569","event":"delivered"})"), "events:1");
  EXPECT_EQ(event().event_time_ms, 1513299569000);
  EXPECT_EQ(Feed(R"({"email":"a@b.com","timestamp":"soon","event":"delivered"})"), "error:bad_timestamp");
  EXPECT_EQ(Feed(R"({"email":"a@b.com","event":"delivered"})"), "error:missing_field");
}

TEST_F(SendGridTest, CampaignFromMarketingIdOrCategory) {
  ASSERT_EQ(Feed(R"({"email":"a@b.com","timestamp":1,"event":"delivered","category":["newuser","x"]})"), "events:1");
  EXPECT_EQ(event().campaign, "newuser");
  ASSERT_EQ(Feed(R"({"email":"a@b.com","timestamp":1,"event":"delivered","category":"cat facts",)"
                 R"("marketing_campaign_id":12345})"),
            "events:1");
  EXPECT_EQ(event().campaign, "12345");
}

TEST_F(SendGridTest, EscapedStringsAreUnescaped) {
  ASSERT_EQ(Feed(R"({"email":"a@b.com","timestamp":1,"event":"bounce","reason":"550 5.7.1 \"blocked\"\u00e9\n"})"),
            "events:1");
  EXPECT_EQ(event().reply.text, "\"blocked\"\xc3\xa9");
}

TEST_F(SendGridTest, BatchesYieldOneEventPerDelivery) {
  ASSERT_EQ(Feed(R"([{"email":"a@b.com","timestamp":1,"event":"processed"},)"
                 R"({"email":"a@b.com","timestamp":2,"event":"delivered","response":"250 OK"},)"
                 R"({"email":"c@d.com","timestamp":3,"event":"bounce","reason":"550 no"}])"),
            "events:2");
  EXPECT_EQ(event(0).recipient, "a@b.com");
  EXPECT_EQ(event(1).recipient, "c@d.com");
  EXPECT_EQ(event(1).outcome, Outcome::kBounced);
  EXPECT_EQ(Feed(R"([{"email":"a@b.com","timestamp":1,"event":"open"}])"), "skip:not_a_delivery_record");
  // One bad element dead-letters the batch and leaves no half of it behind.
  EXPECT_EQ(Feed(R"([{"email":"a@b.com","timestamp":2,"event":"delivered"},{"timestamp":3,"event":"bounce"}])"),
            "error:missing_field");
  EXPECT_TRUE(events_.empty());
  EXPECT_EQ(Feed(R"([{"email":"a@b.com","timestamp":2,"event":"delivered"},3])"), "error:not_a_json_object");
}

TEST_F(SendGridTest, BadInput) {
  EXPECT_EQ(Feed(""), "error:empty_record");
  EXPECT_EQ(Feed("   \n"), "error:empty_record");
  EXPECT_EQ(Feed("not json"), "error:invalid_json");
  EXPECT_EQ(Feed("42"), "error:not_a_json_object");
  EXPECT_EQ(Feed(R"({"email":"a@b.com","timestamp":1,"event":"deliv)"), "error:truncated_record");
  EXPECT_EQ(Feed(R"({"email":"a@b.com","timestamp":1,"event":"delivered")"), "error:truncated_record");
  EXPECT_EQ(Feed("{\"email\":\"a\xff@b.com\",\"timestamp\":1,\"event\":\"delivered\"}"), "error:invalid_utf8");
  EXPECT_EQ(Feed(R"({"email":"a@b.com","timestamp":1,"event":"delivered"} {"x":1})"), "error:invalid_json");
  EXPECT_EQ(Feed(R"({"email":"Name <a@b.com>","timestamp":1,"event":"delivered"})"), "error:bad_recipient");
  EXPECT_EQ(Feed(R"({"email":7,"timestamp":1,"event":"delivered"})"), "error:bad_field_type");
  EXPECT_EQ(Feed(R"({"timestamp":1,"event":"delivered"})"), "error:missing_field");
  std::string big = R"({"email":"a@b.com","timestamp":1,"event":"delivered","x":")" +
                    std::string(kMaxRecordBytes, 'a') + "\"}";
  EXPECT_EQ(Feed(big), "error:record_too_large");
}

TEST_F(SendGridTest, RecordsUpToOneMebibyte) {
  // A reply text of almost 1 MiB, with escapes spread through it so it lands in the scratch arena.
  std::string text;
  while (text.size() < kMaxRecordBytes - 200) text += "550 5.7.1 \\\"blocked\\\" ";
  ASSERT_EQ(Feed(R"({"email":"a@b.com","timestamp":1,"event":"bounce","reason":")" + text + R"("})"), "events:1");
  EXPECT_EQ(event().reply.code, 550);
  EXPECT_GT(event().reply.text.size(), kMaxRecordBytes / 2);
  EXPECT_EQ(event().reply.text.substr(0, 16), "\"blocked\" 550 5.");
}

// Every element of the corpus file, as the file source splits the array.
TEST_F(SendGridTest, Corpus) {
  std::string text = testing::ReadFileOrDie(testing::CorpusDir() + "/logs/sendgrid_events.json");
  auto records = testing::SplitArray(text);
  ASSERT_EQ(records.size(), 46u);
  std::vector<std::string> expected(46, "skip:not_a_delivery_record");
  // delivered, deferred, bounce (incl. blocked), dropped, spamreport; the rest are processed/open/click/…
  for (int i : {1, 2, 5, 6, 7, 12, 13, 14, 15, 16, 19, 32, 37, 38, 39, 40, 41, 42, 45}) expected[i] = "events:1";
  int bounced = 0, rejected = 0, complaints = 0;
  std::map<std::string, int> esp;
  auto fates = testing::ParseAll(*parser_, records, "sendgrid_events.json",
                                 [&](size_t i, const ParseResult&, const std::vector<DeliveryEvent>& events) {
                                   testing::CountEspClasses(events, esp);
                                   for (const DeliveryEvent& e : events) {
                                     EXPECT_GT(e.event_time_ms, 0) << i;
                                     EXPECT_FALSE(e.recipient.empty()) << i;
                                     bounced += e.outcome == Outcome::kBounced;
                                     rejected += e.outcome == Outcome::kRejected;
                                     complaints += e.outcome == Outcome::kComplaint;
                                   }
                                 });
  for (size_t i = 0; i < fates.size(); ++i) EXPECT_EQ(fates[i], expected[i]) << "element " << i;
  // Bounce types and drop reasons (the corpus has no bounce_classification field).
  EXPECT_EQ(esp, (std::map<std::string, int>{{"", 10},
                                             {"sendgrid:bounce", 3},
                                             {"sendgrid:blocked", 1},
                                             {"sendgrid:dropped/Bounced Address", 3},
                                             {"sendgrid:dropped/Invalid", 1},
                                             {"sendgrid:dropped/Unsubscribed Address", 1}}));
  EXPECT_EQ(bounced, 3);     // elements 5, 15, 41
  EXPECT_EQ(rejected, 6);    // dropped 6, 12, 38, 39, 40 and blocked 16
  EXPECT_EQ(complaints, 2);  // 7, 19
}

}  // namespace
}  // namespace bs
