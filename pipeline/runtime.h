// Runtime: the Kafka consumer-group service (`bouncestream run`) and the Kafka backfill
// (`bouncestream replay --brokers`). Builds the whole graph from a Config and owns everything in it:
//
//   KafkaConsumer ─ consuming thread ─► per-partition batches ─► N parse/classify workers (ChunkProcessor)
//        ▲  (rebalance, pause/resume,        (one worker per partition, so a partition stays in order)
//        │   offsets: all on this thread)                     │ results, in dispatch order
//        │                                                    ▼
//        └──── acknowledged offsets ◄── KafkaProducer ◄── decide thread (DecideStage: join, per-partition
//                                      (alerts, suppressions,          suppression state, windows, encoders)
//                                       dlq, classified, changelog)
//
// Delivery. At-least-once (default): a record's offset is stored for commit only when every output it
// caused is acknowledged by the brokers, its state changes are acknowledged on the changelog topic (sent
// only after those outputs, so a restored state never claims an output that was lost), and every alert
// window it counts in has closed (a restart re-reads the records of open windows). Exactly-once: one
// transaction per commit interval carries the outputs, the changelog and the consumer offsets.
//
// State. Suppression state is per input partition, restored from the compacted changelog topic when the
// partition is assigned (before any of its records is processed) and dropped when it is revoked. The
// changelog partition of input partition p is p mod (changelog partitions); keys are
// "<topic>/<partition>|<state key>", so several input topics can share one changelog.
//
// Alert windows (at-least-once, with [topics] repartition): counted per input partition here and sent as
// window partials to the repartition topic, which the same group consumes; the owner of repartition
// partition r judges the keys that hash to r (WindowExchange), with its judging state in the changelog
// under "<repartition topic>/<r>|". An input record is committed once its windows' counts went out in
// final form; a repartition message once its windows closed at the judge. Exactly-once (and a backfill)
// judges windows in this process.
//
// Threads: Run() is the consuming thread; Stop() and RequestReload() may be called from any thread
// (a signal-handling thread); MetricsText()/Ready() from the HTTP thread.
#ifndef BOUNCESTREAM_PIPELINE_RUNTIME_H_
#define BOUNCESTREAM_PIPELINE_RUNTIME_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "pipeline/config/config.h"
#include "pipeline/sink/sink.h"
#include "pipeline/worker/stats.h"

namespace bs {

// Log lines of the runtime: level (0 debug, 1 info, 2 warn, 3 error) and the message.
using RuntimeLogFn = std::function<void(int level, std::string_view message)>;

class Runtime {
 public:
  struct Options {
    Config config;
    RuntimeLogFn log;
    // Backfill instead of the service: read `backfill_topics` from the first offset at or after
    // `from_ms` up to (not including) the first at or after `to_ms` (or the end offsets at start when
    // to_ms < 0), without a consumer group and without commits; outputs go to `backfill_sink` (files),
    // so a backfill never touches the live topics; windows are flushed at the end, as in replay.
    bool backfill = false;
    std::vector<std::string> backfill_topics;
    int64_t from_ms = 0;
    int64_t to_ms = -1;
    Sink* backfill_sink = nullptr;
    bool backfill_classified = false;  // also write every classified event to the sink
    bool backfill_late = false;        // also write late events to the sink
  };

  static absl::StatusOr<std::unique_ptr<Runtime>> Create(Options options);
  ~Runtime();

  // Runs until Stop() (then finishes in-flight records, commits and leaves the group) or a fatal error;
  // a backfill runs until its end offsets. Clear errors for unreachable brokers, missing topics and
  // authorisation failures come from here.
  absl::Status Run();
  void Stop();
  // Reloads the rule files (SIGHUP); takes effect between batches.
  void RequestReload();

  // /readyz: partitions assigned (or none to get), their state restored, producer connected.
  bool Ready() const;
  // /metrics in Prometheus text format.
  std::string MetricsText() const;
  // Counters so far (a copy; for the backfill summary and tests).
  PipelineStats Stats() const;

 private:
  class Impl;
  explicit Runtime(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace bs

#endif  // BOUNCESTREAM_PIPELINE_RUNTIME_H_
