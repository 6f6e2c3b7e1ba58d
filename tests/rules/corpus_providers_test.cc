// Accuracy of the rule set against the provider reply collection (../shared/corpus/replies/providers.jsonl):
// every documented or observed reply of the big mailbox providers and gateways, labelled with a `kind`.
//
// Each kind allows a set of our categories (kAllowed below; the reasons are in
// docs/classification_mapping.md). The test prints agreement per kind and asserts
//   1. overall agreement >= 90 %, and
//   2. the first rule of the product: no reply of a sender-side kind (we were refused: rate, DMARC, SPF,
//      DKIM, other authentication, blocklists, reputation, spam content, TLS, our configuration,
//      greylisting, size, forwarding) is ever given a suppress action, and no classification at all
//      suppresses outside recipient scope.
//
// The reply is reply_code + enhanced_status + text, split by the same ParseSmtpReply the log parsers use.
// The corpus names the provider in prose; kProviderHosts gives each one an MX host and a recipient domain
// of that provider, so detection runs as in production (MX first).
#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "gtest/gtest.h"
#include "parsers/smtp_reply.h"
#include "rules/classification.h"
#include "rules/rule_set.h"
#include "simdjson.h"
#include "tests/testing/paths.h"

namespace bs {
namespace {

// --- kind → allowed categories (docs/classification_mapping.md, "providers.jsonl kinds") --------------
struct KindMapping {
  std::string_view kind;
  bool sender_side;  // we were refused: a suppression would be the costliest mistake
  std::vector<Category> allowed;  // empty: any classified (non-unknown), non-suppressing category
};

const std::vector<KindMapping>& KindMappings() {
  using C = Category;
  static const auto* m = new std::vector<KindMapping>{
      {"rate_limit", true, {C::kRateLimited}},
      {"dmarc", true, {C::kDmarcFailure}},
      {"spf", true, {C::kSpfFailure}},
      {"dkim", true, {C::kDkimFailure}},
      {"auth_other", true, {C::kAuthFailure}},
      // Provider-run block lists (Outlook.com S3150/SC-00x, Comcast BL000000) are reputation data; we name
      // them as block lists when the remedy is a delisting request, so either category is right.
      {"blocklist_ip", true, {C::kIpBlocklisted}},
      {"blocklist_domain", true, {C::kDomainBlocklisted}},
      {"reputation", true, {C::kReputation, C::kIpBlocklisted}},
      {"spam_content", true, {C::kSpamContent, C::kVirus}},
      {"tls", true, {C::kTlsFailure}},
      {"sender_config", true, {C::kSenderConfig}},
      {"greylist", true, {C::kGreylisted}},
      {"message_size", true, {C::kMessageTooLarge}},
      {"forwarding", true, {C::kForwarding}},
      // Recipient kinds.
      {"user_unknown", false, {C::kUserUnknown, C::kBadAddress}},
      {"mailbox_disabled", false, {C::kMailboxDisabled, C::kUserUnknown}},
      {"mailbox_full", false, {C::kMailboxFull}},
      // The corpus files both recipient-domain and OUR sender-domain DNS failures under domain_invalid
      // (see the meanings of P298 and P382): the latter is sender_config for us, and a relay refusal from
      // the recipient's MX (the domain is not hosted there) is relay_denied.
      {"domain_invalid", false, {C::kDomainNotFound, C::kDomainNoMail, C::kRelayDenied, C::kSenderConfig}},
      // Recipient-organisation policy: a policy category (sometimes suppressing, see DECISIONS.md §2 5.7.1).
      {"policy", false, {C::kPolicy}},
      // Server busy, protocol errors, loops, expiries: anything classified that does not suppress.
      {"other", false, {}},
  };
  return *m;
}

const KindMapping* FindKind(std::string_view kind) {
  for (const auto& k : KindMappings()) {
    if (k.kind == kind) return &k;
  }
  return nullptr;
}

bool Suppresses(Action a) { return a == Action::kSuppressAddress || a == Action::kSuppressDomain; }

bool Agrees(const KindMapping& k, const Classification& c) {
  if (c.category == Category::kUnknown) return false;
  if (k.allowed.empty()) return !Suppresses(c.action);
  return std::find(k.allowed.begin(), k.allowed.end(), c.category) != k.allowed.end();
}

// --- corpus provider (prose, matched by prefix) → an MX host and a recipient domain of that provider ----
struct ProviderHost {
  std::string_view prefix;
  std::string_view mx;
  std::string_view domain;
};

constexpr ProviderHost kProviderHosts[] = {
    {"Google Groups", "gmr-smtp-in.l.google.com", "googlegroups.com"},
    {"Google", "gmail-smtp-in.l.google.com", "gmail.com"},
    {"Microsoft 365", "contoso-com.mail.protection.outlook.com", "contoso.com"},
    {"Outlook.com", "hotmail-com.olc.protection.outlook.com", "hotmail.com"},
    {"Yahoo/AOL", "mta5.am0.yahoodns.net", "yahoo.com"},
    {"Yahoo! JAPAN", "mx1.mail.yahoo.co.jp", "yahoo.co.jp"},  // a separate platform, not Yahoo Inc.
    {"Apple", "mx01.mail.icloud.com", "icloud.com"},
    {"Comcast", "mx1.comcast.net", "comcast.net"},
    {"United Internet", "mx00.emig.gmx.net", "gmx.de"},
    {"Orange", "smtp-in.orange.fr", "orange.fr"},
    {"La Poste", "smtpz4.laposte.net", "laposte.net"},
    {"Free", "mx1.free.fr", "free.fr"},
    {"SFR", "msfrf2.sfr.fr", "sfr.fr"},
    {"Proofpoint", "mx0a-00123401.pphosted.com", "example-corp.com"},
    {"Mimecast", "eu-smtp-inbound-1.mimecast.com", "example-corp.co.uk"},
    {"Barracuda BRBL", "mx.example-receiver.net", "example-receiver.net"},  // a list cited by any MTA
    {"Barracuda", "d123456a.ess.barracudanetworks.com", "example-corp.com"},
    {"Cisco", "mx1.hc1234-56.iphmx.com", "example-corp.com"},
    {"Yandex", "mx.yandex.ru", "yandex.ru"},
    {"Zoho", "mx.zoho.com", "zoho.com"},
    {"Tencent QQ", "mx3.qq.com", "qq.com"},
    {"NetEase", "163mx01.mxmail.netease.com", "163.com"},
    {"Mail.ru", "mxs.mail.ru", "mail.ru"},
    {"Rambler", "mx.rambler.ru", "rambler.ru"},
    {"GoDaddy", "mailstore1.secureserver.net", "example-shop.com"},
    {"Broadcom/Symantec", "cluster1.eu.messagelabs.com", "example-corp.com"},
    {"Facebook", "smtpin.vvv.facebook.com", "facebook.com"},
    {"AT&T", "ff-ip4-mx-vip1.prodigy.net", "att.net"},  // the legacy platform, before the Yahoo MX move
    {"MailChannels", "mx1.mailchannels.net", "example-host.com"},
    {"Cox", "cxr.mx.a.cloudfilter.net", "cox.net"},
    {"Trend Micro", "example-corp.in.tmes.trendmicro.eu", "example-corp.com"},
    {"FireEye", "mx1.example-corp.fireeyecloud.com", "example-corp.com"},
    {"ZeroSpam", "mx.zerospam.ca", "example-corp.ca"},
    {"EarthLink", "mx.earthlink.net", "earthlink.net"},
    {"Cable One", "mx.cableone.net", "cableone.net"},
    {"antispameurope", "mx01.antispameurope.com", "example-corp.de"},
    {"Spamhaus", "mx.example-receiver.net", "example-receiver.net"},
    {"SpamCop", "mx.example-receiver.net", "example-receiver.net"},
    {"SORBS", "mx.example-receiver.net", "example-receiver.net"},
    {"NiX Spam", "mx.example-receiver.net", "example-receiver.net"},
    {"unattributed", "mx.example-receiver.net", "example-receiver.net"},
};

const ProviderHost* FindHost(std::string_view provider) {
  for (const auto& h : kProviderHosts) {
    if (provider.substr(0, h.prefix.size()) == h.prefix) return &h;
  }
  return nullptr;
}

struct Row {
  std::string id, provider, kind, reply;
};

std::vector<Row> ReadCorpus() {
  std::vector<Row> rows;
  const std::string path = testing::CorpusDir() + "/replies/providers.jsonl";
  const std::string content = testing::ReadFileOrDie(path);
  simdjson::ondemand::parser parser;
  size_t start = 0;
  while (start < content.size()) {
    size_t end = content.find('\n', start);
    if (end == std::string::npos) end = content.size();
    std::string_view line(content.data() + start, end - start);
    start = end + 1;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    simdjson::padded_string padded(line);
    auto doc = parser.iterate(padded);
    std::string_view id, provider, code, enhanced, text, kind;
    bool ok = doc["id"].get_string().get(id) == simdjson::SUCCESS &&
              doc["provider"].get_string().get(provider) == simdjson::SUCCESS &&
              doc["reply_code"].get_string().get(code) == simdjson::SUCCESS &&
              doc["enhanced_status"].get_string().get(enhanced) == simdjson::SUCCESS &&
              doc["text"].get_string().get(text) == simdjson::SUCCESS &&
              doc["kind"].get_string().get(kind) == simdjson::SUCCESS;
    EXPECT_TRUE(ok) << "unreadable line in " << path << ": " << line.substr(0, 120);
    if (!ok) continue;
    Row r{std::string(id), std::string(provider), std::string(kind), ""};
    for (std::string_view part : {code, enhanced, text}) {
      if (part.empty()) continue;
      if (!r.reply.empty()) r.reply += ' ';
      r.reply += part;
    }
    rows.push_back(std::move(r));
  }
  return rows;
}

class ProvidersCorpusTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    RuleSet::Options options;
    options.dir = testing::SourceDir() + "/rules/data";
    auto rs = RuleSet::Load(options);
    ASSERT_TRUE(rs.ok()) << rs.status();
    rules_ = new std::shared_ptr<const RuleSet>(*std::move(rs));
  }
  static void TearDownTestSuite() {
    delete rules_;
    rules_ = nullptr;
  }
  static std::shared_ptr<const RuleSet>* rules_;
};
std::shared_ptr<const RuleSet>* ProvidersCorpusTest::rules_ = nullptr;

