// `bouncestream gen`: deterministic realistic delivery logs (see bench/loadgen/generator.h). Also
// regenerates the bundled samples (--bundle DIR).
#include <zstd.h>

#include <cstdio>
#include <string>

#include "absl/strings/numbers.h"
#include "bench/loadgen/generator.h"
#include "tools/flags.h"

namespace bs::tools {
namespace {

constexpr char kHelp[] = R"(usage: bouncestream gen [options]

Writes a deterministic, realistic delivery log: provider mix, reply mix, campaigns, distinct addresses,
and injected incidents (a Gmail rate-limit burst, a DMARC burst at Microsoft, user-unknown bounces at
several providers, a null-MX domain, greylisting that later succeeds, a Spamhaus listing, and three
malformed records). Same options, same bytes.

options:
  --format F       kumomta (JSON lines, default) | postfix (RFC 3339 syslog lines)
  --records N      number of records (default 10000)
  --seed S         PRNG seed (default 1)
  --addresses N    distinct recipient addresses (default records/3)
  --hours H        time span (default 6), starting 2026-11-02T08:00:00Z
  --no-incidents   only background traffic
  --no-malformed   no malformed records
  --queue-removed  postfix: qmgr's "removed" line after each message's final attempt, as real logs have
                   (off by default: the bundled samples were generated without it)
  --out FILE       output file (default: stdout); a name ending in .zst is zstd-compressed
  --bundle DIR     write the bundled samples (DIR/kumomta.jsonl.zst, DIR/postfix.log.zst) and exit
  --help           this text)";

int WriteOut(const std::string& path, const std::string& data) {
  std::string bytes;
  const std::string* out = &data;
  if (path.size() > 4 && path.compare(path.size() - 4, 4, ".zst") == 0) {
    bytes.resize(ZSTD_compressBound(data.size()));
    size_t n = ZSTD_compress(bytes.data(), bytes.size(), data.data(), data.size(), 19);
    if (ZSTD_isError(n)) {
      std::fprintf(stderr, "bouncestream gen: zstd: %s\n", ZSTD_getErrorName(n));
      return 1;
    }
    bytes.resize(n);
    out = &bytes;
  }
  FILE* f = path.empty() || path == "-" ? stdout : std::fopen(path.c_str(), "wb");
  if (!f) {
    std::fprintf(stderr, "bouncestream gen: cannot write %s\n", path.c_str());
    return 1;
  }
  bool ok = std::fwrite(out->data(), 1, out->size(), f) == out->size();
  if (f != stdout) ok = std::fclose(f) == 0 && ok;
  if (!ok) {
    std::fprintf(stderr, "bouncestream gen: write failed: %s\n", path.c_str());
    return 1;
  }
  return 0;
}

}  // namespace

int RunGen(const Args& args) {
  Flags flags;
  if (auto s = flags.Parse(args, {"format", "records", "seed", "addresses", "hours", "out", "bundle"},
                           {"help", "no-incidents", "no-malformed", "queue-removed"});
      !s.ok()) {
    return UsageError("gen", s);
  }
  if (flags.Has("help")) {
    std::printf("%s\n", kHelp);
    return 0;
  }
  if (!flags.positional().empty()) return UsageError("gen", "takes no positional arguments");
  if (flags.Has("bundle")) {
    std::string dir = flags.Get("bundle");
    loadgen::GeneratorOptions k;
    k.format = loadgen::LogFormat::kKumoMta;
    k.records = 28000;
    k.seed = 1;
    std::string data;
    loadgen::Generate(k, data);
    if (int rc = WriteOut(dir + "/kumomta.jsonl.zst", data)) return rc;
    loadgen::GeneratorOptions p;
    p.format = loadgen::LogFormat::kPostfix;
    p.records = 14000;
    p.seed = 2;
    data.clear();
    loadgen::Generate(p, data);
    return WriteOut(dir + "/postfix.log.zst", data);
  }
  loadgen::GeneratorOptions o;
  std::string format = flags.Get("format", "kumomta");
  if (format == "kumomta") {
    o.format = loadgen::LogFormat::kKumoMta;
  } else if (format == "postfix") {
    o.format = loadgen::LogFormat::kPostfix;
  } else {
    return UsageError("gen", "--format must be kumomta or postfix");
  }
  int hours = 6;
  if (!absl::SimpleAtoi(flags.Get("records", "10000"), &o.records) || o.records == 0 ||
      !absl::SimpleAtoi(flags.Get("seed", "1"), &o.seed) ||
      !absl::SimpleAtoi(flags.Get("addresses", "0"), &o.distinct_addresses) ||
      !absl::SimpleAtoi(flags.Get("hours", "6"), &hours) || hours < 1) {
    return UsageError("gen", "--records, --seed, --addresses and --hours take positive numbers");
  }
  o.duration_ms = static_cast<int64_t>(hours) * 3600 * 1000;
  o.incidents = !flags.Has("no-incidents");
  o.malformed = !flags.Has("no-malformed");
  o.queue_removed = flags.Has("queue-removed");
  std::string data;
  data.reserve(o.records * 700);
  loadgen::Generate(o, data);
  return WriteOut(flags.Get("out"), data);
}

}  // namespace bs::tools
