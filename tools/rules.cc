// `bouncestream rules check [DIR]`: validate the rule files (every problem as file:line: message) and
// run the golden cases beside them (*.golden.jsonl). Exit 0 when all pass, 1 on any failure.
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "rules/classify_io.h"
#include "rules/rule_set_impl.h"
#include "tools/flags.h"
#include "tools/subcommands.h"

namespace bs::tools {
namespace {

constexpr char kUsage[] =
    "usage: bouncestream rules check [DIR] [--override DIR]\n"
    "\n"
    "Loads the rule files of DIR (*.rules, providers.toml, VERSION), reporting every problem as\n"
    "file:line: message, then classifies every golden case (DIR/*.golden.jsonl) and prints the ones that\n"
    "fail. Without DIR: the source tree's rules/data when it exists, else the rules built into the binary\n"
    "(which carry no golden cases). --override DIR checks DIR's rules layered over the base.\n"
    "Exit 0 when everything passes, 1 otherwise.\n";

std::string DefaultDir() {
#ifdef BS_SOURCE_DIR
  std::string d = std::string(BS_SOURCE_DIR) + "/rules/data";
  std::error_code ec;
  if (std::filesystem::is_directory(d, ec)) return d;
#endif
  return "";
}

}  // namespace

int RunRules(const Args& args) {
  for (auto a : args) {
    if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
  }
  Flags flags;
  if (absl::Status s = flags.Parse(args, {"override"}, {}); !s.ok()) return UsageError("rules", std::string(s.message()));
  const auto& pos = flags.positional();
  if (pos.empty() || pos[0] != "check") return UsageError("rules", "expected 'rules check [DIR]'");
  if (pos.size() > 2) return UsageError("rules", "at most one DIR");
  std::string dir = pos.size() == 2 ? pos[1] : DefaultDir();
  std::vector<std::string> overrides;
  if (flags.Has("override")) overrides.push_back(flags.Get("override"));

  auto loaded = LoadRuleSet(dir, overrides);
  const std::string shown = dir.empty() ? "<embedded>" : dir;
  if (!loaded.ok()) {
    std::fprintf(stderr, "%s\n", std::string(loaded.status().message()).c_str());
    std::fprintf(stderr, "rules check: %s: INVALID\n", shown.c_str());
    return 1;
  }
  const RuleSetImpl& rules = **loaded;
  std::printf("rules check: %s: %zu rules, %zu provider entries, version %.*s\n", shown.c_str(),
              rules.rules().size(), rules.providers().providers.size(), static_cast<int>(rules.version().size()),
              rules.version().data());
  if (!rules.scanner().empty()) std::printf("rules check: scanner: %s\n", rules.scanner().c_str());
  if (dir.empty()) {
    std::printf("rules check: embedded rules carry no golden cases\n");
    return 0;
  }
  std::vector<std::string> failures;
  int cases = RunGoldenCases(rules, dir, &failures);
  for (const auto& f : failures) std::printf("FAIL %s\n", f.c_str());
  std::printf("rules check: %d golden cases, %zu failures\n", cases < 0 ? 0 : cases, failures.size());
  return failures.empty() && cases >= 0 ? 0 : 1;
}

}  // namespace bs::tools
