// WindowExchange: alert windows merged across processes through the repartition topic.
//
// With several consumers each process reads some input partitions, but an alert key (Gmail × one IP, say)
// gets events from every partition. So counting and judging are split:
//
//   counting side, per input partition this process owns (a non-judging AlertAggregator each):
//     events → panes → partials: one record per (pane, key) with the partition's cumulative counts and
//     evidence, sent to repartition partition hash(key) mod R once the pane ended (end + grace at or
//     before the partition's watermark), then again whenever it changes until no window can use it;
//     and progress markers (the partition's newest event time, parked or not) to every repartition
//     partition when its watermark passes a window end, when it parks or unparks, and on Heartbeat().
//   judging side, per repartition partition this process owns (a judging AlertAggregator each, whose
//     partitions are all the input partitions): a partial replaces the same source's earlier partial of
//     the same pane and key; markers move each source's watermark; windows close on the minimum, exactly
//     as in one process, and fire the alerts.
//
// Why partials are cumulative and replace: a partition that parks must hand over what it has so far
// (the others must not wait for it), and after a restart the new owner re-reads the records of every
// pane not yet final and sends their full counts again; replacing makes both idempotent. Panes already
// final for a partition (its watermark passed their last window) are not sent again after a restart:
// RestoreShipped() tells the counting side where the partition stood (the runtime keeps that in the
// changelog, written only after the partials were acknowledged).
//
// Order: a partition's partials for a pane go out before the marker that lets a merger close a window
// holding it, to the same repartition partition, on one idempotent producer: Kafka keeps that order.
//
// Messages (binary, versioned): "BSW1", type (1 partials, 2 marker), source partition index, number of
// input partitions (a merger drops messages from a process configured with other inputs), then the body.
// A marker also lists the panes the partition sent partials for since its last marker: one process
// judges a window for every key with an open incident when any key had events in it, so every judge
// learns which panes had events anywhere.
// Not thread-safe: the runtime's decide thread owns it.
#ifndef BOUNCESTREAM_PIPELINE_WINDOW_WINDOW_EXCHANGE_H_
#define BOUNCESTREAM_PIPELINE_WINDOW_WINDOW_EXCHANGE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "pipeline/window/alert_aggregator.h"

namespace bs {

// Where the counting side's messages go (the runtime: the repartition topic).
class PartialOutput {
 public:
  virtual ~PartialOutput() = default;
  virtual absl::Status SendPartial(int32_t partition, std::string_view key, std::string_view bytes) = 0;
};

class WindowExchange {
 public:
  // `inputs`: every input partition of the job (all processes); `merge_partitions`: the repartition
  // topic's partition count.
  WindowExchange(AlertPolicy policy, int inputs, int merge_partitions, PartialOutput& out);
  ~WindowExchange();

  // ---- counting side
  // The partition is assigned here: a fresh counter (it holds nothing back until it has events).
  void StartInput(int input);
  // Its panes whose every window ended by `shipped_watermark` were already sent (by an earlier owner):
  // their records, read again, are skipped.
  void RestoreShipped(int input, int64_t shipped_watermark);
  // Revoked: forgotten (the next owner re-reads what was not final).
  void DropInput(int input);
  // Counts one event; an event whose every window has closed for its partition is late.
  void Add(int input, const ClassifiedEvent& ce);
  // After a batch: sends the partials of ended panes that changed and, if the watermark passed a window
  // end, a marker.
  absl::Status Ship(int input);
  // Parked (caught up and quiet): every changed pane goes out, then a parked marker; unparked: a marker.
  absl::Status Park(int input, bool parked);
  // A marker for every input counted here (a merger that was just assigned learns where each stands).
  absl::Status Heartbeat();
  // The partition's watermark at its last Ship: every pane whose last window ended (+ grace) by then
  // has been sent in its final form. INT64_MIN when unknown.
  int64_t shipped_watermark(int input) const;
  uint64_t late_events() const { return late_; }
  // The lowest shipped watermark of the unparked inputs here (this process's own event-time progress,
  // for judgements that stay per process such as silence), INT64_MIN when none.
  int64_t local_watermark() const;
  uint64_t late_events(int input) const;

  // ---- judging side
  void AssignMerge(int partition);
  void RevokeMerge(int partition);
  bool merging(int partition) const { return mergers_.count(partition) != 0; }
  // Applies one message of repartition partition `partition` and appends the alerts of the windows it
  // closed. Malformed or foreign messages are counted (rejected_messages) and skipped.
  absl::Status Receive(int partition, std::string_view message, std::vector<AlertRecord>& out);
  // The pane start of the latest pane in `message` (INT64_MIN for a marker or an unreadable message):
  // the message is needed until every window holding that pane has closed.
  static int64_t LatestPane(std::string_view message);
  // The merger's lifecycle state (baselines, incidents) changed since the last call, for the changelog;
  // and its restore when the partition is assigned again (before its first message).
  void TakeMergeState(int partition, const AlertAggregator::StateFn& emit);
  bool RestoreMergeState(int partition, std::string_view key, std::string_view value);
  // End of input (tests, and a merger being retired): closes every remaining window of the merger.
  void FlushMerge(int partition, std::vector<AlertRecord>& out);
  // The merger's watermark (INT64_MIN when not merging it).
  int64_t merge_watermark(int partition) const;
  uint64_t open_incidents() const;
  uint64_t rejected_messages() const { return rejected_; }
  uint64_t partials_sent() const { return partials_sent_; }
  uint64_t markers_sent() const { return markers_sent_; }

  // Where a key is judged (also used by tests).
  static int MergePartitionOf(const AlertAggregator::PartialCell& cell, int merge_partitions);

 private:
  struct Input {
    std::unique_ptr<AlertAggregator> counter;
    int64_t skip_before = INT64_MIN;   // pane starts before this were final at the last owner
    int64_t marked_step = INT64_MIN;   // FloorDiv(watermark - grace, advance) at the last marker
    bool parked = false;
    int64_t shipped = INT64_MIN;
    std::vector<int64_t> panes;  // starts of panes sent since the last marker (it tells every judge)
  };
  absl::Status Export(int input, Input& in, int64_t through);
  absl::Status SendMarker(int input, Input& in);

  AlertPolicy policy_;
  int inputs_;
  int merge_partitions_;
  int64_t size_ms_, advance_ms_;
  PartialOutput& out_;
  std::map<int, Input> inputs_here_;
  std::map<int, std::unique_ptr<AlertAggregator>> mergers_;
  uint64_t late_ = 0;
  std::map<int, uint64_t> late_by_input_;
  uint64_t rejected_ = 0, partials_sent_ = 0, markers_sent_ = 0;
  std::vector<std::string> batch_;  // per repartition partition: the partials message being built
  std::vector<uint32_t> batch_cells_;
  std::string key_;
};

}  // namespace bs

#endif  // BOUNCESTREAM_PIPELINE_WINDOW_WINDOW_EXCHANGE_H_
