// KafkaProducer: librdkafka's producer, wrapped once (RAII; with pipeline/source/kafka_consumer.* the only
// users of librdkafka). Idempotent always (no duplicates or reordering from librdkafka's own retries);
// transactional when a transactional id is given (exactly-once: outputs, changelog and consumer offsets
// commit or abort together).
//
// Delivery reports: every Produce() carries an opaque pointer; when the broker acknowledges the message
// (or librdkafka gives up on it), the DeliveryFn is called with that pointer and the result. Reports
// are served by the producer's own thread (and, during Flush/CommitTransaction, by the caller's), so the
// DeliveryFn must be thread-safe. Produce() may be called from any one thread at a time per instance;
// when librdkafka's local queue is full it blocks until reports free space (backpressure reaches the
// caller instead of memory growing).
#ifndef BOUNCESTREAM_PIPELINE_SINK_KAFKA_PRODUCER_H_
#define BOUNCESTREAM_PIPELINE_SINK_KAFKA_PRODUCER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "pipeline/source/kafka_consumer.h"

struct rd_kafka_s;
struct rd_kafka_topic_s;

namespace bs {

class KafkaProducer {
 public:
  using DeliveryFn = std::function<void(void* opaque, const absl::Status& result)>;

  struct Options {
    std::string brokers;
    std::map<std::string, std::string> properties;  // passed through to librdkafka
    std::string transactional_id;                   // non-empty: transactional producer
    KafkaLogFn log;
  };

  static absl::StatusOr<std::unique_ptr<KafkaProducer>> Create(Options options, DeliveryFn on_delivery);
  // Flushes for up to 10 s, then stops the report thread and destroys the handle.
  ~KafkaProducer();
  KafkaProducer(const KafkaProducer&) = delete;
  KafkaProducer& operator=(const KafkaProducer&) = delete;

  // Copies key and value. `partition` -1 = librdkafka's partitioner (consistent hash of the key, the
  // same as the Java client's murmur2 when partitioner=murmur2_random, which Create sets by default).
  // With block = false, a full local queue returns kResourceExhausted at once instead of waiting (for a
  // thread that has other work, such as the consuming thread).
  absl::Status Produce(std::string_view topic, int32_t partition, std::string_view key, std::string_view value,
                       void* opaque, bool block = true);
  // Waits until every produced message has a delivery report (or the timeout passes).
  absl::Status Flush(int timeout_ms);
  // Messages produced and not yet reported.
  int OutQueueLength() const;

  // Transactions (exactly-once). Errors carry the kind in the code: kUnavailable = retriable (call
  // again), kAborted = abortable (AbortTransaction, rewind the input, start again), kInternal = fatal
  // (this producer is dead, e.g. fenced by a newer instance with the same transactional id).
  absl::Status InitTransactions(int timeout_ms);
  absl::Status BeginTransaction();
  absl::Status SendOffsetsToTransaction(const std::vector<TopicPartition>& offsets, const KafkaConsumer& consumer,
                                        int timeout_ms);
  absl::Status CommitTransaction(int timeout_ms);
  absl::Status AbortTransaction(int timeout_ms);

  // Partition count of a topic from metadata (error if it does not exist).
  absl::StatusOr<int> PartitionCount(const std::string& topic, int timeout_ms);
  // Creates a topic (admin API) unless it exists. `config`: topic configs such as cleanup.policy.
  absl::Status CreateTopic(const std::string& topic, int partitions, int replication_factor,
                           const std::map<std::string, std::string>& config, int timeout_ms);

  // A fatal librdkafka error, if one happened ("" otherwise).
  std::string FatalError() const;

 private:
  friend struct KafkaProducerCallbacks;
  KafkaProducer(Options options, DeliveryFn fn) : options_(std::move(options)), on_delivery_(std::move(fn)) {}
  void ReportLoop();
  // The topic's handle, created on first use and kept until destruction.
  rd_kafka_topic_s* Topic(std::string_view topic);

  Options options_;
  DeliveryFn on_delivery_;
  rd_kafka_s* rk_ = nullptr;
  std::atomic<bool> stop_{false};
  std::thread reporter_;
  // Topic handles: naming the topic on every produce costs librdkafka a handle lookup under its
  // handle-wide write lock (and us a string copy) per message; a handle kept here costs neither.
  std::mutex topics_mu_;
  std::vector<std::pair<std::string, rd_kafka_topic_s*>> topics_;
};

}  // namespace bs

#endif  // BOUNCESTREAM_PIPELINE_SINK_KAFKA_PRODUCER_H_
