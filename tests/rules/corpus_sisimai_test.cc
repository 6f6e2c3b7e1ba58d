// Agreement with Sisimai's labels (../shared/corpus/replies/sisimai.tsv: diagnostics from Sisimai's public
// sample bounces and unit tests, each with the reason Sisimai assigns).
//
// Sisimai's reasons are an opinion, not the truth. kReasonMapping says which of our categories express the
// same situation (the reasons are in docs/classification_mapping.md); where we disagree on purpose the
// case is listed, with why, in rules/data/sisimai_disagreements.tsv. The test
//   - prints agreement per Sisimai reason and overall, and asserts overall agreement >= 85 % (listed
//     disagreements count against it: the file explains them, it does not excuse them);
//   - keeps the disagreements file honest: every listed case exists, still disagrees, and is classified
//     as the file says (so a rule change that fixes or moves a case forces the file to be updated);
//   - prints the disagreements that are not listed (they must fit in the 15 %).
//
// Input as in production: the basic and enhanced codes as Sisimai parsed them, the diagnostic text as the
// reply text, the remote host (when the diagnostic names it, "host mx.example[ip] said:") as the MX, the
// recipient's domain, and the outcome the record type gives (ARF reports are complaints, 2xx deliveries,
// 4xx deferrals, everything else a bounce).
#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "parsers/smtp_reply.h"
#include "re2/re2.h"
#include "rules/classification.h"
#include "rules/rule_set.h"
#include "tests/testing/paths.h"

