// Replay: runs the whole pipeline over files — read → parse+classify (N worker threads) → decide, in
// input order → sink. Files are processed one after another; chunks of a file are parsed in parallel
// and decided in order, so outputs do not depend on the thread count.
#ifndef BOUNCESTREAM_PIPELINE_REPLAY_H_
#define BOUNCESTREAM_PIPELINE_REPLAY_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "parsers/format.h"
#include "pipeline/sink/sink.h"
#include "pipeline/state/decider_options.h"
#include "pipeline/window/alert_policy.h"
#include "pipeline/worker/stats.h"
#include "rules/rule_set.h"

namespace bs {

struct ReplayInput {
  std::string path;
  std::string display_name;  // written in positions; defaults to the path
};

struct ReplayOptions {
  std::vector<ReplayInput> inputs;
  Format format = Format::kAuto;  // kAuto: detected per file from its first bytes
  int threads = 1;
  bool classified = false;
  bool late = false;  // also write late events (DIR/late.jsonl)
  // Year for year-less timestamps; 0 = each file's modification time decides.
  int year = 0;
  AlertPolicy policy;
  DeciderOptions decider;  // thresholds and TTLs of the stateful decisions ([decisions] of a config)
  JsonFieldMap json;       // field map of --format json ([input.json] of a config)
  // [privacy] of a config: addresses in the outputs as their keyed hash (DecideStage::Options).
  bool hash_addresses = false;
  std::string address_hash_key;
  size_t chunk_bytes = 4 << 20;
};

struct ReplayProgress {
  uint64_t bytes_done = 0;
  uint64_t bytes_total = 0;
  uint64_t records = 0;
};

// Runs the replay; `progress` (optional) is called from the calling thread after each chunk.
absl::StatusOr<PipelineStats> RunReplay(const ReplayOptions& options, std::shared_ptr<const RuleSet> rules,
                                        Sink& sink, const std::function<void(const ReplayProgress&)>& progress = {});

}  // namespace bs

#endif  // BOUNCESTREAM_PIPELINE_REPLAY_H_
