// Mailgun parser: webhook wrapper, Events API page, severity, Mailgun's internal codes, and every corpus
// element.
#include "parsers/mailgun.h"

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

class MailgunTest : public ::testing::Test {
 protected:
  std::string Feed(std::string_view record) {
    events_.clear();
    last_ = ParsePadded(*parser_, record, events_, storage_);
    return Fate(last_, events_.size());
  }
  const DeliveryEvent& event(size_t i = 0) const { return events_.at(i); }

  std::unique_ptr<Parser> parser_ = NewMailgunParser({});
  std::vector<DeliveryEvent> events_;
  std::string storage_;
  ParseResult last_;
};

constexpr std::string_view kTemporary =
    R"({"severity":"temporary","timestamp":1665066523.871657,"delivery-status":{"tls":true,)"
    R"("mx-host":"hotmail-com.olc.protection.outlook.com","code":451,"description":"","retry-seconds":600,)"
    R"("enhanced-code":"4.7.652","attempt-no":2,"message":"4.7.652 The mail server [xxx.xxx.xxx.xxx] has )"
    R"(exceeded the maximum number of connections."},"recipient-domain":"test.com","id":"xYr","campaigns":[],)"
    R"("reason":"generic","log-level":"warn","envelope":{"transport":"smtp","sender":"test@test.com",)"
    R"("sending-ip":"198.51.100.4","targets":"test@test.com"},"message":{"headers":{"to":"test@test.net",)"
    R"("message-id":"20221006142837.1618e01bf42da9fa@test.com"}},"recipient":"test@test.com","event":"failed"})";

TEST_F(MailgunTest, TemporaryFailureIsADeferral) {
  ASSERT_EQ(Feed(kTemporary), "events:1");
  const DeliveryEvent& e = event();
  EXPECT_EQ(e.outcome, Outcome::kDeferred);
  EXPECT_EQ(e.event_time_ms, 1665066523871);
  EXPECT_EQ(e.recipient, "test@test.com");
  EXPECT_EQ(e.sender, "test@test.com");
  EXPECT_EQ(e.sending_ip, "198.51.100.4");
  EXPECT_EQ(e.mx_host, "hotmail-com.olc.protection.outlook.com");
  EXPECT_EQ(e.message_id, "20221006142837.1618e01bf42da9fa@test.com");
  EXPECT_EQ(e.attempt, 2);
  EXPECT_EQ(e.reply.code, 451);
  EXPECT_EQ(e.reply.enhanced, (EnhancedCode{4, 7, 652}));
  EXPECT_EQ(e.reply.text, "The mail server [xxx.xxx.xxx.xxx] has exceeded the maximum number of connections.");
  EXPECT_FALSE(e.locally_generated);
}

TEST_F(MailgunTest, WebhookWrapperAndEventsPage) {
  std::string wrapped = R"({"signature":{"timestamp":"1534108637","token":"t","signature":"s"},"event-data":)" +
                        std::string(kTemporary) + "}";
  ASSERT_EQ(Feed(wrapped), "events:1");
  EXPECT_EQ(event().outcome, Outcome::kDeferred);
  std::string page = R"({"items":[)" + std::string(kTemporary) +
                     R"(,{"event":"opened","timestamp":1,"recipient":"a@b.com"},)" + std::string(kTemporary) +
                     R"(],"paging":{"next":"https://api.mailgun.net/v3/x/events/W3siYSI6IGZhbHNlfQ=="}})";
  ASSERT_EQ(Feed(page), "events:2");
  EXPECT_EQ(Feed(R"({"items":[{"event":"opened","timestamp":1,"recipient":"a@b.com"}],"paging":{}})"),
            "skip:not_a_delivery_record");
  EXPECT_EQ(Feed(R"({"items":[{"event":"failed","timestamp":1}]})"), "error:missing_field");
}

TEST_F(MailgunTest, PermanentDelayedBounceAndSuppression) {
  ASSERT_EQ(Feed(R"({"event":"failed","severity":"permanent","timestamp":1534110422.389832,)"
                 R"("recipient":"invalid@example.com","delivery-status":{"mx-host":"aspmx.l.example.org","code":550,)"
                 R"("message":"5.1.1 The email account that you tried to reach does not exist. Please try\n5.1.1 )"
                 R"(double-checking the recipient's email address for typos","attempt-no":1}})"),
            "events:1");
  EXPECT_EQ(event().outcome, Outcome::kBounced);
  EXPECT_EQ(event().reply.code, 550);
  EXPECT_EQ(event().reply.enhanced, (EnhancedCode{5, 1, 1}));
  ASSERT_EQ(Feed(R"({"severity":"permanent","timestamp":1666214138.4046676,"delivery-status":{"bounce-code":"5.1.1",)"
                 R"("message":"smtp; 550-5.1.1 The email account that you tried to reach does not exist.",)"
                 R"("code":550,"description":"I'm sorry"},"flags":{"is-delayed-bounce":true},"envelope":{},)"
                 R"("recipient":"christest123@test.com","event":"failed"})"),
            "events:1");
  EXPECT_EQ(event().outcome, Outcome::kOutOfBand);
  EXPECT_EQ(event().reply.code, 550);
  EXPECT_EQ(event().reply.text, "The email account that you tried to reach does not exist.");
  ASSERT_EQ(Feed(R"({"event":"failed","timestamp":1529701969.818328,"severity":"permanent","reason":"suppress-bounce",)"
                 R"("delivery-status":{"attempt-no":1,"message":"","code":605,)"
                 R"("description":"Not delivering to previously bounced address"},"recipient":"slava@mailgun.com"})"),
            "events:1");
  EXPECT_EQ(event().outcome, Outcome::kRejected);
  EXPECT_TRUE(event().locally_generated);
  EXPECT_EQ(event().reply.code, 0);
  EXPECT_EQ(event().reply.text, "Not delivering to previously bounced address");
  EXPECT_EQ(event().esp_class.esp, Esp::kMailgun);
  EXPECT_EQ(event().esp_class.type, "permanent");
  EXPECT_EQ(event().esp_class.subtype, "suppress-bounce");
}

