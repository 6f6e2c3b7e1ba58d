// ScanDfa (rules/scan_dfa.h) must find exactly the patterns RE2::Set finds, on every text it answers:
// - the shipped snapshot's scan patterns over the shared corpus's replies, the golden cases, and
//   mutations of them (case flips, cuts, inserted bytes, words moved next to each other);
// - small patterns that use each construct of the supported syntax, over random texts built from the
//   bytes those constructs distinguish;
// and it must refuse what it cannot answer exactly (syntax outside its subset, non-ASCII texts).
#include "rules/scan_dfa.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "parsers/smtp_reply.h"
#include "re2/set.h"
#include "rules/classify_io.h"
#include "rules/rule_set_impl.h"
#include "rules/scan_program.h"
#include "tests/testing/paths.h"

namespace bs {
namespace {

std::unique_ptr<RE2::Set> Re2Set(const std::vector<std::string>& patterns) {
  RE2::Options opts;
  opts.set_log_errors(false);
  opts.set_max_mem(256 << 20);
  auto set = std::make_unique<RE2::Set>(opts, RE2::UNANCHORED);
  for (const auto& p : patterns) {
    std::string err;
    EXPECT_GE(set->Add(p, &err), 0) << p << ": " << err;
  }
  EXPECT_TRUE(set->Compile());
  return set;
}

// Scans every text with both engines; returns how many texts ScanDfa answered.
size_t ExpectSameHits(const std::vector<std::string>& patterns, const std::vector<std::string>& texts,
                      ScanDfa* dfa = nullptr) {
  auto set = Re2Set(patterns);
  auto prog = ScanProgram::Compile(patterns);
  EXPECT_TRUE(prog.ok()) << prog.status();
  if (!prog.ok()) return 0;
  ScanDfa own;
  if (dfa == nullptr) dfa = &own;
  size_t answered = 0, failures = 0;
  std::vector<int> want, got;
  for (const auto& t : texts) {
    want.clear();
    set->Match(t, &want);
    std::sort(want.begin(), want.end());
    if (!dfa->Scan(**prog, t, &got)) continue;
    ++answered;
    if (got != want && ++failures <= 10) {
      std::string w, g;
      for (int i : want) w += " " + patterns[i];
      for (int i : got) g += " " + patterns[i];
      ADD_FAILURE() << "text: \"" << t << "\"\n RE2::Set:" << w << "\n ScanDfa: " << g;
    }
  }
  std::fprintf(stderr, "%zu texts, %zu answered, %zu states, %.1f MiB, %llu resets\n", texts.size(), answered,
               dfa->state_count(), dfa->memory_bytes() / 1048576.0, static_cast<unsigned long long>(dfa->resets()));
  return answered;
}

// The shipped snapshot's scan patterns, in scan order (rule texts, then the reply identifiers).
std::vector<std::string> ShippedPatterns() {
  auto rs = LoadRuleSet("", {});
  EXPECT_TRUE(rs.ok()) << rs.status();
  std::vector<std::string> out;
  if (!rs.ok()) return out;
  for (const auto& cr : (*rs)->rules()) {
    if (!cr.rule.text.empty()) out.push_back(cr.rule.text);
  }
  for (const auto& e : (*rs)->providers().providers) {
    out.insert(out.end(), e.reply_patterns.begin(), e.reply_patterns.end());
  }
  return out;
}

std::vector<std::string> CorpusTexts() {
  std::vector<std::string> out;
  // The shared corpus: every line's text-looking fields, whole (JSON and TSV punctuation included:
  // more bytes for the scan to get wrong).
  for (const char* name : {"/replies/providers.jsonl", "/replies/sisimai.tsv"}) {
    const std::string content = testing::ReadFileOrDie(testing::CorpusDir() + name);
    for (absl::string_view line : absl::StrSplit(content, '\n')) {
      if (!line.empty()) out.emplace_back(line);
      for (absl::string_view field : absl::StrSplit(line, '\t')) {
        if (field.size() > 8) out.emplace_back(field);
      }
    }
  }
  // The golden cases, normalised as Classify scans them.
  const std::string dir = testing::SourceDir() + "/rules/data";
  ReplyLineReader reader;
  std::string buf;
  for (const char* provider : {"apple", "barracuda", "blocklists", "cisco", "comcast", "generic", "gmail", "gmx",
                               "mailru", "microsoft", "mimecast", "netease", "orange", "proofpoint", "qq",
                               "yahoo", "yandex", "zoho"}) {
    const std::string content = testing::ReadFileOrDie(dir + "/" + provider + ".golden.jsonl");
    for (absl::string_view line : absl::StrSplit(content, '\n')) {
      ReplyLine rl;
      std::string err;
      if (line.empty() || !reader.Parse(std::string(line), &rl, &err)) continue;
      SmtpReply r = ParseSmtpReply(rl.reply);
      out.emplace_back(NormalizeReply(r.code, r.enhanced, r.text, buf).text);
      out.push_back(rl.reply);
    }
  }
  return out;
}

std::vector<std::string> Mutations(const std::vector<std::string>& base, size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  const std::string inserts = " \t\n.-_:;/@[]()0123456789abcdefxyzKS";
  std::vector<std::string> out;
  for (size_t k = 0; k < n; ++k) {
    std::string t = base[rng() % base.size()];
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits && !t.empty(); ++e) {
      const size_t at = rng() % t.size();
      switch (rng() % 6) {
        case 0: t[at] = static_cast<char>(std::isupper(static_cast<unsigned char>(t[at])) ? std::tolower(t[at]) : std::toupper(t[at])); break;
        case 1: t.resize(at); break;                                   // cut
        case 2: t.erase(0, at); break;                                 // cut the front
        case 3: t.insert(at, 1, inserts[rng() % inserts.size()]); break;
        case 4: t.erase(at, 1 + rng() % 8); break;                     // words move together
        case 5: t += " " + base[rng() % base.size()].substr(0, rng() % 40); break;
      }
    }
    out.push_back(std::move(t));
  }
  return out;
}

TEST(ScanDfaTest, ShippedPatternsAnswerAsRe2SetOnTheCorpusAndMutations) {
  const std::vector<std::string> patterns = ShippedPatterns();
  ASSERT_GT(patterns.size(), 300u);
  std::vector<std::string> texts = CorpusTexts();
  ASSERT_GT(texts.size(), 1000u);
  std::vector<std::string> mutated = Mutations(texts, 20000, 7);
  texts.insert(texts.end(), mutated.begin(), mutated.end());
  size_t ascii = 0;
  for (const auto& t : texts) {
    ascii += std::all_of(t.begin(), t.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
  }
  // Every ASCII text is answered and agrees. (These 25 k texts, mostly random mutations, build more
  // states than the default budget holds: SmallBudgetResetsButNeverAnswersWrong covers running out.)
  ScanDfa dfa;
  dfa.set_budget_bytes(size_t{512} << 20);
  EXPECT_EQ(ExpectSameHits(patterns, texts, &dfa), ascii);
  EXPECT_EQ(dfa.resets(), 0u);
  EXPECT_LT(ascii, texts.size()) << "the corpus has non-ASCII replies, which go to RE2::Set";
}

TEST(ScanDfaTest, EachConstructAnswersAsRe2SetOnRandomTexts) {
  const std::vector<std::string> patterns = {
      "abc",        "(?i)abc",      "^ab",         "bc$",         "\\bab\\b",     "\\Bb",         "a\\B",
      "a{2,3}b",    "a{2}c",        "a{2,}x",      "(?i)[^a-c]x", "[]a]b",        "[a-]z",        "\\d+\\.\\d",
      "\\S*@",      "x.{0,5}z",     "(a|)bq",      "(?:ab)+c",    "x*?y",         "\\Ax",         "y\\z",
      "[\\d\\s]q",  "(?i)\\W\\w",   "a\\tb",       "^$",          "(?i)k",        "a{,3}",        "b{x",
      "(?i)^x|y$",  "[^\\]]{2}]",   "\\.\\-\\/",   "a\\sb",       "\\D\\d",       "(?i)A.?B",     "(a|b)*c{1}",
      "[A-Z]{2}\\b", "x\\b.{0,3}\\bz", "^(?:a|b)*$", "(?i)s\\b",  "[.]a",         "\\[K\\]",      "((a|b)c|d)+e",
  };
  const std::string alphabet = "abcxyzqkKSAB0129 \t\n.@]-/_[";
  std::mt19937 rng(11);
  std::vector<std::string> texts = {""};
  for (int k = 0; k < 30000; ++k) {
    std::string t(rng() % 16, ' ');
    for (char& c : t) c = alphabet[rng() % alphabet.size()];
    texts.push_back(std::move(t));
  }
  EXPECT_EQ(ExpectSameHits(patterns, texts), texts.size());
}

TEST(ScanDfaTest, RefusesSyntaxItCannotAnswerExactly) {
  for (const char* p : {"(?s).", "\\pL", "[[:alpha:]]", "caf\xc3\xa9", "a{1001}", "\\x41", "(?P<n>a)", "\\Qa\\E",
                        "a(?i)b", "\\C", "\\1"}) {
    auto prog = ScanProgram::Compile({"fine", p});
    ASSERT_FALSE(prog.ok()) << p;
    EXPECT_EQ(prog.status().code(), absl::StatusCode::kUnimplemented) << p << ": " << prog.status();
    EXPECT_NE(prog.status().message().find("pattern 1"), std::string::npos) << prog.status();
  }
}

TEST(ScanDfaTest, LeavesNonAsciiTextsToRe2) {
  auto prog = ScanProgram::Compile({"(?i)k", "x.y"});
  ASSERT_TRUE(prog.ok());
  ScanDfa dfa;
  std::vector<int> hits;
  // RE2 finds (?i)k in U+212A KELVIN SIGN and x.y around one two-byte character; a byte scan would not.
  EXPECT_FALSE(dfa.Scan(**prog, "\xe2\x84\xaa", &hits));
  EXPECT_FALSE(dfa.Scan(**prog, "x\xc3\xa9y", &hits));
  ASSERT_TRUE(dfa.Scan(**prog, "xKy", &hits));
  EXPECT_EQ(hits, (std::vector<int>{0, 1}));
}

TEST(ScanDfaTest, SmallBudgetResetsButNeverAnswersWrong) {
  const std::vector<std::string> patterns = ShippedPatterns();
  std::vector<std::string> texts = CorpusTexts();
  texts.resize(std::min<size_t>(texts.size(), 3000));
  ScanDfa dfa;
  dfa.set_budget_bytes(256 << 10);
  const size_t answered = ExpectSameHits(patterns, texts, &dfa);
  EXPECT_GT(dfa.resets(), 0u);
  EXPECT_GT(answered, texts.size() / 2);
  EXPECT_LT(answered, texts.size());
}

TEST(ScanDfaTest, FollowsTheProgramItIsGiven) {
  auto a = ScanProgram::Compile({"alpha", "beta"});
  auto b = ScanProgram::Compile({"beta", "gamma"});
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE((*a)->id(), (*b)->id());
  ScanDfa dfa;
  std::vector<int> hits;
  for (int round = 0; round < 3; ++round) {
    ASSERT_TRUE(dfa.Scan(**a, "beta gamma", &hits));
    EXPECT_EQ(hits, (std::vector<int>{1}));
    ASSERT_TRUE(dfa.Scan(**b, "beta gamma", &hits));
    EXPECT_EQ(hits, (std::vector<int>{0, 1}));
  }
  EXPECT_EQ(dfa.resets(), 0u);  // switching programs is not running out of budget
}

TEST(ScanDfaTest, ShippedRulesUseTheDfa) {
  // A rule outside ScanDfa's syntax would silently halve classification speed; make it loud.
  auto prog = ScanProgram::Compile(ShippedPatterns());
  EXPECT_TRUE(prog.ok()) << prog.status();
}

}  // namespace
}  // namespace bs
