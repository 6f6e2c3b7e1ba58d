#include "parsers/kumomta.h"

#include "gtest/gtest.h"
#include "tests/parsers/parser_test_util.h"
#include "tests/testing/paths.h"

namespace bs {
namespace {

using testing::Fate;
using testing::ParsePadded;

class KumoMtaTest : public ::testing::Test {
 protected:
  ParseResult Parse(std::string_view record) {
    events_.clear();
    return ParsePadded(*parser_, record, events_, storage_);
  }
  std::string FateOf(std::string_view record) {
    ParseResult r = Parse(record);
    return Fate(r, events_.size());
  }
  std::unique_ptr<Parser> parser_ = NewKumoMtaParser({});
  std::vector<DeliveryEvent> events_;
  std::string storage_;
};

TEST_F(KumoMtaTest, BounceWithEnhancedCodeObject) {
  auto r = Parse(R"({"type":"Bounce","id":"abc","sender":"b@news.example.com","recipient":"u@gmail.com","queue":"spring:acme@gmail.com!gmail.com","site":"","size":1,"response":{"code":550,"enhanced_code":{"class":5,"subject":1,"detail":1},"content":"The email account does not exist - gsmtp","command":"RCPT TO:<u@gmail.com>\r\n"},"peer_address":{"name":"gmail-smtp-in.l.google.com.","addr":"142.250.1.1"},"timestamp":1793606400,"num_attempts":2,"egress_pool":"p","egress_source":"s1","source_address":{"address":"203.0.113.7:4555"}})");
  ASSERT_TRUE(r.ok()) << ParseErrorName(r.error);
  ASSERT_EQ(events_.size(), 1u);
  const DeliveryEvent& e = events_[0];
  EXPECT_EQ(e.outcome, Outcome::kBounced);
  EXPECT_EQ(e.recipient, "u@gmail.com");
  EXPECT_EQ(e.recipient_domain, "gmail.com");
  EXPECT_EQ(e.sender_domain, "news.example.com");
  EXPECT_EQ(e.campaign, "spring");
  EXPECT_EQ(e.tenant, "acme");
  EXPECT_EQ(e.reply.code, 550);
  EXPECT_EQ(e.reply.enhanced, (EnhancedCode{5, 1, 1}));
  EXPECT_EQ(e.stage, SmtpStage::kRcpt);
  EXPECT_EQ(e.sending_ip, "203.0.113.7");
  EXPECT_EQ(e.egress_source, "s1");
  EXPECT_EQ(e.mx_ip, "142.250.1.1");
  EXPECT_EQ(e.attempt, 2);
  EXPECT_EQ(e.event_time_ms, 1793606400000);
  EXPECT_FALSE(e.locally_generated);
}

TEST_F(KumoMtaTest, RecipientArrayBecomesSeveralEvents) {
  auto r = Parse(R"({"type":"Delivery","recipient":["a@x.com","b@x.com","c@y.com"],"response":{"code":250,"enhanced_code":null,"content":"OK"},"timestamp":1})");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(events_.size(), 3u);
  EXPECT_EQ(events_[2].recipient, "c@y.com");
  EXPECT_EQ(events_[2].recipient_domain, "y.com");
  EXPECT_FALSE(events_[0].reply.enhanced.present());
}

TEST_F(KumoMtaTest, EventTimeWinsOverTimestampWithNanoseconds) {
  auto r = Parse(R"({"type":"TransientFailure","recipient":"a@x.com","response":{"code":421,"content":"try later"},"timestamp":1,"event_time":"2026-11-02T08:00:00.987654321Z"})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(events_[0].event_time_ms, 1793606400987);
  EXPECT_EQ(events_[0].outcome, Outcome::kDeferred);
}

TEST_F(KumoMtaTest, InternalRepliesAreMarkedLocal) {
  auto r = Parse(R"({"type":"TransientFailure","recipient":"a@x.com","response":{"code":451,"content":"KumoMTA internal: failed to connect to any candidate hosts"},"timestamp":5})");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(events_[0].locally_generated);
}

TEST_F(KumoMtaTest, EscapedStringsSurviveAsUnescapedViews) {
  auto r = Parse(R"({"type":"Bounce","recipient":"a@x.com","response":{"code":550,"content":"said \"no\" \u00e9"},"timestamp":5})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(events_[0].reply.text, "said \"no\" \xc3\xa9");
}

TEST_F(KumoMtaTest, NonDeliveryRecordsAreCountedSkips) {
  EXPECT_EQ(FateOf(R"({"type":"Reception","recipient":"a@x.com","response":{"code":250},"timestamp":1})"),
            "skip:not_a_delivery_record");
  EXPECT_EQ(FateOf(R"({"type":"AdminRebind","recipient":"a@x.com","timestamp":1})"),
            "skip:not_a_delivery_record");
}

TEST_F(KumoMtaTest, MalformedRecordsAreErrorsWithReasons) {
  EXPECT_EQ(FateOf(""), "error:empty_record");
  EXPECT_EQ(FateOf("[1,2]"), "error:not_a_json_object");
  EXPECT_EQ(FateOf(R"({"type":"Bounce","recipient":"a@x.com","response":{"code":55)"), "error:truncated_record");
  EXPECT_EQ(FateOf(R"({"type":"Bounce",,})"), "error:invalid_json");
  EXPECT_EQ(FateOf(R"({"recipient":"a@x.com","response":{"code":550},"timestamp":1})"), "error:missing_field");
  EXPECT_EQ(FateOf(R"({"type":"Bounce","response":{"code":550},"timestamp":1})"), "error:missing_field");
  EXPECT_EQ(FateOf(R"({"type":"Bounce","recipient":"a@x.com","timestamp":1})"), "error:missing_field");
  EXPECT_EQ(FateOf(R"({"type":"Martian","recipient":"a@x.com","response":{"code":550},"timestamp":1})"),
            "error:unknown_record_type");
  EXPECT_EQ(FateOf(R"({"type":"Bounce","recipient":"a@x.com","response":{"code":"550"},"timestamp":1})"),
            "error:bad_field_type");
  EXPECT_EQ(FateOf(R"({"type":"Bounce","recipient":"a@x.com","response":{"code":550},"event_time":"noon"})"),
            "error:bad_timestamp");
  EXPECT_EQ(FateOf("\xff\xfe{}"), "error:invalid_utf8");
  EXPECT_EQ(FateOf(std::string(kMaxRecordBytes + 1, ' ')), "error:record_too_large");
}

// Every record of the corpus file is parsed or dead-lettered; the expected fate of each line comes from
// reading it and its .source notes (many are partial records quoted in docs and tests, without a time).
TEST_F(KumoMtaTest, CorpusFileEveryRecordAccountedFor) {
  const std::vector<std::string> expected = {
      "skip:not_a_delivery_record", "skip:not_a_delivery_record", "skip:not_a_delivery_record",
      "skip:not_a_delivery_record",  // 1-4 Reception
      "events:1",                    // 5 Delivery (docs example)
      "error:missing_field",         // 6 tsa-torture payload: timestamp null
      "skip:not_a_delivery_record",  // 7 Delayed (partial)
      "error:missing_field",         // 8 partial: no recipient, no time
      "events:1",                    // 9 Delivery fixture
      "error:missing_field", "error:missing_field", "error:missing_field", "error:missing_field",
      "error:missing_field", "error:missing_field",  // 10-15 partial records without a time
      "skip:not_a_delivery_record",                  // 16 Reception
      "error:missing_field", "error:missing_field",  // 17-18 partial, no time
      "events:1",                                    // 19 RFC 3339 string in "timestamp"
      "error:missing_field",                         // 20 issue fragment: no recipient, no time
  };
  std::string text = testing::ReadFileOrDie(testing::CorpusDir() + "/logs/kumomta.jsonl");
  auto lines = testing::SplitLines(text);
  ASSERT_EQ(lines.size(), expected.size());
  for (size_t i = 0; i < lines.size(); ++i) {
    EXPECT_EQ(FateOf(lines[i]), expected[i]) << "line " << i + 1;
  }
}

}  // namespace
}  // namespace bs
