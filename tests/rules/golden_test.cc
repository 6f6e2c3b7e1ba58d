// Runs every golden case beside the rules (rules/data/*.golden.jsonl, all providers' files) through the
// shipped rule set, the same check `bouncestream rules check` does; each rule set carries at least 5.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "rules/classify_io.h"
#include "rules/rule_set_impl.h"
#include "tests/testing/paths.h"

namespace bs {
namespace {

std::string DataDir() { return bs::testing::SourceDir() + "/rules/data"; }

TEST(Golden, AllCasesPass) {
  auto rs = LoadRuleSet(DataDir(), {});
  ASSERT_TRUE(rs.ok()) << rs.status();
  std::vector<std::string> failures;
  int cases = RunGoldenCases(**rs, DataDir(), &failures);
  for (const auto& f : failures) ADD_FAILURE() << f;
  EXPECT_GE(cases, 10);
  std::printf("golden: %d cases, %zu failures\n", cases, failures.size());
}

TEST(Golden, EveryRuleSetHasAtLeastFiveCases) {
  namespace fs = std::filesystem;
  int rule_files = 0;
  for (const auto& entry : fs::directory_iterator(DataDir())) {
    const std::string name = entry.path().filename().string();
    if (entry.path().extension() != ".rules") continue;
    ++rule_files;
    const std::string stem = name.substr(0, name.size() - 6);
    std::ifstream in(DataDir() + "/" + stem + ".golden.jsonl");
    ASSERT_TRUE(in.good()) << "no golden cases for " << name;
    int n = 0;
    std::string line;
    while (std::getline(in, line)) {
      if (!line.empty() && line[0] == '{') ++n;
    }
    EXPECT_GE(n, 5) << stem << ".golden.jsonl";
  }
  EXPECT_GE(rule_files, 2);
}

TEST(Golden, FailuresAreDetected) {
  // A golden file that contradicts the rules must fail (the runner is not vacuous).
  namespace fs = std::filesystem;
  const std::string dir = (fs::temp_directory_path() / ("bs_golden_" + std::to_string(::getpid()))).string();
  fs::create_directories(dir);
  {
    std::ofstream out(dir + "/x.golden.jsonl");
    out << "{\"reply\":\"550 5.1.1 user unknown\",\"category\":\"rate_limited\"}\n"
        << "{\"reply\":\"550 5.1.1 user unknown\",\"category\":\"user_unknown\"}\n"
        << "{\"reply\":\"550 5.1.1 user unknown\",\"not_category\":\"user_unknown\"}\n"
        << "not json but a raw reply without expectations\n";
  }
  auto rs = LoadRuleSet("", {});
  ASSERT_TRUE(rs.ok());
  std::vector<std::string> failures;
  int cases = RunGoldenCases(**rs, dir, &failures);
  fs::remove_all(dir);
  EXPECT_EQ(cases, 4);
  ASSERT_EQ(failures.size(), 3u);
  EXPECT_EQ(failures[0].rfind("x.golden.jsonl:1: category user_unknown (want rate_limited)", 0), 0u) << failures[0];
  EXPECT_EQ(failures[1].rfind("x.golden.jsonl:3: category is user_unknown (must not be)", 0), 0u) << failures[1];
  EXPECT_EQ(failures[2].rfind("x.golden.jsonl:4: golden case without", 0), 0u) << failures[2];
}

}  // namespace
}  // namespace bs