TEST_F(ProvidersCorpusTest, EveryCorpusProviderAndKindIsMapped) {
  const auto rows = ReadCorpus();
  ASSERT_GE(rows.size(), 300u) << "providers.jsonl looks truncated";
  for (const Row& r : rows) {
    EXPECT_NE(FindHost(r.provider), nullptr) << r.id << ": no MX mapping for provider '" << r.provider << "'";
    EXPECT_NE(FindKind(r.kind), nullptr) << r.id << ": kind '" << r.kind << "' has no category mapping";
  }
}

TEST_F(ProvidersCorpusTest, AgreementPerKindAndNoSuppressionWhenWeWereRefused) {
  ASSERT_NE(rules_, nullptr);
  const RuleSet& rules = **rules_;
  const auto rows = ReadCorpus();
  ASSERT_FALSE(rows.empty());

  struct Tally {
    int total = 0, agree = 0;
  };
  std::map<std::string, Tally> per_kind;
  std::map<std::string, Tally> per_provider;
  std::vector<std::string> disagreements, violations;
  int total = 0, agree = 0;
  ClassifyScratch scratch;
  for (const Row& r : rows) {
    const KindMapping* kind = FindKind(r.kind);
    const ProviderHost* host = FindHost(r.provider);
    if (kind == nullptr || host == nullptr) continue;  // reported by the test above
    const SmtpReply reply = ParseSmtpReply(r.reply);
    ReplyInput in;
    in.outcome = reply.code >= 400 && reply.code < 500 ? Outcome::kDeferred : Outcome::kBounced;
    in.code = reply.code;
    in.enhanced = reply.enhanced;
    in.text = reply.text;
    in.mx_host = host->mx;
    in.recipient_domain = host->domain;
    const Classification c = rules.Classify(in, scratch);

    const bool ok = Agrees(*kind, c);
    ++total;
    agree += ok;
    Tally& tk = per_kind[r.kind];
    ++tk.total;
    tk.agree += ok;
    Tally& tp = per_provider[std::string(ProviderName(c.provider)) + " <- " + std::string(host->prefix)];
    ++tp.total;
    tp.agree += ok;
    const std::string line = r.id + " [" + r.kind + "] -> " + std::string(CategoryName(c.category)) + "/" +
                             std::string(ActionName(c.action)) + " (" + std::string(c.rule) + ", " +
                             std::string(ProviderName(c.provider)) + "): " + r.reply.substr(0, 110);
    if (!ok) disagreements.push_back(line);
    if (Suppresses(c.action) && (kind->sender_side || !IsRecipientScope(c.scope))) {
      violations.push_back(line);
    }
  }

  std::printf("\nproviders.jsonl agreement per kind (allowed categories in docs/classification_mapping.md):\n");
  for (const auto& [k, t] : per_kind) {
    std::printf("  %-17s %3d/%3d  %5.1f%%\n", k.c_str(), t.agree, t.total, 100.0 * t.agree / t.total);
  }
  std::printf("per detected provider <- corpus provider:\n");
  for (const auto& [p, t] : per_provider) {
    std::printf("  %-40s %3d/%3d\n", p.c_str(), t.agree, t.total);
  }
  const double rate = static_cast<double>(agree) / total;
  std::printf("overall: %d/%d = %.1f%%\n", agree, total, 100.0 * rate);
  std::printf("disagreements (%zu):\n", disagreements.size());
  for (const auto& d : disagreements) std::printf("  %s\n", d.c_str());

  EXPECT_GE(rate, 0.90) << "agreement with providers.jsonl fell below 90 %";
  EXPECT_TRUE(violations.empty()) << "suppressions of replies where WE were refused:\n"
                                  << [&] {
                                       std::string s;
                                       for (const auto& v : violations) s += "  " + v + "\n";
                                       return s;
                                     }();
}

}  // namespace
}  // namespace bs
