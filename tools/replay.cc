// `bouncestream replay`: process log files (or the bundled samples) into alerts, suppressions and dead
// letters, with a progress line on a terminal and a summary at the end.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <dirent.h>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "pipeline/base/json_writer.h"
#include "pipeline/config/config.h"
#include "pipeline/replay.h"
#include "pipeline/sink/ndjson_sink.h"
#include "tools/backfill.h"
#include "tools/flags.h"
#include "tools/samples.h"

namespace bs::tools {
namespace {

constexpr char kHelp[] = R"(usage: bouncestream replay [options] [FILE...]

Processes delivery logs (plain, .gz or .zst) at full speed and writes
  DIR/alerts.jsonl        alerts about our sending (rate limits, DMARC, blocklists, ...)
  DIR/suppressions.jsonl  addresses and @domains to stop mailing (recipient failures only)
  DIR/dlq.jsonl           records that could not be parsed, with the reason and position
and prints a summary. Without FILE, replays the bundled sample logs.

options:
  --format F      kumomta | postfix | powermta | exim | sendgrid | mailgun | ses | sparkpost | json | auto
                  (default auto: detected per file from its first bytes; json needs a field map from
                  the configuration)
  --out DIR       output directory (default: out)
  --threads N     parse/classify threads (default 1); outputs are identical for any N
  --rules DIR     rule files (default: the rules built into the binary)
  --year YYYY     year of year-less syslog timestamps (default: from each file's mtime)
  --classified    also write DIR/classified.jsonl (every event with its classification)
  --late          also write DIR/late.jsonl: events that arrived after every alert window holding them
                  had closed (later than out-of-orderness + grace); always counted in the summary
  --window-minutes M   alert window size (default 5, or the config's)
  --config FILE   take [alerts], [decisions], [input] and [rules] from a service config (flags win)
  --summary-json FILE  also write the summary's counts as JSON (for scripts and tests)
  --quiet         no progress line and no summary
  --help          this text

Backfill from Kafka (same pipeline, no consumer group, no commits, outputs to DIR as above):
  bouncestream replay --brokers B --topic T [--topic T2] --from TIME [--to TIME] [--out DIR]
  TIME is ISO 8601 (2026-11-02T08:00:00Z) or epoch milliseconds; records are chosen by their Kafka
  timestamp, from the first at or after --from up to the first at or after --to (default: the end of
  each partition when the backfill starts). --config FILE takes brokers and librdkafka properties
  (TLS, SASL) from a service config; --format, --threads, --rules, --classified, --late, --window-minutes
  apply.

exit codes: 0 ok, 1 runtime error (unreadable file, unknown format), 2 usage error)";

std::string Thousands(uint64_t v) {
  std::string s = std::to_string(v);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<size_t>(i), ",");
  return s;
}

void PrintSummary(const PipelineStats& st, const std::string& out_dir, std::string_view ruleset_version) {
  uint64_t records = 0, bytes = 0;
  std::printf("\nbouncestream replay — summary (rules %.*s)\n\n", static_cast<int>(ruleset_version.size()),
              ruleset_version.data());
  std::printf("  %-40s %-9s %10s %10s %10s %10s\n", "input", "format", "records", "events", "skipped", "dead");
  for (const InputStats& in : st.inputs) {
    uint64_t with_events = in.event_records;
    std::string name = in.name.size() > 40 ? "…" + in.name.substr(in.name.size() - 39) : in.name;
    std::printf("  %-40s %-9.*s %10s %10s %10s %10s\n", name.c_str(), static_cast<int>(FormatName(in.format).size()),
                FormatName(in.format).data(), Thousands(in.records).c_str(), Thousands(with_events).c_str(),
                Thousands(in.skipped_total()).c_str(), Thousands(in.dead_letters).c_str());
    records += in.records;
    bytes += in.bytes;
  }
  std::printf("  (records = events + skipped + dead-lettered, per input)\n\n");
  std::printf("  outcomes:");
  for (int o = 0; o < 7; ++o) {
    if (st.outcomes[o]) {
      std::printf("  %.*s %s", static_cast<int>(OutcomeName(static_cast<Outcome>(o)).size()),
                  OutcomeName(static_cast<Outcome>(o)).data(), Thousands(st.outcomes[o]).c_str());
    }
  }
  std::printf("\n\n  by provider and category (top 20):\n");
  struct Row {
    uint64_t n;
    int p, c;
  };
  std::vector<Row> rows;
  for (int p = 0; p < kProviderCount; ++p) {
    for (int c = 0; c < kCategoryCount; ++c) {
      if (st.provider_category[p][c]) rows.push_back({st.provider_category[p][c], p, c});
    }
  }
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
    return a.n != b.n ? a.n > b.n : (a.p != b.p ? a.p < b.p : a.c < b.c);
  });
  for (size_t i = 0; i < rows.size() && i < 20; ++i) {
    auto pn = ProviderName(static_cast<Provider>(rows[i].p));
    auto cn = CategoryName(static_cast<Category>(rows[i].c));
    std::printf("    %-12.*s %-22.*s %10s\n", static_cast<int>(pn.size()), pn.data(), static_cast<int>(cn.size()),
                cn.data(), Thousands(rows[i].n).c_str());
  }
  uint64_t sup = 0;
  std::printf("\n  suppressions:");
  for (int a = 0; a < kActionCount; ++a) {
    if (st.suppressions[a]) {
      auto an = ActionName(static_cast<Action>(a));
      std::printf("  %.*s %s", static_cast<int>(an.size()), an.data(), Thousands(st.suppressions[a]).c_str());
      sup += st.suppressions[a];
    }
  }
  if (!sup) std::printf("  none");
  std::printf("\n  hygiene events (reengage, verify, unsuppress): %s", Thousands(st.hygiene_events).c_str());
  std::printf("\n  alerts:");
  uint64_t alerts = 0;
  for (int k = 0; k < kAlertKindCount; ++k) {
    const auto& s = st.alerts[k];
    if (s[0] + s[1] + s[2] == 0) continue;
    auto kn = AlertKindName(static_cast<AlertKind>(k));
    std::printf("  %.*s (%llu firing, %llu updated, %llu resolved)", static_cast<int>(kn.size()), kn.data(),
                static_cast<unsigned long long>(s[0]), static_cast<unsigned long long>(s[1]),
                static_cast<unsigned long long>(s[2]));
    alerts += s[0] + s[1] + s[2];
  }
  if (!alerts) std::printf("  none");
  std::printf("\n  dead letters:");
  uint64_t dead = 0;
  for (size_t e = 0; e < st.dead_letters_by_error.size(); ++e) {
    if (st.dead_letters_by_error[e]) {
      auto en = ParseErrorName(static_cast<ParseError>(e));
      std::printf("  %.*s %s", static_cast<int>(en.size()), en.data(), Thousands(st.dead_letters_by_error[e]).c_str());
      dead += st.dead_letters_by_error[e];
    }
  }
  if (!dead) std::printf("  none");
  std::printf("\n  late events (after their window closed): %s;  incidents still open at end: %s\n",
              Thousands(st.late_events).c_str(), Thousands(st.open_incidents).c_str());
  double secs = st.elapsed_seconds > 0 ? st.elapsed_seconds : 1e-9;
  std::printf("\n  %s records, %.1f MB in %.3f s: %s records/s, %.1f MB/s\n", Thousands(records).c_str(),
              static_cast<double>(bytes) / 1e6, st.elapsed_seconds,
              Thousands(static_cast<uint64_t>(static_cast<double>(records) / secs)).c_str(),
              static_cast<double>(bytes) / 1e6 / secs);
  std::printf("  outputs: %s/alerts.jsonl, %s/suppressions.jsonl, %s/dlq.jsonl\n", out_dir.c_str(), out_dir.c_str(),
              out_dir.c_str());
}

