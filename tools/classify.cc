// `bouncestream classify`: classify SMTP replies one per line (raw "550 5.1.1 …" or JSON
// {"reply","mx","recipient","outcome","stage","local"}) into one JSON Classification per line; --explain
// adds why. Bad lines are reported on stderr with their number and skipped; the exit code is 0 unless
// reading fails.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>

#include "parsers/delivery_event.h"
#include "parsers/smtp_reply.h"
#include "pipeline/base/json_writer.h"
#include "rules/rule_set_impl.h"
#include "simdjson.h"
#include "rules/classify_io.h"
#include "tools/flags.h"
#include "tools/subcommands.h"

namespace bs::tools {
namespace {

constexpr char kUsage[] =
    "usage: bouncestream classify [--explain] [--unknown-only] [--rules DIR] [--override DIR] [FILE|-]\n"
    "\n"
    "Reads one SMTP reply per line (FILE, or stdin when absent or '-') and writes one JSON classification\n"
    "per line to stdout. A line is either the raw reply as an MTA logs it:\n"
    "    550 5.1.1 <a@example.com>: Recipient address rejected: User unknown\n"
    "or a JSON object: {\"reply\": \"...\", \"mx\": \"mx host that answered\", \"recipient\": \"a@b or b\",\n"
    "                   \"outcome\": \"bounced|deferred|delivered|expired|complaint|...\", \"stage\": \"rcpt\",\n"
    "                   \"local\": false}   (only \"reply\" is required)\n"
    "\n"
    "Output fields: provider, bounce_type, category, action, scope, rule, code, enhanced, blocklist (when the\n"
    "reply names one), ruleset_version.\n"
    "\n"
    "  --explain        add \"explain\": the normalised text, the winning rule and set, the text it matched,\n"
    "                   lower-priority rules that matched too, and how the provider was detected\n"
    "  --unknown-only   print only replies no rule knows (category unknown): material for new rules\n"
    "  --rules DIR      rule files (default: the rules built into the binary)\n"
    "  --override DIR   local override rules: same id replaces, new ids add\n"
    "\n"
    "A summary (total, unknown, bad lines) goes to stderr. Exit 0, or 1 when the input cannot be read or\n"
    "the rules do not load.\n";

}  // namespace

int RunClassify(const Args& args) {
  for (auto a : args) {
    if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
  }
  Flags flags;
  if (absl::Status s = flags.Parse(args, {"rules", "override"}, {"explain", "unknown-only"}); !s.ok()) {
    return UsageError("classify", std::string(s.message()));
  }
  if (flags.positional().size() > 1) return UsageError("classify", "at most one input file");
  const bool explain = flags.Has("explain");
  const bool unknown_only = flags.Has("unknown-only");

  std::vector<std::string> overrides;
  if (flags.Has("override")) overrides.push_back(flags.Get("override"));
  auto loaded = LoadRuleSet(flags.Get("rules"), overrides);
  if (!loaded.ok()) {
    std::fprintf(stderr, "bouncestream classify: rules:\n%s\n", std::string(loaded.status().message()).c_str());
    return 1;
  }
  const RuleSetImpl& rules = **loaded;

  std::string path = flags.positional().empty() ? "-" : flags.positional()[0];
  std::ifstream file;
  std::istream* in = &std::cin;
  if (path != "-") {
    file.open(path, std::ios::binary);
    if (!file) {
      std::fprintf(stderr, "bouncestream classify: cannot open %s\n", path.c_str());
      return 1;
    }
    in = &file;
  }

  ClassifyScratch scratch;
  ReplyLineReader reader;
  std::string line, out;
  uint64_t line_no = 0, total = 0, unknown = 0, bad = 0;
  while (std::getline(*in, line)) {
    ++line_no;
    ReplyLine parsed;
    std::string error;
    if (!reader.Parse(line, &parsed, &error)) {
      if (!error.empty()) {
        ++bad;
        std::fprintf(stderr, "bouncestream classify: line %llu: %s\n", static_cast<unsigned long long>(line_no),
                     error.c_str());
      }
      continue;
    }
    ++total;
    Explanation ex;
    if (explain) {
      ex = rules.Explain(parsed.Input(), scratch);
    } else {
      ex.result = rules.Classify(parsed.Input(), scratch);
    }
    if (ex.result.category == Category::kUnknown) ++unknown;
    if (unknown_only && ex.result.category != Category::kUnknown) continue;
    out.clear();
    WriteClassificationJson(ex.result, rules.version(), explain ? &ex : nullptr, out);
    out += '\n';
    std::fwrite(out.data(), 1, out.size(), stdout);
  }
  if (in->bad()) {
    std::fprintf(stderr, "bouncestream classify: read error on %s\n", path.c_str());
    return 1;
  }
  std::fprintf(stderr, "classify: %llu replies, %llu unknown (%.1f%%), %llu bad lines; rules %.*s\n",
               static_cast<unsigned long long>(total), static_cast<unsigned long long>(unknown),
               total > 0 ? 100.0 * static_cast<double>(unknown) / static_cast<double>(total) : 0.0,
               static_cast<unsigned long long>(bad), static_cast<int>(rules.version().size()),
               rules.version().data());
  return std::fflush(stdout) == 0 ? 0 : 1;
}

}  // namespace bs::tools
