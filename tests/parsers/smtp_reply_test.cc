// Tests of SMTP reply splitting and normalisation (parsers/smtp_reply.h).
#include "parsers/smtp_reply.h"

#include <string>

#include "gtest/gtest.h"

namespace bs {
namespace {

EnhancedCode E(int c, int s, int d) {
  return EnhancedCode{static_cast<uint8_t>(c), static_cast<uint16_t>(s), static_cast<uint16_t>(d)};
}

TEST(ParseEnhancedCode, AcceptsOnlyWholeCodes) {
  EnhancedCode e;
  EXPECT_TRUE(ParseEnhancedCode("5.7.26", &e));
  EXPECT_EQ(e, E(5, 7, 26));
  EXPECT_TRUE(ParseEnhancedCode("4.7.650", &e));
  EXPECT_EQ(e, E(4, 7, 650));
  EXPECT_FALSE(ParseEnhancedCode("5.7", &e));
  EXPECT_FALSE(ParseEnhancedCode("3.1.1", &e));
  EXPECT_FALSE(ParseEnhancedCode("5.7.1x", &e));
  EXPECT_FALSE(ParseEnhancedCode("5.7.1234", &e));
  EXPECT_FALSE(ParseEnhancedCode("", &e));
}

TEST(FormatEnhancedCode, RoundTrips) {
  char buf[16];
  EXPECT_EQ(FormatEnhancedCode(E(5, 7, 606), buf), "5.7.606");
  EXPECT_EQ(FormatEnhancedCode(E(4, 2, 0), buf), "4.2.0");
  EXPECT_EQ(FormatEnhancedCode(EnhancedCode{}, buf), "");
}

TEST(ParseSmtpReply, SplitsCodeEnhancedAndText) {
  SmtpReply r = ParseSmtpReply("  550 5.1.1 <a@b.example>: user unknown ");
  EXPECT_EQ(r.code, 550);
  EXPECT_EQ(r.enhanced, E(5, 1, 1));
  EXPECT_EQ(r.text, "<a@b.example>: user unknown");

  r = ParseSmtpReply("421-4.7.0 [TSS04] Messages temporarily deferred");
  EXPECT_EQ(r.code, 421);
  EXPECT_EQ(r.enhanced, E(4, 7, 0));
  EXPECT_EQ(r.text, "[TSS04] Messages temporarily deferred");

  r = ParseSmtpReply("554 Blocked - see https://ipcheck.proofpoint.com/?ip=1.2.3.4");
  EXPECT_EQ(r.code, 554);
  EXPECT_FALSE(r.enhanced.present());
  EXPECT_EQ(r.text, "Blocked - see https://ipcheck.proofpoint.com/?ip=1.2.3.4");

  r = ParseSmtpReply("connection timed out");
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.text, "connection timed out");