// The summary as one JSON object: per input records/events/skipped/dead letters, and the totals.
void EncodeSummary(const PipelineStats& st, std::string_view ruleset_version, std::string& out) {
  JsonWriter w(out);
  w.BeginObject();
  w.KVInt("schema", 1);
  w.KV("ruleset_version", ruleset_version);
  w.Key("inputs");
  w.BeginArray();
  for (const InputStats& in : st.inputs) {
    w.BeginObject();
    w.KV("name", in.name);
    w.KV("format", FormatName(in.format));
    w.Key("records");
    w.Uint(in.records);
    w.Key("event_records");
    w.Uint(in.event_records);
    w.Key("events");
    w.Uint(in.events);
    w.Key("skipped");
    w.Uint(in.skipped_total());
    w.Key("dead_letters");
    w.Uint(in.dead_letters);
    w.EndObject();
  }
  w.EndArray();
  w.Key("outcomes");
  w.BeginObject();
  for (int o = 0; o < 7; ++o) {
    w.Key(OutcomeName(static_cast<Outcome>(o)));
    w.Uint(st.outcomes[o]);
  }
  w.EndObject();
  uint64_t sup = 0, alerts = 0;
  for (uint64_t n : st.suppressions) sup += n;
  for (const auto& k : st.alerts) alerts += k[0] + k[1] + k[2];
  w.Key("suppressions");
  w.Uint(sup);
  w.Key("hygiene_events");
  w.Uint(st.hygiene_events);
  w.Key("alerts");
  w.Uint(alerts);
  w.Key("late_events");
  w.Uint(st.late_events);
  w.EndObject();
  out += '\n';
}

}  // namespace

