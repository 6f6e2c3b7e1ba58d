// Load-time validation of rule files: every problem is an error naming file:line, and a rule set with
// any error does not load.
#include <string>

#include "gtest/gtest.h"
#include "rules/rule_set.h"
#include "rules/rule_set_impl.h"
#include "tests/rules/rule_test_util.h"

namespace bs {
namespace {

using ::bs::testing::TempRuleDir;

constexpr char kHeader[] = "[ruleset]\nprovider = \"generic\"\n";

// A valid rule, lines 3..9 when written after kHeader.
std::string GoodRule(const std::string& id) {
  return "[[rule]]\nid = \"" + id +
         "\"\ncodes = [\"550\"]\ncategory = \"user_unknown\"\naction = \"suppress_address\"\n"
         "scope = \"address\"\nbounce_type = \"hard\"\n";
}

// Loads a directory holding one rules file `x.rules` and returns the error message ("" if it loaded).
std::string LoadError(const std::string& rules_file) {
  TempRuleDir dir;
  dir.WithBase().Write("x.rules", rules_file);
  auto rs = RuleSet::Load({dir.path(), ""});
  if (rs.ok()) return "";
  std::string msg(rs.status().message());
  // Messages name the file as given; strip the temp directory for stable expectations.
  size_t pos;
  while ((pos = msg.find(dir.path() + "/")) != std::string::npos) msg.erase(pos, dir.path().size() + 1);
  return msg;
}

TEST(RuleFile, ValidFileLoads) {
  EXPECT_EQ(LoadError(std::string(kHeader) + GoodRule("a.b")), "");
}

TEST(RuleFile, UnknownKeyNamesFileAndLine) {
  std::string f = std::string(kHeader) + GoodRule("a.b") + "colour = \"red\"\n";
  EXPECT_EQ(LoadError(f), "x.rules:10: unknown key 'colour' in [[rule]]");
}

TEST(RuleFile, UnknownEnumNames) {
  std::string f = std::string(kHeader) +
                  "[[rule]]\nid = \"a\"\ncategory = \"usr_unknown\"\naction = \"bounce\"\nscope = \"ip\"\n"
                  "bounce_type = \"squishy\"\n";
  std::string err = LoadError(f);
  EXPECT_NE(err.find("x.rules:5: unknown category 'usr_unknown'"), std::string::npos) << err;
  EXPECT_NE(err.find("x.rules:6: unknown action 'bounce'"), std::string::npos) << err;
  EXPECT_NE(err.find("x.rules:7: unknown scope 'ip'"), std::string::npos) << err;
  EXPECT_NE(err.find("x.rules:8: unknown bounce_type 'squishy'"), std::string::npos) << err;
}

TEST(RuleFile, BadRegexCarriesRe2Error) {
  std::string f = std::string(kHeader) + GoodRule("a.b") + "text = '(?i)user (unknown'\n";
  std::string err = LoadError(f);
  EXPECT_NE(err.find("x.rules:10: bad regex: missing )"), std::string::npos) << err;
}

TEST(RuleFile, DuplicateIdAcrossFiles) {
  TempRuleDir dir;
  dir.WithBase()
      .Write("a.rules", std::string(kHeader) + GoodRule("same.id"))
      .Write("b.rules", "[ruleset]\nprovider = \"gmail\"\n\n" + GoodRule("same.id"));
  auto rs = RuleSet::Load({dir.path(), ""});
  ASSERT_FALSE(rs.ok());
  std::string err(rs.status().message());
  EXPECT_NE(err.find("b.rules:4: duplicate rule id 'same.id' (first at " + dir.path() + "/a.rules:3)"),
            std::string::npos)
      << err;
}

TEST(RuleFile, BadCodeAndEnhancedPatterns) {
  for (const char* bad : {"55", "5500", "650", "5a0", "1xx"}) {
    std::string f = std::string(kHeader) + GoodRule("a.b") + "codes = [\"" + bad + "\"]\n";
    // The duplicate 'codes' key is a TOML error; use a fresh rule instead.
    f = std::string(kHeader) + "[[rule]]\nid = \"a\"\ncodes = [\"" + bad +
        "\"]\ncategory = \"policy\"\naction = \"investigate\"\nscope = \"sending_ip\"\n";
    EXPECT_NE(LoadError(f).find("x.rules:5: bad code pattern '" + std::string(bad) + "'"), std::string::npos)
        << bad;
  }
  for (const char* bad : {"5.7", "6.1.1", "5.x.1a", "5.7.1.2", "5..1"}) {
    std::string f = std::string(kHeader) + "[[rule]]\nid = \"a\"\nenhanced = [\"" + bad +
                    "\"]\ncategory = \"policy\"\naction = \"investigate\"\nscope = \"sending_ip\"\n";
    EXPECT_NE(LoadError(f).find("x.rules:5: bad enhanced-code pattern '" + std::string(bad) + "'"),
              std::string::npos)
        << bad;
  }
  std::string ok = std::string(kHeader) +
                   "[[rule]]\nid = \"a\"\ncodes = [\"45x\", \"5xx\", 421]\nenhanced = [\"5.1.*\", \"4.7.28\"]\n"
                   "category = \"policy\"\naction = \"investigate\"\nscope = \"sending_ip\"\n";
  EXPECT_EQ(LoadError(ok), "");
}

TEST(RuleFile, SuppressOnlyWithRecipientScope) {
  for (const char* scope : {"sending_ip", "sender_domain", "content", "sender_config", "none"}) {
    std::string f = std::string(kHeader) + "[[rule]]\nid = \"blocked\"\ncategory = \"ip_blocklisted\"\n" +
                    "action = \"suppress_address\"\nscope = \"" + scope + "\"\n";
    std::string err = LoadError(f);
    EXPECT_NE(err.find("x.rules:3: rule 'blocked': action suppress_address with scope " + std::string(scope) +
                       ": only recipient failures"),
              std::string::npos)
        << err;
  }
  std::string dom = std::string(kHeader) +
                    "[[rule]]\nid = \"d\"\ncategory = \"domain_no_mail\"\naction = \"suppress_domain\"\n"
                    "scope = \"address\"\n";
  EXPECT_NE(LoadError(dom).find("suppress_domain needs scope domain"), std::string::npos);
  std::string local = std::string(kHeader) +
                      "[[rule]]\nid = \"l\"\nlocal = true\ncategory = \"user_unknown\"\n"
                      "action = \"suppress_address\"\nscope = \"address\"\n";
  EXPECT_NE(LoadError(local).find("x.rules:3: rule 'l': a local rule"), std::string::npos);
}

TEST(RuleFile, MissingFieldsAndStructure) {
  std::string f = std::string(kHeader) + "[[rule]]\nid = \"a\"\ncategory = \"policy\"\n";
  std::string err = LoadError(f);
  EXPECT_NE(err.find("x.rules:3: rule 'a': missing 'action'"), std::string::npos) << err;
  EXPECT_NE(err.find("x.rules:3: rule 'a': missing 'scope'"), std::string::npos) << err;
  EXPECT_EQ(LoadError("[[rule]]\nid = \"a\"\n").find("x.rules:1: missing [ruleset]"), 0u);
  EXPECT_NE(LoadError("[ruleset]\nprovider = \"hotmail\"\n").find("x.rules:2: unknown provider 'hotmail'"),
            std::string::npos);
  EXPECT_NE(LoadError(std::string(kHeader) + "[rules]\n").find("unknown top-level key 'rules'"),
            std::string::npos);
  EXPECT_NE(LoadError(std::string(kHeader) + GoodRule("unknown")).find("rule id 'unknown' is reserved"),
            std::string::npos);
  EXPECT_NE(LoadError(std::string(kHeader) + GoodRule("a") + "stages = [\"rcpt\", \"quit\"]\n")
                .find("x.rules:10: unknown stage 'quit'"),
            std::string::npos);
}

TEST(RuleFile, TomlSyntaxErrorHasLine) {
  std::string err = LoadError(std::string(kHeader) + "[[rule]]\nid = \"a\n");
  EXPECT_EQ(err.rfind("x.rules:4: ", 0), 0u) << err;
}

TEST(RuleFile, AllErrorsReportedAtOnce) {
  std::string f = std::string(kHeader) + GoodRule("a") + "zzz = 1\n" +
                  "[[rule]]\nid = \"b\"\ncategory = \"nope\"\naction = \"none\"\nscope = \"none\"\n";
  std::string err = LoadError(f);
  EXPECT_NE(err.find("x.rules:10: unknown key 'zzz'"), std::string::npos) << err;
  EXPECT_NE(err.find("x.rules:13: unknown category 'nope'"), std::string::npos) << err;
}

TEST(RuleFile, BaseFilesRequired) {
  TempRuleDir dir;
  dir.Write("providers.toml", "").Write("x.rules", std::string(kHeader) + GoodRule("a"));
  auto rs = RuleSet::Load({dir.path(), ""});
  ASSERT_FALSE(rs.ok());
  EXPECT_NE(rs.status().message().find("missing VERSION"), absl::string_view::npos);

  TempRuleDir dir2;
  dir2.WithBase().Write("providers.toml", "[[provider]]\nname = \"gmail\"\nmx_suffixes = [\"google.com\"]\n"
                                          "reply_patterns = ['(unclosed']\ncolour = 1\n");
  auto rs2 = RuleSet::Load({dir2.path(), ""});
  ASSERT_FALSE(rs2.ok());
  std::string err(rs2.status().message());
  EXPECT_NE(err.find("providers.toml:4: bad regex '(unclosed'"), std::string::npos) << err;
  EXPECT_NE(err.find("providers.toml:5: unknown key 'colour' in [[provider]]"), std::string::npos) << err;

  EXPECT_FALSE(RuleSet::Load({"/nonexistent/rules/dir", ""}).ok());
}

}  // namespace
}  // namespace bs
