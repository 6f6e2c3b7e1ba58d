// DecideStage: the sequential end of the pipeline. It takes chunk results in input order and runs the
// stateful steps: the envelope join, the suppression decider, the alert windows; then encodes every
// output and hands it to the sink. Because it sees records in the same order whatever the number of
// parse/classify workers, outputs are byte-identical for any --threads. Not thread-safe.
#ifndef BOUNCESTREAM_PIPELINE_WORKER_DECIDE_STAGE_H_
#define BOUNCESTREAM_PIPELINE_WORKER_DECIDE_STAGE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"

#include "absl/status/status.h"
#include "pipeline/base/address_hash.h"
#include "pipeline/sink/sink.h"
#include "pipeline/state/suppression_decider.h"
#include "pipeline/window/alert_aggregator.h"
#include "pipeline/window/silence_detector.h"
#include "pipeline/window/window_exchange.h"
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
    bool late_output = false;  // also write late events (OutputKind::kLate)
    DeciderOptions decider;   // thresholds and TTLs of the stateful decisions
    // Kafka runtime: suppression state per input partition (restored on assignment, dropped on revoke)
    // instead of one state for every input.
    bool state_per_partition = false;
    // [privacy]: addresses in every output (and output keys) as their keyed hash; see encoders.h.
    bool hash_addresses = false;
    std::string address_hash_key;
    // Kafka runtime with a repartition topic: alert windows are counted here per input partition and
    // judged by whichever process owns the key's repartition partition (WindowExchange). `partitions`
    // is then every input partition of the job.
    PartialOutput* repartition = nullptr;
    int repartition_partitions = 0;
  };
  DecideStage(Options options, Sink& sink, PipelineStats& stats);

  // Consumes one chunk result of input `partition`. The events are left as they came (the sender join
  // works on them in place and puts them back).
  absl::Status Consume(int partition, ChunkResult& result);
  absl::Status FinishPartition(int partition);
  // End of input: closes all windows and flushes the sink.
  absl::Status Finish();

  // Kafka runtime (partitions come and go with rebalances):
  // the partition is an input again and holds the alert watermark back until its first event;
  void StartPartition(int partition);
  // the partition was revoked: its window counts are dropped (with a repartition topic);
  void RevokePartition(int partition);
  // a parked partition (unassigned, or caught up and quiet) does not hold the watermark back, so
  // parking one may close windows (their alerts are written);
  absl::Status ParkPartition(int partition, bool parked);
  // the partition's suppression state (with state_per_partition; else the one shared state);
  SuppressionDecider& decider(int partition);
  // forgets the partition's suppression state (revoked, or about to be restored).
  void DropPartitionState(int partition);
  // Only remembers the envelope lines (senders) of `result`: decides nothing, writes nothing, counts
  // nothing (records read again after a restart to rebuild the sender join).
  void WarmUp(const ChunkResult& result);
  int64_t watermark() const { return alerts_.watermark(); }
  uint64_t late_events() const { return exchange_ ? exchange_->late_events() : alerts_.late_events(); }

  // With a repartition topic (see WindowExchange):
  bool repartitioned() const { return exchange_ != nullptr; }
  // where an earlier owner of the partition stood (its changelog), so re-read final panes are skipped;
  void RestoreShipped(int partition, int64_t watermark);
  // the partition's watermark up to which its windows' counts have gone out in final form;
  int64_t shipped_watermark(int partition) const;
  // markers for every input partition here, so newly assigned mergers learn where each stands;
  absl::Status Heartbeat();
  // this process judges repartition partition `r` (assigned) or not any more (revoked);
  void AssignMerge(int r) { exchange_->AssignMerge(r); }
  void RevokeMerge(int r) { exchange_->RevokeMerge(r); }
  // one message of repartition partition `r`: applied, and the alerts of the windows it closed written;
  absl::Status ConsumePartials(int r, std::string_view message);
  int64_t merge_watermark(int r) const { return exchange_->merge_watermark(r); }
  const WindowExchange* exchange() const { return exchange_.get(); }
  WindowExchange* mutable_exchange() { return exchange_.get(); }

 private:
  absl::Status EmitAlerts();
  // One event after the join: statistics, decisions, windows, silence.
  absl::Status ConsumeEvent(int partition, const ClassifiedEvent& ce);

  Options options_;
  Sink& sink_;
  PipelineStats& stats_;
  EnvelopeJoin join_;
  SuppressionDecider decider_;
  absl::flat_hash_map<int, std::unique_ptr<SuppressionDecider>> partition_deciders_;
  AlertAggregator alerts_;
  std::unique_ptr<WindowExchange> exchange_;  // with a repartition topic; then alerts_ stays empty
  AddressHasher privacy_;  // off unless options_.hash_addresses
  SilenceDetector silence_;  // `silence` alerts, judged on alerts_'s watermark
  std::vector<AlertRecord> pending_alerts_;
  std::vector<SuppressionRecord> decisions_;
  std::string buf_;
};

}  // namespace bs

#endif  // BOUNCESTREAM_PIPELINE_WORKER_DECIDE_STAGE_H_
