// The KumoMTA fast scanner against the On-Demand walk: both paths must give the same answer (every event
// field, skip reason, error and detail) on the corpus, on generated logs and on seeded mutations of them;
// and the scanner must take the common shape and bail out on the shapes it leaves to the slow path.
#include "parsers/kumomta_fast.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bench/loadgen/generator.h"
#include "gtest/gtest.h"
#include "parsers/kumomta.h"
#include "pipeline/base/event_time.h"
#include "tests/parsers/parser_test_util.h"
#include "tests/testing/paths.h"

namespace bs {
namespace {

using testing::ParsePadded;

std::string Describe(const DeliveryEvent& e) {
  std::string s;
  auto add = [&s](std::string_view name, std::string_view v) {
    s += name;
    s += '=';
    s += v;
    s += ' ';
  };
  add("time", std::to_string(e.event_time_ms));
  add("outcome", OutcomeName(e.outcome));
  add("rcpt", e.recipient);
  add("rcpt_domain", e.recipient_domain);
  add("sender", e.sender);
  add("sender_domain", e.sender_domain);
  add("id", e.message_id);
  add("campaign", e.campaign);
  add("tenant", e.tenant);
  add("ip", e.sending_ip);
  add("source", e.egress_source);
  add("pool", e.egress_pool);
  add("mta", e.mta_host);
  add("mx", e.mx_host);
  add("mx_ip", e.mx_ip);
  add("stage", SmtpStageName(e.stage));
  add("code", std::to_string(e.reply.code));
  add("esc", std::to_string(e.reply.enhanced.cls) + "." + std::to_string(e.reply.enhanced.subject) + "." +
                 std::to_string(e.reply.enhanced.detail));
  add("text", e.reply.text);
  add("attempt", std::to_string(e.attempt));
  add("local", e.locally_generated ? "1" : "0");
  add("removed", e.envelope_removed ? "1" : "0");
  add("esp", testing::EspKey(e.esp_class));
  add("pos", e.position.ToString());
  return s;
}

// Everything a parser says about one record, as one string.
std::string Summary(const ParseResult& r, const std::vector<DeliveryEvent>& events) {
  std::string s = testing::Fate(r, events.size());
  s += " detail=";
  s += r.detail;
  for (const DeliveryEvent& e : events) s += "\n  " + Describe(e);
  return s;
}

class KumoMtaFastTest : public ::testing::Test {
 protected:
  // Both paths on `record`; returns their outcomes (fast path's first).
  std::pair<std::string, std::string> Both(std::string_view record) {
    std::vector<DeliveryEvent> fast_events, slow_events;
    const Position pos{"t", 7, 3};
    ParseResult rf = ParsePadded(*fast_, record, fast_events, fast_storage_, pos);
    ParseResult rs = ParsePadded(*slow_, record, slow_events, slow_storage_, pos);
    return {Summary(rf, fast_events), Summary(rs, slow_events)};
  }

  // Asserts identical outcomes; returns whether the fast scanner took the record (did not bail).
  bool ExpectSame(std::string_view record) {
    auto [fast, slow] = Both(record);
    EXPECT_EQ(fast, slow) << "record: " << record;
    return Scanned(record);
  }

  bool Scanned(std::string_view record) {
    std::string padded(record);
    padded.append(kRecordPadding, '\0');
    kumomta::FastScanner::Scan scan;
    DeliveryEvent e;
    return scanner_.Run(std::string_view(padded.data(), record.size()), scan, e);
  }

