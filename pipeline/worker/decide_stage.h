// DecideStage: the sequential end of the pipeline. It takes chunk results in input order and runs the
// stateful steps: the envelope join, the suppression decider, the alert windows; then encodes every
// output and hands it to the sink. Because it sees records in the same order whatever the number of
// parse/classify workers, outputs are byte-identical for any --threads. Not thread-safe.
#ifndef BOUNCESTREAM_PIPELINE_WORKER_DECIDE_STAGE_H_
#define BOUNCESTREAM_PIPELINE_WORKER_DECIDE_STAGE_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "pipeline/sink/sink.h"
#include "pipeline/state/suppression_decider.h"
#include "pipeline/window/alert_aggregator.h"
#include "pipeline/worker/classified_event.h"
#include "pipeline/worker/envelope_join.h"
#include "pipeline/worker/stats.h"

namespace bs {

class DecideStage {
 public:
  struct Options {
    std::string ruleset_version;
    AlertPolicy policy;
    int partitions = 1;
    bool classified = false;  // also write every classified event
    DeciderOptions decider;   // thresholds and TTLs of the stateful decisions
  };
  DecideStage(Options options, Sink& sink, PipelineStats& stats);

  // Consumes one chunk result of input `partition`.
  absl::Status Consume(int partition, const ChunkResult& result);
  absl::Status FinishPartition(int partition);
  // End of input: closes all windows and flushes the sink.
  absl::Status Finish();

 private:
  absl::Status EmitAlerts();

  Options options_;
  Sink& sink_;
  PipelineStats& stats_;
  EnvelopeJoin join_;
  SuppressionDecider decider_;
  AlertAggregator alerts_;
  std::vector<AlertRecord> pending_alerts_;
  std::vector<SuppressionRecord> decisions_;
  std::string buf_;
};

}  // namespace bs

#endif  // BOUNCESTREAM_PIPELINE_WORKER_DECIDE_STAGE_H_
