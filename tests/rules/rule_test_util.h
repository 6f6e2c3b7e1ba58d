// Helpers for the rules tests: a throw-away rule directory with a VERSION, a small providers.toml and the
// rule files a test writes.
#ifndef BOUNCESTREAM_TESTS_RULES_RULE_TEST_UTIL_H_
#define BOUNCESTREAM_TESTS_RULES_RULE_TEST_UTIL_H_

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "gtest/gtest.h"

namespace bs::testing {

inline constexpr char kTestProviders[] = R"(
local_prefixes = ["KumoMTA internal"]
[[provider]]
name = "gmail"
mx_suffixes = ["google.com"]
reply_patterns = ['- gsmtp\b']
domains = ["gmail.com"]
[[provider]]
name = "yahoo"
mx_suffixes = ["yahoodns.net"]
reply_patterns = ['\[TSS\d\d\]']
domains = ["yahoo.com"]
[[provider]]
name = "microsoft"
variant = "outlook.com"
mx_suffixes = ["olc.protection.outlook.com"]
reply_patterns = ['\(S3150\)']
[[provider]]
name = "microsoft"
variant = "microsoft365"
mx_suffixes = ["protection.outlook.com"]
)";

class TempRuleDir {
 public:
  TempRuleDir() {
    static std::atomic<int> counter{0};
    path_ = (std::filesystem::temp_directory_path() /
             ("bs_rules_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++)))
                .string();
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempRuleDir() { std::filesystem::remove_all(path_); }
  TempRuleDir(const TempRuleDir&) = delete;
  TempRuleDir& operator=(const TempRuleDir&) = delete;

  // Writes VERSION and providers.toml (the base files every rule set needs).
  TempRuleDir& WithBase(const std::string& version = "test-1") {
    Write("VERSION", version + "\n");
    Write("providers.toml", kTestProviders);
    return *this;
  }
  TempRuleDir& Write(const std::string& name, const std::string& content) {
    std::ofstream out(path_ + "/" + name, std::ios::binary | std::ios::trunc);
    out << content;
    EXPECT_TRUE(out.good()) << name;
    return *this;
  }
  void Remove(const std::string& name) { std::filesystem::remove(path_ + "/" + name); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace bs::testing

#endif  // BOUNCESTREAM_TESTS_RULES_RULE_TEST_UTIL_H_
