// KafkaConsumer: the librdkafka high-level consumer, wrapped once (RAII; this file and
// pipeline/sink/kafka_producer.* are the only users of librdkafka).
//
// Operation: Subscribe() joins the consumer group (cooperative-sticky by default, static membership when
// group_instance_id is set) or Assign() reads fixed partitions without a group (backfill, tail). Poll()
// returns messages one at a time through a callback, copied by the caller before the callback returns.
// Offsets are never stored automatically (enable.auto.offset.store=false): the caller stores the offsets
// of records whose outputs are acknowledged (StoreOffsets), and librdkafka's auto commit sends them; or,
// with exactly-once, the producer commits them inside its transaction.
//
// Concurrency: one thread (the consuming thread) calls every method. Rebalance callbacks run on it,
// inside Poll(). Pause/Resume/Seek also happen on it: librdkafka 2.0.2's batch consume is unsafe next to
// them, which is also why Poll() uses the per-message rd_kafka_consumer_poll (the 2.0.x batch API could
// skip offsets around pause/resume).
#ifndef BOUNCESTREAM_PIPELINE_SOURCE_KAFKA_CONSUMER_H_
#define BOUNCESTREAM_PIPELINE_SOURCE_KAFKA_CONSUMER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "pipeline/config/config.h"

struct rd_kafka_s;  // librdkafka's handle, opaque here

namespace bs {

inline constexpr int64_t kOffsetBeginning = -2;  // RD_KAFKA_OFFSET_BEGINNING
inline constexpr int64_t kOffsetEnd = -1;        // RD_KAFKA_OFFSET_END
inline constexpr int64_t kOffsetInvalid = -1001; // RD_KAFKA_OFFSET_INVALID: "the committed offset"

struct TopicPartition {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = kOffsetInvalid;  // or a timestamp for OffsetsForTimes

  friend bool operator<(const TopicPartition& a, const TopicPartition& b) {
    return a.topic != b.topic ? a.topic < b.topic : a.partition < b.partition;
  }
  friend bool operator==(const TopicPartition& a, const TopicPartition& b) {
    return a.topic == b.topic && a.partition == b.partition;
  }
  std::string ToString() const;  // "topic/partition"
};

// One consumed message; every view is valid only during the callback.
struct KafkaMessage {
  std::string_view topic;
  int32_t partition = 0;
  int64_t offset = 0;
  int64_t timestamp_ms = -1;  // -1 when the message has none
  std::string_view key;
  std::string_view payload;
};

// syslog levels (3 error, 4 warning, 6 info, 7 debug) and a message; called from librdkafka's threads.
using KafkaLogFn = std::function<void(int level, std::string_view message)>;

// Rejects librdkafka properties librdkafka does not know or whose values it refuses, as
// "origin: [kafka.properties] "name": reason" (origin = file:line or environment variable).
absl::Status CheckKafkaProperties(const KafkaOptions& options);

class KafkaConsumer {
 public:
  struct Options {
    std::string brokers;
    std::string group_id;           // required by Subscribe; Assign-only consumers may leave it empty
    std::string group_instance_id;  // static membership when set
    std::map<std::string, std::string> properties;  // passed through to librdkafka
    bool read_committed = false;    // isolation.level
    bool auto_commit = true;        // commit stored offsets periodically and on revoke/close
    bool partition_eof = false;     // report the end of each partition (backfill)
    KafkaLogFn log;
  };

  // Rebalance events, called on the consuming thread inside Poll().
  class Listener {
   public:
    virtual ~Listener() = default;
    // Partitions are about to be taken away: finish their in-flight records and store or commit their
    // offsets now. `lost`: the group already gave them to another member; committing would fail.
    virtual void OnRevoke(const std::vector<TopicPartition>& partitions, bool lost) = 0;
    // Partitions were given to us; none of their messages has been returned yet. Offsets are
    // kOffsetInvalid (resume from the committed offset) unless the listener sets them.
    virtual void OnAssign(std::vector<TopicPartition>& partitions) = 0;
  };

