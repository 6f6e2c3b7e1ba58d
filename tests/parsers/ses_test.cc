// Amazon SES parser: SNS envelope (Message as a JSON string), classic notifications and event publishing,
// DeliveryDelay, multi-recipient notifications, and every corpus element.
#include "parsers/ses.h"

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

int64_t Iso(std::string_view s) { return ParseIsoTime(s).value(); }

// A JSON string literal holding `json` (what SNS does with the notification).
std::string Quote(std::string_view json) {
  std::string s = "\"";
  for (char c : json) {
    if (c == '"' || c == '\\') s += '\\';
    if (c == '\n') {
      s += "\\n";
      continue;
    }
    s += c;
  }
  return s + "\"";
}

constexpr std::string_view kBounce =
    R"({"notificationType":"Bounce","bounce":{"bounceType":"Permanent","bounceSubType":"General",)"
    R"("bouncedRecipients":[{"emailAddress":"jane@example.com","status":"5.1.1","action":"failed",)"
    R"("diagnosticCode":"smtp; 550-5.1.1 The email account that you tried to reach does not exist.\n550 5.1.1 )"
    R"(https://support.google.com/mail/?p=NoSuchUser - gsmtp"},{"emailAddress":"richard@example.com"}],)"
    R"("timestamp":"2016-01-27T14:59:38.237Z","remoteMtaIp":"74.125.24.26",)"
    R"("reportingMTA":"dsn; a10-16.smtp-out.amazonses.com"},"mail":{"timestamp":"2016-01-27T14:59:30.000Z",)"
    R"("source":"\"John Doe\" <john@example.com>","messageId":"0000013786031775-abc-000000",)"
    R"("destination":["jane@example.com","richard@example.com"],)"
    R"("tags":{"ses:configuration-set":["Marketing"],"ses:outgoing-ip":["54.240.8.1"]}}})";

class SesTest : public ::testing::Test {
 protected:
  std::string Feed(std::string_view record) {
    events_.clear();
    last_ = ParsePadded(*parser_, record, events_, storage_);
    return Fate(last_, events_.size());
  }
  const DeliveryEvent& event(size_t i = 0) const { return events_.at(i); }

  std::unique_ptr<Parser> parser_ = NewSesParser({});
  std::vector<DeliveryEvent> events_;
  std::string storage_;
  ParseResult last_;
};

void ExpectBounceEvents(const std::vector<DeliveryEvent>& events) {
  ASSERT_EQ(events.size(), 2u);
  const DeliveryEvent& e = events[0];
  EXPECT_EQ(e.outcome, Outcome::kBounced);
  EXPECT_EQ(e.recipient, "jane@example.com");
  EXPECT_EQ(e.recipient_domain, "example.com");
  EXPECT_EQ(e.event_time_ms, Iso("2016-01-27T14:59:38.237Z"));
  EXPECT_EQ(e.reply.code, 550);
  EXPECT_EQ(e.reply.enhanced, (EnhancedCode{5, 1, 1}));
  EXPECT_EQ(e.reply.text.substr(0, 28), "The email account that you t");
  EXPECT_NE(e.reply.text.find('\n'), std::string_view::npos);  // multi-line diagnostic, unescaped
  EXPECT_EQ(e.mx_ip, "74.125.24.26");
  EXPECT_EQ(e.mta_host, "a10-16.smtp-out.amazonses.com");
  EXPECT_EQ(e.sender, "john@example.com");
  EXPECT_EQ(e.sender_domain, "example.com");
  EXPECT_EQ(e.message_id, "0000013786031775-abc-000000");
  EXPECT_EQ(e.campaign, "Marketing");
  EXPECT_EQ(e.sending_ip, "54.240.8.1");
  // The second recipient has no DSN fields: no reply, same shared fields.
  EXPECT_EQ(events[1].recipient, "richard@example.com");
  EXPECT_EQ(events[1].reply.code, 0);
  EXPECT_FALSE(events[1].reply.enhanced.present());
  EXPECT_EQ(events[1].message_id, e.message_id);
  for (const DeliveryEvent& ev : events) {
    EXPECT_EQ(ev.esp_class.esp, Esp::kSes);
    EXPECT_EQ(ev.esp_class.type, "Permanent");
    EXPECT_EQ(ev.esp_class.subtype, "General");
  }
}

TEST_F(SesTest, BareNotificationWithTwoRecipients) {
  ASSERT_EQ(Feed(kBounce), "events:2");
  ExpectBounceEvents(events_);
}