TEST_F(MailgunTest, InternalCodesAreNotSmtpCodes) {
  ASSERT_EQ(Feed(R"({"event":"failed","severity":"temporary","timestamp":1376435471.10744,"recipient":"bar@example.com",)"
                 R"("delivery-status":{"code":498,"message":"No MX for [example.com]","retry-seconds":900}})"),
            "events:1");
  EXPECT_EQ(event().outcome, Outcome::kDeferred);
  EXPECT_EQ(event().reply.code, 0);
  EXPECT_TRUE(event().locally_generated);
  EXPECT_EQ(event().reply.text, "No MX for [example.com]");
}

TEST_F(MailgunTest, RejectedTakesTheToHeader) {
  ASSERT_EQ(Feed(R"({"event-data":{"event":"rejected","timestamp":1529704976.104692,"reject":{"reason":)"
                 R"("Sandbox subdomains are for test purposes only.","description":""},"message":{"headers":{)"
                 R"("to":"Recipient Name <recipient@example.org>","message-id":"m@sandbox"}}}})"),
            "events:1");
  EXPECT_EQ(event().outcome, Outcome::kRejected);
  EXPECT_EQ(event().recipient, "recipient@example.org");
  EXPECT_EQ(event().reply.text, "Sandbox subdomains are for test purposes only.");
  // Several To addresses: which one was rejected is unknown.
  EXPECT_EQ(Feed(R"({"event":"rejected","timestamp":1,"message":{"headers":{"to":"a@b.com, c@d.com"}}})"),
            "error:missing_field");
}

TEST_F(MailgunTest, ComplaintsAndNonDeliveries) {
  ASSERT_EQ(Feed(R"({"event":"complained","timestamp":1377214260.049634,"recipient":"foo@example.com"})"), "events:1");
  EXPECT_EQ(event().outcome, Outcome::kComplaint);
  for (std::string_view ev : {"accepted", "stored", "opened", "clicked", "unsubscribed", "list_member_uploaded"}) {
    EXPECT_EQ(Feed(R"({"event":")" + std::string(ev) + R"(","timestamp":1})"), "skip:not_a_delivery_record") << ev;
  }
  EXPECT_EQ(Feed(R"({"event":"vanished","timestamp":1,"recipient":"a@b.com"})"), "error:unknown_record_type");
  EXPECT_EQ(Feed(R"({"event":"failed","timestamp":1,"recipient":"a@b.com"})"), "error:missing_field");
  EXPECT_EQ(last_.detail, "severity");
  EXPECT_EQ(Feed(R"({"event":"delivered","timestamp":"never","recipient":"a@b.com"})"), "error:bad_timestamp");
  EXPECT_EQ(Feed(R"({"event":"delivered","recipient":"a@b.com"})"), "error:missing_field");
  EXPECT_EQ(Feed(R"({"signature":{}})"), "error:missing_field");
}

TEST_F(MailgunTest, Corpus) {
  std::string text = testing::ReadFileOrDie(testing::CorpusDir() + "/logs/mailgun_events.json");
  auto records = testing::SplitArray(text);
  ASSERT_EQ(records.size(), 27u);
  std::vector<std::string> expected(27, "skip:not_a_delivery_record");
  // delivered, failed (both severities), rejected, complained; the rest accepted/stored/opened/…/list_*.
  for (int i : {2, 3, 4, 5, 9, 15, 18, 19, 20, 21, 22, 23}) expected[i] = "events:1";
  int delivered = 0, deferred = 0, bounced = 0, oob = 0, rejected = 0, complaints = 0;
  std::map<std::string, int> esp;
  auto fates = testing::ParseAll(*parser_, records, "mailgun_events.json",
                                 [&](size_t i, const ParseResult&, const std::vector<DeliveryEvent>& events) {
                                   testing::CountEspClasses(events, esp);
                                   for (const DeliveryEvent& e : events) {
                                     EXPECT_GT(e.event_time_ms, 0) << i;
                                     delivered += e.outcome == Outcome::kDelivered;
                                     deferred += e.outcome == Outcome::kDeferred;
                                     bounced += e.outcome == Outcome::kBounced;
                                     oob += e.outcome == Outcome::kOutOfBand;
                                     rejected += e.outcome == Outcome::kRejected;
                                     complaints += e.outcome == Outcome::kComplaint;
                                   }
                                 });
  for (size_t i = 0; i < fates.size(); ++i) EXPECT_EQ(fates[i], expected[i]) << "element " << i;
  // severity/reason of every failed event.
  EXPECT_EQ(esp, (std::map<std::string, int>{{"", 5},
                                             {"mailgun:permanent/suppress-bounce", 1},
                                             {"mailgun:permanent/generic", 1},
                                             {"mailgun:permanent/bounce", 1},
                                             {"mailgun:temporary/generic", 3},
                                             {"mailgun:temporary/greylisted", 1}}));
  EXPECT_EQ(delivered, 2);   // 2, 18
  EXPECT_EQ(deferred, 4);    // 5, 15, 20, 21
  EXPECT_EQ(bounced, 1);     // 19
  EXPECT_EQ(oob, 1);         // 4
  EXPECT_EQ(rejected, 2);    // 3 (suppress-bounce), 22
  EXPECT_EQ(complaints, 2);  // 9, 23
}

}  // namespace
}  // namespace bs