  std::unique_ptr<Parser> fast_ = NewKumoMtaParser({}, KumoMtaPath::kFastWithFallback);
  std::unique_ptr<Parser> slow_ = NewKumoMtaParser({}, KumoMtaPath::kOnDemandOnly);
  kumomta::FastScanner scanner_;
  std::string fast_storage_, slow_storage_;
};

// A record of the common shape, as kumod writes it.
const char kBounce[] =
    R"({"type":"Bounce","id":"1d98076abbbc11ed940250ebf67f93bd","sender":"b@news.example.com","recipient":"u@gmail.com",)"
    R"("queue":"spring:acme@gmail.com!gmail.com","site":"s->(alt1|alt2)?.gmail-smtp-in.l.google.com.","size":1047,)"
    R"("response":{"code":550,"enhanced_code":{"class":5,"subject":1,"detail":1},"content":"The email account does not exist","command":"RCPT TO:<u@gmail.com>\r\n"},)"
    R"("peer_address":{"name":"gmail-smtp-in.l.google.com.","addr":"142.250.1.1"},"timestamp":1793606400,"created":1793606390,)"
    R"("num_attempts":2,"bounce_classification":"InvalidRecipient","egress_pool":"p","egress_source":"s1",)"
    R"("source_address":{"address":"203.0.113.7:4555"},"feedback_report":null,"meta":{"tenant":"t9"},"headers":{"Subject":"hi"},)"
    R"("delivery_protocol":"ESMTP","reception_protocol":"ESMTP","nodeid":"5b7e2c1a-9d3f-4e8b-a1c2-7f6e5d4c3b2a",)"
    R"("event_time":"2026-11-02T08:00:00.123456789Z"})";

std::string Replace(std::string s, std::string_view from, std::string_view to) {
  size_t at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) s.replace(at, from.size(), to);
  return s;
}

TEST_F(KumoMtaFastTest, CommonShapeIsScannedWithEveryField) {
  EXPECT_TRUE(ExpectSame(kBounce));
  std::vector<DeliveryEvent> events;
  ASSERT_TRUE(ParsePadded(*fast_, kBounce, events, fast_storage_).ok());
  ASSERT_EQ(events.size(), 1u);
  const DeliveryEvent& e = events[0];
  EXPECT_EQ(e.outcome, Outcome::kBounced);
  EXPECT_EQ(e.recipient_domain, "gmail.com");
  EXPECT_EQ(e.sender_domain, "news.example.com");
  EXPECT_EQ(e.message_id, "1d98076abbbc11ed940250ebf67f93bd");
  EXPECT_EQ(e.campaign, "spring");
  EXPECT_EQ(e.tenant, "t9");  // meta wins over the queue
  EXPECT_EQ(e.reply.enhanced, (EnhancedCode{5, 1, 1}));
  EXPECT_EQ(e.stage, SmtpStage::kRcpt);
  EXPECT_EQ(e.sending_ip, "203.0.113.7");
  EXPECT_EQ(e.mx_host, "gmail-smtp-in.l.google.com.");
  EXPECT_EQ(e.attempt, 2);
  EXPECT_EQ(e.event_time_ms, 1793606400123);
  // The views point into the record, not into a copy.
  EXPECT_GE(e.recipient.data(), fast_storage_.data());
  EXPECT_LT(e.recipient.data(), fast_storage_.data() + fast_storage_.size());
}

TEST_F(KumoMtaFastTest, ShortEscapesAreDecodedUnicodeEscapesBailOut) {
  std::string r = Replace(kBounce, "does not exist", R"(said \"no\"\t\\\/\b\f\n\r)");
  EXPECT_TRUE(ExpectSame(r));
  std::vector<DeliveryEvent> events;
  ASSERT_TRUE(ParsePadded(*fast_, r, events, fast_storage_).ok());
  EXPECT_EQ(events[0].reply.text, "The email account said \"no\"\t\\/\b\f\n\r");
  EXPECT_EQ(events[0].stage, SmtpStage::kRcpt);  // "RCPT TO:<...>\r\n", escaped in kBounce
  r = Replace(kBounce, "does not exist", R"(said \"no\" \u00e9)");
  EXPECT_FALSE(ExpectSame(r));
  events.clear();
  ASSERT_TRUE(ParsePadded(*fast_, r, events, fast_storage_).ok());
  EXPECT_EQ(events[0].reply.text, "The email account said \"no\" \xc3\xa9");
  EXPECT_FALSE(ExpectSame(Replace(kBounce, "does not exist", R"(bad \q escape)")));
  // An escaped key is never one of ours, in either path.
  EXPECT_TRUE(ExpectSame(Replace(kBounce, R"("egress_pool")", R"("egress_p\u006fol")")));
}

TEST_F(KumoMtaFastTest, EscapesInSkippedValuesAreScanned) {
  EXPECT_TRUE(ExpectSame(Replace(kBounce, R"("Subject":"hi")", R"("Subject":"a \"quoted\" \\ word\\")")));
  // Invalid escapes in a value nobody reads: simdjson skips it unchecked, and so do we.
  EXPECT_TRUE(ExpectSame(Replace(kBounce, R"("Subject":"hi")", R"("Subject":"\q\x")")));
}

TEST_F(KumoMtaFastTest, BracesAndQuotesInsideStrings) {
  EXPECT_TRUE(ExpectSame(Replace(kBounce, R"("Subject":"hi")", R"("Subject":"} { ] [ : , \" }}","X":[{"a":"}"}])")));
  EXPECT_TRUE(ExpectSame(Replace(kBounce, R"("tenant":"t9")", R"("tenant":"t}9{")")));
  EXPECT_TRUE(ExpectSame(Replace(kBounce, "does not exist", "does not exist }, \\\"code\\\": 250")));
}

TEST_F(KumoMtaFastTest, RecipientArrayBailsOut) {
  std::string r = Replace(kBounce, R"("recipient":"u@gmail.com")", R"("recipient":["a@x.com","b@y.com"])");
  EXPECT_FALSE(ExpectSame(r));
  std::vector<DeliveryEvent> events;
  ASSERT_TRUE(ParsePadded(*fast_, r, events, fast_storage_).ok());
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].recipient_domain, "y.com");
}

TEST_F(KumoMtaFastTest, EnhancedCodeObjectOrNull) {
  std::string with_null = Replace(kBounce, R"({"class":5,"subject":1,"detail":1})", "null");
  EXPECT_TRUE(ExpectSame(with_null));
  std::vector<DeliveryEvent> events;
  ASSERT_TRUE(ParsePadded(*fast_, with_null, events, fast_storage_).ok());
  EXPECT_FALSE(events[0].reply.enhanced.present());
  // Outside the classes 2/4/5: absent, as in the slow path; every member is still checked.
  EXPECT_TRUE(ExpectSame(Replace(kBounce, R"("class":5)", R"("class":7)")));
  EXPECT_TRUE(ExpectSame(Replace(kBounce, R"("detail":1})", R"("detail":1,"extra":3})")));
  EXPECT_FALSE(ExpectSame(Replace(kBounce, R"("detail":1})", R"("detail":1,"extra":null})")));
  EXPECT_FALSE(ExpectSame(Replace(kBounce, R"("detail":1})", R"("detail":1000})")));
  EXPECT_FALSE(ExpectSame(Replace(kBounce, R"({"class":5,"subject":1,"detail":1})", R"("5.1.1")")));
}

TEST_F(KumoMtaFastTest, TimestampIntegerOrRfc3339) {
  std::string no_event_time = Replace(kBounce, R"(,"event_time":"2026-11-02T08:00:00.123456789Z")", "");
  EXPECT_TRUE(ExpectSame(no_event_time));
  std::vector<DeliveryEvent> events;
  ASSERT_TRUE(ParsePadded(*fast_, no_event_time, events, fast_storage_).ok());
  EXPECT_EQ(events[0].event_time_ms, 1793606400000);
  // A shipper's RFC 3339 string in "timestamp": seconds of it.
  std::string iso = Replace(no_event_time, "1793606400", R"("2026-11-02T08:00:01.900Z")");
  EXPECT_TRUE(ExpectSame(iso));
  events.clear();
  ASSERT_TRUE(ParsePadded(*fast_, iso, events, fast_storage_).ok());
  EXPECT_EQ(events[0].event_time_ms, 1793606401000);
  // event_time wins, but a bad timestamp is still an error; both left to the slow path.
  EXPECT_FALSE(ExpectSame(Replace(kBounce, "1793606400", R"("noon")")));
  EXPECT_FALSE(ExpectSame(Replace(kBounce, "1793606400", "-5")));
  EXPECT_FALSE(ExpectSame(Replace(kBounce, "1793606400", "1793606400.5")));
  EXPECT_FALSE(ExpectSame(Replace(kBounce, "1793606400", "1793606400123456789012")));
  EXPECT_TRUE(ExpectSame(Replace(kBounce, "1793606400", "null")));
  EXPECT_TRUE(ExpectSame(Replace(no_event_time, "1793606400", "null")));  // scanned, then missing_field
}

TEST_F(KumoMtaFastTest, UnusualJsonBailsOut) {
  EXPECT_FALSE(ExpectSame(Replace(kBounce, R"("id":)", R"("type":"Delivery","id":)")));  // duplicate key
  EXPECT_FALSE(ExpectSame(std::string(kBounce) + " x"));                                 // trailing bytes
  EXPECT_FALSE(ExpectSame(std::string(kBounce) + "}"));
  EXPECT_FALSE(ExpectSame(Replace(kBounce, "\"hi\"", "\"h\ti\"")));                   // control byte
  EXPECT_FALSE(ExpectSame(Replace(kBounce, "\"hi\"", "\"h\xffi\"")));                 // invalid UTF-8
  EXPECT_TRUE(ExpectSame(Replace(kBounce, "\"hi\"", "\"h\xc3\xa9llo\"")));            // valid UTF-8
  EXPECT_FALSE(ExpectSame(Replace(kBounce, "\"size\":1047", "\"size\":1047abc")));    // not a number
  EXPECT_FALSE(ExpectSame(Replace(kBounce, "\"size\":1047", "\"size\":01047")));
  EXPECT_TRUE(ExpectSame(Replace(kBounce, "\"size\":1047", "\"size\":-1.5e+3")));
  EXPECT_TRUE(ExpectSame(Replace(kBounce, "\"size\":1047", "\"size\" : [ true , false , null , {} ]")));
  EXPECT_FALSE(ExpectSame(Replace(kBounce, "\"size\":1047", "\"size\":tru")));
  EXPECT_FALSE(ExpectSame(Replace(kBounce, "\"size\":1047", "\"size\":" + std::string(40, '[') + std::string(40, ']'))));
  EXPECT_FALSE(ExpectSame(Replace(kBounce, "\"code\":550", "\"code\":\"550\"")));
  EXPECT_FALSE(ExpectSame(Replace(kBounce, "\"code\":550", "\"code\":1550")));
  EXPECT_FALSE(ExpectSame(Replace(kBounce, R"("name":"gmail-smtp-in.l.google.com.")", R"("name":null)")));
  EXPECT_TRUE(ExpectSame(Replace(kBounce, R"("tenant":"t9")", R"("tenant":17,"campaign":{"x":1})")));
  EXPECT_TRUE(ExpectSame(std::string("  ") + kBounce + "  "));
  std::string big = Replace(kBounce, "\"hi\"", "\"" + std::string(kumomta::FastScanner::kMaxBytes, 'h') + "\"");
  EXPECT_FALSE(ExpectSame(big));
}

TEST_F(KumoMtaFastTest, SkipsAndErrorsMatch) {
  EXPECT_TRUE(ExpectSame(Replace(kBounce, R"("type":"Bounce")", R"("type":"Reception")")));
  EXPECT_TRUE(ExpectSame(Replace(kBounce, R"("type":"Bounce")", R"("type":"Martian")")));
  EXPECT_TRUE(ExpectSame(Replace(kBounce, R"("recipient":"u@gmail.com",)", "")));
  EXPECT_TRUE(ExpectSame(Replace(kBounce, R"("type":"Bounce","id")", R"("type":"Expiration","id")")));
  EXPECT_TRUE(ExpectSame(Replace(kBounce, "The email account", "KumoMTA internal: the email account")));
  EXPECT_FALSE(ExpectSame(std::string(kBounce).substr(0, 300)));  // truncated
}

// The scanner reads some bytes past the record unchecked (a ':' after a key, the ',' or '}' after a value):
// the padding is only promised readable, not zero. Records cut at every byte, followed by exactly
// kRecordPadding bytes of structural characters (in a buffer of their own, so that ASan sees a read past
// the padding), must bail or agree with the slow path, and never take the padding for the record's end.
TEST_F(KumoMtaFastTest, PaddingThatLooksLikeJsonIsNeverRead) {
  const std::string nested = Replace(kBounce, R"("Subject":"hi")", R"("X":{"a":{"b":{"c":{"d":1}}}})");
  for (const std::string& full : {std::string(kBounce), nested}) {
    for (std::string_view pad : {"}", ",", ":", "}]", "\"1\"", "},", "1", "null,"}) {
      for (size_t cut = 1; cut < full.size(); ++cut) {
        auto buffer = std::make_unique<char[]>(cut + kRecordPadding);
        std::memcpy(buffer.get(), full.data(), cut);
        for (size_t k = 0; k < kRecordPadding; ++k) buffer[cut + k] = pad[k % pad.size()];
        const std::string_view record(buffer.get(), cut);
        kumomta::FastScanner::Scan scan;
        DeliveryEvent e;
        EXPECT_FALSE(scanner_.Run(record, scan, e)) << "cut " << cut << " pad " << pad;
        std::vector<DeliveryEvent> fast_events, slow_events;
        const ParseResult rf = fast_->Parse(record, Position{}, fast_events);
        const ParseResult rs = slow_->Parse(record, Position{}, slow_events);
        EXPECT_EQ(Summary(rf, fast_events), Summary(rs, slow_events)) << "cut " << cut << " pad " << pad;
      }
    }
  }
}

// A backslash run ending at every position of a 64-byte block, and a quote right after it.
TEST_F(KumoMtaFastTest, EscapesAcrossBlockBoundaries) {
  for (size_t pad = 0; pad < 140; ++pad) {
    for (std::string_view tail : {R"(\"x)", R"(\\)", R"(\\\"\\)", R"(\\\\\")"}) {
      std::string subject = std::string(pad, 'a') + std::string(tail);
      std::string r = Replace(kBounce, R"("Subject":"hi")", "\"Subject\":\"" + subject + "\"");
      EXPECT_TRUE(ExpectSame(r)) << pad;
    }
  }
}

TEST_F(KumoMtaFastTest, CorpusFilesBothPathsAgree) {
  int files = 0, records = 0;
  for (const auto& entry : std::filesystem::directory_iterator(testing::CorpusDir() + "/logs")) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("kumomta", 0) != 0 || entry.path().extension() != ".jsonl") continue;
    ++files;
    std::string text = testing::ReadFileOrDie(entry.path().string());
    for (std::string_view line : testing::SplitLines(text)) {
      ExpectSame(line);
      ++records;
    }
  }
  EXPECT_GE(files, 1);
  EXPECT_GE(records, 20);
}

std::vector<std::string> GeneratedRecords(uint64_t seed, uint64_t n) {
  loadgen::GeneratorOptions o;
  o.records = n;
  o.seed = seed;
  o.extra_incidents = true;
  std::string text;
  loadgen::Generate(o, text);
  std::vector<std::string> out;
  for (std::string_view line : testing::SplitLines(text)) out.emplace_back(line);
  return out;
}

TEST_F(KumoMtaFastTest, GeneratedLogsBothPathsAgree) {
  size_t total = 0, scanned = 0;
  for (uint64_t seed : {1, 2, 3}) {
    for (const std::string& r : GeneratedRecords(seed, 4000)) {
      scanned += ExpectSame(r) ? 1 : 0;
      ++total;
    }
  }
  // The generator's malformed records and escaped reply texts go to the slow path; nearly all else not.
  EXPECT_GT(static_cast<double>(scanned), 0.9 * static_cast<double>(total)) << scanned << "/" << total;
}

// splitmix64: the same sequence everywhere.
struct Rng {
  uint64_t s;
  uint64_t Next() {
    uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  size_t Below(size_t n) { return n == 0 ? 0 : static_cast<size_t>(Next() % n); }
};

std::string Mutate(std::string r, Rng& rng) {
  static constexpr std::string_view kBytes = "\"\\{}[]:, 0159-.eEnulltruefalse\x01\x7f\x80\xc3\xa9\xff";
  const int edits = 1 + static_cast<int>(rng.Below(3));
  for (int k = 0; k < edits && !r.empty(); ++k) {
    const size_t at = rng.Below(r.size());
    switch (rng.Below(7)) {
      case 0: r[at] = kBytes[rng.Below(kBytes.size())]; break;
      case 1: r[at] = static_cast<char>(rng.Next()); break;
      case 2: r.erase(at, 1); break;
      case 3: r.insert(at, 1, kBytes[rng.Below(kBytes.size())]); break;
      case 4: r.resize(at); break;
      case 5: {  // a copy of a slice elsewhere: duplicate keys, nested objects
        const size_t len = 1 + rng.Below(std::min<size_t>(40, r.size() - at));
        const std::string slice = r.substr(at, len);
        r.insert(rng.Below(r.size() + 1), slice);
        break;
      }
      default: {  // a value of another type in place of a digit run or a string
        static constexpr std::string_view kValues[] = {"null", "\"550\"", "[\"a@b.c\"]", "{}", "-1", "1e3", "true"};
        const size_t colon = r.find(':', at);
        if (colon == std::string::npos) break;
        size_t end = colon + 1;
        if (end < r.size() && r[end] == '"') {
          end = r.find('"', end + 1);
          end = end == std::string::npos ? r.size() : end + 1;
        } else {
          end = r.find_first_of(",}", end);
          if (end == std::string::npos) end = r.size();
        }
        r.replace(colon + 1, end - colon - 1, kValues[rng.Below(std::size(kValues))]);
        break;
      }
    }
  }
  return r;
}

// Every record type kumod writes, and near misses (case, length, one byte off) that are unknown.
TEST(KumoMtaFieldsTest, TypeFromNameKnowsEveryKumodType) {
  using kumomta::RecordType;
  const std::pair<std::string_view, RecordType> known[] = {
      {"Delivery", RecordType::kDelivery},       {"TransientFailure", RecordType::kTransient},
      {"Bounce", RecordType::kBounce},           {"Expiration", RecordType::kExpiration},
      {"AdminBounce", RecordType::kAdminBounce}, {"OOB", RecordType::kOob},
      {"Feedback", RecordType::kFeedback},       {"Reception", RecordType::kSkip},
      {"Rejection", RecordType::kSkip},          {"AdminRebind", RecordType::kSkip},
      {"DeferredInjectionRebind", RecordType::kSkip}, {"Delayed", RecordType::kSkip},
      {"XferOut", RecordType::kSkip},            {"XferIn", RecordType::kSkip},
  };
  for (const auto& [name, type] : known) {
    EXPECT_EQ(kumomta::TypeFromName(name), type) << name;
    std::string upper(name);
    for (char& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    if (upper != name) {
      EXPECT_EQ(kumomta::TypeFromName(upper), RecordType::kUnknown) << upper;
    }
    EXPECT_EQ(kumomta::TypeFromName(std::string(name) + "s"), RecordType::kUnknown) << name;
    EXPECT_EQ(kumomta::TypeFromName(name.substr(0, name.size() - 1)), RecordType::kUnknown) << name;
    std::string off(name);
    off.back() = static_cast<char>(off.back() + 1);
    EXPECT_EQ(kumomta::TypeFromName(off), RecordType::kUnknown) << off;
  }
  EXPECT_EQ(kumomta::TypeFromName(""), RecordType::kUnknown);
}

// The fast path reads event_time with CanonicalIsoTimeMs: whenever it gives a time, ParseIsoTime (the slow
// path's reading) must give the same one.
TEST(CanonicalIsoTimeTest, AgreesWithParseIsoTime) {
  Rng rng{99};
  int canonical = 0;
  for (int k = 0; k < 200000; ++k) {
    const int64_t ms = static_cast<int64_t>(rng.Below(uint64_t{4102444800000}));  // 1970 .. 2100
    std::string s = FormatIsoTimeMs(ms);  // ...SS.mmmZ
    switch (rng.Below(6)) {
      case 0: s.insert(s.size() - 1, std::to_string(rng.Below(1000000))); break;  // ns digits
      case 1: s.erase(19, 4); break;                                              // no fraction
      case 2: s[rng.Below(s.size())] = "0123456789-:TZ.+ ,tz/;?@`\x7f\xb0"[rng.Below(27)]; break;
      case 3: s.erase(rng.Below(s.size()), 1); break;
      case 4: s.replace(s.size() - 1, 1, "+02:00"); break;
      default: break;
    }
    std::optional<int64_t> fast = kumomta::CanonicalIsoTimeMs(s);
    if (!fast) continue;
    ++canonical;
    std::optional<int64_t> slow = ParseIsoTime(s);
    ASSERT_TRUE(slow.has_value()) << s;
    ASSERT_EQ(*fast, *slow) << s;
  }
  EXPECT_GT(canonical, 50000);
  EXPECT_EQ(kumomta::CanonicalIsoTimeMs("2026-11-02T08:00:00.987654321Z"), 1793606400987);
  EXPECT_EQ(kumomta::CanonicalIsoTimeMs("2026-11-02T08:00:00Z"), 1793606400000);
  EXPECT_FALSE(kumomta::CanonicalIsoTimeMs("2026-11-02T08:00:00.Z").has_value());
  EXPECT_FALSE(kumomta::CanonicalIsoTimeMs("2026-11-02 08:00:00Z").has_value());  // ParseIsoTime's to judge
  EXPECT_FALSE(kumomta::CanonicalIsoTimeMs("2026-13-02T08:00:00Z").has_value());
}

// Everything one scanner's Run gives for a record, as one string.
std::string ScanSummary(kumomta::FastScanner& scanner, std::string_view record) {
  std::string padded(record);
  padded.append(kRecordPadding, '\0');
  kumomta::FastScanner::Scan scan;
  DeliveryEvent e;
  if (!scanner.Run(std::string_view(padded.data(), record.size()), scan, e)) return "bail";
  const kumomta::RecordFields& f = scan.fields;
  std::string s = "type=" + std::string(f.type_name) + " event_time=" + std::string(f.event_time) +
                  " queue=" + std::string(f.queue) + " ts=" + std::to_string(f.timestamp_s) +
                  " response=" + std::to_string(f.have_response) +
                  " ms=" + (f.event_time_ms ? std::to_string(*f.event_time_ms) : "-") +
                  " rcpt=" + std::string(scan.recipient) + " rcpt_domain=" + std::string(scan.recipient_domain) +
                  " has_rcpt=" + std::to_string(scan.has_recipient) + " ";
  return s + Describe(e);
}

// The AVX-512 listing of the quotes (used when the CPU has it, so by the parser tests above on such a
// machine) and the build's own listing give the same scans: on generated and mutated records, on escapes
// across block boundaries, and on blocks with more than 16 and 32 quotes (the listing's extra steps).
TEST(KumoMtaWideListingTest, SameScansAsTheNarrowListing) {
  kumomta::FastScanner narrow(false), wide(true);
  EXPECT_FALSE(narrow.wide());
  if (!kumomta::FastScanner::WideAvailable()) GTEST_SKIP() << "no AVX-512 VBMI2 on this CPU";
  ASSERT_TRUE(wide.wide());
  std::vector<std::string> records = GeneratedRecords(5, 2000);
  records.push_back(kBounce);
  for (size_t quotes : {8, 17, 30, 40, 200}) {
    std::string dense = "[";
    for (size_t k = 0; k < quotes; ++k) dense += k == 0 ? "\"\"" : ",\"\"";
    records.push_back(Replace(kBounce, R"("Subject":"hi")", "\"Subject\":" + dense + "]"));
    std::string keys = "{";
    for (size_t k = 0; k < quotes; ++k) keys += k == 0 ? "\"\":\"\"" : ",\"\":\"\"";
    records.push_back(Replace(kBounce, R"("Subject":"hi")", "\"Subject\":" + keys + "}"));
  }
  for (size_t pad = 0; pad < 140; ++pad) {
    records.push_back(Replace(kBounce, R"("Subject":"hi")", "\"Subject\":\"" + std::string(pad, 'a') + R"(\\\"\\")" + "\""));
  }
  Rng rng{4242};
  const size_t originals = records.size();
  for (int round = 0; round < 5; ++round) {
    for (size_t k = 0; k < originals; ++k) records.push_back(Mutate(records[k], rng));
  }
  size_t scanned = 0;
  for (const std::string& r : records) {
    const std::string a = ScanSummary(narrow, r), b = ScanSummary(wide, r);
    ASSERT_EQ(a, b) << "record: " << r;
    scanned += a != "bail" ? 1 : 0;
  }
  EXPECT_GT(scanned, records.size() / 4);
  EXPECT_LT(scanned, records.size());
}

TEST_F(KumoMtaFastTest, MutatedRecordsBothPathsAgree) {
  std::vector<std::string> bases = GeneratedRecords(7, 300);
  bases.push_back(kBounce);
  std::string text = testing::ReadFileOrDie(testing::CorpusDir() + "/logs/kumomta.jsonl");
  for (std::string_view line : testing::SplitLines(text)) bases.emplace_back(line);
  Rng rng{20261130};
  size_t scanned = 0, total = 0;
  for (int round = 0; round < 60; ++round) {
    for (const std::string& base : bases) {
      std::string m = Mutate(base, rng);
      auto [fast, slow] = Both(m);
      ASSERT_EQ(fast, slow) << "round " << round << " record: " << m;
      scanned += Scanned(m) ? 1 : 0;
      ++total;
    }
  }
  // The mutations must exercise both the scanner and its bail-outs.
  EXPECT_GT(scanned, total / 10);
  EXPECT_LT(scanned, total - total / 10);
}

}  // namespace
}  // namespace bs
