// The Kafka backfill: re-reads input topics from a point in time (offsets for times) through the same
// pipeline as `run`, without a consumer group and without commits, into NDJSON files — so a backfill
// never fires live alerts a second time and never moves the service's offsets.
#include "tools/backfill.h"

#include <cstdio>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "pipeline/base/event_time.h"
#include "pipeline/base/strings.h"
#include "pipeline/config/config.h"
#include "pipeline/runtime.h"
#include "pipeline/sink/ndjson_sink.h"
#include "pipeline/source/kafka_consumer.h"

namespace bs::tools {
namespace {

// "2026-11-02T08:00:00Z" (any ISO 8601 form ParseIsoTime reads) or milliseconds since the epoch.
std::optional<int64_t> ParseTime(const std::string& s) {
  int64_t ms = 0;
  if (absl::SimpleAtoi(Av(s), &ms) && ms >= 0) return ms;
  return ParseIsoTime(s);
}

}  // namespace

int RunBackfill(const Flags& flags) {
  Config config;
  if (flags.Has("config")) {
    absl::StatusOr<Config> c = LoadConfigFile(flags.Get("config"), ProcessEnvironment());
    if (!c.ok()) {
      std::fprintf(stderr, "bouncestream replay: %s\n", std::string(c.status().message()).c_str());
      return 2;
    }
    config = *c;
  }
  if (flags.Has("brokers")) config.kafka.brokers = flags.Get("brokers");
  if (config.kafka.brokers.empty()) return UsageError("replay", "a backfill needs --brokers B (or --config FILE)");
  std::vector<std::string> topics = flags.GetAll("topic");
  if (topics.empty()) topics = config.kafka.input_topics;
  if (topics.empty()) return UsageError("replay", "a backfill needs --topic T (repeatable)");
  if (!flags.Has("from")) return UsageError("replay", "a backfill needs --from TIME (ISO 8601 or epoch ms)");
  std::optional<int64_t> from = ParseTime(flags.Get("from"));
  if (!from) return UsageError("replay", absl::StrCat("--from '", flags.Get("from"), "' is not a time"));
  int64_t to_ms = -1;
  if (flags.Has("to")) {
    std::optional<int64_t> to = ParseTime(flags.Get("to"));
    if (!to || *to < *from) return UsageError("replay", "--to must be a time after --from");
    to_ms = *to;
  }
  if (!flags.positional().empty()) return UsageError("replay", "a backfill reads topics, not files");
  if (flags.Has("format")) {
    std::optional<Format> f = FormatFromName(flags.Get("format"));
    if (!f) return UsageError("replay", absl::StrCat("unknown --format '", flags.Get("format"), "'"));
    config.input.format = *f;
  }
  if (flags.Has("threads")) {
    if (!absl::SimpleAtoi(flags.Get("threads"), &config.processing.workers) || config.processing.workers < 1 ||
        config.processing.workers > 256) {
      return UsageError("replay", "--threads needs a number from 1 to 256");
    }
  }
  if (flags.Has("rules")) config.rules.dir = flags.Get("rules");
  if (flags.Has("window-minutes")) {
    int m = 0;
    if (!absl::SimpleAtoi(flags.Get("window-minutes"), &m) || m < 1) {
      return UsageError("replay", "--window-minutes needs a positive number");
    }
    config.alerts.window_ms = static_cast<int64_t>(m) * 60 * 1000;
    if (config.alerts.window_ms % config.alerts.advance_ms != 0) config.alerts.advance_ms = config.alerts.window_ms;
  }
  if (absl::Status s = CheckKafkaProperties(config.kafka); !s.ok()) {
    std::fprintf(stderr, "bouncestream replay: %s\n", std::string(s.message()).c_str());
    return 2;
  }
  const std::string out_dir = flags.Get("out", "out");
  const bool quiet = flags.Has("quiet");
  auto sink = NdjsonSink::Open(out_dir, flags.Has("classified"), flags.Has("late"));
  if (!sink.ok()) {
    std::fprintf(stderr, "bouncestream replay: %s\n", std::string(sink.status().message()).c_str());
    return 1;
  }
  Runtime::Options options;
  options.config = config;
  options.backfill = true;
  options.backfill_topics = topics;
  options.from_ms = *from;
  options.to_ms = to_ms;
  options.backfill_sink = sink->get();
  options.backfill_classified = flags.Has("classified");
  options.backfill_late = flags.Has("late");
  options.log = [quiet](int level, std::string_view m) {
    if (level >= 2 || (!quiet && level >= 1)) {
      std::fprintf(stderr, "bouncestream replay: %.*s\n", static_cast<int>(m.size()), m.data());
    }
  };
  absl::StatusOr<std::unique_ptr<Runtime>> runtime = Runtime::Create(options);
  if (!runtime.ok()) {
    std::fprintf(stderr, "bouncestream replay: %s\n", std::string(runtime.status().message()).c_str());
    return 1;
  }
  if (absl::Status s = (*runtime)->Run(); !s.ok()) {
    std::fprintf(stderr, "bouncestream replay: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  if (absl::Status s = (*sink)->Flush(); !s.ok()) {
    std::fprintf(stderr, "bouncestream replay: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  if (!quiet) {
    PipelineStats st = (*runtime)->Stats();
    uint64_t events = 0, sup = 0, alerts = 0, dead = 0;
    for (uint64_t n : st.outcomes) events += n;
    for (uint64_t n : st.suppressions) sup += n;
    for (const auto& k : st.alerts) alerts += k[0] + k[1] + k[2];
    for (uint64_t n : st.dead_letters_by_error) dead += n;
    std::printf("backfill of %zu topic(s) from %s%s: %llu events, %llu suppressions, %llu hygiene events, "
                "%llu alert records, %llu dead letters\noutputs: %s/alerts.jsonl, %s/suppressions.jsonl, "
                "%s/dlq.jsonl\n",
                topics.size(), FormatIsoTimeMs(*from).c_str(),
                to_ms >= 0 ? absl::StrCat(" to ", FormatIsoTimeMs(to_ms)).c_str() : "",
                static_cast<unsigned long long>(events), static_cast<unsigned long long>(sup),
                static_cast<unsigned long long>(st.hygiene_events), static_cast<unsigned long long>(alerts),
                static_cast<unsigned long long>(dead), out_dir.c_str(), out_dir.c_str(), out_dir.c_str());
  }
  return 0;
}

}  // namespace bs::tools
