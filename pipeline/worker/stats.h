// Counters of a run, kept by the decide stage and printed in the replay summary (and, later, exported as
// metrics). Plain values; no per-address detail.
#ifndef BOUNCESTREAM_PIPELINE_WORKER_STATS_H_
#define BOUNCESTREAM_PIPELINE_WORKER_STATS_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "parsers/format.h"
#include "parsers/parse_error.h"
#include "pipeline/sink/records.h"
#include "pipeline/sink/sink.h"
#include "pipeline/worker/classified_event.h"
#include "rules/classification.h"

namespace bs {

struct InputStats {
  std::string name;
  Format format = Format::kAuto;
  uint64_t records = 0;       // records read (non-blank lines, JSON array elements)
  uint64_t events = 0;        // delivery events produced (a batched record can give several)
  uint64_t event_records = 0; // records that produced at least one event or envelope
  std::array<uint64_t, kSkipReasonCount> skipped{};
  uint64_t dead_letters = 0;
  uint64_t bytes = 0;          // bytes of records read, after decompression

  uint64_t skipped_total() const {
    uint64_t n = 0;
    for (uint64_t s : skipped) n += s;
    return n;
  }
};

struct PipelineStats {
  std::vector<InputStats> inputs;
  std::array<uint64_t, 8> outcomes{};  // by Outcome
  std::array<std::array<uint64_t, kCategoryCount>, kProviderCount> provider_category{};
  std::array<uint64_t, kActionCount> suppressions{};  // by action
  uint64_t hygiene_events = 0;
  std::array<std::array<uint64_t, 3>, kAlertKindCount> alerts{};  // kind × state
  std::array<uint64_t, 16> dead_letters_by_error{};
  uint64_t late_events = 0;
  uint64_t open_incidents = 0;
  // Events per classification rule id (bounded by the rule set: a few hundred ids).
  absl::flat_hash_map<std::string, uint64_t> rule_hits;
  // Records written per output (OutputKind).
  std::array<uint64_t, kOutputKindCount> outputs{};
  double elapsed_seconds = 0;
};

}  // namespace bs

#endif  // BOUNCESTREAM_PIPELINE_WORKER_STATS_H_