TEST_F(SesTest, SnsEnvelopeMessageIsDecodedTwice) {
  std::string envelope = R"({"Type":"Notification","MessageId":"22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",)"
                         R"("TopicArn":"arn:aws:sns:us-east-1:123456789012:ses-bounces","Message":)" +
                         Quote(kBounce) + R"(,"Timestamp":"2016-01-27T14:59:39.000Z","SignatureVersion":"1"})";
  ASSERT_EQ(Feed(envelope), "events:2");
  ExpectBounceEvents(events_);
  // Key order does not matter: the Type may follow the Message.
  std::string reordered = R"({"Message":)" + Quote(kBounce) + R"(,"Type":"Notification"})";
  ASSERT_EQ(Feed(reordered), "events:2");
  // A batch of envelopes (the inner parse must not disturb the outer array).
  std::string batch = "[" + envelope + "," + envelope + "]";
  ASSERT_EQ(Feed(batch), "events:4");
  EXPECT_EQ(event(3).recipient, "richard@example.com");
}

TEST_F(SesTest, SnsNonNotificationsAreSkipped) {
  EXPECT_EQ(Feed(R"({"Type":"SubscriptionConfirmation","Message":"You have chosen to subscribe to the topic",)"
                 R"("SubscribeURL":"https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription"})"),
            "skip:not_a_delivery_record");
  EXPECT_EQ(Feed(R"({"Type":"Notification","Message":"not json"})"), "error:invalid_json");
  EXPECT_EQ(Feed(R"({"Type":"Notification","Message":"[1,2]"})"), "error:not_a_json_object");
  // simdjson reports a root object not ending in '}' as cut short.
  EXPECT_EQ(Feed(R"({"Type":"Notification","Message":"{\"notificationType\":\"Bounce\"} x"})"),
            "error:truncated_record");
  EXPECT_EQ(Feed(R"({"Type":"Notification","Message":"{\"notificationType\":\"Bounce\"} {}"})"),
            "error:invalid_json");
  EXPECT_EQ(Feed(R"({"Type":"Notification","Message":""})"), "error:missing_field");
}

TEST_F(SesTest, EventPublishingDeliveryAndDelay) {
  ASSERT_EQ(Feed(R"({"eventType":"Delivery","mail":{"timestamp":"2016-10-19T23:20:52.240Z",)"
                 R"("source":"sender@example.com","messageId":"m1","destination":["recipient@example.com"],)"
                 R"("tags":{"ses:outgoing-ip":["192.0.2.0"]}},"delivery":{"timestamp":"2016-10-19T23:21:04.133Z",)"
                 R"("processingTimeMillis":11893,"recipients":["recipient@example.com"],)"
                 R"("smtpResponse":"250 2.6.0 Message received","reportingMTA":"mta.example.com"}})"),
            "events:1");
  EXPECT_EQ(event().outcome, Outcome::kDelivered);
  EXPECT_EQ(event().event_time_ms, Iso("2016-10-19T23:21:04.133Z"));
  EXPECT_EQ(event().reply.code, 250);
  EXPECT_EQ(event().reply.enhanced, (EnhancedCode{2, 6, 0}));
  EXPECT_EQ(event().sending_ip, "192.0.2.0");
  EXPECT_EQ(event().mta_host, "mta.example.com");
  ASSERT_EQ(Feed(R"({"eventType":"DeliveryDelay","mail":{"timestamp":"2020-06-16T00:15:40.641Z",)"
                 R"("source":"sender@example.com","messageId":"m2","destination":["recipient@example.com"]},)"
                 R"("deliveryDelay":{"timestamp":"2020-06-16T00:25:40.095Z","delayType":"TransientCommunicationFailure",)"
                 R"("expirationTime":"2020-06-16T00:25:40.914Z","delayedRecipients":[{"emailAddress":)"
                 R"("recipient@example.com","status":"4.4.1","diagnosticCode":"smtp; 421 4.4.1 Unable to connect"}]}})"),
            "events:1");
  EXPECT_EQ(event().outcome, Outcome::kDeferred);
  EXPECT_EQ(event().reply.code, 421);
  EXPECT_EQ(event().reply.enhanced, (EnhancedCode{4, 4, 1}));
  EXPECT_EQ(event().reply.text, "Unable to connect");
  EXPECT_EQ(testing::EspKey(event().esp_class), "ses:DeliveryDelay/TransientCommunicationFailure");
}

TEST_F(SesTest, SuppressedRejectAndComplaint) {
  ASSERT_EQ(Feed(R"({"notificationType":"Bounce","bounce":{"bounceType":"Permanent",)"
                 R"("bounceSubType":"OnAccountSuppressionList","bouncedRecipients":[{"emailAddress":"a@b.com",)"
                 R"("diagnosticCode":"Amazon SES did not send the message to this address because it is on the )"
                 R"(suppression list for your account."}],"timestamp":"2021-01-01T00:00:00Z"},"mail":{}})"),
            "events:1");
  EXPECT_EQ(event().outcome, Outcome::kRejected);
  EXPECT_TRUE(event().locally_generated);
  EXPECT_EQ(testing::EspKey(event().esp_class), "ses:Permanent/OnAccountSuppressionList");
  ASSERT_EQ(Feed(R"({"eventType":"Reject","mail":{"timestamp":"2016-10-14T17:38:15.211Z",)"
                 R"("destination":["x@example.com","y@example.com"]},"reject":{"reason":"Bad content"}})"),
            "events:2");
  EXPECT_EQ(event(1).recipient, "y@example.com");
  EXPECT_EQ(event(1).outcome, Outcome::kRejected);
  EXPECT_EQ(event(1).reply.text, "Bad content");
  ASSERT_EQ(Feed(R"({"notificationType":"Complaint","complaint":{"complainedRecipients":[{"emailAddress":)"
                 R"("richard@example.com"}],"timestamp":"2016-01-27T14:59:38.237Z","complaintFeedbackType":"abuse"},)"
                 R"("mail":{"messageId":"m3"}})"),
            "events:1");
  EXPECT_EQ(event().outcome, Outcome::kComplaint);
}