namespace bs {
namespace {

struct ReasonMapping {
  std::string_view reason;
  std::vector<Category> allowed;  // empty: any non-suppressing answer (Sisimai itself could not decide)
};

const std::vector<ReasonMapping>& ReasonMappings() {
  using C = Category;
  static const auto* m = new std::vector<ReasonMapping>{
      {"userunknown", {C::kUserUnknown, C::kBadAddress, C::kMailboxDisabled, C::kMailboxUnavailable}},
      {"mailboxfull", {C::kMailboxFull}},
      // "filtered": refused after DATA by a recipient-side filter; in practice the text usually says the
      // user is unknown, and we classify by the text.
      {"filtered", {C::kUserUnknown, C::kPolicy, C::kSpamContent, C::kMailboxUnavailable}},
      {"expired", {C::kExpired, C::kNetworkError}},
      // "rejected": the envelope sender was refused.
      {"rejected", {C::kSenderConfig, C::kPolicy, C::kDomainBlocklisted}},
      {"blocked", {C::kIpBlocklisted, C::kReputation, C::kPolicy}},
      {"hostunknown", {C::kDomainNotFound, C::kDomainNoMail}},
      {"authfailure", {C::kDmarcFailure, C::kSpfFailure, C::kDkimFailure, C::kAuthFailure}},
      {"feedback", {C::kComplaint}},
      {"suspend", {C::kMailboxDisabled}},
      {"policyviolation", {C::kPolicy, C::kSpamContent, C::kVirus}},
      {"networkerror", {C::kNetworkError, C::kForwarding}},
      {"requireptr", {C::kSenderConfig}},
      {"systemerror", {C::kServerError}},
      {"spamdetected", {C::kSpamContent}},
      {"notaccept", {C::kDomainNoMail, C::kDomainNotFound}},
      // "securityerror": SMTP AUTH required / authentication of the sender.
      {"securityerror", {C::kSenderConfig, C::kAuthFailure, C::kPolicy}},
      {"mailererror", {C::kServerError}},
      {"norelaying", {C::kRelayDenied}},
      {"vacation", {C::kAutoReply}},
      {"notcompliantrfc", {C::kPolicy}},
      {"toomanyconn", {C::kRateLimited}},
      {"onhold", {}},
      // "badreputation" includes reputation-driven throttles (Outlook 4.7.650, Yahoo TSS04), which we call
      // rate limits: the action (slow down) is the same.
      {"badreputation", {C::kReputation, C::kRateLimited, C::kIpBlocklisted}},
      {"mesgtoobig", {C::kMessageTooLarge}},
      {"exceedlimit", {C::kMessageTooLarge}},
      {"hasmoved", {C::kMailboxUnavailable, C::kUserUnknown, C::kMailboxDisabled}},
      {"contenterror", {C::kPolicy, C::kMessageTooLarge}},
      {"virusdetected", {C::kVirus, C::kSpamContent}},
      {"delivered", {C::kDelivered}},
      {"speeding", {C::kRateLimited}},
      {"syntaxerror", {C::kSenderConfig}},
      {"systemfull", {C::kServerError}},
      {"failedstarttls", {C::kTlsFailure}},
  };
  return *m;
}

const ReasonMapping* FindReason(std::string_view reason) {
  for (const auto& r : ReasonMappings()) {
    if (r.reason == reason) return &r;
  }
  return nullptr;
}

bool Suppresses(Action a) { return a == Action::kSuppressAddress || a == Action::kSuppressDomain; }

bool Agrees(const ReasonMapping& m, const Classification& c) {
  if (m.allowed.empty()) return !Suppresses(c.action);
  return std::find(m.allowed.begin(), m.allowed.end(), c.category) != m.allowed.end();
}

struct Row {
  std::string id, module, domain, code, enhanced, text, reason;
};

std::vector<Row> ReadCorpus() {
  std::vector<Row> rows;
  const std::string content = testing::ReadFileOrDie(testing::CorpusDir() + "/replies/sisimai.tsv");
  bool header = true;
  for (absl::string_view line : absl::StrSplit(content, '\n')) {
    if (line.empty()) continue;
    if (header) {  // case_id provider_or_module recipient_domain reply_code enhanced_status text reason h/s
      header = false;
      continue;
    }
    std::vector<std::string> f = absl::StrSplit(line, '\t');
    EXPECT_EQ(f.size(), 8u) << "bad sisimai.tsv line: " << line.substr(0, 100);
    if (f.size() != 8) continue;
    rows.push_back({f[0], f[1], f[2], f[3], f[4], f[5], f[6]});
  }
  return rows;
}

struct Listed {
  std::string reason, category, why;
};

// rules/data/sisimai_disagreements.tsv: case_id, sisimai_reason, our_category, why.
std::map<std::string, Listed> ReadDisagreements() {
  std::map<std::string, Listed> out;
  const std::string path = testing::SourceDir() + "/rules/data/sisimai_disagreements.tsv";
  const std::string content = testing::ReadFileOrDie(path);
  for (absl::string_view line : absl::StrSplit(content, '\n')) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> f = absl::StrSplit(line, '\t');
    EXPECT_EQ(f.size(), 4u) << path << ": want 4 tab-separated fields: " << line;
    if (f.size() != 4) continue;
    if (f[0] == "case_id") continue;  // header
    EXPECT_FALSE(f[3].empty()) << path << ": " << f[0] << " has no reason";
    EXPECT_TRUE(out.emplace(f[0], Listed{f[1], f[2], f[3]}).second) << path << ": " << f[0] << " listed twice";
  }
  return out;
}

ReplyInput MakeInput(const Row& r, std::string& mx_buf) {
  ReplyInput in;
  EnhancedCode enh;
  if (!r.enhanced.empty()) ParseEnhancedCode(r.enhanced, &enh);
  in.code = 0;
  if (r.code.size() == 3) in.code = static_cast<uint16_t>(std::stoi(r.code));
  in.enhanced = enh;
  in.text = r.text;
  in.recipient_domain = r.domain;
  // The remote host, as the MTA's log line would give it ("host mx.example.jp[192.0.2.1] said:",
  // Exim "host mx.example.jp [192.0.2.1]", Exchange "host: mx.example.jp (192.0.2.1)").
  static const LazyRE2 kHost = {R"((?i)\bhost:? ([a-z0-9][a-z0-9.-]*\.[a-z]{2,})\s?[\[(])"};
  mx_buf.clear();
  if (RE2::PartialMatch(r.text, *kHost, &mx_buf)) in.mx_host = mx_buf;
  if (r.module == "ARF") {
    in.outcome = Outcome::kComplaint;
  } else if (in.code >= 200 && in.code < 300) {
    in.outcome = Outcome::kDelivered;
  } else if (in.code >= 400 && in.code < 500) {
    in.outcome = Outcome::kDeferred;
  } else {
    in.outcome = Outcome::kBounced;
  }
  return in;
}

TEST(SisimaiCorpusTest, EveryReasonIsMapped) {
  const auto rows = ReadCorpus();
  ASSERT_GE(rows.size(), 700u) << "sisimai.tsv looks truncated";
  for (const Row& r : rows) EXPECT_NE(FindReason(r.reason), nullptr) << r.id << ": unmapped reason " << r.reason;
}

TEST(SisimaiCorpusTest, AgreementAndListedDisagreements) {
  RuleSet::Options options;
  options.dir = testing::SourceDir() + "/rules/data";
  auto loaded = RuleSet::Load(options);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  const RuleSet& rules = **loaded;
  const auto rows = ReadCorpus();
  const auto listed = ReadDisagreements();

  struct Tally {
    int total = 0, agree = 0;
  };
  std::map<std::string, Tally> per_reason;
  std::vector<std::string> unlisted;
  std::map<std::string, bool> listed_seen;
  int total = 0, agree = 0, listed_count = 0;
  ClassifyScratch scratch;
  std::string mx;
  for (const Row& r : rows) {
    const ReasonMapping* m = FindReason(r.reason);
    if (m == nullptr) continue;  // reported above
    const Classification c = rules.Classify(MakeInput(r, mx), scratch);
    const bool ok = Agrees(*m, c);
    ++total;
    agree += ok;
    Tally& t = per_reason[r.reason];
    ++t.total;
    t.agree += ok;
    const std::string category(CategoryName(c.category));
    auto it = listed.find(r.id);
    if (it != listed.end()) {
      listed_seen[r.id] = true;
      EXPECT_FALSE(ok) << r.id << " is listed as a disagreement but now agrees (" << category << ", "
                       << c.rule << "): remove it from sisimai_disagreements.tsv";
      EXPECT_EQ(it->second.reason, r.reason) << r.id << ": listed with the wrong Sisimai reason";
      EXPECT_EQ(it->second.category, category)
          << r.id << ": listed as " << it->second.category << " but classified " << category << " by " << c.rule;
      ++listed_count;
    } else if (!ok) {
      unlisted.push_back(r.id + "\t" + r.reason + "\t" + category + "\t" + std::string(c.rule) + "\t" +
                         std::string(ProviderName(c.provider)) + "\t" + r.code + " " + r.enhanced + " " +
                         r.text.substr(0, 110));
    }
  }
  for (const auto& [id, l] : listed) {
    EXPECT_TRUE(listed_seen.count(id)) << "sisimai_disagreements.tsv lists " << id << ", which is not in the corpus";
  }

  std::printf("\nsisimai.tsv agreement per Sisimai reason (mapping in docs/classification_mapping.md):\n");
  for (const auto& [reason, t] : per_reason) {
    std::printf("  %-16s %3d/%3d  %5.1f%%\n", reason.c_str(), t.agree, t.total, 100.0 * t.agree / t.total);
  }
  const double rate = static_cast<double>(agree) / total;
  std::printf("overall: %d/%d = %.1f%%; deliberate (listed) disagreements: %d; other disagreements: %zu\n", agree,
              total, 100.0 * rate, listed_count, unlisted.size());
  for (const auto& u : unlisted) std::printf("  unlisted: %s\n", u.c_str());

  EXPECT_GE(rate, 0.85) << "agreement with Sisimai fell below 85 %";
}

}  // namespace
}  // namespace bs