  static absl::StatusOr<std::unique_ptr<KafkaConsumer>> Create(Options options);
  ~KafkaConsumer();
  KafkaConsumer(const KafkaConsumer&) = delete;
  KafkaConsumer& operator=(const KafkaConsumer&) = delete;

  // Checks that the brokers answer and every topic exists (and is readable), then joins the group.
  absl::Status Subscribe(const std::vector<std::string>& topics, Listener* listener, int timeout_ms);
  // Reads exactly these partitions from their offsets, without a group.
  absl::Status Assign(const std::vector<TopicPartition>& partitions);

  // Waits up to timeout_ms for a first message, then takes what is already fetched, up to
  // max_messages. Calls on_message for each (and appends ends of partitions to `eof` when asked for).
  // Returns the number of messages; fails on fatal errors (authorisation, a topic that disappeared,
  // librdkafka fatal errors). Transient errors (brokers down) are logged and retried by librdkafka.
  absl::StatusOr<int> Poll(int timeout_ms, int max_messages, const std::function<void(const KafkaMessage&)>& on_message,
                           std::vector<TopicPartition>* eof = nullptr);

  absl::Status Pause(const std::vector<TopicPartition>& partitions);
  absl::Status Resume(const std::vector<TopicPartition>& partitions);
  absl::Status Seek(const TopicPartition& partition, int timeout_ms);
  // The next offset to read of each partition, committed by auto commit (and on revoke/close).
  absl::Status StoreOffsets(const std::vector<TopicPartition>& offsets);
  // Commits these offsets now (synchronously); empty = the stored offsets.
  absl::Status Commit(const std::vector<TopicPartition>& offsets);
  // The group's committed offsets for these partitions (kOffsetInvalid when none).
  absl::StatusOr<std::vector<TopicPartition>> Committed(const std::vector<TopicPartition>& partitions, int timeout_ms);
  // Input: offsets hold timestamps (ms). Output: the first offset at or after each (kOffsetEnd if none).
  absl::StatusOr<std::vector<TopicPartition>> OffsetsForTimes(const std::vector<TopicPartition>& times, int timeout_ms);
  // Low and high watermarks (first offset, next offset to be written).
  absl::Status Watermarks(const std::string& topic, int32_t partition, int64_t& low, int64_t& high, int timeout_ms);
  // Partition count of a topic (error if it does not exist or cannot be described).
  absl::StatusOr<int> PartitionCount(const std::string& topic, int timeout_ms);
  // The current assignment.
  std::vector<TopicPartition> Assignment();
  // Consumer lag of each assigned partition, in `offset`: the high watermark last seen minus the next
  // offset to read (the position, or where its end was reached). Partitions whose position or
  // watermarks are not known yet are left out. From librdkafka's cache: no request, cheap.
  std::vector<TopicPartition> Lag();

  // Leaves the group (the revoke callback runs for every partition, inside this call) and commits
  // stored offsets. Idempotent; the destructor calls it.
  absl::Status Close();

  // For the transactional producer (send_offsets_to_transaction needs the group metadata).
  rd_kafka_s* native_handle() const { return rk_; }

 private:
  friend struct KafkaConsumerCallbacks;
  explicit KafkaConsumer(Options options) : options_(std::move(options)) {}
  void OnRebalance(int err, void* partitions);

  Options options_;
  rd_kafka_s* rk_ = nullptr;
  Listener* listener_ = nullptr;
  bool closed_ = false;
  // Where each partition's end was last reached: its position when nothing was read since assignment.
  std::map<std::pair<std::string, int32_t>, int64_t> end_offsets_;
};

}  // namespace bs

#endif  // BOUNCESTREAM_PIPELINE_SOURCE_KAFKA_CONSUMER_H_
