// SparkPost parser: msys envelopes and batches, flat API objects, bounce_class, numbers as strings, and every
// corpus element.
#include "parsers/sparkpost.h"

#include <map>
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

class SparkPostTest : public ::testing::Test {
 protected:
  std::string Feed(std::string_view record) {
    events_.clear();
    last_ = ParsePadded(*parser_, record, events_, storage_);
    return Fate(last_, events_.size());
  }
  const DeliveryEvent& event(size_t i = 0) const { return events_.at(i); }

  std::unique_ptr<Parser> parser_ = NewSparkPostParser({});
  std::vector<DeliveryEvent> events_;
  std::string storage_;
  ParseResult last_;
};

constexpr std::string_view kBounce =
    R"({"msys":{"message_event":{"type":"bounce","bounce_class":"10","customer_id":"00000","error_code":"550",)"
    R"("event_id":"84345317653491230","message_id":"0004e3724f57753a3561","raw_rcpt_to":"Bounce@example.com",)"
    R"("raw_reason":"550 5.1.1 <bounce@example.com>: Recipient address rejected: User unknown",)"
    R"("rcpt_to":"bounce@example.com","reason":"550 5.1.1 ...@... Recipient address rejected: ...",)"
    R"("timestamp":"1464824548","transmission_id":"84345317650824116","num_retries":"2","sending_ip":"52.38.191.220",)"
    R"("ip_pool":"shared","ip_address":"74.125.28.26","campaign_id":"invite.create","subaccount_id":101,)"
    R"("msg_from":"msprvs1=17353dDNJGUPh=bounces-160183@bounce.hireclub.co"}},"cust":{"id":"00000"}})";

TEST_F(SparkPostTest, WebhookBounce) {
  ASSERT_EQ(Feed(kBounce), "events:1");
  const DeliveryEvent& e = event();
  EXPECT_EQ(e.outcome, Outcome::kBounced);
  EXPECT_EQ(e.event_time_ms, 1464824548000);
  EXPECT_EQ(e.recipient, "bounce@example.com");
  EXPECT_EQ(e.reply.code, 550);
  EXPECT_EQ(e.reply.enhanced, (EnhancedCode{5, 1, 1}));
  EXPECT_EQ(e.reply.text, "<bounce@example.com>: Recipient address rejected: User unknown");
  EXPECT_EQ(e.sender, "msprvs1=17353dDNJGUPh=bounces-160183@bounce.hireclub.co");
  EXPECT_EQ(e.sender_domain, "bounce.hireclub.co");
  EXPECT_EQ(e.campaign, "invite.create");
  EXPECT_EQ(e.tenant, "101");
  EXPECT_EQ(e.sending_ip, "52.38.191.220");
  EXPECT_EQ(e.egress_pool, "shared");
  EXPECT_EQ(e.mx_ip, "74.125.28.26");
  EXPECT_EQ(e.message_id, "0004e3724f57753a3561");
  EXPECT_EQ(e.attempt, 3);
}

TEST_F(SparkPostTest, BatchesAndPing) {
  std::string batch = "[" + std::string(kBounce) + R"(,{"msys":{}},{"msys":{"track_event":{"type":"open",)"
                      R"("raw_rcpt_to":"a@b.com"}}},)" + std::string(kBounce) + "]";
  ASSERT_EQ(Feed(batch), "events:2");
  EXPECT_EQ(Feed(R"([{"msys":{}}])"), "skip:not_a_delivery_record");
  EXPECT_EQ(Feed(R"({"msys":{}})"), "skip:not_a_delivery_record");
}

TEST_F(SparkPostTest, FlatApiObjectWithIsoTimestampAndCrlfReason) {
  ASSERT_EQ(Feed(R"({"type":"bounce","tdate":"2017-06-29T13:11:58.000Z","rcpt_to":"nobody@kidbombay.com",)"
                 R"("raw_reason":"550-5.1.1 The email account that you tried to reach does not exist. Please try\r\n)"
                 R"(550 5.1.1 https://support.google.com/mail/?p=NoSuchUser x187si3819157pgx.147 - gsmtp",)"
                 R"("timestamp":"2017-06-29T13:11:58.000+00:00","error_code":"550","bounce_class":"10"})"),
            "events:1");
  EXPECT_EQ(event().event_time_ms, ParseIsoTime("2017-06-29T13:11:58Z").value());
  EXPECT_EQ(event().reply.code, 550);
  EXPECT_EQ(event().reply.enhanced, (EnhancedCode{5, 1, 1}));
  EXPECT_NE(event().reply.text.find("\r\n550 5.1.1"), std::string_view::npos);
}

TEST_F(SparkPostTest, Types) {
  struct Case {
    std::string_view type;
    Outcome outcome;
    bool local;
  };
  for (const Case& c : {Case{"delivery", Outcome::kDelivered, false}, Case{"delay", Outcome::kDeferred, false},
                        Case{"out_of_band", Outcome::kOutOfBand, false}, Case{"spam_complaint", Outcome::kComplaint, false},
                        Case{"policy_rejection", Outcome::kRejected, true},
                        Case{"generation_failure", Outcome::kRejected, true},
                        Case{"generation_rejection", Outcome::kRejected, true}}) {
    ASSERT_EQ(Feed(R"({"type":")" + std::string(c.type) + R"(","rcpt_to":"a@b.com","timestamp":1})"), "events:1")
        << c.type;
    EXPECT_EQ(event().outcome, c.outcome) << c.type;
    EXPECT_EQ(event().locally_generated, c.local) << c.type;
  }
  for (std::string_view t : {"injection", "sms_status", "open", "initial_open", "click", "amp_open", "amp_click",
                             "list_unsubscribe", "link_unsubscribe", "relay_delivery"}) {
    EXPECT_EQ(Feed(R"({"type":")" + std::string(t) + R"("})"), "skip:not_a_delivery_record") << t;
  }
  EXPECT_EQ(Feed(R"({"type":"teleport","rcpt_to":"a@b.com","timestamp":1})"), "error:unknown_record_type");
  EXPECT_EQ(Feed(R"({"rcpt_to":"a@b.com","timestamp":1})"), "error:missing_field");
}

