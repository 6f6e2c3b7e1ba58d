// bouncestream: one binary, one subcommand per file in tools/. Exit codes: 0 ok, 1 runtime error,
// 2 usage error.
#include <cstdio>
#include <string_view>

#include "tools/subcommands.h"

namespace {

struct Subcommand {
  std::string_view name;
  int (*run)(const bs::tools::Args&);
  std::string_view summary;
};

constexpr Subcommand kSubcommands[] = {
    {"replay", bs::tools::RunReplay, "process log files (or the bundled samples) into alerts and suppressions"},
    {"classify", bs::tools::RunClassify, "classify SMTP replies, one JSON Classification per line"},
    {"rules", bs::tools::RunRules, "rules check [DIR]: validate rule files and run their golden cases"},
    {"gen", bs::tools::RunGen, "generate deterministic realistic delivery logs (the bundled samples)"},
    {"run", bs::tools::RunRun, "run the Kafka consumer-group service (--config FILE)"},
    {"tail", bs::tools::RunTail, "follow the alert topic"},
    {"config", bs::tools::RunConfig, "config check FILE: validate a configuration file"},
    {"hash-address", bs::tools::RunHashAddress, "the keyed hash outputs carry for an address ([privacy])"},
};

void PrintUsage(FILE* out) {
  std::fprintf(out,
               "usage: bouncestream <subcommand> [options]\n"
               "       bouncestream --version\n\n"
               "Streaming classifier of MTA delivery logs: alerts for blocks of our sending, suppressions\n"
               "only for recipient failures.\n\nsubcommands:\n");
  for (const auto& s : kSubcommands) {
    std::fprintf(out, "  %-9.*s %.*s\n", static_cast<int>(s.name.size()), s.name.data(),
                 static_cast<int>(s.summary.size()), s.summary.data());
  }
  std::fprintf(out, "\n'bouncestream <subcommand> --help' describes each one.\n");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    PrintUsage(stderr);
    return 2;
  }
  std::string_view cmd = argv[1];
  if (cmd == "--help" || cmd == "-h" || cmd == "help") {
    PrintUsage(stdout);
    return 0;
  }
  if (cmd == "--version") {
    std::printf("bouncestream %s\n", BS_VERSION);
    return 0;
  }
  bs::tools::Args args(argv + 2, argv + argc);
  for (const auto& s : kSubcommands) {
    if (s.name == cmd) return s.run(args);
  }
  std::fprintf(stderr, "bouncestream: unknown subcommand '%.*s'\n\n", static_cast<int>(cmd.size()), cmd.data());
  PrintUsage(stderr);
  return 2;
}
