// The Kafka runtime: the consuming thread (this file's Impl::Run), the parse/classify workers, the decide
// thread, the producer-backed sink and the offset bookkeeping that gives at-least-once and exactly-once.
#include "pipeline/runtime.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <dirent.h>
#include <map>
#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "pipeline/base/status_macros.h"
#include "pipeline/base/strings.h"
#include "pipeline/sink/kafka_producer.h"
#include "pipeline/source/kafka_consumer.h"
#include "pipeline/state/changelog.h"
#include "pipeline/worker/chunk_processor.h"
#include "pipeline/worker/decide_stage.h"
#include "rules/registry.h"

namespace bs {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kMetadataTimeoutMs = 15000;
constexpr int kCommitTimeoutMs = 30000;
constexpr int kTxnTimeoutMs = 60000;
// How long a graceful stop or a revoke waits for outputs to be acknowledged before giving up on them
// (their offsets are then not committed, so the records are read again: at-least-once still holds).
constexpr int kDrainTimeoutMs = 30000;
// How often window progress markers go to every repartition partition (wall time: they carry event time).
constexpr int kHeartbeatMs = 1000;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch()).count();
}

// Wall-clock seconds since the epoch: only for operators' timestamps in /metrics.
int64_t UnixSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

int64_t FloorDiv(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

struct ChangelogEntry {
  std::string key;
  std::string value;
  bool tombstone = false;
};

// One item's state changes, in order, packed into one buffer: a batch holds one record per changed
// address, and two strings each (then freed on the consuming thread) cost more than the encoding.
class ChangelogBatch {
 public:
  void Add(std::string_view prefix, std::string_view key, std::string_view value, bool tombstone) {
    Entry e;
    e.key_begin = bytes_.size();
    bytes_.append(prefix).append(key);
    e.value_begin = bytes_.size();
    bytes_.append(value);
    e.end = bytes_.size();
    e.tombstone = tombstone;
    entries_.push_back(e);
  }
  size_t size() const { return entries_.size(); }
  std::string_view key(size_t i) const {
    return std::string_view(bytes_).substr(entries_[i].key_begin, entries_[i].value_begin - entries_[i].key_begin);
  }
  std::string_view value(size_t i) const {
    return std::string_view(bytes_).substr(entries_[i].value_begin, entries_[i].end - entries_[i].value_begin);
  }
  bool tombstone(size_t i) const { return entries_[i].tombstone; }
  void Release() {
    std::string().swap(bytes_);
    std::vector<Entry>().swap(entries_);
  }

 private:
  struct Entry {
    size_t key_begin, value_begin, end;
    bool tombstone;
  };
  std::string bytes_;
  std::vector<Entry> entries_;
};

// One unit of work: a batch of one partition's messages (kData), or a control step the decide thread
// runs in order with the data (assign: restore state; revoke: drop it; park/unpark: a quiet partition
// stops/starts holding the alert watermark; barrier: wait while the consuming thread commits a
// transaction; finish: end of a backfill).
struct WorkItem {
  // With a repartition topic also: partials (one message of it, for the merger of its partition),
  // merge assign/revoke (this process starts/stops judging a repartition partition), heartbeat (window
  // progress markers for every input partition here).
  enum class Type : uint8_t {
    kData, kAssign, kRevoke, kPark, kUnpark, kEof, kBarrier, kFinish,
    kPartials, kMergeAssign, kMergeRevoke, kHeartbeat
  };
  Type type = Type::kData;
  int slot = -1;
  Format format = Format::kAuto;
  std::string_view topic;
  int32_t partition = 0;
  Chunk chunk;
  ChunkResult result;
  int64_t first_offset = -1;
  int64_t last_offset = -1;
  size_t bytes = 0;
  std::vector<ChangelogEntry> restore;  // kAssign: the partition's state, read from the changelog
  bool warmup = false;  // kData read again only to rebuild the sender join: decides and writes nothing
  std::string payload;  // kPartials: the message (freed once applied)
  // kPartials: needed until the merger's watermark reaches this (every window holding its latest pane
  // has closed); INT64_MIN for a marker.
  int64_t needed_until = INT64_MIN;

  // Written by the worker / decide thread, read by the consuming thread (release/acquire pairs).
  std::atomic<bool> parsed{false};
  std::atomic<bool> decided{false};
  std::atomic<int64_t> pending{0};  // outputs produced and not yet acknowledged
  std::atomic<bool> failed{false};
  // Set by the decide thread before `decided`.
  ChangelogBatch changelog;
  size_t changelog_sent = 0;  // consuming thread: entries produced so far
  // Where the item's alert windows end, as steps of the running maximum over its records in offset
  // order: records before steps[i].offset count only in windows ending by steps[i-1].window_end. The
  // commit point may stop inside an item, just before the first record of a window still open.
  struct WindowStep {
    int64_t offset;
    int64_t window_end;
  };
  std::vector<WindowStep> steps;
  // Repartition topic: the partition's shipped watermark after this item (its windows' counts up to there
  // have gone out in final form once the item's outputs are acknowledged); for kPartials the merger's
  // watermark after it.
  int64_t ship_wm = INT64_MIN;
  int64_t decided_at_ms = 0;
  // Consuming thread only.
  bool changelog_produced = false;
  bool bytes_released = false;
};

// A worker thread: parse + classify, one queue, partitions pinned to it.
class ParseWorker {
 public:
  ParseWorker(RuleRegistry& rules, ParserOptions options, std::mutex& done_mu, std::condition_variable& done_cv)
      : rules_(rules), options_(std::move(options)), done_mu_(done_mu), done_cv_(done_cv) {}
  ~ParseWorker() { Stop(); }

  void Start() { thread_ = std::thread([this] { Loop(); }); }
  void Stop() {
    {
      std::lock_guard<std::mutex> l(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }
  void Submit(WorkItem* item) {
    {
      std::lock_guard<std::mutex> l(mu_);
      queue_.push_back(item);
    }
    cv_.notify_one();
  }

 private:
  void Loop() {
    while (true) {
      WorkItem* item;
      {
        std::unique_lock<std::mutex> l(mu_);
        cv_.wait(l, [&] { return stop_ || !queue_.empty(); });
        if (queue_.empty()) return;
        item = queue_.front();
        queue_.pop_front();
      }
      Process(*item);
      {
        std::lock_guard<std::mutex> l(done_mu_);
        item->parsed.store(true, std::memory_order_release);
      }
      done_cv_.notify_all();
    }
  }

  void Process(WorkItem& item) {
    // A new rule snapshot, or an hour passed (year-less timestamps are read against the current time):
    // start a fresh processor between batches.
    uint64_t gen = rules_.generation();
    int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
    if (!processor_ || gen != generation_ || now - created_ms_ > 3600 * 1000) {
      ParserOptions o = options_;
      o.reference_time_ms = now;
      processor_ = std::make_unique<ChunkProcessor>(rules_.Current(), o);
      generation_ = gen;
      created_ms_ = now;
    }
    if (item.format == Format::kAuto) {
      // Nothing could tell this partition's format yet: every record is a dead letter with that reason.
      item.result.Clear();
      for (size_t i = 0; i < item.chunk.records.size(); ++i) {
        ++item.result.records;
        item.result.dead_letters.push_back(DeadLetter{Position{item.topic, item.partition, item.chunk.records[i].line},
                                                      ParseError::kUnknownFormat, "format", item.chunk.record(i)});
      }
      return;
    }
    // Parsers keep per-stream state (a CSV header, a queue-id join): one per partition and format.
    absl::Status s = processor_->Process(item.chunk, item.slot * 16 + static_cast<int>(item.format), item.topic,
                                         item.format, item.result, item.partition);
    if (!s.ok()) item.failed.store(true);
  }

  RuleRegistry& rules_;
  ParserOptions options_;
  std::unique_ptr<ChunkProcessor> processor_;
  uint64_t generation_ = ~0ull;
  int64_t created_ms_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<WorkItem*> queue_;
  bool stop_ = false;
  std::mutex& done_mu_;
  std::condition_variable& done_cv_;
};

// Per input partition bookkeeping (consuming thread only, except `topic`, which outlives every record).
struct Slot {
  TopicPartition tp;
  int index = 0;
  Format format = Format::kAuto;  // configured; kAuto = detect from the first records
  Format detected = Format::kAuto;
  bool assigned = false;
  bool paused = false;
  std::unique_ptr<WorkItem> building;
  std::deque<std::unique_ptr<WorkItem>> in_flight;
  int64_t next_offset = -1;  // first offset not yet complete (what to commit)
  int64_t stored = -1;       // last offset handed to the consumer for commit
  // Repartition topic: for an input partition, the highest shipped watermark of an acknowledged item;
  // for a repartition partition, the highest merger watermark of one (the commit point of windows).
  int64_t acked_shipped = INT64_MIN;
  // Idleness (alert watermark): parked while at its end and quiet.
  bool parked = true;
  bool had_data = false;     // since assignment
  int64_t eof_since_ms = 0;  // 0 = not at its end
  // Backfill.
  int64_t stop_offset = -1;
  bool done = false;
};

// Appends one message to an item's chunk: the bytes, a newline (not part of the record; it keeps line
// parsers' padding rule simple) and the padding every parser may read past the end.
void AppendRecord(WorkItem& w, std::string_view payload, int64_t offset) {
  Chunk& c = w.chunk;
  const size_t need = c.size + payload.size() + 1 + kRecordPadding;
  if (need > c.capacity) {
    size_t cap = std::max<size_t>(need, std::max<size_t>(c.capacity * 2, 64 * 1024));
    std::unique_ptr<char[]> grown(new char[cap]);
    if (c.size) std::memcpy(grown.get(), c.buffer.get(), c.size);
    c.buffer = std::move(grown);
    c.capacity = cap;
  }
  RecordSpan span;
  span.begin = c.size;
  std::memcpy(c.buffer.get() + c.size, payload.data(), payload.size());
  c.size += payload.size();
  span.end = c.size;
  span.line = offset;
  c.records.push_back(span);
  c.buffer[c.size++] = '\n';
  std::memset(c.buffer.get() + c.size, 0, kRecordPadding);
  if (w.first_offset < 0) w.first_offset = offset;
  w.last_offset = offset;
  w.bytes += payload.size();
}

// The changelog key (after the partition prefix) of a partition's shipped window watermark; no address
// or @domain starts with '#'.
constexpr std::string_view kShippedKey = "#windows-shipped";

// Formats whose records are joined to earlier ones (the sender logged on its own line).
bool NeedsJoin(Format f) { return f == Format::kPostfix || f == Format::kExim || f == Format::kAuto; }

}  // namespace

class Runtime::Impl : public KafkaConsumer::Listener, public Sink, public PartialOutput {
 public:
  explicit Impl(Runtime::Options options) : options_(std::move(options)), config_(options_.config) {}
  // Closes the consumer first, with the rebalance callbacks switched off (they use members that are
  // destroyed before it), then the threads, then the clients.
  ~Impl() override {
    shutting_down_ = true;
    if (consumer_ != nullptr) consumer_->Close().IgnoreError();
    StopThreads();
    consumer_.reset();
    restorer_.reset();
    producer_.reset();
  }

  absl::Status Init();
  absl::Status Run();
  void Stop() { stop_.store(true); }
  void RequestReload() { reload_.store(true); }
  bool Ready() const { return ready_.load(); }
  std::string MetricsText() const;
  PipelineStats Stats() const {
    std::lock_guard<std::mutex> l(stats_mu_);
    return stats_snapshot_;
  }

  // Sink (decide thread).
  absl::Status Write(OutputKind kind, std::string_view key, std::string_view json) override;
  absl::Status Flush() override { return absl::OkStatus(); }
  // PartialOutput (decide thread): window partials and markers to the repartition topic.
  absl::Status SendPartial(int32_t partition, std::string_view key, std::string_view bytes) override;

  // Rebalance (consuming thread, inside Poll).
  void OnRevoke(const std::vector<TopicPartition>& partitions, bool lost) override;
  void OnAssign(std::vector<TopicPartition>& partitions) override;

 private:
  void Log(int level, std::string_view msg) const {
    if (options_.log) options_.log(level, msg);
  }
  void KafkaLog(int syslog_level, std::string_view msg) const {
    int level = syslog_level <= 3 ? 3 : syslog_level == 4 ? 2 : syslog_level <= 6 ? 1 : 0;
    Log(level, msg);
  }

  absl::Status Connect();
  absl::Status SetUpBackfill();
  void StartThreads();
  void StopThreads();
  void DecideLoop();
  void RunItem(WorkItem& item);
  void PublishStats(bool force);
  void Recycle(WorkItem& item);
  void Reuse(WorkItem& item);

  void OnMessage(const KafkaMessage& m);
  void OnPartialMessage(const KafkaMessage& m);
  void Dispatch();
  void DispatchSlot(Slot& s);
  void PushControl(std::unique_ptr<WorkItem> item);
  absl::Status ServiceAcks();
  absl::Status ProduceChangelog(WorkItem& item, Slot& slot, bool block);
  int64_t ClosedThrough(const WorkItem& item, int64_t wm) const;
  absl::Status LogInOrder(Slot& s, bool changelog);
  absl::Status ServiceMergeAcks();
  absl::Status StoreOffsets(bool sync, const std::vector<Slot*>* only);
  absl::Status CommitTransaction();
  void Backpressure();
  void ParkIdle();
  void MaybeReload();
  absl::Status WaitUntil(const std::function<bool()>& done, int timeout_ms, std::string_view what);
  absl::StatusOr<std::vector<ChangelogEntry>> ReadChangelog(const Slot& slot);
  absl::Status WarmUpJoin(Slot& slot);
  absl::Status WatermarksWithRetry(const std::string& topic, int32_t partition, int64_t& low, int64_t& high);
  absl::Status Fatal() const;
  absl::Status GracefulStop();

  Runtime::Options options_;
  const Config& config_;
  bool eos() const { return !options_.backfill && config_.kafka.delivery == DeliveryMode::kExactlyOnce; }

  std::unique_ptr<RuleRegistry> rules_;
  std::unique_ptr<KafkaConsumer> consumer_;
  std::unique_ptr<KafkaConsumer> restorer_;
  std::unique_ptr<KafkaProducer> producer_;
  int changelog_partitions_ = 0;

  std::vector<std::unique_ptr<Slot>> slots_;
  std::map<std::pair<std::string, int32_t>, int> slot_of_;
  // Repartition topic (at-least-once service with [topics] repartition set): one slot per partition of
  // it, and per input slot the shipped watermark last written to the changelog (decide thread).
  bool repartition_ = false;
  std::vector<std::unique_ptr<Slot>> rp_slots_;
  std::vector<int64_t> logged_shipped_;
  int64_t last_heartbeat_ms_ = 0;
  std::atomic<uint64_t> partial_cells_sent_{0}, markers_sent_{0}, partials_rejected_{0};

  // Parse/classify workers and the decide thread.
  std::vector<std::unique_ptr<ParseWorker>> workers_;
  std::mutex parsed_mu_;
  std::condition_variable parsed_cv_;
  std::thread decide_thread_;
  std::mutex decide_mu_;
  std::condition_variable decide_cv_;
  std::deque<WorkItem*> decide_queue_;
  bool decide_stop_ = false;
  std::deque<std::unique_ptr<WorkItem>> control_items_;  // consuming thread owns them
  // Barrier handshake (exactly-once commit): the decide thread parks until released.
  std::mutex barrier_mu_;
  std::condition_variable barrier_cv_;
  bool barrier_released_ = false;

  // Recycled chunk buffers and result vectors (decide thread returns, consuming thread takes).
  static constexpr size_t kPoolSize = 64;
  static constexpr size_t kMaxPooledBytes = 16 << 20;
  std::mutex pool_mu_;
  std::vector<Chunk> chunk_pool_;
  std::vector<ChunkResult> result_pool_;

  PipelineStats stats_;  // decide thread
  std::unique_ptr<DecideStage> decide_;
  WorkItem* current_ = nullptr;  // decide thread: the item whose outputs are being written
  std::vector<bool> had_events_;  // decide thread: per slot, an attempt event since assignment
  std::vector<size_t> state_addresses_;  // decide thread: per slot, addresses in its state
  std::atomic<int64_t> watermark_{INT64_MIN};
  mutable std::mutex stats_mu_;
  PipelineStats stats_snapshot_;
  size_t state_addresses_total_ = 0;  // under stats_mu_
  int64_t stats_published_ms_ = 0;

  // Consuming thread.
  int64_t in_flight_bytes_ = 0;
  int buffered_messages_ = 0;
  int64_t batch_started_ms_ = 0;
  int64_t last_commit_ms_ = 0;
  int64_t last_watch_ms_ = 0;
  int64_t last_lag_ms_ = 0;
  std::string rules_signature_;
  bool paused_all_ = false;
  int64_t max_hold_ms_ = 0;

  std::atomic<bool> stop_{false};
  bool shutting_down_ = false;  // destructor running: rebalance callbacks do nothing
  std::atomic<bool> reload_{false};
  std::atomic<bool> ready_{false};
  std::atomic<bool> fatal_{false};
  mutable std::mutex fatal_mu_;
  std::string fatal_message_;

  // Metrics (atomics: read by the HTTP thread).
  std::atomic<uint64_t> messages_in_{0};
  std::atomic<uint64_t> rebalances_{0};
  std::atomic<uint64_t> outputs_acked_{0};
  std::atomic<uint64_t> transactions_{0};
  std::atomic<uint64_t> acked_at_txn_start_{0};
  std::atomic<uint64_t> reloads_ok_{0};
  std::atomic<uint64_t> reloads_failed_{0};
  std::atomic<bool> last_reload_ok_{true};
  std::atomic<int64_t> last_reload_ms_{0};
  // Wall-clock time of the last load or reload, for operators (metrics only; never used for windows).
  std::atomic<int64_t> last_reload_unix_s_{0};
  std::atomic<int> assigned_count_{0};
  mutable std::mutex lag_mu_;
  std::map<std::string, int64_t> lag_;  // "topic/partition" → consumer lag
};

// ------------------------------------------------------------------------------------------ setup

absl::Status Runtime::Impl::Init() {
  if (options_.backfill && options_.backfill_sink == nullptr) {
    return absl::InvalidArgumentError("backfill needs a sink");
  }
  RuleRegistry::Options ro;
  ro.base.dir = config_.rules.dir;
  ro.base.override_dir = config_.rules.local_dir;
  ASSIGN_OR_RETURN(rules_, RuleRegistry::Create(ro));
  last_reload_unix_s_.store(UnixSeconds());  // the time the rules in use were loaded
  const AlertPolicy& p = config_.alerts;
  max_hold_ms_ = p.window_ms + p.out_of_orderness_ms + p.grace_ms + 5 * 60 * 1000;
  return absl::OkStatus();
}

absl::Status Runtime::Impl::Connect() {
  auto klog = [this](int level, std::string_view m) { KafkaLog(level, m); };
  std::map<std::string, std::string> consumer_props = config_.kafka.properties.values;
  for (const auto& [k, v] : config_.kafka.consumer_properties.values) consumer_props[k] = v;
  if (!consumer_props.count("auto.commit.interval.ms")) {
    consumer_props["auto.commit.interval.ms"] = std::to_string(config_.processing.commit_interval_ms);
  }
  KafkaConsumer::Options co;
  co.brokers = config_.kafka.brokers;
  co.properties = consumer_props;
  co.log = klog;
  if (options_.backfill) {
    co.auto_commit = false;
    co.partition_eof = true;
  } else {
    co.group_id = config_.kafka.group_id;
    co.group_instance_id = config_.kafka.group_instance_id;
    co.partition_eof = true;  // a partition at its end may stop holding the alert windows back
    co.auto_commit = !eos();
    // Exactly-once reads only committed transactions (ours included); at-least-once keeps librdkafka's
    // default (read_committed too) unless the properties say otherwise.
    co.read_committed = eos();
  }
  ASSIGN_OR_RETURN(consumer_, KafkaConsumer::Create(co));

  // Input partitions: one slot each, numbered in topic order (the alert windows' partition index).
  const std::vector<std::string>& topics = options_.backfill ? options_.backfill_topics : config_.kafka.input_topics;
  for (const std::string& t : topics) {
    absl::StatusOr<int> n = consumer_->PartitionCount(t, kMetadataTimeoutMs);
    if (!n.ok()) return absl::Status(n.status().code(), absl::StrCat("input topic: ", n.status().message()));
    Format f = config_.input.format;
    if (auto it = config_.input.formats.find(t); it != config_.input.formats.end()) f = it->second;
    for (int p = 0; p < *n; ++p) {
      auto s = std::make_unique<Slot>();
      s->tp = {t, p, kOffsetInvalid};
      s->index = static_cast<int>(slots_.size());
      s->format = f;
      slot_of_[{t, p}] = s->index;
      slots_.push_back(std::move(s));
    }
  }
  if (options_.backfill) return absl::OkStatus();
  // Windows merged across processes need the at-least-once re-read (see WindowExchange); exactly-once
  // keeps them per process.
  repartition_ = !eos() && !config_.topics.repartition.empty();

  std::map<std::string, std::string> producer_props = config_.kafka.properties.values;
  for (const auto& [k, v] : config_.kafka.producer_properties.values) producer_props[k] = v;
  KafkaProducer::Options po;
  po.brokers = config_.kafka.brokers;
  po.properties = producer_props;
  po.log = klog;
  if (eos()) {
    std::string id = config_.kafka.transactional_id;
    if (id.empty()) {
      std::string instance = config_.kafka.group_instance_id;
      if (instance.empty()) {
        char host[256] = {};
        gethostname(host, sizeof(host) - 1);
        instance = host;
      }
      id = absl::StrCat(config_.kafka.group_id, "-", instance);
    }
    po.transactional_id = id;
    if (!producer_props.count("transaction.timeout.ms")) po.properties["transaction.timeout.ms"] = "60000";
  }
  ASSIGN_OR_RETURN(producer_, KafkaProducer::Create(po, [this](void* opaque, const absl::Status& s) {
                     auto* item = static_cast<WorkItem*>(opaque);
                     if (!s.ok()) {
                       item->failed.store(true);
                       std::lock_guard<std::mutex> l(fatal_mu_);
                       if (fatal_message_.empty()) fatal_message_ = std::string(s.message());
                       fatal_.store(true);
                     } else {
                       outputs_acked_.fetch_add(1, std::memory_order_relaxed);
                     }
                     item->pending.fetch_sub(1, std::memory_order_acq_rel);
                   }));
  // Output topics must exist (they are created by the operator: compaction and partition counts matter).
  const std::pair<const char*, const std::string*> outputs[] = {{"alerts", &config_.topics.alerts},
                                                                {"suppressions", &config_.topics.suppressions},
                                                                {"dlq", &config_.topics.dlq},
                                                                {"classified", &config_.topics.classified},
                                                                {"late", &config_.topics.late},
                                                                {"changelog", &config_.topics.changelog},
                                                                {"repartition", &config_.topics.repartition}};
  int max_input_partitions = 1;
  for (const std::string& t : config_.kafka.input_topics) {
    int n = 0;
    for (const auto& sl : slots_) n += sl->tp.topic == t;
    max_input_partitions = std::max(max_input_partitions, n);
  }
  for (const auto& [name, topic] : outputs) {
    if (topic->empty()) continue;
    if (std::string_view(name) == "repartition" && !repartition_) continue;
    // Asked through the consumer, which never makes the broker auto-create a topic it asks about.
    absl::StatusOr<int> n = consumer_->PartitionCount(*topic, kMetadataTimeoutMs);
    if (!n.ok() && n.status().code() == absl::StatusCode::kNotFound && config_.topics.create_missing) {
      const std::string_view kind(name);
      std::map<std::string, std::string> topic_config;
      if (kind == "suppressions" || kind == "changelog") topic_config["cleanup.policy"] = "compact";
      RETURN_IF_ERROR(producer_->CreateTopic(*topic, max_input_partitions, config_.topics.replication_factor,
                                             topic_config, kMetadataTimeoutMs));
      Log(1, absl::StrCat("created topic ", *topic, " (", max_input_partitions, " partitions",
                          topic_config.empty() ? "" : ", compacted", ")"));
      const int64_t deadline = NowMs() + kMetadataTimeoutMs;
      do {
        n = consumer_->PartitionCount(*topic, kMetadataTimeoutMs);
        if (n.ok() || NowMs() > deadline) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      } while (true);
    }
    if (!n.ok()) {
      return absl::Status(n.status().code(),
                          absl::StrCat("output topic [topics] ", name, ": ", n.status().message(),
                                       n.status().code() == absl::StatusCode::kNotFound
                                           ? " (create it; suppressions and changelog need cleanup.policy=compact)"
                                           : ""));
    }
    if (std::string_view(name) == "changelog") changelog_partitions_ = *n;
    if (std::string_view(name) == "repartition") {
      for (int p = 0; p < *n; ++p) {
        auto rs = std::make_unique<Slot>();
        rs->tp = {*topic, p, kOffsetInvalid};
        rs->index = p;
        rp_slots_.push_back(std::move(rs));
      }
    }
  }
  KafkaConsumer::Options ro;
  ro.brokers = config_.kafka.brokers;
  ro.properties = consumer_props;
  // The end of a changelog partition is known only from an empty fetch answer: do not let the broker
  // hold that answer back for the default 500 ms.
  ro.properties["fetch.wait.max.ms"] = "10";
  ro.auto_commit = false;
  ro.partition_eof = true;
  ro.read_committed = true;
  ro.log = klog;
  ASSIGN_OR_RETURN(restorer_, KafkaConsumer::Create(ro));
  if (eos()) {
    RETURN_IF_ERROR(producer_->InitTransactions(kTxnTimeoutMs));
    RETURN_IF_ERROR(producer_->BeginTransaction());
  }
  return absl::OkStatus();
}

void Runtime::Impl::StartThreads() {
  DecideStage::Options dopts;
  dopts.ruleset_version = std::string(rules_->Current()->version());
  dopts.policy = config_.alerts;
  // Idleness in event time (a partition lagging the newest by 15 minutes) would make a partition that is
  // being caught up on late; here an input is idle in wall time instead (ParkPartition, Park below).
  dopts.policy.idle_timeout_ms = 0;
  dopts.partitions = static_cast<int>(slots_.size());
  dopts.classified = options_.backfill ? options_.backfill_classified : !config_.topics.classified.empty();
  dopts.late_output = options_.backfill ? options_.backfill_late : !config_.topics.late.empty();
  dopts.state_per_partition = true;
  dopts.decider = config_.decisions;
  dopts.decider.track_changelog = !options_.backfill;
  dopts.hash_addresses = config_.privacy.hash_addresses;
  dopts.address_hash_key = config_.privacy.hash_key;
  if (repartition_) {
    dopts.repartition = this;
    dopts.repartition_partitions = static_cast<int>(rp_slots_.size());
  }
  logged_shipped_.assign(slots_.size(), INT64_MIN);
  Sink& sink = options_.backfill ? *options_.backfill_sink : static_cast<Sink&>(*this);
  decide_ = std::make_unique<DecideStage>(dopts, sink, stats_);
  had_events_.assign(slots_.size(), false);
  state_addresses_.assign(slots_.size(), 0);
  // Until a partition is assigned it must not hold the alert watermark back (nor end the input: a
  // backfill finishes the partitions it does not read in SetUpBackfill).
  for (const auto& s : slots_) decide_->ParkPartition(s->index, true).IgnoreError();
  ParserOptions popts;
  popts.powermta_header = config_.input.powermta_header;
  popts.json = config_.input.json;
  for (int i = 0; i < config_.processing.workers; ++i) {
    workers_.push_back(std::make_unique<ParseWorker>(*rules_, popts, parsed_mu_, parsed_cv_));
    workers_.back()->Start();
  }
  decide_thread_ = std::thread([this] { DecideLoop(); });
}

void Runtime::Impl::StopThreads() {
  {
    std::lock_guard<std::mutex> l(decide_mu_);
    decide_stop_ = true;
  }
  decide_cv_.notify_all();
  {
    std::lock_guard<std::mutex> l(barrier_mu_);
    barrier_released_ = true;
  }
  barrier_cv_.notify_all();
  {
    std::lock_guard<std::mutex> l(parsed_mu_);
  }
  parsed_cv_.notify_all();
  if (decide_thread_.joinable()) decide_thread_.join();
  for (auto& w : workers_) w->Stop();
  workers_.clear();
}

// ------------------------------------------------------------------------------------- decide thread

void Runtime::Impl::DecideLoop() {
  while (true) {
    WorkItem* item;
    {
      std::unique_lock<std::mutex> l(decide_mu_);
      decide_cv_.wait(l, [&] { return decide_stop_ || !decide_queue_.empty(); });
      if (decide_stop_) return;
      item = decide_queue_.front();
      decide_queue_.pop_front();
    }
    {
      std::unique_lock<std::mutex> l(parsed_mu_);
      parsed_cv_.wait(l, [&] {
        return item->parsed.load(std::memory_order_acquire) || decide_stop_;
      });
      if (!item->parsed.load(std::memory_order_acquire)) return;
    }
    RunItem(*item);
  }
}

namespace {

// Collects the store's changelog records with the partition's key prefix.
class PrefixingChangelog : public state::ChangelogSink {
 public:
  PrefixingChangelog(std::string prefix, ChangelogBatch& out) : prefix_(std::move(prefix)), out_(out) {}
  absl::Status Put(std::string_view key, std::string_view value) override {
    out_.Add(prefix_, key, value, false);
    return absl::OkStatus();
  }
  absl::Status Delete(std::string_view key) override {
    out_.Add(prefix_, key, std::string_view(), true);
    return absl::OkStatus();
  }

 private:
  std::string prefix_;
  ChangelogBatch& out_;
};

std::string ChangelogPrefix(const TopicPartition& tp) { return absl::StrCat(tp.topic, "/", tp.partition, "|"); }

}  // namespace

void Runtime::Impl::RunItem(WorkItem& item) {
  current_ = &item;
  absl::Status s;
  switch (item.type) {
    case WorkItem::Type::kData: {
      if (item.failed.load()) break;
      if (item.warmup) {
        decide_->WarmUp(item.result);
        Recycle(item);
        break;
      }
      s = decide_->Consume(item.slot, item.result);
      state_addresses_[static_cast<size_t>(item.slot)] = decide_->decider(item.slot).store().addresses();
      for (const ClassifiedEvent& ce : item.result.events) {
        if (ce.event.outcome != Outcome::kEnvelope && !ce.event.locally_generated) {
          had_events_[static_cast<size_t>(item.slot)] = true;
          break;
        }
      }
      if (!options_.backfill) {
        const std::string prefix = ChangelogPrefix(slots_[static_cast<size_t>(item.slot)]->tp);
        PrefixingChangelog cl(prefix, item.changelog);
        if (s.ok()) s = decide_->decider(item.slot).store().FlushChangelog(cl);
        if (repartition_) {
          // Where this partition's windows stand: sent once the item's partials are acknowledged, so a
          // new owner skips the panes that went out final (WindowExchange::RestoreShipped).
          item.ship_wm = decide_->shipped_watermark(item.slot);
          int64_t& logged = logged_shipped_[static_cast<size_t>(item.slot)];
          if (item.ship_wm != logged && item.ship_wm != INT64_MIN) {
            item.changelog.Add(prefix, kShippedKey, absl::StrCat(item.ship_wm), false);
            logged = item.ship_wm;
          }
        }
      }
      const AlertPolicy& p = config_.alerts;
      const int64_t advance = p.advance_ms > 0 ? p.advance_ms : p.window_ms;
      int64_t max_end = INT64_MIN;
      for (const ClassifiedEvent& ce : item.result.events) {
        // Events are in record order; the latest window holding an event ends here.
        int64_t end = FloorDiv(ce.event.event_time_ms, advance) * advance + p.window_ms;
        if (end > max_end) {
          max_end = end;
          item.steps.push_back({ce.event.position.offset, end});
        }
      }
      // The bytes are no longer needed; only the bookkeeping stays until the offsets are committed.
      Recycle(item);
      break;
    }
    case WorkItem::Type::kAssign: {
      decide_->StartPartition(item.slot);
      had_events_[static_cast<size_t>(item.slot)] = false;
      decide_->DropPartitionState(item.slot);
      state::StateStore& store = decide_->decider(item.slot).store();
      logged_shipped_[static_cast<size_t>(item.slot)] = INT64_MIN;
      for (const ChangelogEntry& e : item.restore) {
        if (e.key == kShippedKey) {
          int64_t wm = 0;
          if (!e.tombstone && absl::SimpleAtoi(e.value, &wm)) {
            decide_->RestoreShipped(item.slot, wm);
            logged_shipped_[static_cast<size_t>(item.slot)] = wm;
          }
          continue;
        }
        if (absl::Status a = store.Apply(e.key, e.value, e.tombstone); !a.ok()) {
          Log(2, absl::StrCat("changelog record for ", slots_[static_cast<size_t>(item.slot)]->tp.ToString(),
                              " skipped: ", a.message()));
        }
      }
      // Restoring marks nothing dirty worth re-sending; drop what Apply may have queued.
      ChangelogBatch discard;
      PrefixingChangelog cl("", discard);
      store.FlushChangelog(cl).IgnoreError();
      item.restore.clear();
      item.restore.shrink_to_fit();
      break;
    }
    case WorkItem::Type::kRevoke:
      state_addresses_[static_cast<size_t>(item.slot)] = 0;
      if (options_.backfill) {
        s = decide_->FinishPartition(item.slot);
      } else {
        s = decide_->ParkPartition(item.slot, true);
        decide_->DropPartitionState(item.slot);
        decide_->RevokePartition(item.slot);
      }
      break;
    case WorkItem::Type::kPark:
    case WorkItem::Type::kUnpark:
      s = decide_->ParkPartition(item.slot, item.type == WorkItem::Type::kPark);
      break;
    case WorkItem::Type::kEof:
      // At its end without one event since assignment (empty, or only dead letters and skipped
      // records): it has nothing to hold the watermark back for. Otherwise the idle timer decides.
      if (!had_events_[static_cast<size_t>(item.slot)]) s = decide_->ParkPartition(item.slot, true);
      break;
    case WorkItem::Type::kBarrier: {
      item.decided_at_ms = NowMs();
      item.decided.store(true, std::memory_order_release);
      std::unique_lock<std::mutex> l(barrier_mu_);
      barrier_cv_.wait(l, [&] { return barrier_released_; });
      barrier_released_ = false;
      current_ = nullptr;
      return;
    }
    case WorkItem::Type::kFinish:
      s = decide_->Finish();
      break;
    case WorkItem::Type::kPartials: {
      s = decide_->ConsumePartials(item.slot, item.payload);
      // The judging state it changed goes to the changelog once its alerts are acknowledged.
      const std::string prefix = ChangelogPrefix(rp_slots_[static_cast<size_t>(item.slot)]->tp);
      decide_->mutable_exchange()->TakeMergeState(
          item.slot, [&](std::string_view key, std::string_view value, bool tombstone) {
            item.changelog.Add(prefix, key, value, tombstone);
          });
      item.ship_wm = decide_->merge_watermark(item.slot);
      std::string().swap(item.payload);
      break;
    }
    case WorkItem::Type::kMergeAssign: {
      decide_->AssignMerge(item.slot);
      size_t skipped = 0;
      for (const ChangelogEntry& e : item.restore) {
        if (e.tombstone) continue;
        if (!decide_->mutable_exchange()->RestoreMergeState(item.slot, e.key, e.value)) ++skipped;
      }
      if (skipped) {
        Log(2, absl::StrCat(skipped, " judging state records of ", rp_slots_[static_cast<size_t>(item.slot)]->tp.ToString(),
                            " could not be read and were skipped"));
      }
      item.restore.clear();
      item.restore.shrink_to_fit();
      break;
    }
    case WorkItem::Type::kMergeRevoke:
      decide_->RevokeMerge(item.slot);
      break;
    case WorkItem::Type::kHeartbeat:
      s = decide_->Heartbeat();
      break;
  }
  if (!s.ok()) {
    item.failed.store(true);
    std::lock_guard<std::mutex> l(fatal_mu_);
    if (fatal_message_.empty()) fatal_message_ = std::string(s.message());
    fatal_.store(true);
  }
  watermark_.store(decide_->watermark(), std::memory_order_release);
  PublishStats(item.type != WorkItem::Type::kData);
  item.decided_at_ms = NowMs();
  current_ = nullptr;
  item.decided.store(true, std::memory_order_release);
}

// Chunk buffers and result vectors go back to a small pool once decided and are reused by the next
// batches: allocating and faulting in fresh megabytes per batch cost ~10 % of the CPU.
void Runtime::Impl::Recycle(WorkItem& item) {
  std::lock_guard<std::mutex> l(pool_mu_);
  if (chunk_pool_.size() < kPoolSize && item.chunk.capacity <= kMaxPooledBytes) {
    chunk_pool_.push_back(std::move(item.chunk));
  }
  if (result_pool_.size() < kPoolSize) result_pool_.push_back(std::move(item.result));
  item.chunk = Chunk();
  item.result = ChunkResult();
}

void Runtime::Impl::Reuse(WorkItem& item) {
  std::lock_guard<std::mutex> l(pool_mu_);
  if (!chunk_pool_.empty()) {
    item.chunk = std::move(chunk_pool_.back());
    chunk_pool_.pop_back();
    item.chunk.size = 0;
    item.chunk.records.clear();
  }
  if (!result_pool_.empty()) {
    item.result = std::move(result_pool_.back());
    result_pool_.pop_back();
    item.result.Clear();
  }
}

void Runtime::Impl::PublishStats(bool force) {
  int64_t now = NowMs();
  if (!force && now - stats_published_ms_ < 50) return;
  stats_published_ms_ = now;
  stats_.late_events = decide_->late_events();
  if (const WindowExchange* ex = decide_->exchange()) {
    partial_cells_sent_.store(ex->partials_sent(), std::memory_order_relaxed);
    markers_sent_.store(ex->markers_sent(), std::memory_order_relaxed);
    partials_rejected_.store(ex->rejected_messages(), std::memory_order_relaxed);
  }
  size_t addresses = 0;
  for (size_t n : state_addresses_) addresses += n;
  std::lock_guard<std::mutex> l(stats_mu_);
  stats_snapshot_ = stats_;
  state_addresses_total_ = addresses;
}

absl::Status Runtime::Impl::Write(OutputKind kind, std::string_view key, std::string_view json) {
  const std::string* topic = nullptr;
  switch (kind) {
    case OutputKind::kAlerts: topic = &config_.topics.alerts; break;
    case OutputKind::kSuppressions: topic = &config_.topics.suppressions; break;
    case OutputKind::kDeadLetters: topic = &config_.topics.dlq; break;
    case OutputKind::kClassified: topic = &config_.topics.classified; break;
    case OutputKind::kLate: topic = &config_.topics.late; break;
  }
  if (topic == nullptr || topic->empty()) return absl::OkStatus();
  ++stats_.outputs[static_cast<size_t>(kind)];
  WorkItem* item = current_;
  item->pending.fetch_add(1, std::memory_order_acq_rel);
  absl::Status s = producer_->Produce(*topic, -1, key, json, item);
  if (!s.ok()) item->pending.fetch_sub(1, std::memory_order_acq_rel);
  return s;
}

absl::Status Runtime::Impl::SendPartial(int32_t partition, std::string_view key, std::string_view bytes) {
  WorkItem* item = current_;
  item->pending.fetch_add(1, std::memory_order_acq_rel);
  absl::Status s = producer_->Produce(config_.topics.repartition, partition, key, bytes, item);
  if (!s.ok()) item->pending.fetch_sub(1, std::memory_order_acq_rel);
  return s;
}

// ---------------------------------------------------------------------------------- consuming thread

// A message of the repartition topic: applied by the decide thread in order with everything else; its
// offset is committed once the windows it feeds have closed (a restart re-reads the rest).
void Runtime::Impl::OnPartialMessage(const KafkaMessage& m) {
  if (m.partition < 0 || static_cast<size_t>(m.partition) >= rp_slots_.size()) return;
  Slot& s = *rp_slots_[static_cast<size_t>(m.partition)];
  if (!s.assigned) return;
  auto item = std::make_unique<WorkItem>();
  item->type = WorkItem::Type::kPartials;
  item->slot = m.partition;
  item->payload.assign(m.payload.data(), m.payload.size());
  item->first_offset = item->last_offset = m.offset;
  item->bytes = m.payload.size();
  const int64_t pane = WindowExchange::LatestPane(m.payload);
  if (pane != INT64_MIN) item->needed_until = pane + config_.alerts.window_ms + config_.alerts.grace_ms;
  item->parsed.store(true, std::memory_order_release);
  in_flight_bytes_ += static_cast<int64_t>(item->bytes);
  WorkItem* raw = item.get();
  s.in_flight.push_back(std::move(item));
  {
    std::lock_guard<std::mutex> l(decide_mu_);
    decide_queue_.push_back(raw);
  }
  decide_cv_.notify_one();
}

void Runtime::Impl::OnMessage(const KafkaMessage& m) {
  if (repartition_ && m.topic == config_.topics.repartition) {
    OnPartialMessage(m);  // not an input record: not in records_in
    return;
  }
  messages_in_.fetch_add(1, std::memory_order_relaxed);
  auto it = slot_of_.find({std::string(m.topic), m.partition});
  if (it == slot_of_.end()) {
    std::lock_guard<std::mutex> l(fatal_mu_);
    if (fatal_message_.empty()) {
      fatal_message_ = absl::StrCat("partition ", Av(m.topic), "/", m.partition,
                                    " appeared after start (partitions were added); restart to take it on");
    }
    fatal_.store(true);
    return;
  }
  Slot& s = *slots_[static_cast<size_t>(it->second)];
  if (!s.assigned || s.done) return;  // a straggler of a revoked partition, or past a backfill's end
  const bool was_at_end = s.eof_since_ms != 0;
  s.eof_since_ms = 0;
  s.had_data = true;
  // After its end the decide thread may have parked it (kEof) even if this thread did not.
  if ((s.parked || was_at_end) && !options_.backfill) {
    DispatchSlot(s);
    auto unpark = std::make_unique<WorkItem>();
    unpark->type = WorkItem::Type::kUnpark;
    unpark->slot = s.index;
    PushControl(std::move(unpark));
    s.parked = false;
  }
  if (options_.backfill && s.stop_offset >= 0 && m.offset >= s.stop_offset) {
    s.done = true;
    return;
  }
  Format f = s.format;
  if (f == Format::kAuto) {
    if (s.detected == Format::kAuto) s.detected = DetectFormat(m.payload.substr(0, 64 * 1024));
    f = s.detected;
  }
  if (s.building && s.building->format != f) DispatchSlot(s);
  if (!s.building) {
    s.building = std::make_unique<WorkItem>();
    Reuse(*s.building);
    WorkItem& w = *s.building;
    w.slot = s.index;
    w.format = f;
    w.topic = s.tp.topic;
    w.partition = s.tp.partition;
    w.first_offset = m.offset;
  }
  AppendRecord(*s.building, m.payload, m.offset);
  in_flight_bytes_ += static_cast<int64_t>(m.payload.size());
  if (buffered_messages_++ == 0) batch_started_ms_ = NowMs();
  if (options_.backfill && s.stop_offset >= 0 && m.offset + 1 >= s.stop_offset) s.done = true;
}

void Runtime::Impl::DispatchSlot(Slot& s) {
  if (!s.building) return;
  std::unique_ptr<WorkItem> item = std::move(s.building);
  WorkItem* raw = item.get();
  s.in_flight.push_back(std::move(item));
  {
    std::lock_guard<std::mutex> l(decide_mu_);
    decide_queue_.push_back(raw);
  }
  decide_cv_.notify_one();
  workers_[static_cast<size_t>(s.index) % workers_.size()]->Submit(raw);
}

void Runtime::Impl::Dispatch() {
  for (auto& s : slots_) DispatchSlot(*s);
  buffered_messages_ = 0;
}

void Runtime::Impl::PushControl(std::unique_ptr<WorkItem> item) {
  item->parsed.store(true, std::memory_order_release);
  WorkItem* raw = item.get();
  control_items_.push_back(std::move(item));
  {
    std::lock_guard<std::mutex> l(decide_mu_);
    decide_queue_.push_back(raw);
  }
  decide_cv_.notify_one();
}

absl::Status Runtime::Impl::Fatal() const {
  if (!fatal_.load()) return absl::OkStatus();
  std::lock_guard<std::mutex> l(fatal_mu_);
  return absl::InternalError(fatal_message_);
}

// The first offset of `item` whose alert windows are not all closed (item.last_offset + 1 when every
// one is): the commit point of its partition cannot pass it, so a restart re-reads the records of windows
// that were still open. Bounded in wall time, so a stalled watermark (a quiet partition, a far-future
// timestamp) cannot stop commits for ever.
int64_t Runtime::Impl::ClosedThrough(const WorkItem& item, int64_t wm) const {
  if (wm == INT64_MAX || NowMs() - item.decided_at_ms > max_hold_ms_) return item.last_offset + 1;
  for (const WorkItem::WindowStep& step : item.steps) {
    if (wm < step.window_end + config_.alerts.grace_ms) return step.offset;
  }
  return item.last_offset + 1;
}

// Sends the item's state changes to the changelog, in order. Without `block` (the consuming thread,
// at-least-once) it stops when the producer's queue is full and resumes on the next call, so the
// consuming thread never waits on the producer; `changelog_produced` is set once all are sent.
absl::Status Runtime::Impl::ProduceChangelog(WorkItem& item, Slot& slot, bool block) {
  if (changelog_partitions_ > 0) {
    const int32_t part = slot.tp.partition % changelog_partitions_;
    for (; item.changelog_sent < item.changelog.size(); ++item.changelog_sent) {
      const size_t i = item.changelog_sent;
      item.pending.fetch_add(1, std::memory_order_acq_rel);
      // A tombstone is a message without a value; an empty value would be a live record.
      absl::Status s = item.changelog.tombstone(i)
                           ? producer_->Produce(config_.topics.changelog, part, item.changelog.key(i),
                                                std::string_view(), &item, block)
                           : producer_->Produce(config_.topics.changelog, part, item.changelog.key(i),
                                                item.changelog.value(i), &item, block);
      if (!s.ok()) {
        item.pending.fetch_sub(1, std::memory_order_acq_rel);
        if (s.code() == absl::StatusCode::kResourceExhausted) return absl::OkStatus();  // later
        return s;
      }
    }
  }
  item.changelog_produced = true;
  item.changelog.Release();
  return absl::OkStatus();
}

// In order over a slot's items: releases the bytes of decided items and, with `changelog`, sends an
// item's state changes to the changelog once its outputs are acknowledged (never before: a restored
// state must not claim an output that was lost; one partition's records go out in item order, so the
// latest value wins). With the repartition topic, an item fully acknowledged (outputs and changelog)
// moves the slot's acked_shipped to its watermark. Stops at the first item that is not that far yet.
absl::Status Runtime::Impl::LogInOrder(Slot& s, bool changelog) {
  for (auto& ip : s.in_flight) {
    WorkItem& item = *ip;
    if (!item.decided.load(std::memory_order_acquire)) break;
    if (!item.bytes_released) {
      item.bytes_released = true;
      in_flight_bytes_ -= static_cast<int64_t>(item.bytes);
    }
    if (item.failed.load()) return Fatal().ok() ? absl::InternalError("a batch failed") : Fatal();
    if (!changelog) continue;
    if (!item.changelog_produced) {
      if (item.changelog_sent == 0 && item.pending.load(std::memory_order_acquire) > 0) break;
      RETURN_IF_ERROR(ProduceChangelog(item, s, /*block=*/false));
      if (!item.changelog_produced) break;  // the producer's queue is full: go on next time
    }
    if (repartition_ && item.pending.load(std::memory_order_acquire) == 0) {
      s.acked_shipped = std::max(s.acked_shipped, item.ship_wm);
    }
  }
  return absl::OkStatus();
}

// Moves each partition's commit point past items whose outputs, changelog and windows are done.
absl::Status Runtime::Impl::ServiceAcks() {
  for (auto& sp : slots_) {
    Slot& s = *sp;
    RETURN_IF_ERROR(LogInOrder(s, !options_.backfill && !eos()));
    if (eos()) continue;  // exactly-once: the transaction commit completes items
    // The commit point: the prefix of items that are decided, acknowledged (outputs and changelog) and
    // whose alert windows have closed.
    while (!s.in_flight.empty()) {
      WorkItem& item = *s.in_flight.front();
      if (!item.decided.load(std::memory_order_acquire)) break;
      if (!options_.backfill) {
        if (!item.changelog_produced || item.pending.load(std::memory_order_acquire) > 0) break;
        const int64_t closed =
            ClosedThrough(item, repartition_ ? s.acked_shipped : watermark_.load(std::memory_order_acquire));
        if (closed <= item.last_offset) {
          if (closed > item.first_offset) s.next_offset = std::max(s.next_offset, closed);
          break;
        }
      }
      s.next_offset = item.last_offset + 1;
      s.in_flight.pop_front();
    }
  }
  RETURN_IF_ERROR(ServiceMergeAcks());
  while (!control_items_.empty()) {
    WorkItem& c = *control_items_.front();
    if (!c.decided.load(std::memory_order_acquire)) break;
    if (c.type == WorkItem::Type::kBarrier) break;  // released by CommitTransaction
    // Delivery reports of its outputs (alerts written when a partition parks, say) still point at it.
    if (c.pending.load(std::memory_order_acquire) > 0) break;
    control_items_.pop_front();
  }
  return absl::OkStatus();
}

// Repartition partitions: a message's offset may be committed once it is applied, the alerts it caused
// are acknowledged and every window holding its latest pane has closed at the merger (bounded in wall
// time like ClosedThrough).
absl::Status Runtime::Impl::ServiceMergeAcks() {
  for (auto& sp : rp_slots_) {
    Slot& s = *sp;
    // As for input partitions: the judging state a message changed goes to the changelog once the
    // alerts it caused are acknowledged; the merger watermark of acknowledged state decides commits.
    RETURN_IF_ERROR(LogInOrder(s, /*changelog=*/true));
    while (!s.in_flight.empty()) {
      WorkItem& item = *s.in_flight.front();
      if (!item.decided.load(std::memory_order_acquire) || !item.changelog_produced ||
          item.pending.load(std::memory_order_acquire) > 0) {
        break;
      }
      if (item.needed_until != INT64_MIN && (s.acked_shipped == INT64_MIN || s.acked_shipped < item.needed_until) &&
          NowMs() - item.decided_at_ms <= max_hold_ms_) {
        break;
      }
      s.next_offset = item.last_offset + 1;
      s.in_flight.pop_front();
    }
  }
  return absl::OkStatus();
}

absl::Status Runtime::Impl::StoreOffsets(bool sync, const std::vector<Slot*>* only) {
  std::vector<TopicPartition> offsets;
  auto add = [&](Slot& s) {
    if (s.next_offset >= 0 && s.next_offset != s.stored) {
      offsets.push_back({s.tp.topic, s.tp.partition, s.next_offset});
      s.stored = s.next_offset;
    }
  };
  if (only != nullptr) {
    for (Slot* s : *only) add(*s);
  } else {
    for (auto& s : slots_) {
      if (s->assigned) add(*s);
    }
    for (auto& s : rp_slots_) {
      if (s->assigned) add(*s);
    }
  }
  if (offsets.empty()) return absl::OkStatus();
  RETURN_IF_ERROR(consumer_->StoreOffsets(offsets));
  if (sync) return consumer_->Commit(offsets);
  return absl::OkStatus();
}

// Exactly-once: parks the decide thread at a barrier, then commits everything decided before it —
// outputs, changelog records and the consumer offsets — in one transaction, and opens the next.
absl::Status Runtime::Impl::CommitTransaction() {
  auto barrier = std::make_unique<WorkItem>();
  barrier->type = WorkItem::Type::kBarrier;
  WorkItem* b = barrier.get();
  PushControl(std::move(barrier));
  RETURN_IF_ERROR(WaitUntil([&] { return b->decided.load(std::memory_order_acquire); }, kTxnTimeoutMs,
                            "the decide stage to reach the commit barrier"));
  std::vector<TopicPartition> offsets;
  for (auto& sp : slots_) {
    Slot& s = *sp;
    for (auto& item : s.in_flight) {
      if (!item->decided.load(std::memory_order_acquire)) break;
      if (!item->changelog_produced) RETURN_IF_ERROR(ProduceChangelog(*item, s, /*block=*/true));
    }
  }
  RETURN_IF_ERROR(Fatal());
  // The decided prefix of each partition goes into this transaction. Its items stay until the commit
  // has succeeded: their delivery reports (served during the commit) still point at them.
  std::vector<size_t> decided(slots_.size(), 0);
  for (size_t i = 0; i < slots_.size(); ++i) {
    Slot& s = *slots_[i];
    int64_t next = s.next_offset;
    for (auto& item : s.in_flight) {
      if (!item->decided.load(std::memory_order_acquire)) break;
      if (!item->bytes_released) {
        item->bytes_released = true;
        in_flight_bytes_ -= static_cast<int64_t>(item->bytes);
      }
      next = item->last_offset + 1;
      ++decided[i];
    }
    if (next >= 0 && next != s.stored) offsets.push_back({s.tp.topic, s.tp.partition, next});
  }
  absl::Status st = producer_->SendOffsetsToTransaction(offsets, *consumer_, kTxnTimeoutMs);
  if (st.ok()) st = producer_->CommitTransaction(kTxnTimeoutMs);
  if (!st.ok()) {
    // The transaction's outputs are discarded by the brokers, but the in-memory state has moved on:
    // the only consistent continuation is a restart from the last committed transaction.
    if (st.code() == absl::StatusCode::kAborted) producer_->AbortTransaction(kTxnTimeoutMs).IgnoreError();
    return absl::InternalError(absl::StrCat("exactly-once commit failed (restart resumes from the last committed "
                                            "transaction): ",
                                            st.message()));
  }
  for (size_t i = 0; i < slots_.size(); ++i) {
    Slot& s = *slots_[i];
    for (size_t k = 0; k < decided[i]; ++k) {
      s.next_offset = s.in_flight.front()->last_offset + 1;
      s.in_flight.pop_front();
    }
    s.stored = s.next_offset;
  }
  RETURN_IF_ERROR(producer_->BeginTransaction());
  transactions_.fetch_add(1);
  acked_at_txn_start_.store(outputs_acked_.load());
  {
    std::lock_guard<std::mutex> l(barrier_mu_);
    barrier_released_ = true;
  }
  barrier_cv_.notify_all();
  // The barrier item (and control items before it) can go once the decide thread has left them.
  while (!control_items_.empty() && control_items_.front()->decided.load(std::memory_order_acquire) &&
         control_items_.front()->pending.load(std::memory_order_acquire) == 0) {
    control_items_.pop_front();
  }
  return absl::OkStatus();
}

absl::Status Runtime::Impl::WaitUntil(const std::function<bool()>& done, int timeout_ms, std::string_view what) {
  const int64_t deadline = NowMs() + timeout_ms;
  while (!done()) {
    RETURN_IF_ERROR(Fatal());
    if (NowMs() > deadline) return absl::DeadlineExceededError(absl::StrCat("timed out waiting for ", Av(what)));
    RETURN_IF_ERROR(ServiceAcks());
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return absl::OkStatus();
}

// A partition at its end that never had data, or has been quiet for idle_partition_ms, stops holding
// the alert watermark back until it gets a record again.
void Runtime::Impl::ParkIdle() {
  const int64_t now = NowMs();
  for (auto& sp : slots_) {
    Slot& s = *sp;
    if (!s.assigned || s.parked || s.eof_since_ms == 0 || s.building) continue;
    if (now - s.eof_since_ms < config_.processing.idle_partition_ms) continue;
    auto item = std::make_unique<WorkItem>();
    item->type = WorkItem::Type::kPark;
    item->slot = s.index;
    PushControl(std::move(item));
    s.parked = true;
  }
}

void Runtime::Impl::Backpressure() {
  const int64_t max = config_.processing.max_in_flight_bytes;
  if (!paused_all_ && in_flight_bytes_ > max) {
    std::vector<TopicPartition> parts;
    for (auto& s : slots_) {
      if (s->assigned && !s->paused) {
        parts.push_back(s->tp);
        s->paused = true;
      }
    }
    if (!parts.empty()) consumer_->Pause(parts).IgnoreError();
    paused_all_ = true;
    Log(0, absl::StrCat("backpressure: ", in_flight_bytes_, " bytes in flight; pausing ", parts.size(), " partitions"));
  } else if (paused_all_ && in_flight_bytes_ < max / 2) {
    std::vector<TopicPartition> parts;
    for (auto& s : slots_) {
      if (s->assigned && s->paused) {
        parts.push_back(s->tp);
        s->paused = false;
      }
    }
    if (!parts.empty()) consumer_->Resume(parts).IgnoreError();
    paused_all_ = false;
  }
}

namespace {

// A cheap signature of a rule directory: names, sizes and modification times of its files.
std::string DirSignature(const std::string& dir) {
  std::string sig;
  if (dir.empty()) return sig;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return "missing";
  std::vector<std::string> names;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] != '.') names.emplace_back(e->d_name);
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  for (const std::string& n : names) {
    struct stat st;
    std::string p = dir + "/" + n;
    // Kubernetes ConfigMap volumes swap a "..data" symlink; stat follows it.
    if (stat(p.c_str(), &st) == 0) {
      absl::StrAppend(&sig, n, ":", st.st_size, ":", st.st_mtim.tv_sec, ".", st.st_mtim.tv_nsec, ";");
    }
  }
  return sig;
}

}  // namespace

void Runtime::Impl::MaybeReload() {
  bool want = reload_.exchange(false);
  if (config_.rules.reload == RulesOptions::Reload::kWatch) {
    int64_t now = NowMs();
    if (now - last_watch_ms_ >= config_.rules.watch_interval_seconds * 1000LL) {
      last_watch_ms_ = now;
      std::string sig = DirSignature(config_.rules.dir) + "|" + DirSignature(config_.rules.local_dir);
      if (rules_signature_.empty()) {
        rules_signature_ = sig;
      } else if (sig != rules_signature_) {
        rules_signature_ = sig;
        want = true;
      }
    }
  }
  if (!want || config_.rules.reload == RulesOptions::Reload::kOff) return;
  absl::Status s = rules_->Reload();
  last_reload_ms_.store(NowMs());
  last_reload_unix_s_.store(UnixSeconds());
  last_reload_ok_.store(s.ok());
  if (s.ok()) {
    reloads_ok_.fetch_add(1);
    Log(1, absl::StrCat("rules reloaded: version ", Av(rules_->Current()->version())));
  } else {
    reloads_failed_.fetch_add(1);
    Log(3, absl::StrCat("rules reload failed, keeping the previous rules: ", s.message()));
  }
}

// ---------------------------------------------------------------------------------------- rebalance

// A partition's watermarks, retried while its leader is not there yet (a topic just created, a leader
// moving): only a lasting failure is an error.
absl::Status Runtime::Impl::WatermarksWithRetry(const std::string& topic, int32_t partition, int64_t& low,
                                                int64_t& high) {
  const int64_t deadline = NowMs() + kMetadataTimeoutMs;
  while (true) {
    absl::Status s = restorer_->Watermarks(topic, partition, low, high, 5000);
    if (s.ok() || s.code() != absl::StatusCode::kUnavailable || NowMs() > deadline) return s;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

absl::StatusOr<std::vector<ChangelogEntry>> Runtime::Impl::ReadChangelog(const Slot& slot) {
  std::vector<ChangelogEntry> out;
  if (changelog_partitions_ <= 0) return out;
  const int32_t part = slot.tp.partition % changelog_partitions_;
  int64_t low = 0, high = 0;
  RETURN_IF_ERROR(WatermarksWithRetry(config_.topics.changelog, part, low, high));
  if (high <= low) return out;
  RETURN_IF_ERROR(restorer_->Assign({{config_.topics.changelog, part, kOffsetBeginning}}));
  const std::string prefix = ChangelogPrefix(slot.tp);
  const int64_t deadline = NowMs() + config_.state.restore_timeout_seconds * 1000LL;
  bool eof = false;
  while (!eof) {
    if (NowMs() > deadline) {
      return absl::DeadlineExceededError(absl::StrCat("restoring ", slot.tp.ToString(), " from ", config_.topics.changelog,
                                                      "/", part, " took longer than restore_timeout_seconds"));
    }
    std::vector<TopicPartition> ends;
    int64_t last = -1;
    ASSIGN_OR_RETURN(int n, restorer_->Poll(100, 10000, [&](const KafkaMessage& m) {
      // The restore consumer is reused: anything of an earlier assignment still queued is not ours.
      if (m.partition != part || m.topic != config_.topics.changelog) return;
      last = m.offset;
      if (!StartsWith(m.key, prefix)) return;
      ChangelogEntry e;
      e.key = std::string(m.key.substr(prefix.size()));
      e.tombstone = m.payload.data() == nullptr;
      e.value = std::string(m.payload);
      out.push_back(std::move(e));
    }, &ends));
    (void)n;
    for (const TopicPartition& e : ends) {
      if (e.topic == config_.topics.changelog && e.partition == part && e.offset >= high) eof = true;
    }
    if (last + 1 >= high) eof = true;
  }
  RETURN_IF_ERROR(restorer_->Assign({}));
  return out;
}

// Reads the records just before the partition's committed offset again and sends them through the
// workers to the decide stage's sender join only (WorkItem::warmup), so outcome lines after the restart
// still find the sender logged before it.
absl::Status Runtime::Impl::WarmUpJoin(Slot& slot) {
  ASSIGN_OR_RETURN(std::vector<TopicPartition> committed, consumer_->Committed({slot.tp}, kMetadataTimeoutMs));
  const int64_t end = committed.empty() ? -1 : committed[0].offset;
  if (end <= 0) return absl::OkStatus();  // nothing read before: nothing to rebuild
  int64_t low = 0, high = 0;
  RETURN_IF_ERROR(WatermarksWithRetry(slot.tp.topic, slot.tp.partition, low, high));
  const int64_t start = std::max(low, end - config_.state.join_warmup_records);
  if (start >= end) return absl::OkStatus();
  RETURN_IF_ERROR(restorer_->Assign({{slot.tp.topic, slot.tp.partition, start}}));
  auto item = std::make_unique<WorkItem>();
  item->slot = slot.index;
  item->warmup = true;
  item->topic = slot.tp.topic;
  item->partition = slot.tp.partition;
  bool done = false;
  const int64_t deadline = NowMs() + config_.state.restore_timeout_seconds * 1000LL;
  while (!done) {
    if (NowMs() > deadline) return absl::DeadlineExceededError("reading the records before the committed offset");
    std::vector<TopicPartition> ends;
    ASSIGN_OR_RETURN(int n, restorer_->Poll(100, 10000, [&](const KafkaMessage& m) {
      if (m.partition != slot.tp.partition || m.topic != slot.tp.topic) return;  // an earlier read's
      if (m.offset >= end) {
        done = true;
        return;
      }
      if (m.offset < start) return;
      AppendRecord(*item, m.payload, m.offset);
      if (m.offset + 1 >= end) done = true;
    }, &ends));
    (void)n;
    for (const TopicPartition& e : ends) {
      if (e.topic == slot.tp.topic && e.partition == slot.tp.partition && e.offset >= end) done = true;
    }
  }
  RETURN_IF_ERROR(restorer_->Assign({}));
  if (item->chunk.records.empty()) return absl::OkStatus();
  Format f = slot.format;
  if (f == Format::kAuto) f = DetectFormat(item->chunk.record(0).substr(0, 64 * 1024));
  if (!NeedsJoin(f) || f == Format::kAuto) return absl::OkStatus();
  item->format = f;
  const size_t records = item->chunk.records.size();
  WorkItem* raw = item.get();
  control_items_.push_back(std::move(item));
  {
    std::lock_guard<std::mutex> l(decide_mu_);
    decide_queue_.push_back(raw);
  }
  decide_cv_.notify_one();
  workers_[static_cast<size_t>(slot.index) % workers_.size()]->Submit(raw);
  Log(1, absl::StrCat(slot.tp.ToString(), ": read ", records, " records before offset ", end,
                      " again to rebuild the sender join"));
  return absl::OkStatus();
}

void Runtime::Impl::OnAssign(std::vector<TopicPartition>& partitions) {
  if (shutting_down_) return;
  rebalances_.fetch_add(1);
  ready_.store(false);
  for (const TopicPartition& tp : partitions) {
    if (repartition_ && tp.topic == config_.topics.repartition) {
      if (tp.partition < 0 || static_cast<size_t>(tp.partition) >= rp_slots_.size()) continue;
      Slot& rs = *rp_slots_[static_cast<size_t>(tp.partition)];
      auto item = std::make_unique<WorkItem>();
      item->type = WorkItem::Type::kMergeAssign;
      item->slot = rs.index;
      // Its judging state (baselines, open incidents, where its windows stand) from the changelog.
      absl::StatusOr<std::vector<ChangelogEntry>> restored = ReadChangelog(rs);
      if (!restored.ok()) {
        std::lock_guard<std::mutex> l(fatal_mu_);
        fatal_message_ = std::string(restored.status().message());
        fatal_.store(true);
        continue;
      }
      Log(1, absl::StrCat("assigned ", tp.ToString(), " (judging its alert windows); restored ", restored->size(),
                          " state records"));
      item->restore = std::move(*restored);
      PushControl(std::move(item));
      rs.assigned = true;
      rs.next_offset = -1;
      rs.stored = -1;
      rs.acked_shipped = INT64_MIN;
      continue;
    }
    auto it = slot_of_.find({tp.topic, tp.partition});
    if (it == slot_of_.end()) {
      std::lock_guard<std::mutex> l(fatal_mu_);
      fatal_message_ = absl::StrCat("assigned ", tp.ToString(), ", which did not exist at start; restart to take it on");
      fatal_.store(true);
      continue;
    }
    Slot& s = *slots_[static_cast<size_t>(it->second)];
    auto item = std::make_unique<WorkItem>();
    item->type = WorkItem::Type::kAssign;
    item->slot = s.index;
    absl::StatusOr<std::vector<ChangelogEntry>> restored = ReadChangelog(s);
    if (!restored.ok()) {
      std::lock_guard<std::mutex> l(fatal_mu_);
      fatal_message_ = std::string(restored.status().message());
      fatal_.store(true);
      continue;
    }
    Log(1, absl::StrCat("assigned ", tp.ToString(), "; restored ", restored->size(), " state records"));
    item->restore = std::move(*restored);
    PushControl(std::move(item));
    if (NeedsJoin(s.format) && config_.state.join_warmup_records > 0) {
      absl::Status w = WarmUpJoin(s);
      if (!w.ok()) Log(2, absl::StrCat("sender join of ", tp.ToString(), " not rebuilt: ", w.message()));
    }
    s.assigned = true;
    s.paused = false;
    s.parked = false;  // StartPartition: it holds the watermark back until its first event or its end
    s.had_data = false;
    s.eof_since_ms = 0;
    s.detected = Format::kAuto;
    s.next_offset = -1;
    s.stored = -1;
    s.acked_shipped = INT64_MIN;
  }
  int n = 0;
  for (auto& s : slots_) n += s->assigned;
  assigned_count_.store(n);
  paused_all_ = false;
  ready_.store(true);
}

void Runtime::Impl::OnRevoke(const std::vector<TopicPartition>& partitions, bool lost) {
  if (shutting_down_) return;
  rebalances_.fetch_add(1);
  std::vector<int> revoked;
  std::vector<Slot*> revoked_slots;
  for (const TopicPartition& tp : partitions) {
    if (repartition_ && tp.topic == config_.topics.repartition) {
      if (tp.partition >= 0 && static_cast<size_t>(tp.partition) < rp_slots_.size() &&
          rp_slots_[static_cast<size_t>(tp.partition)]->assigned) {
        revoked_slots.push_back(rp_slots_[static_cast<size_t>(tp.partition)].get());
      }
      continue;
    }
    auto it = slot_of_.find({tp.topic, tp.partition});
    if (it == slot_of_.end()) continue;
    Slot& s = *slots_[static_cast<size_t>(it->second)];
    if (!s.assigned) continue;
    // Records polled but not dispatched are simply not processed here: their offsets are not
    // committed, so the partition's next owner reads them.
    if (s.building) {
      in_flight_bytes_ -= static_cast<int64_t>(s.building->bytes);
      s.building.reset();
    }
    revoked.push_back(s.index);
    revoked_slots.push_back(&s);
  }
  if (revoked_slots.empty()) return;
  // Finish what was dispatched, so the new owner starts where our committed outputs end.
  absl::Status st;
  if (eos()) {
    if (!lost) st = CommitTransaction();
  } else {
    st = WaitUntil(
        [&] {
          for (Slot* rs : revoked_slots) {
            for (auto& item : rs->in_flight) {
              if (!item->decided.load(std::memory_order_acquire) || item->pending.load() > 0 ||
                  !item->changelog_produced) {
                return false;
              }
            }
          }
          return true;
        },
        kDrainTimeoutMs, "outputs of revoked partitions to be acknowledged");
    if (st.ok()) st = ServiceAcks();
    if (st.ok() && !lost) st = StoreOffsets(/*sync=*/true, &revoked_slots);
  }
  if (!st.ok()) Log(2, absl::StrCat("revoke: ", st.message(), " (the next owner re-reads the uncommitted records)"));
  for (int i : revoked) {
    Slot& s = *slots_[static_cast<size_t>(i)];
    for (auto& item : s.in_flight) {
      if (!item->bytes_released) {
        // Dispatched but not decided yet: its bytes are released when the item is dropped below.
        item->bytes_released = true;
        in_flight_bytes_ -= static_cast<int64_t>(item->bytes);
      }
    }
    // Items still held back for windows (or unacknowledged) are dropped from the bookkeeping; the
    // decide thread may still be reading them, so they move to the control list, freed when done.
    for (auto& item : s.in_flight) control_items_.push_back(std::move(item));
    s.in_flight.clear();
    auto item = std::make_unique<WorkItem>();
    item->type = WorkItem::Type::kRevoke;
    item->slot = i;
    PushControl(std::move(item));
    s.assigned = false;
    s.paused = false;
    s.next_offset = -1;
    s.stored = -1;
    Log(1, absl::StrCat(lost ? "lost " : "revoked ", s.tp.ToString()));
  }
  for (Slot* rs : revoked_slots) {
    if (!(repartition_ && rs->tp.topic == config_.topics.repartition)) continue;
    // Messages of windows still open are not committed: the partition's next judge re-reads them.
    for (auto& item : rs->in_flight) {
      if (!item->bytes_released) {
        item->bytes_released = true;
        in_flight_bytes_ -= static_cast<int64_t>(item->bytes);
      }
      control_items_.push_back(std::move(item));
    }
    rs->in_flight.clear();
    auto item = std::make_unique<WorkItem>();
    item->type = WorkItem::Type::kMergeRevoke;
    item->slot = rs->index;
    PushControl(std::move(item));
    rs->assigned = false;
    rs->next_offset = -1;
    rs->stored = -1;
    Log(1, absl::StrCat(lost ? "lost " : "revoked ", rs->tp.ToString()));
  }
  int n = 0;
  for (auto& s : slots_) n += s->assigned;
  assigned_count_.store(n);
}

// --------------------------------------------------------------------------------------------- run

absl::Status Runtime::Impl::SetUpBackfill() {
  std::vector<TopicPartition> from, to;
  for (auto& s : slots_) {
    from.push_back({s->tp.topic, s->tp.partition, options_.from_ms});
    if (options_.to_ms >= 0) to.push_back({s->tp.topic, s->tp.partition, options_.to_ms});
  }
  ASSIGN_OR_RETURN(std::vector<TopicPartition> starts, consumer_->OffsetsForTimes(from, kMetadataTimeoutMs));
  std::vector<TopicPartition> stops;
  if (!to.empty()) {
    ASSIGN_OR_RETURN(stops, consumer_->OffsetsForTimes(to, kMetadataTimeoutMs));
  }
  std::vector<TopicPartition> assign;
  for (size_t i = 0; i < slots_.size(); ++i) {
    Slot& s = *slots_[i];
    int64_t low = 0, high = 0;
    RETURN_IF_ERROR(consumer_->Watermarks(s.tp.topic, s.tp.partition, low, high, kMetadataTimeoutMs));
    int64_t start = starts[i].offset < 0 ? high : starts[i].offset;
    int64_t stop = high;
    if (!stops.empty() && stops[i].offset >= 0) stop = std::min(stop, stops[i].offset);
    s.stop_offset = stop;
    if (start >= stop) continue;
    s.assigned = true;
    assign.push_back({s.tp.topic, s.tp.partition, start});
    auto item = std::make_unique<WorkItem>();
    item->type = WorkItem::Type::kAssign;
    item->slot = s.index;
    PushControl(std::move(item));
    Log(1, absl::StrCat("backfill ", s.tp.ToString(), ": offsets ", start, " to ", stop));
  }
  for (auto& s : slots_) {
    s->done = !s->assigned;
    s->parked = false;
    if (s->assigned) continue;
    auto item = std::make_unique<WorkItem>();  // nothing to read: finished from the start
    item->type = WorkItem::Type::kRevoke;
    item->slot = s->index;
    PushControl(std::move(item));
  }
  return consumer_->Assign(assign);
}

absl::Status Runtime::Impl::GracefulStop() {
  // Finish in-flight work: dispatch what was polled, wait until it is decided and acknowledged.
  Dispatch();
  absl::Status st;
  if (eos()) {
    st = CommitTransaction();
  } else {
    st = WaitUntil(
        [&] {
          for (auto& s : slots_) {
            for (auto& item : s->in_flight) {
              if (!item->decided.load(std::memory_order_acquire) || item->pending.load() > 0 || !item->changelog_produced) {
                return false;
              }
            }
          }
          for (auto& s : rp_slots_) {
            for (auto& item : s->in_flight) {
              if (!item->decided.load(std::memory_order_acquire) || item->pending.load() > 0 || !item->changelog_produced) {
                return false;
              }
            }
          }
          return true;
        },
        kDrainTimeoutMs, "in-flight outputs to be acknowledged");
    absl::Status acks = ServiceAcks();  // the commit point moves past everything that just completed
    if (st.ok()) st = acks;
    absl::Status store = StoreOffsets(/*sync=*/true, nullptr);
    if (st.ok()) st = store;
  }
  // Leaving the group runs OnRevoke for every partition (which commits, above).
  absl::Status close = consumer_->Close();
  if (st.ok()) st = close;
  if (producer_ != nullptr) {
    absl::Status f = producer_->Flush(kDrainTimeoutMs);
    if (st.ok()) st = f;
  }
  return st;
}

absl::Status Runtime::Impl::Run() {
  RETURN_IF_ERROR(Connect());
  StartThreads();
  if (options_.backfill) {
    RETURN_IF_ERROR(SetUpBackfill());
  } else {
    std::vector<std::string> subscribe = config_.kafka.input_topics;
    if (repartition_) subscribe.push_back(config_.topics.repartition);
    RETURN_IF_ERROR(consumer_->Subscribe(subscribe, this, kMetadataTimeoutMs));
    Log(1, absl::StrCat("joined group ", config_.kafka.group_id, " on ", config_.kafka.brokers, " (",
                        Av(DeliveryModeName(config_.kafka.delivery)), ")"));
  }
  last_commit_ms_ = NowMs();
  const int max_batch = config_.processing.max_batch_messages;
  const int wait_ms = config_.processing.max_batch_wait_ms;
  auto on_message = [this](const KafkaMessage& m) { OnMessage(m); };
  while (!stop_.load()) {
    int timeout = buffered_messages_ > 0 ? std::max<int64_t>(0, wait_ms - (NowMs() - batch_started_ms_)) : 100;
    if (paused_all_) timeout = 5;
    std::vector<TopicPartition> eof;
    absl::StatusOr<int> n = consumer_->Poll(static_cast<int>(timeout), max_batch - buffered_messages_, on_message, &eof);
    if (!n.ok()) return n.status();
    for (const TopicPartition& e : eof) {
      auto it = slot_of_.find({e.topic, e.partition});
      if (it == slot_of_.end()) continue;
      Slot& s = *slots_[static_cast<size_t>(it->second)];
      if (options_.backfill) {
        s.done = true;
      } else if (s.assigned && s.eof_since_ms == 0) {
        s.eof_since_ms = NowMs();
        if (!s.parked) {
          DispatchSlot(s);
          auto item = std::make_unique<WorkItem>();
          item->type = WorkItem::Type::kEof;
          item->slot = s.index;
          PushControl(std::move(item));
        }
      }
    }
    if (!options_.backfill) ParkIdle();
    if (repartition_ && NowMs() - last_heartbeat_ms_ >= kHeartbeatMs) {
      // Markers of where every input partition here stands, for mergers assigned since the last ones.
      last_heartbeat_ms_ = NowMs();
      auto item = std::make_unique<WorkItem>();
      item->type = WorkItem::Type::kHeartbeat;
      PushControl(std::move(item));
    }
    if (buffered_messages_ > 0 &&
        (buffered_messages_ >= max_batch || *n == 0 || NowMs() - batch_started_ms_ >= wait_ms)) {
      Dispatch();
    }
    RETURN_IF_ERROR(Fatal());
    RETURN_IF_ERROR(ServiceAcks());
    if (!options_.backfill && NowMs() - last_commit_ms_ >= config_.processing.commit_interval_ms) {
      last_commit_ms_ = NowMs();
      if (eos()) {
        RETURN_IF_ERROR(CommitTransaction());
      } else {
        RETURN_IF_ERROR(StoreOffsets(/*sync=*/false, nullptr));
      }
    }
    Backpressure();
    MaybeReload();
    if (NowMs() - last_lag_ms_ >= 1000) {
      last_lag_ms_ = NowMs();
      std::vector<TopicPartition> lag = consumer_->Lag();
      std::lock_guard<std::mutex> l(lag_mu_);
      lag_.clear();
      for (const TopicPartition& tp : lag) lag_[tp.ToString()] = tp.offset;
    }
    if (options_.backfill) {
      bool all_done = true;
      for (auto& s : slots_) all_done = all_done && s->done;
      if (all_done) break;
    }
  }
  if (options_.backfill) {
    Dispatch();
    for (auto& s : slots_) {
      if (!s->assigned) continue;
      auto item = std::make_unique<WorkItem>();
      item->type = WorkItem::Type::kRevoke;  // FinishPartition: the partition will send no more
      item->slot = s->index;
      PushControl(std::move(item));
    }
    auto fin = std::make_unique<WorkItem>();
    fin->type = WorkItem::Type::kFinish;
    WorkItem* f = fin.get();
    PushControl(std::move(fin));
    RETURN_IF_ERROR(WaitUntil([&] { return f->decided.load(std::memory_order_acquire); }, 24 * 3600 * 1000,
                              "the backfill to finish"));
    RETURN_IF_ERROR(Fatal());
    PublishStats(true);
    return absl::OkStatus();
  }
  Log(1, "stopping: finishing in-flight records, committing, leaving the group");
  absl::Status st = GracefulStop();
  StopThreads();
  PublishStats(true);
  return st;
}

// ------------------------------------------------------------------------------------------ metrics

std::string Runtime::Impl::MetricsText() const {
  PipelineStats st = Stats();
  std::string out;
  absl::StrAppend(&out, "# TYPE bouncestream_records_in_total counter\n");
  absl::StrAppend(&out, "bouncestream_records_in_total{stage=\"consume\"} ", messages_in_.load(), "\n");
  uint64_t events = 0;
  for (uint64_t o : st.outcomes) events += o;
  absl::StrAppend(&out, "bouncestream_records_in_total{stage=\"decide\"} ", events, "\n");
  absl::StrAppend(&out, "# TYPE bouncestream_events_total counter\n");
  for (int p = 0; p < kProviderCount; ++p) {
    for (int c = 0; c < kCategoryCount; ++c) {
      if (uint64_t n = st.provider_category[p][c]) {
        absl::StrAppend(&out, "bouncestream_events_total{provider=\"", Av(ProviderName(static_cast<Provider>(p))),
                        "\",category=\"", Av(CategoryName(static_cast<Category>(c))), "\"} ", n, "\n");
      }
    }
  }
  absl::StrAppend(&out, "# TYPE bouncestream_dlq_total counter\n");
  for (size_t e = 0; e < st.dead_letters_by_error.size(); ++e) {
    if (uint64_t n = st.dead_letters_by_error[e]) {
      absl::StrAppend(&out, "bouncestream_dlq_total{reason=\"", Av(ParseErrorName(static_cast<ParseError>(e))), "\"} ", n,
                      "\n");
    }
  }
  absl::StrAppend(&out, "# TYPE bouncestream_alerts_total counter\n");
  static constexpr const char* kStates[] = {"firing", "updated", "resolved"};
  for (int k = 0; k < kAlertKindCount; ++k) {
    for (int s = 0; s < 3; ++s) {
      if (uint64_t n = st.alerts[static_cast<size_t>(k)][static_cast<size_t>(s)]) {
        absl::StrAppend(&out, "bouncestream_alerts_total{kind=\"", Av(AlertKindName(static_cast<AlertKind>(k))),
                        "\",state=\"", kStates[s], "\"} ", n, "\n");
      }
    }
  }
  absl::StrAppend(&out, "# TYPE bouncestream_suppressions_total counter\n");
  for (int a = 0; a < kActionCount; ++a) {
    if (uint64_t n = st.suppressions[static_cast<size_t>(a)]) {
      absl::StrAppend(&out, "bouncestream_suppressions_total{action=\"", Av(ActionName(static_cast<Action>(a))), "\"} ",
                      n, "\n");
    }
  }
  absl::StrAppend(&out, "# TYPE bouncestream_late_events_total counter\nbouncestream_late_events_total ",
                  st.late_events, "\n");
  if (repartition_) {
    // Window partials and markers sent to the repartition topic; its messages this process rejected.
    absl::StrAppend(&out, "# TYPE bouncestream_window_exchange_total counter\n",
                    "bouncestream_window_exchange_total{what=\"partial_cells_sent\"} ", partial_cells_sent_.load(), "\n",
                    "bouncestream_window_exchange_total{what=\"markers_sent\"} ", markers_sent_.load(), "\n",
                    "bouncestream_window_exchange_total{what=\"messages_rejected\"} ", partials_rejected_.load(), "\n");
  }
  absl::StrAppend(&out, "# TYPE bouncestream_rebalances_total counter\nbouncestream_rebalances_total ",
                  rebalances_.load(), "\n");
  absl::StrAppend(&out, "# TYPE bouncestream_rules_reload_success gauge\nbouncestream_rules_reload_success ",
                  last_reload_ok_.load() ? 1 : 0, "\n");
  absl::StrAppend(&out,
                  "# TYPE bouncestream_rules_reload_timestamp_seconds gauge\nbouncestream_rules_reload_timestamp_seconds ",
                  last_reload_unix_s_.load(), "\n");
  absl::StrAppend(&out, "# TYPE bouncestream_records_out_total counter\n");
  static constexpr std::string_view kOutputs[kOutputKindCount] = {"alerts", "suppressions", "dlq", "classified", "late"};
  for (int k = 0; k < kOutputKindCount; ++k) {
    absl::StrAppend(&out, "bouncestream_records_out_total{output=\"", Av(kOutputs[k]), "\"} ", st.outputs[k], "\n");
  }
  absl::StrAppend(&out, "# TYPE bouncestream_rule_hits_total counter\n");
  std::vector<std::pair<std::string, uint64_t>> hits(st.rule_hits.begin(), st.rule_hits.end());
  std::sort(hits.begin(), hits.end());
  for (const auto& [rule, n] : hits) absl::StrAppend(&out, "bouncestream_rule_hits_total{rule=\"", rule, "\"} ", n, "\n");
  absl::StrAppend(&out, "# TYPE bouncestream_sink_queue_depth gauge\nbouncestream_sink_queue_depth{sink=\"kafka\"} ",
                  producer_ ? producer_->OutQueueLength() : 0, "\n");
  absl::StrAppend(&out, "# TYPE bouncestream_assigned_partitions gauge\nbouncestream_assigned_partitions ",
                  assigned_count_.load(), "\n");
  {
    std::lock_guard<std::mutex> l(stats_mu_);
    absl::StrAppend(&out, "# TYPE bouncestream_state_addresses gauge\nbouncestream_state_addresses ",
                    state_addresses_total_, "\n");
  }
  // Input partitions only; the repartition topic's lag (window partials not yet judged) has its own.
  const std::string rp_prefix = repartition_ ? absl::StrCat(config_.topics.repartition, "/") : std::string();
  std::string rp_lag;
  absl::StrAppend(&out, "# TYPE bouncestream_consumer_lag gauge\n");
  {
    std::lock_guard<std::mutex> l(lag_mu_);
    for (const auto& [partition, lag] : lag_) {
      if (!rp_prefix.empty() && StartsWith(partition, rp_prefix)) {
        absl::StrAppend(&rp_lag, "bouncestream_repartition_lag{partition=\"", partition, "\"} ", lag, "\n");
        continue;
      }
      absl::StrAppend(&out, "bouncestream_consumer_lag{partition=\"", partition, "\"} ", lag, "\n");
    }
  }
  if (repartition_) absl::StrAppend(&out, "# TYPE bouncestream_repartition_lag gauge\n", rp_lag);
  absl::StrAppend(&out, "# TYPE bouncestream_outputs_acknowledged_total counter\nbouncestream_outputs_acknowledged_total ",
                  outputs_acked_.load(), "\n");
  if (eos()) {
    absl::StrAppend(&out, "# TYPE bouncestream_transactions_total counter\nbouncestream_transactions_total ",
                    transactions_.load(), "\n");
    // Records of the open transaction already in the brokers' logs (visible to read_uncommitted only).
    absl::StrAppend(&out, "# TYPE bouncestream_transaction_open_outputs gauge\nbouncestream_transaction_open_outputs ",
                    outputs_acked_.load() - acked_at_txn_start_.load(), "\n");
  }
  return out;
}

// --------------------------------------------------------------------------------------- Runtime

Runtime::Runtime(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Runtime::~Runtime() = default;

absl::StatusOr<std::unique_ptr<Runtime>> Runtime::Create(Options options) {
  auto impl = std::make_unique<Impl>(std::move(options));
  RETURN_IF_ERROR(impl->Init());
  return std::unique_ptr<Runtime>(new Runtime(std::move(impl)));
}

absl::Status Runtime::Run() { return impl_->Run(); }
void Runtime::Stop() { impl_->Stop(); }
void Runtime::RequestReload() { impl_->RequestReload(); }
bool Runtime::Ready() const { return impl_->Ready(); }
std::string Runtime::MetricsText() const { return impl_->MetricsText(); }
PipelineStats Runtime::Stats() const { return impl_->Stats(); }

}  // namespace bs
