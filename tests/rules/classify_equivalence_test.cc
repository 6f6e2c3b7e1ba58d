// The fast classifier (RuleSet::Classify: RE2::Set scans and their shortcuts) must give exactly the answer
// of the slow reference (RuleSetImpl::ClassifyReference: every candidate rule's own RE2, in precedence
// order). Every reply of the shared corpus (../shared/corpus/replies: providers.jsonl, sisimai.tsv,
// peers/*.tsv) and every golden case is classified under many inputs around it: the codes in the record
// or only in the text, the code swapped to another class (a 5xx text under a 421, …), several MX hosts
// (named providers, an unknown host, none), outcomes, stages, recipient domains, and our own MTA's
// replies. Every field of the two Classifications must agree. A small synthetic rule set adds the
// constraint combinations the shipped rules do not use.
#include <cstdio>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "parsers/smtp_reply.h"
#include "rules/classify_io.h"
#include "rules/rule_set_impl.h"
#include "simdjson.h"
#include "tests/rules/rule_test_util.h"
#include "tests/testing/paths.h"

namespace bs {
namespace {

// One raw reply as an MTA would log it, with the context the corpus gives (may be empty).
struct Sample {
  std::string raw, mx, domain;
  Outcome outcome = Outcome::kBounced;
  bool has_outcome = false;
  SmtpStage stage = SmtpStage::kUnknown;
  bool local = false;
};

void AddProviders(std::vector<Sample>* out) {
  const std::string path = testing::CorpusDir() + "/replies/providers.jsonl";
  const std::string content = testing::ReadFileOrDie(path);
  simdjson::ondemand::parser parser;
  for (absl::string_view line : absl::StrSplit(content, '\n')) {
    if (line.find_first_not_of(" \t\r") == absl::string_view::npos) continue;
    simdjson::padded_string padded(line.data(), line.size());
    auto doc = parser.iterate(padded);
    std::string_view code, enhanced, text;
    const bool ok = doc["reply_code"].get_string().get(code) == simdjson::SUCCESS &&
                    doc["enhanced_status"].get_string().get(enhanced) == simdjson::SUCCESS &&
                    doc["text"].get_string().get(text) == simdjson::SUCCESS;
    EXPECT_TRUE(ok) << "unreadable line in " << path;
    if (!ok) continue;
    Sample s;
    for (std::string_view part : {code, enhanced, text}) {
      if (part.empty()) continue;
      if (!s.raw.empty()) s.raw += ' ';
      s.raw += part;
    }
    out->push_back(std::move(s));
  }
}

// sisimai.tsv: case_id module recipient_domain reply_code enhanced_status text reason hard_or_soft.
void AddSisimai(std::vector<Sample>* out) {
  const std::string content = testing::ReadFileOrDie(testing::CorpusDir() + "/replies/sisimai.tsv");
  bool header = true;
  for (absl::string_view line : absl::StrSplit(content, '\n')) {
    if (line.empty()) continue;
    if (header) {
      header = false;
      continue;
    }
    std::vector<std::string> f = absl::StrSplit(line, '\t');
    EXPECT_EQ(f.size(), 8u) << line;
    if (f.size() != 8) continue;
    Sample s;
    s.domain = f[2];
    for (const std::string& part : {f[3], f[4], f[5]}) {
      if (part.empty()) continue;
      if (!s.raw.empty()) s.raw += ' ';
      s.raw += part;
    }
    if (f[1] == "ARF") {
      s.outcome = Outcome::kComplaint;
      s.has_outcome = true;
    }
    out->push_back(std::move(s));
  }
}

// peers/postalsys_bounce_classifier_cases.tsv: response_text expected_category source_path.
void AddPeers(std::vector<Sample>* out) {
  const std::string content =
      testing::ReadFileOrDie(testing::CorpusDir() + "/replies/peers/postalsys_bounce_classifier_cases.tsv");
  bool header = true;
  for (absl::string_view line : absl::StrSplit(content, '\n')) {
    if (line.empty()) continue;
    if (header) {
      header = false;
      continue;
    }
    std::vector<std::string> f = absl::StrSplit(line, '\t');
    EXPECT_EQ(f.size(), 3u) << line;
    if (f.size() != 3) continue;
    Sample s;
    s.raw = f[0];
    out->push_back(std::move(s));
  }
}

void AddGolden(std::vector<Sample>* out) {
  namespace fs = std::filesystem;
  const std::string dir = testing::SourceDir() + "/rules/data";
  ReplyLineReader reader;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (name.size() < 13 || name.compare(name.size() - 13, 13, ".golden.jsonl") != 0) continue;
    const std::string content = testing::ReadFileOrDie(entry.path().string());
    for (absl::string_view line : absl::StrSplit(content, '\n')) {
      ReplyLine rl;
      std::string err;
      if (!reader.Parse(std::string_view(line.data(), line.size()), &rl, &err)) {
        EXPECT_TRUE(err.empty()) << name << ": " << err;
        continue;
      }
      Sample s;
      s.raw = rl.reply;
      s.mx = rl.mx;
      s.domain = rl.recipient_domain;
      s.outcome = rl.outcome;
      s.has_outcome = true;
      s.stage = rl.stage;
      s.local = rl.local;
      out->push_back(std::move(s));
    }
  }
}

constexpr std::string_view kMx[] = {
    "gmail-smtp-in.l.google.com", "contoso-com.mail.protection.outlook.com",
    "hotmail-com.olc.protection.outlook.com", "mta5.am0.yahoodns.net", "mx01.mail.icloud.com",
    "mx1.comcast.net", "mx00.emig.gmx.net", "smtp-in.orange.fr", "mx0a-00123401.pphosted.com",
    "eu-smtp-inbound-1.mimecast.com", "d123456a.ess.barracudanetworks.com", "mx1.hc1234-56.iphmx.com",
    "mx.yandex.ru", "mx.zoho.com", "mx3.qq.com", "163mx01.mxmail.netease.com", "mxs.mail.ru",
};
constexpr std::string_view kDomains[] = {"gmail.com", "outlook.com", "yahoo.com", "example.org", ""};
constexpr Outcome kOutcomes[] = {Outcome::kBounced, Outcome::kDeferred, Outcome::kRejected, Outcome::kExpired,
                                 Outcome::kOutOfBand, Outcome::kComplaint, Outcome::kDelivered};
constexpr SmtpStage kStages[] = {SmtpStage::kUnknown, SmtpStage::kRcpt, SmtpStage::kData, SmtpStage::kConnect,
                                 SmtpStage::kMail, SmtpStage::kHelo};

Outcome NaturalOutcome(uint16_t code) {
  return code / 100 == 2 ? Outcome::kDelivered : code / 100 == 4 ? Outcome::kDeferred : Outcome::kBounced;
}

std::string Describe(const ReplyInput& in) {
  return "text='" + std::string(in.text) + "' code=" + std::to_string(in.code) + " enh=" +
         std::to_string(in.enhanced.cls) + "." + std::to_string(in.enhanced.subject) + "." +
         std::to_string(in.enhanced.detail) + " mx='" + std::string(in.mx_host) + "' domain='" +
         std::string(in.recipient_domain) + "' outcome=" + std::to_string(static_cast<int>(in.outcome)) +
         " stage=" + std::to_string(static_cast<int>(in.stage)) + " local=" + (in.locally_generated ? "1" : "0");
}

std::string Show(const Classification& c) {
  return std::string(c.rule) + "/" + std::string(CategoryName(c.category)) + "/" +
         std::string(ActionName(c.action)) + "/" + std::string(ScopeName(c.scope)) + "/" +
         std::string(ProviderName(c.provider)) + "/" + std::string(BounceTypeName(c.bounce_type)) + "/bl=" +
         std::string(c.blocklist) + "/code=" + std::to_string(c.code);
}

bool Same(const Classification& a, const Classification& b) {
  return a.provider == b.provider && a.bounce_type == b.bounce_type && a.category == b.category &&
         a.action == b.action && a.scope == b.scope && a.rule == b.rule && a.blocklist == b.blocklist &&
         a.code == b.code && a.enhanced == b.enhanced;
}

struct Stats {
  size_t compared = 0, mismatches = 0, unknown = 0;
  std::set<std::string> rules_hit;
};

// Classifies `in` both ways (and through Explain) and records any difference.
void Check(const RuleSetImpl& rs, const ReplyInput& in, ClassifyScratch& fast, ClassifyScratch& slow,
           Stats* st) {
  const Classification a = rs.Classify(in, fast);
  const Classification b = rs.ClassifyReference(in, slow);
  ++st->compared;
  st->rules_hit.insert(std::string(b.rule));
  if (b.category == Category::kUnknown) ++st->unknown;
  if (!Same(a, b)) {
    if (++st->mismatches <= 20) {
      ADD_FAILURE() << "fast " << Show(a) << " != reference " << Show(b) << " for " << Describe(in);
    }
    return;
  }
  // Explain goes through the fast engine too and must not disagree with it.
  if (st->compared % 7 == 0) {
    const Explanation e = rs.Explain(in, fast);
    if (!Same(e.result, a) && ++st->mismatches <= 20) {
      ADD_FAILURE() << "explain " << Show(e.result) << " != classify " << Show(a) << " for " << Describe(in);
    }
  }
}

// Classifies each sample under many inputs (see the file comment).
void CheckSamples(const RuleSetImpl& rs, const std::vector<Sample>& samples, Stats* st) {
  ClassifyScratch fast, slow;
  constexpr size_t kMxCount = sizeof(kMx) / sizeof(kMx[0]);
  for (size_t i = 0; i < samples.size(); ++i) {
    const Sample& s = samples[i];
    const SmtpReply split = ParseSmtpReply(s.raw);
    // Code modes: as split by the parser; everything left in the text; and the split text under a basic
    // code of each other class (plus none), which is what class-dependent shortcuts must survive.
    struct Mode {
      uint16_t code;
      EnhancedCode enhanced;
      std::string_view text;
    };
    std::vector<Mode> modes = {{split.code, split.enhanced, split.text}, {0, {}, s.raw}};
    for (uint16_t code : {250, 421, 550, 0}) {
      if (code != split.code) modes.push_back({code, split.enhanced, split.text});
    }
    modes.push_back({0, {}, split.text});  // no codes at all: the class comes from the outcome
    const std::string_view mxs[] = {s.mx, kMx[i % kMxCount], "mx.example.net"};
    for (size_t m = 0; m < modes.size(); ++m) {
      for (size_t x = 0; x < 3; ++x) {
        if (x == 0 && s.mx.empty() && m % 2 == 1) continue;  // "" is covered by other modes
        ReplyInput in;
        in.code = modes[m].code;
        in.enhanced = modes[m].enhanced;
        in.text = modes[m].text;
        in.mx_host = mxs[x];
        in.recipient_domain = x == 2 ? kDomains[(i + m) % 5] : std::string_view(s.domain);
        in.stage = x == 0 ? s.stage : kStages[(i + m + x) % 6];
        in.outcome = s.has_outcome && m == 0 ? s.outcome : NaturalOutcome(in.code);
        in.locally_generated = s.local;
        Check(rs, in, fast, slow, st);
        // The same input under an outcome that is not the natural one (class from the outcome when the
        // reply has no code; outcome-restricted rules).
        in.outcome = kOutcomes[(i + m * 3 + x) % 7];
        Check(rs, in, fast, slow, st);
      }
    }
    // Our own MTA's reply: only `local` rules apply.
    ReplyInput local;
    local.code = split.code;
    local.enhanced = split.enhanced;
    local.text = split.text;
    local.outcome = NaturalOutcome(split.code);
    local.locally_generated = true;
    Check(rs, local, fast, slow, st);
  }
}

TEST(ClassifyEquivalence, ShippedRulesAgreeWithReferenceOnCorpus) {
  auto rs = LoadRuleSet("", {});
  ASSERT_TRUE(rs.ok()) << rs.status();
  std::vector<Sample> samples;
  AddProviders(&samples);
  const size_t providers = samples.size();
  AddSisimai(&samples);
  const size_t sisimai = samples.size() - providers;
  AddPeers(&samples);
  const size_t peers = samples.size() - providers - sisimai;
  AddGolden(&samples);
  const size_t golden = samples.size() - providers - sisimai - peers;
  ASSERT_GE(providers, 300u);
  ASSERT_GE(sisimai, 700u);
  ASSERT_GE(peers, 40u);
  ASSERT_GE(golden, 200u);

  Stats st;
  CheckSamples(**rs, samples, &st);
  std::printf("equivalence: %zu samples (%zu providers, %zu sisimai, %zu peers, %zu golden), %zu inputs, "
              "%zu distinct rules, %zu unknown, %zu mismatches\n",
              samples.size(), providers, sisimai, peers, golden, st.compared, st.rules_hit.size(), st.unknown,
              st.mismatches);
  EXPECT_EQ(st.mismatches, 0u);
  // Not vacuous: the inputs reach most of the rules, and not everything is unknown.
  EXPECT_GE(st.rules_hit.size(), (*rs)->rules().size() * 6 / 10);
  EXPECT_LT(st.unknown, st.compared / 4);
  EXPECT_EQ((*rs)->set_scan_failures(), 0u);
}

// MX detection: every shipped suffix, and hosts around it that must or must not match it (a longer host,
// no label boundary, an extra label after it, upper case, trailing dots and spaces, empty labels).
TEST(ClassifyEquivalence, MxHostsAgreeWithReference) {
  auto rs = LoadRuleSet("", {});
  ASSERT_TRUE(rs.ok()) << rs.status();
  std::vector<std::string> hosts = {"", ".", "..", " ", "com", "COM.", "a..com", ".com", "x.", "localhost"};
  for (const auto& entry : (*rs)->providers().providers) {
    for (const std::string& suf : entry.mx_suffixes) {
      std::string upper = suf;
      for (char& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      for (const std::string& h :
           {suf, "mx1." + suf, "a.b." + suf, "x" + suf, suf + ".evil.net", suf + ".", suf + " . ", upper,
            "MX." + upper + ".", "mx.." + suf, "." + suf, suf.substr(1), suf.substr(suf.find('.') + 1)}) {
        hosts.push_back(h);
      }
    }
  }
  ASSERT_GE(hosts.size(), 100u);
  Stats st;
  ClassifyScratch fast, slow;
  std::set<Provider> providers;
  for (const std::string& h : hosts) {
    ReplyInput in;
    in.mx_host = h;
    in.outcome = Outcome::kDelivered;
    in.code = 250;
    in.text = "2.0.0 OK queued";
    Check(**rs, in, fast, slow, &st);  // the fast path for accepted mail
    providers.insert((*rs)->Classify(in, fast).provider);
    in.outcome = Outcome::kBounced;
    in.code = 550;
    in.enhanced = {5, 1, 1};
    in.text = "The email account that you tried to reach does not exist";
    Check(**rs, in, fast, slow, &st);
  }
  EXPECT_EQ(st.mismatches, 0u);
  EXPECT_GE(providers.size(), 10u);  // the hosts do name most providers
}

// Constraint combinations the shipped rules may not use: class patterns, exact codes, enhanced classes
// other than the basic code's, outcomes, stages, local rules, text-less rules between text rules, and
// ties broken by tier and file order.
TEST(ClassifyEquivalence, SyntheticRulesAgreeWithReference) {
  testing::TempRuleDir dir;
  dir.WithBase()
      .Write("generic.rules", R"([ruleset]
provider = "generic"
[[rule]]
id = "g.any_full"
text = '(?i)mailbox (is )?full'
category = "mailbox_full"
action = "retry_slower"
scope = "address"
[[rule]]
id = "g.4xx_full"
priority = 11
codes = ["4xx"]
text = '(?i)full'
category = "rate_limited"
action = "retry_slower"
scope = "sending_ip"
[[rule]]
id = "g.550_unknown"
priority = 12
codes = ["550", "551"]
text = '(?i)unknown'
category = "user_unknown"
action = "suppress_address"
scope = "address"
[[rule]]
id = "g.5_1_x"
priority = 9
enhanced = ["5.1.*"]
category = "bad_address"
action = "suppress_address"
scope = "address"
[[rule]]
id = "g.4_enh_text"
priority = 13
enhanced = ["4.*.*"]
text = '(?i)unknown|spam'
category = "policy"
action = "investigate"
scope = "sending_ip"
[[rule]]
id = "g.data_spam"
priority = 14
stages = ["data"]
outcomes = ["bounced", "rejected"]
text = '(?i)spam'
category = "spam_content"
action = "review_content"
scope = "content"
[[rule]]
id = "g.local_dns"
priority = 15
local = true
text = '(?i)dns|unknown'
category = "network_error"
action = "retry"
scope = "sending_ip"
[[rule]]
id = "g.5xx"
priority = 1
codes = ["5xx"]
category = "policy"
action = "investigate"
scope = "sending_ip"
[[rule]]
id = "g.4xx"
priority = 1
codes = ["4xx"]
category = "server_error"
action = "retry"
scope = "sending_ip"
[[rule]]
id = "g.2xx_text"
priority = 20
codes = ["2xx"]
text = '(?i)queued'
category = "forwarded"
action = "monitor"
scope = "address"
)")
      .Write("blocklists.rules", R"([ruleset]
provider = "blocklists"
[[rule]]
id = "b.spamhaus"
priority = 12
text = '(?i)spamhaus'
category = "ip_blocklisted"
action = "request_delisting"
scope = "sending_ip"
blocklist = "spamhaus"
)")
      .Write("gmail.rules", R"([ruleset]
provider = "gmail"
[[rule]]
id = "gm.full"
priority = 12
codes = ["45x", "552"]
text = '(?i)full|quota'
category = "mailbox_full"
action = "retry_slower"
scope = "address"
[[rule]]
id = "gm.spamhaus_tie"
priority = 12
text = '(?i)spamhaus'
category = "reputation"
action = "request_delisting"
scope = "sending_ip"
)");
  auto rs = LoadRuleSet(dir.path(), {});
  ASSERT_TRUE(rs.ok()) << rs.status();
  const std::string_view texts[] = {
      "mailbox is full", "mailbox full - gsmtp", "user unknown", "spam detected", "listed at spamhaus",
      "quota exceeded", "DNS lookup failed", "queued as 12345", "unknown user, spam, spamhaus, full",
      "", "nothing to see", "550 5.1.1 user unknown", "452-4.2.2 The email account is over quota",
      // Several providers' reply identifiers in one text: the first in providers.toml order names it.
      "[TSS04] mailbox full - gsmtp", "(S3150) listed at spamhaus [TSS01]", "quota (S3150) - gsmtp",
  };
  const uint16_t codes[] = {0, 250, 251, 421, 450, 452, 550, 551, 552, 554, 354};
  const EnhancedCode enhs[] = {{}, {2, 0, 0}, {4, 2, 2}, {5, 1, 1}, {5, 7, 1}};
  const std::string_view mxs[] = {"", "gmail-smtp-in.l.google.com", "mx.example.net"};
  Stats st;
  ClassifyScratch fast, slow;
  for (std::string_view text : texts) {
    for (uint16_t code : codes) {
      for (const EnhancedCode& e : enhs) {
        for (size_t k = 0; k < 7; ++k) {
          ReplyInput in;
          in.text = text;
          in.code = code;
          in.enhanced = e;
          in.outcome = kOutcomes[k];
          in.stage = kStages[(k + code) % 6];
          in.mx_host = mxs[(k + code) % 3];
          in.locally_generated = (code + k) % 5 == 0;
          Check(**rs, in, fast, slow, &st);
        }
      }
    }
  }
  EXPECT_EQ(st.mismatches, 0u);
  EXPECT_GE(st.rules_hit.size(), 12u);  // every rule but none, plus "unknown"
}

}  // namespace
}  // namespace bs