TEST_F(SesTest, NonDeliveriesAndErrors) {
  for (std::string_view kind : {"Send", "Open", "Click", "Rendering Failure", "Subscription"}) {
    EXPECT_EQ(Feed(R"({"eventType":")" + std::string(kind) + R"(","mail":{}})"), "skip:not_a_delivery_record") << kind;
  }
  EXPECT_EQ(Feed(R"({"eventType":"Teleport","mail":{}})"), "error:unknown_record_type");
  EXPECT_EQ(Feed(R"({"mail":{}})"), "error:missing_field");
  EXPECT_EQ(Feed(R"({"notificationType":"Bounce","mail":{"timestamp":"2016-01-27T14:59:38.237Z"}})"),
            "error:missing_field");
  EXPECT_EQ(last_.detail, "bounce");
  EXPECT_EQ(Feed(R"({"notificationType":"Bounce","bounce":{"bouncedRecipients":[{"emailAddress":"a@b.com"}]}})"),
            "error:missing_field");
  EXPECT_EQ(last_.detail, "timestamp");
  EXPECT_EQ(Feed(R"({"notificationType":"Bounce","bounce":{"timestamp":"yesterday"}})"), "error:bad_timestamp");
  EXPECT_EQ(Feed(R"({"notificationType":"Bounce","bounce":{"timestamp":"2016-01-27T14:59:38Z","bouncedRecipients":)"
                 R"([{"emailAddress":"not an address"}]}})"),
            "error:bad_recipient");
  EXPECT_EQ(Feed(R"({"notificationType":"Bounce","bounce":{"timestamp":"2016-01-27T14:59:38Z"}})"),
            "error:missing_field");
  EXPECT_EQ(Feed(R"({"notificationType":"Bounce","bounce":[]})"), "error:bad_field_type");
}

TEST_F(SesTest, Corpus) {
  std::string text = testing::ReadFileOrDie(testing::CorpusDir() + "/logs/ses_bounces.json");
  auto records = testing::SplitArray(text);
  ASSERT_EQ(records.size(), 27u);
  std::vector<std::string> expected(27, "events:1");
  // Send, Open, Click, Rendering Failure, Subscription.
  for (int i : {3, 5, 6, 7, 9, 19, 21, 22, 23}) expected[i] = "skip:not_a_delivery_record";
  expected[11] = "events:2";  // two bounced recipients
  // anymail's abridged fixtures carry no timestamp at all (neither the section's nor mail's).
  expected[16] = "error:missing_field";
  expected[17] = "error:missing_field";
  int delivered = 0, bounced = 0, deferred = 0, complaints = 0, rejected = 0;
  std::map<std::string, int> esp;
  auto fates = testing::ParseAll(*parser_, records, "ses_bounces.json",
                                 [&](size_t i, const ParseResult& r, const std::vector<DeliveryEvent>& events) {
                                   if (i == 16 || i == 17) {
                                     EXPECT_EQ(r.detail, "timestamp");
                                   }
                                   testing::CountEspClasses(events, esp);
                                   for (const DeliveryEvent& e : events) {
                                     EXPECT_GT(e.event_time_ms, 0) << i;
                                     delivered += e.outcome == Outcome::kDelivered;
                                     bounced += e.outcome == Outcome::kBounced;
                                     deferred += e.outcome == Outcome::kDeferred;
                                     complaints += e.outcome == Outcome::kComplaint;
                                     rejected += e.outcome == Outcome::kRejected;
                                   }
                                 });
  for (size_t i = 0; i < fates.size(); ++i) EXPECT_EQ(fates[i], expected[i]) << "element " << i;
  EXPECT_EQ(delivered, 4);   // 2, 14, 18, 24
  EXPECT_EQ(bounced, 7);     // 0, 10, 11 (x2), 15, 25, 26
  EXPECT_EQ(deferred, 1);    // 8
  EXPECT_EQ(complaints, 3);  // 1, 12, 13
  // The ESP's own class rides on every bounce and on the delay (the others carry none).
  EXPECT_EQ(esp, (std::map<std::string, int>{{"", 9},
                                             {"ses:Permanent/General", 7},
                                             {"ses:DeliveryDelay/TransientCommunicationFailure", 1}}));
  EXPECT_EQ(rejected, 2);    // 4, 20
}

}  // namespace
}  // namespace bs
