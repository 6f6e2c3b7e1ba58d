// Generic JSON mapping: field paths from configuration, outcome values, arrays of recipients, validation,
// and a mapping of the KumoMTA corpus file as an example of "any JSON log".
#include "parsers/json_mapping.h"

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

class Mapped {
 public:
  explicit Mapped(const JsonFieldMap& map) {
    ParserOptions options;
    options.json = map;
    auto p = CreateParser(Format::kJsonMapping, options);
    EXPECT_TRUE(p.ok()) << p.status();
    if (p.ok()) parser_ = std::move(p).value();
  }
  std::string Feed(std::string_view record) {
    events_.clear();
    last_ = ParsePadded(*parser_, record, events_, storage_);
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

JsonFieldMap NestedMap() {
  JsonFieldMap m;
  m.recipient = "envelope.to";
  m.outcome = "result.status";
  m.time = "ts";
  m.sender = "envelope.from";
  m.code = "result.smtp.code";
  m.enhanced = "result.smtp.esc";
  m.text = "result.smtp.text";
  m.mx_host = "result.mx.0";
  m.sending_ip = "ip";
  m.campaign = "tags\\.campaign";
  m.tenant = "account";
  m.message_id = "id";
  m.attempt = "try";
  return m;
}

TEST(JsonMappingTest, NestedPathsInAnyOrder) {
  Mapped p(NestedMap());
  ASSERT_EQ(p.Feed(R"({"result":{"smtp":{"text":"user unknown","esc":"5.1.1","code":"550"},"status":"Bounced",)"
                   R"("mx":["mx1.example.net","mx2.example.net"]},"ts":"2026-03-01T10:00:00.250Z","try":3,)"
                   R"("envelope":{"from":"News <news@shop.example>","to":"u@example.net"},"ip":"192.0.2.10",)"
                   R"("tags.campaign":"spring","account":42,"id":"q-1"})"),
            "events:1");
  const DeliveryEvent& e = p.event();
  EXPECT_EQ(e.outcome, Outcome::kBounced);
  EXPECT_EQ(e.event_time_ms, ParseIsoTime("2026-03-01T10:00:00.250Z").value());
  EXPECT_EQ(e.recipient, "u@example.net");
  EXPECT_EQ(e.recipient_domain, "example.net");
  EXPECT_EQ(e.sender, "news@shop.example");
  EXPECT_EQ(e.reply.code, 550);
  EXPECT_EQ(e.reply.enhanced, (EnhancedCode{5, 1, 1}));
  EXPECT_EQ(e.reply.text, "user unknown");
  EXPECT_EQ(e.mx_host, "mx1.example.net");
  EXPECT_EQ(e.sending_ip, "192.0.2.10");
  EXPECT_EQ(e.campaign, "spring");
  EXPECT_EQ(e.tenant, "42");
  EXPECT_EQ(e.message_id, "q-1");
  EXPECT_EQ(e.attempt, 3);
}

TEST(JsonMappingTest, CodesFromTheTextWhenNotMapped) {
  JsonFieldMap m;
  m.text = "reply";
  Mapped p(m);
  ASSERT_EQ(p.Feed(R"({"type":"deferred","recipient":"a@b.com","timestamp":1700000000,)"
                   R"("reply":"smtp;421-4.7.0 [TSS04] Messages temporarily deferred"})"),
            "events:1");
  EXPECT_EQ(p.event().outcome, Outcome::kDeferred);
  EXPECT_EQ(p.event().event_time_ms, 1700000000000);
  EXPECT_EQ(p.event().reply.code, 421);
  EXPECT_EQ(p.event().reply.enhanced, (EnhancedCode{4, 7, 0}));
  EXPECT_EQ(p.event().reply.text, "[TSS04] Messages temporarily deferred");
  // Millisecond epochs are recognised by their size.
  ASSERT_EQ(p.Feed(R"({"type":"delivered","recipient":"a@b.com","timestamp":1700000000123})"), "events:1");
  EXPECT_EQ(p.event().event_time_ms, 1700000000123);
}

TEST(JsonMappingTest, OutcomeValues) {
  JsonFieldMap m;
  m.outcome_values = {{"ok", Outcome::kDelivered}, {"soft", Outcome::kDeferred}};
  Mapped custom(m);
  ASSERT_EQ(custom.Feed(R"({"type":"OK","recipient":"a@b.com","timestamp":1})"), "events:1");
  EXPECT_EQ(custom.event().outcome, Outcome::kDelivered);
  // Not listed: a record that is not a delivery (the built-in "delivered" is not used with a custom list).
  EXPECT_EQ(custom.Feed(R"({"type":"delivered","recipient":"a@b.com","timestamp":1})"), "skip:not_a_delivery_record");
  Mapped builtin(JsonFieldMap{});
  for (auto [value, outcome] : std::vector<std::pair<std::string, Outcome>>{
           {"Delivered", Outcome::kDelivered}, {"transientfailure", Outcome::kDeferred},
           {"hard_bounce", Outcome::kBounced}, {"expired", Outcome::kExpired}, {"dropped", Outcome::kRejected},
           {"spamreport", Outcome::kComplaint}, {"out_of_band", Outcome::kOutOfBand}}) {
    ASSERT_EQ(builtin.Feed(R"({"type":")" + value + R"(","recipient":"a@b.com","timestamp":1})"), "events:1") << value;
    EXPECT_EQ(builtin.event().outcome, outcome) << value;
  }
  EXPECT_EQ(builtin.Feed(R"({"type":"open","recipient":"a@b.com","timestamp":1})"), "skip:not_a_delivery_record");
}

TEST(JsonMappingTest, RecipientArraysAndBatches) {
  Mapped p(JsonFieldMap{});
  ASSERT_EQ(p.Feed(R"({"type":"bounced","recipient":["a@b.com","c@d.com"],"timestamp":1})"), "events:2");
  EXPECT_EQ(p.event(1).recipient, "c@d.com");
  EXPECT_EQ(p.event(1).recipient_domain, "d.com");
  ASSERT_EQ(p.Feed(R"([{"type":"bounced","recipient":"a@b.com","timestamp":1},)"
                   R"({"type":"open","recipient":"a@b.com","timestamp":1},)"
                   R"({"type":"sent","recipient":"e@f.com","timestamp":2}])"),
            "events:2");
  EXPECT_EQ(p.Feed(R"({"type":"bounced","recipient":[],"timestamp":1})"), "error:missing_field");
}

TEST(JsonMappingTest, Errors) {
  Mapped p(NestedMap());
  EXPECT_EQ(p.Feed(R"({"result":{"status":"bounced"},"envelope":{"to":"a@b.com"}})"), "error:missing_field");
  EXPECT_EQ(p.last().detail, "time");
  EXPECT_EQ(p.Feed(R"({"result":{"status":"bounced"},"ts":"noon","envelope":{"to":"a@b.com"}})"), "error:bad_timestamp");
  EXPECT_EQ(p.Feed(R"({"result":{"status":"bounced"},"ts":1})"), "error:missing_field");
  EXPECT_EQ(p.last().detail, "recipient");
  EXPECT_EQ(p.Feed(R"({"result":"bounced","ts":1,"envelope":{"to":"a@b.com"}})"), "error:missing_field");
  EXPECT_EQ(p.last().detail, "outcome");
  EXPECT_EQ(p.Feed(R"({"result":{"status":["bounced"]},"ts":1,"envelope":{"to":"a@b.com"}})"), "error:bad_field_type");
  EXPECT_EQ(p.Feed(R"({"result":{"status":"bounced","smtp":{"code":"5x0"}},"ts":1,"envelope":{"to":"a@b.com"}})"),
            "error:bad_field_type");
  EXPECT_EQ(p.last().detail, "code");
  EXPECT_EQ(p.Feed(R"({"result":{"status":"bounced","smtp":{"esc":"five"}},"ts":1,"envelope":{"to":"a@b.com"}})"),
            "error:bad_field_type");
  EXPECT_EQ(p.Feed(R"({"result":{"status":"bounced"},"ts":1,"envelope":{"to":"nobody"}})"), "error:bad_recipient");
  EXPECT_EQ(p.Feed(R"({"result":{"status":"bounced"},"ts":1,"envelope":{"to":"a@b.com"}} {})"), "error:invalid_json");
  // simdjson reports a root object not ending in '}' as cut short.
  EXPECT_EQ(p.Feed(R"({"result":{"status":"bounced"},"ts":1,"envelope":{"to":"a@b.com"}} [])"), "error:truncated_record");
  EXPECT_EQ(p.Feed(R"({"result":{"status":"bounced"},"ts":null,"envelope":{"to":"a@b.com"}})"), "error:missing_field");
  EXPECT_EQ(p.Feed(R"({"result":{"status":"bounced"},"ts":1,"envelope":{"to":"a@b.com")"), "error:truncated_record");
}

TEST(JsonMappingTest, Validation) {
  EXPECT_TRUE(ValidateJsonFieldMap(JsonFieldMap{}).ok());
  JsonFieldMap m;
  m.recipient = "";
  EXPECT_FALSE(ValidateJsonFieldMap(m).ok());
  m = {};
  m.code = "response..code";
  EXPECT_FALSE(ValidateJsonFieldMap(m).ok());
  m = {};
  m.outcome_values = {{"", Outcome::kBounced}};
  EXPECT_FALSE(ValidateJsonFieldMap(m).ok());
  m = {};
  m.outcome_values = {{"env", Outcome::kEnvelope}};
  EXPECT_FALSE(ValidateJsonFieldMap(m).ok());
  ParserOptions options;
  options.json.time = ".";
  EXPECT_FALSE(CreateParser(Format::kJsonMapping, options).ok());
}

// KumoMTA's records through a mapping (what a user without the dedicated parser would write). Records with
// no integer/ISO `timestamp` are dead-lettered: the mapping names one time field and the corpus's
// fragments lack it.
TEST(JsonMappingTest, KumoMtaCorpusThroughAMapping) {
  JsonFieldMap m;
  m.outcome_values = {{"Delivery", Outcome::kDelivered}, {"TransientFailure", Outcome::kDeferred},
                      {"Bounce", Outcome::kBounced},     {"Expiration", Outcome::kExpired},
                      {"Feedback", Outcome::kComplaint}, {"OOB", Outcome::kOutOfBand}};
  m.code = "response.code";
  m.text = "response.content";
  m.sender = "sender";
  m.message_id = "id";
  m.mx_host = "peer_address.name";
  m.mx_ip = "peer_address.addr";
  m.campaign = "queue";
  ParserOptions options;
  options.json = m;
  auto parser = CreateParser(Format::kJsonMapping, options);
  ASSERT_TRUE(parser.ok());
  std::string text = testing::ReadFileOrDie(testing::CorpusDir() + "/logs/kumomta.jsonl");
  auto lines = testing::SplitLines(text);
  ASSERT_EQ(lines.size(), 20u);
  std::vector<std::string> expected(20, "error:missing_field");
  for (int i : {0, 1, 2, 3, 6, 15}) expected[i] = "skip:not_a_delivery_record";  // Reception, Delayed
  for (int i : {4, 8, 18}) expected[i] = "events:1";
  auto fates = testing::ParseAll(**parser, lines, "kumomta.jsonl",
                                 [&](size_t i, const ParseResult&, const std::vector<DeliveryEvent>& events) {
                                   if (i == 4) {
                                     ASSERT_EQ(events.size(), 1u);
                                     EXPECT_EQ(events[0].reply.code, 250);
                                     EXPECT_EQ(events[0].mx_host, "gmail-smtp-in.l.google.com.");
                                     EXPECT_EQ(events[0].campaign, "campaign:tenant@domain");
                                     EXPECT_EQ(events[0].event_time_ms, 1678069691000);
                                   }
                                 });
  EXPECT_EQ(fates, expected);
}

}  // namespace
}  // namespace bs