  // A number that is not a code at the start (no separator after three digits) stays text.
  r = ParseSmtpReply("5500 bytes");
  EXPECT_EQ(r.code, 0);
}

TEST(NormalizeReply, TakesCodesFromTextAndDropsContinuations) {
  std::string buf;
  NormalizedReply n = NormalizeReply(
      0, {},
      "550-5.7.26 Your email has been blocked because the sender is unauthenticated. 550-5.7.26 Gmail "
      "requires all senders to authenticate with either SPF or DKIM.\n550-5.7.26\n550 5.7.26  "
      "https://support.google.com/mail/answer/81126 - gsmtp",
      buf);
  EXPECT_EQ(n.code, 550);
  EXPECT_EQ(n.enhanced, E(5, 7, 26));
  EXPECT_EQ(n.text,
            "Your email has been blocked because the sender is unauthenticated. Gmail requires all senders to "
            "authenticate with either SPF or DKIM. https://support.google.com/mail/answer/81126 - gsmtp");
}

TEST(NormalizeReply, RecordCodesWinOverText) {
  std::string buf;
  // Gmail's 421 5.7.32: a 4xx basic code with a 5.x enhanced code; nothing is "corrected".
  NormalizedReply n = NormalizeReply(421, E(5, 7, 32), "421 5.7.32 Your email has been rate limited", buf);
  EXPECT_EQ(n.code, 421);
  EXPECT_EQ(n.enhanced, E(5, 7, 32));
  EXPECT_EQ(n.text, "Your email has been rate limited");

  n = NormalizeReply(550, {}, "Ip frequency limited", buf);
  EXPECT_EQ(n.code, 550);
  EXPECT_FALSE(n.enhanced.present());
  EXPECT_EQ(n.text, "Ip frequency limited");
}

TEST(NormalizeReply, KeepsProviderTagsAndCollapsesWhitespace) {
  std::string buf;
  NormalizedReply n = NormalizeReply(
      550, E(5, 7, 1), "  Unfortunately, messages from [1.2.3.4] weren't sent.\t\t(S3150)   [Name=Protocol]\r\n", buf);
  EXPECT_EQ(n.text, "Unfortunately, messages from [1.2.3.4] weren't sent. (S3150) [Name=Protocol]");
  n = NormalizeReply(421, E(4, 7, 0), "[TSS04] Messages from 1.2.3.4 temporarily deferred", buf);
  EXPECT_EQ(n.text, "[TSS04] Messages from 1.2.3.4 temporarily deferred");
}

TEST(NormalizeReply, EnhancedFromHashForms) {
  std::string buf;
  NormalizedReply n = NormalizeReply(554, {}, "#5.7.1 SPF unauthorized mail is prohibited.", buf);
  EXPECT_EQ(n.enhanced, E(5, 7, 1));
  EXPECT_EQ(n.text, "SPF unauthorized mail is prohibited.");
  n = NormalizeReply(550, {}, "Requested action aborted: user unknown (#5.1.1)", buf);
  EXPECT_EQ(n.enhanced, E(5, 1, 1));
  EXPECT_EQ(n.text, "Requested action aborted: user unknown (#5.1.1)");
}

TEST(NormalizeReply, DoesNotEatNumbersThatAreData) {
  std::string buf;
  // "250 messages" is not a continuation token: a basic code without '-' counts only before an enhanced code.
  NormalizedReply n = NormalizeReply(452, E(4, 5, 3), "Too many recipients, max 250 per message", buf);
  EXPECT_EQ(n.text, "Too many recipients, max 250 per message");
  // An IP address ending in a code-like octet is left alone.
  n = NormalizeReply(550, {}, "Client host 192.0.2.250 5.7.1 blocked", buf);
  EXPECT_EQ(n.text, "Client host 192.0.2.250 5.7.1 blocked");
}

TEST(NormalizeReply, TokensOnlyAtWordStarts) {
  std::string buf;
  // After punctuation that starts a word, inside long runs, next to UTF-8 and tabs.
  NormalizedReply n = NormalizeReply(
      550, E(5, 7, 1),
      "Le message a \xC3\xA9t\xC3\xA9 refus\xC3\xA9 par le serveur;550-5.7.1 voir\t\t(550 5.7.1 "
      "d\xC3\xA9tails) abc550-5.7.1 ref:421-4.7.0 fin",
      buf);
  EXPECT_EQ(n.text,
            "Le message a \xC3\xA9t\xC3\xA9 refus\xC3\xA9 par le serveur; voir ( d\xC3\xA9tails) abc550-5.7.1 "
            "ref: fin");
  // A leading continuation right after the leading code is removed as well.
  n = NormalizeReply(0, {}, "550 5.7.1 550-5.7.1 first line 550 5.7.1 second line", buf);
  EXPECT_EQ(n.code, 550);
  EXPECT_EQ(n.text, "first line second line");
}

TEST(NormalizeReply, NoAllocationOnceWarm) {
  std::string buf;
  const std::string text(300, 'a');
  NormalizeReply(550, {}, text, buf);
  const char* data = buf.data();
  size_t cap = buf.capacity();
  for (int i = 0; i < 100; ++i) {
    NormalizedReply n = NormalizeReply(550, {}, std::string_view(text).substr(0, 100 + i), buf);
    EXPECT_EQ(n.text.size(), static_cast<size_t>(100 + i));
  }
  EXPECT_EQ(buf.data(), data);
  EXPECT_EQ(buf.capacity(), cap);
}

}  // namespace
}  // namespace bs
