// Tests of the output encoders with [privacy] hash_addresses: the keyed hash is standard HMAC-SHA256 of
// the lower-cased address (so users can compute it), the same key gives the same value and another key
// another, "@domain" keys stay in clear, and no raw address is left in any output line.
#include "pipeline/sink/encoders.h"

#include <string>

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"
#include "pipeline/base/address_hash.h"
#include "simdjson.h"

namespace bs {
namespace {

constexpr std::string_view kAddr = "anna.2320@gmail.com";

bool IsHex64(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// The string value of a top-level or nested field ("reply.text"), parsed back from the line.
std::string Field(const std::string& line, std::string_view pointer) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  EXPECT_EQ(parser.parse(line).get(doc), simdjson::SUCCESS) << line;
  std::string_view v;
  if (doc.at_pointer(pointer).get(v) != simdjson::SUCCESS) return "<missing>";
  return std::string(v);
}

TEST(AddressHasherTest, IsHmacSha256OfTheLowerCasedAddress) {
  // RFC 4231, test case 2: HMAC-SHA256("Jefe", "what do ya want for nothing?").
  EXPECT_EQ(AddressHasher("Jefe").Hash("what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  AddressHasher h("k1");
  EXPECT_TRUE(IsHex64(h.Hash(kAddr)));
  EXPECT_EQ(h.Hash("Anna.2320@GMAIL.com"), h.Hash(kAddr)) << "lower-cased first";
  EXPECT_EQ(h.Hash(kAddr), AddressHasher("k1").Hash(kAddr)) << "same key, same value";
  EXPECT_NE(h.Hash(kAddr), AddressHasher("k2").Hash(kAddr)) << "another key, another value";
  EXPECT_NE(h.Hash(kAddr), h.Hash("anna.2321@gmail.com"));
  EXPECT_EQ(h.Key("@oldbrand.example"), "@oldbrand.example") << "domain keys stay in clear";
  EXPECT_EQ(h.Key(kAddr), h.Hash(kAddr));
  EXPECT_EQ(AddressHasher().Hash(kAddr), kAddr) << "off: unchanged";
}

TEST(AddressHasherTest, RedactsEveryAddressInText) {
  AddressHasher h("k1");
  const std::string hash = h.Hash(kAddr);
  EXPECT_EQ(h.Redact("550 5.1.1 <anna.2320@gmail.com>: Recipient address rejected"),
            "550 5.1.1 <addr:" + hash + ">: Recipient address rejected");
  EXPECT_EQ(h.Redact("mail to Anna.2320@gmail.com."), "mail to addr:" + hash + ".") << "sentence dot kept";
  EXPECT_EQ(h.Redact("a@b.example and c@d.example"),
            "addr:" + h.Hash("a@b.example") + " and addr:" + h.Hash("c@d.example"));
  EXPECT_EQ(h.Redact("no address @ here, nor @domain.example"), "no address @ here, nor @domain.example");
  EXPECT_EQ(AddressHasher().Redact("x a@b.example"), "x a@b.example");
}

SuppressionRecord Suppression(std::string key) {
  SuppressionRecord r;
  r.key = std::move(key);
  r.code = 550;
  r.text = "5.1.1 The email account that you tried to reach does not exist: anna.2320@gmail.com";
  r.campaign = "autumn-sale";
  r.rule = "gmail.no_such_user";
  r.evidence.push_back({"samples/postfix.log.zst:12", 1793606400000});
  return r;
}

TEST(EncodersPrivacyTest, SuppressionKeyIdAndTextAreHashed) {
  const AddressHasher h("k1");
  const SuppressionRecord r = Suppression(std::string(kAddr));
  std::string plain, hashed, hashed2, other;
  EncodeSuppression(r, plain);
  EncodeSuppression(r, hashed, &h);
  EncodeSuppression(r, hashed2, &h);
  const AddressHasher h2("k2");
  EncodeSuppression(r, other, &h2);
  EXPECT_NE(plain.find(kAddr), std::string::npos) << "off by default";
  EXPECT_EQ(hashed.find(kAddr), std::string::npos) << hashed;
  EXPECT_EQ(hashed.find("anna"), std::string::npos) << hashed;
  EXPECT_EQ(Field(hashed, "/key"), h.Hash(kAddr));
  EXPECT_EQ(Field(hashed, "/id"), SuppressionId(r, h.Hash(kAddr)));
  EXPECT_NE(Field(hashed, "/id"), Field(plain, "/id")) << "the id must not be an unkeyed hash of the address";
  EXPECT_EQ(Field(hashed, "/reply/text"),
            "5.1.1 The email account that you tried to reach does not exist: addr:" + h.Hash(kAddr));
  EXPECT_EQ(hashed, hashed2) << "deterministic";
  EXPECT_NE(Field(other, "/key"), Field(hashed, "/key"));
  // A domain suppression keeps its domain.
  std::string domain;
  EncodeSuppression(Suppression("@oldbrand.example"), domain, &h);
  EXPECT_EQ(Field(domain, "/key"), "@oldbrand.example");
  std::string domain_plain;
  EncodeSuppression(Suppression("@oldbrand.example"), domain_plain);
  EXPECT_EQ(Field(domain, "/id"), Field(domain_plain, "/id"));
  // A disabled hasher is the same as none.
  std::string off;
  const AddressHasher none;
  EncodeSuppression(r, off, &none);
  EXPECT_EQ(off, plain);
}

TEST(EncodersPrivacyTest, ClassifiedRecipientSenderAndTextAreHashed) {
  const AddressHasher h("k1");
  ClassifiedEvent ce;
  ce.event.event_time_ms = 1793606400000;
  ce.event.outcome = Outcome::kBounced;
  ce.event.recipient = kAddr;
  ce.event.sender = "bounces+anna.2320=gmail.com@news.example.com";
  ce.event.reply.text = "550 5.1.1 <anna.2320@gmail.com>: user unknown";
  ce.event.sending_ip = "198.51.100.21";
  std::string line;
  EncodeClassified(ce, "v1", line, &h);
  EXPECT_EQ(line.find("anna"), std::string::npos) << line;
  EXPECT_EQ(Field(line, "/recipient"), h.Hash(kAddr));
  EXPECT_EQ(Field(line, "/sender"), h.Hash(ce.event.sender));
  EXPECT_EQ(Field(line, "/reply/text"), "550 5.1.1 <addr:" + h.Hash(kAddr) + ">: user unknown");
  EXPECT_EQ(Field(line, "/sending_ip"), "198.51.100.21");
}

TEST(EncodersPrivacyTest, AlertSamplesAreRedacted) {
  const AddressHasher h("k1");
  AlertRecord a;
  a.id = "0123456789abcdef";
  a.key.sending_ip = "198.51.100.21";
  a.samples = {"421 4.7.28 rate limited", "550 5.7.1 message to anna.2320@gmail.com refused"};
  std::string line;
  EncodeAlert(a, line, &h);
  EXPECT_EQ(line.find(kAddr), std::string::npos) << line;
  EXPECT_NE(line.find("421 4.7.28 rate limited"), std::string::npos);
  EXPECT_NE(line.find("addr:" + h.Hash(kAddr)), std::string::npos);
  EXPECT_NE(line.find("198.51.100.21"), std::string::npos) << "alert keys are not addresses";
}

TEST(EncodersPrivacyTest, DeadLetterRecordsAreRedactedAndMarked) {
  const AddressHasher h("k1");
  DeadLetter d;
  d.error = ParseError::kMissingField;
  d.position.source = "in.log";
  d.position.offset = 7;
  const std::string raw = R"({"type":"Bounce","recipient":"anna.2320@gmail.com"})";
  d.bytes = raw;
  std::string line, plain;
  EncodeDeadLetter(d, line, &h);
  EncodeDeadLetter(d, plain);
  EXPECT_EQ(line.find(kAddr), std::string::npos) << line;
  EXPECT_EQ(Field(line, "/record"), R"({"type":"Bounce","recipient":"addr:)" + h.Hash(kAddr) + R"("})");
  EXPECT_NE(line.find("\"redacted\":true"), std::string::npos);
  EXPECT_EQ(plain.find("redacted"), std::string::npos);
  EXPECT_EQ(Field(plain, "/record"), raw);
  // Invalid UTF-8: redacted before base64.
  const std::string bad = std::string("to=<anna.2320@gmail.com> \xff\xfe");
  d.bytes = bad;
  std::string bline;
  EncodeDeadLetter(d, bline, &h);
  std::string decoded;
  ASSERT_TRUE(absl::Base64Unescape(Field(bline, "/record_base64"), &decoded)) << bline;
  EXPECT_EQ(decoded.find(kAddr), std::string::npos);
  EXPECT_EQ(decoded, "to=<addr:" + h.Hash(kAddr) + "> \xff\xfe");
}

}  // namespace
}  // namespace bs