int RunReplay(const Args& args) {
  Flags flags;
  if (absl::Status s = flags.Parse(args, {"format", "out", "threads", "rules", "year", "window-minutes", "summary-json",
                                         "brokers", "topic", "from", "to", "config"},
                                   {"help", "classified", "late", "quiet"});
      !s.ok()) {
    return UsageError("replay", s);
  }
  if (flags.Has("help")) {
    std::printf("%s\n", kHelp);
    return 0;
  }
  if (flags.Has("brokers") || flags.Has("topic") || flags.Has("from")) return RunBackfill(flags);
  ReplayOptions options;
  RuleSet::Options ropts;
  ropts.dir = flags.Get("rules");
  if (flags.Has("config")) {
    absl::StatusOr<Config> config = LoadConfigFile(flags.Get("config"), ProcessEnvironment(), ConfigUse::kReplay);
    if (!config.ok()) {
      std::fprintf(stderr, "bouncestream replay: %s\n", std::string(config.status().message()).c_str());
      return 2;
    }
    options.policy = config->alerts;
    options.decider = config->decisions;
    options.json = config->input.json;
    options.hash_addresses = config->privacy.hash_addresses;
    options.address_hash_key = config->privacy.hash_key;
    if (!flags.Has("format")) options.format = config->input.format;
    if (!flags.Has("rules")) ropts.dir = config->rules.dir;
    ropts.override_dir = config->rules.local_dir;
  }
  if (flags.Has("format")) {
    std::optional<Format> format = FormatFromName(flags.Get("format"));
    if (!format) return UsageError("replay", absl::StrCat("unknown --format '", flags.Get("format"), "'"));
    options.format = *format;
  }
  int threads = 1;
  if (!absl::SimpleAtoi(flags.Get("threads", "1"), &threads) || threads < 1 || threads > 256) {
    return UsageError("replay", "--threads needs a number from 1 to 256");
  }
  options.threads = threads;
  if (flags.Has("year") && (!absl::SimpleAtoi(flags.Get("year"), &options.year) || options.year < 1970 ||
                            options.year > 9999)) {
    return UsageError("replay", "--year needs a four-digit year");
  }
  if (flags.Has("window-minutes")) {
    int window_minutes = 0;
    if (!absl::SimpleAtoi(flags.Get("window-minutes"), &window_minutes) || window_minutes < 1) {
      return UsageError("replay", "--window-minutes needs a positive number");
    }
    options.policy.window_ms = static_cast<int64_t>(window_minutes) * 60 * 1000;
    if (options.policy.window_ms % options.policy.advance_ms != 0) options.policy.advance_ms = options.policy.window_ms;
  }
  options.classified = flags.Has("classified");
  options.late = flags.Has("late");
  const bool quiet = flags.Has("quiet");
  if (flags.positional().empty()) {
    auto samples = BundledSamples();
    if (!samples.ok()) {
      std::fprintf(stderr, "bouncestream replay: %s\n", std::string(samples.status().message()).c_str());
      return 1;
    }
    options.inputs = *samples;
  } else {
    for (const std::string& p : flags.positional()) options.inputs.push_back({p, p});
  }
  auto rules = RuleSet::Load(ropts);
  if (!rules.ok()) {
    std::fprintf(stderr, "bouncestream replay: rules: %s\n", std::string(rules.status().message()).c_str());
    return 1;
  }
  std::string out_dir = flags.Get("out", "out");
  auto sink = NdjsonSink::Open(out_dir, options.classified, options.late);
  if (!sink.ok()) {
    std::fprintf(stderr, "bouncestream replay: %s\n", std::string(sink.status().message()).c_str());
    return 1;
  }
  const bool tty = !quiet && isatty(STDERR_FILENO);
  auto progress = [&](const ReplayProgress& p) {
    static uint64_t last_records = 0;
    if (p.records - last_records < 200000 && p.bytes_done < p.bytes_total) return;
    last_records = p.records;
    double pct = p.bytes_total ? 100.0 * static_cast<double>(p.bytes_done) / static_cast<double>(p.bytes_total) : 100;
    std::fprintf(stderr, "\r  %5.1f%%  %s records", pct, Thousands(p.records).c_str());
  };
  auto stats = RunReplay(options, *rules, **sink, tty ? std::function<void(const ReplayProgress&)>(progress)
                                                       : std::function<void(const ReplayProgress&)>());
  if (tty) std::fprintf(stderr, "\r%*s\r", 40, "");
  if (!stats.ok()) {
    std::fprintf(stderr, "bouncestream replay: %s\n", std::string(stats.status().message()).c_str());
    return 1;
  }
  if (!quiet) PrintSummary(*stats, out_dir, (*rules)->version());
  if (flags.Has("summary-json")) {
    std::string json;
    EncodeSummary(*stats, (*rules)->version(), json);
    FILE* f = std::fopen(flags.Get("summary-json").c_str(), "wb");
    if (!f || std::fwrite(json.data(), 1, json.size(), f) != json.size() || std::fclose(f) != 0) {
      std::fprintf(stderr, "bouncestream replay: cannot write %s\n", flags.Get("summary-json").c_str());
      return 1;
    }
  }
  return 0;
}

}  // namespace bs::tools