TEST_F(SparkPostTest, BounceClass) {
  // Replies to the mail, not failures.
  for (std::string_view c : {"60", "80", "90", "100"}) {
    EXPECT_EQ(Feed(R"({"type":"out_of_band","bounce_class":")" + std::string(c) +
                   R"(","rcpt_to":"a@b.com","timestamp":1})"),
              "skip:not_a_delivery_record")
        << c;
  }
  ASSERT_EQ(Feed(R"({"type":"bounce","bounce_class":25,"rcpt_to":"a@b.com","timestamp":1,"error_code":"554"})"),
            "events:1");
  EXPECT_TRUE(event().locally_generated);
  EXPECT_EQ(event().reply.code, 554);
  EXPECT_EQ(testing::EspKey(event().esp_class), "sparkpost:25");  // a number in the JSON, as text
  ASSERT_EQ(Feed(R"({"type":"bounce","bounce_class":" 10 ","rcpt_to":"a@b.com","timestamp":1})"), "events:1");
  EXPECT_EQ(event().esp_class.type, "10");
  ASSERT_EQ(Feed(R"({"type":"delivery","rcpt_to":"a@b.com","timestamp":1})"), "events:1");
  EXPECT_FALSE(event().esp_class.present());
  EXPECT_EQ(Feed(R"({"type":"bounce","bounce_class":"hard","rcpt_to":"a@b.com","timestamp":1})"),
            "error:bad_field_type");
}

TEST_F(SparkPostTest, StringNumbersAndErrors) {
  ASSERT_EQ(Feed(R"({"type":"delay","rcpt_to":"a@b.com","timestamp":1464825748,"num_retries":"0",)"
                 R"("error_code":"454","raw_reason":"454 4.4.4 [internal] no MX or A for domain"})"),
            "events:1");
  EXPECT_EQ(event().attempt, 1);
  EXPECT_EQ(event().reply.code, 454);
  EXPECT_EQ(event().reply.enhanced, (EnhancedCode{4, 4, 4}));
  EXPECT_EQ(Feed(R"({"type":"delay","raw_rcpt_to":"a@b.com"})"), "error:missing_field");
  EXPECT_EQ(last_.detail, "timestamp");
  EXPECT_EQ(Feed(R"({"type":"delay","timestamp":"later","raw_rcpt_to":"a@b.com"})"), "error:bad_timestamp");
  EXPECT_EQ(Feed(R"({"type":"delay","timestamp":1})"), "error:missing_field");
  EXPECT_EQ(last_.detail, "rcpt_to");
  EXPECT_EQ(Feed(R"({"msys":{"message_event":[]}})"), "error:bad_field_type");
}

TEST_F(SparkPostTest, Corpus) {
  std::string text = testing::ReadFileOrDie(testing::CorpusDir() + "/logs/sparkpost_events.json");
  auto records = testing::SplitArray(text);
  ASSERT_EQ(records.size(), 39u);
  std::vector<std::string> expected(39, "skip:not_a_delivery_record");
  // delivery, delay, bounce, out_of_band, policy_rejection, generation_*, spam_complaint. Element 27 is a
  // bounce of class 60 (auto-reply): an answer, skipped. Injections, tracking, unsubscribes, relay events
  // and the ping are not deliveries.
  for (int i : {0, 1, 4, 5, 6, 7, 10, 11, 21, 22, 23, 25, 26, 35}) expected[i] = "events:1";
  int rejected = 0, deferred = 0;
  std::map<std::string, int> esp;
  auto fates = testing::ParseAll(*parser_, records, "sparkpost_events.json",
                                 [&](size_t i, const ParseResult&, const std::vector<DeliveryEvent>& events) {
                                   testing::CountEspClasses(events, esp);
                                   for (const DeliveryEvent& e : events) {
                                     EXPECT_GT(e.event_time_ms, 0) << i;
                                     EXPECT_FALSE(e.recipient.empty()) << i;
                                     rejected += e.outcome == Outcome::kRejected;
                                     deferred += e.outcome == Outcome::kDeferred;
                                   }
                                 });
  for (size_t i = 0; i < fates.size(); ++i) EXPECT_EQ(fates[i], expected[i]) << "element " << i;
  // bounce_class on bounces, delays and out-of-band events: 1 Undetermined, 10 Invalid Recipient, 21 DNS.
  EXPECT_EQ(esp, (std::map<std::string, int>{{"", 8}, {"sparkpost:1", 3}, {"sparkpost:10", 2}, {"sparkpost:21", 1}}));
  EXPECT_EQ(rejected, 5);  // 6, 10, 11, 25, 26
  EXPECT_EQ(deferred, 2);  // 7, 23
}

}  // namespace
}  // namespace bs
