#include "pipeline/replay.h"

#include <sys/stat.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "pipeline/base/event_time.h"
#include "pipeline/base/status_macros.h"
#include "pipeline/source/file_source.h"
#include "pipeline/worker/chunk_processor.h"
#include "pipeline/worker/decide_stage.h"

namespace bs {
namespace {

struct WorkItem {
  Chunk chunk;
  ChunkResult result;
  int input = 0;
  std::string_view source;
  Format format = Format::kAuto;
  absl::Status status;
  bool done = false;
};

// One parse+classify thread with its own queue; only the replay's main thread and this worker touch
// the queue's lock, workers share nothing.
class Worker {
 public:
  Worker(std::shared_ptr<const RuleSet> rules, ParserOptions options) : processor_(std::move(rules), options) {}
  ~Worker() { Stop(); }

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
      item->done = false;
      queue_.push_back(item);
    }
    cv_.notify_all();
  }
  void Wait(WorkItem* item) {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [&] { return item->done; });
  }
  // Inline processing for --threads 1.
  void ProcessNow(WorkItem* item) {
    item->status = processor_.Process(item->chunk, item->input, item->source, item->format, item->result);
    item->done = true;
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
      absl::Status s = processor_.Process(item->chunk, item->input, item->source, item->format, item->result);
      {
        std::lock_guard<std::mutex> l(mu_);
        item->status = std::move(s);
        item->done = true;
      }
      cv_.notify_all();
    }
  }

  ChunkProcessor processor_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<WorkItem*> queue_;
  bool stop_ = false;
};

int64_t ReferenceTimeMs(const std::string& path, int year) {
  if (year > 0) return (DaysFromCivil(year, 12, 31) * 86400 + 86399) * 1000;
  struct stat st;
  if (stat(path.c_str(), &st) == 0) return static_cast<int64_t>(st.st_mtime) * 1000;
  return 0;
}

}  // namespace

absl::StatusOr<PipelineStats> RunReplay(const ReplayOptions& options, std::shared_ptr<const RuleSet> rules,
                                        Sink& sink, const std::function<void(const ReplayProgress&)>& progress) {
  auto started = std::chrono::steady_clock::now();  // for the summary's rate only, never for windows
  const int threads = options.threads < 1 ? 1 : options.threads;
  PipelineStats stats;
  ReplayProgress prog;

  // Open every input first: a missing file or an undetectable format fails before any output.
  std::vector<std::unique_ptr<FileSource>> sources;
  std::vector<Format> formats;
  for (const ReplayInput& in : options.inputs) {
    auto src = FileSource::Open(in.path, options.chunk_bytes);
    if (!src.ok()) return src.status();
    Format f = options.format;
    if (f == Format::kAuto) {
      f = DetectFormat((*src)->head());
      if (f == Format::kAuto) {
        return absl::InvalidArgumentError(absl::StrCat(
            in.path, ": cannot tell the log format from its first bytes; pass --format (kumomta, postfix, ...)"));
      }
    }
    prog.bytes_total += (*src)->file_size();
    sources.push_back(std::move(src).value());
    formats.push_back(f);
    InputStats is;
    is.name = in.display_name.empty() ? in.path : in.display_name;
    is.format = f;
    stats.inputs.push_back(std::move(is));
  }

  DecideStage::Options dopts;
  dopts.ruleset_version = std::string(rules->version());
  dopts.policy = options.policy;
  dopts.decider = options.decider;
  dopts.partitions = static_cast<int>(options.inputs.size());
  dopts.classified = options.classified;
  dopts.late_output = options.late;
  dopts.hash_addresses = options.hash_addresses;
  dopts.address_hash_key = options.address_hash_key;
  DecideStage decide(dopts, sink, stats);

  // Workers are per file: parsers may keep per-file state and need the file's reference time.
  const size_t ring_size = static_cast<size_t>(threads) * 2;
  std::vector<WorkItem> ring(ring_size);
  uint64_t bytes_before = 0;
  for (size_t fi = 0; fi < sources.size(); ++fi) {
    FileSource& src = *sources[fi];
    InputStats& is = stats.inputs[fi];
    std::string_view source_name = is.name;
    ParserOptions popts;
    popts.reference_time_ms = ReferenceTimeMs(options.inputs[fi].path, options.year);
    popts.json = options.json;
    std::vector<std::unique_ptr<Worker>> workers;
    for (int t = 0; t < threads; ++t) {
      workers.push_back(std::make_unique<Worker>(rules, popts));
      if (threads > 1) workers.back()->Start();
    }
    // Stateful formats (PowerMTA's CSV header, Exim's syslog [n/m] splits) keep every chunk of the file
    // on one worker.
    const bool one_worker = formats[fi] == Format::kPowerMta || formats[fi] == Format::kExim;
    uint64_t submitted = 0, consumed = 0;
    bool eof = false;
    auto consume_oldest = [&]() -> absl::Status {
      WorkItem& item = ring[consumed % ring_size];
      Worker& w = *workers[one_worker ? 0 : consumed % threads];
      if (threads > 1) w.Wait(&item);
      RETURN_IF_ERROR(item.status);
      is.records += item.result.records;
      is.bytes += item.chunk.size;
      is.event_records += item.result.event_records;
      for (size_t r = 0; r < kSkipReasonCount; ++r) is.skipped[r] += item.result.skipped[r];
      is.dead_letters += item.result.dead_letters.size();
      is.events += item.result.events.size();
      RETURN_IF_ERROR(decide.Consume(static_cast<int>(fi), item.result));
      ++consumed;
      prog.records += item.result.records;
      prog.bytes_done = bytes_before + src.bytes_consumed();
      if (progress) progress(prog);
      return absl::OkStatus();
    };
    while (!eof || consumed < submitted) {
      if (!eof && submitted - consumed < ring_size) {
        WorkItem& item = ring[submitted % ring_size];
        auto more = src.Next(item.chunk);
        if (!more.ok()) return more.status();
        if (!*more) {
          eof = true;
          continue;
        }
        item.input = static_cast<int>(fi);
        item.source = source_name;
        item.format = formats[fi];
        Worker& w = *workers[one_worker ? 0 : submitted % threads];
        if (threads > 1) {
          w.Submit(&item);
        } else {
          w.ProcessNow(&item);
        }
        ++submitted;
        continue;
      }
      RETURN_IF_ERROR(consume_oldest());
    }
    for (auto& w : workers) w->Stop();
    bytes_before += src.file_size();
    RETURN_IF_ERROR(decide.FinishPartition(static_cast<int>(fi)));
  }
  RETURN_IF_ERROR(decide.Finish());
  stats.elapsed_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return stats;
}

}  // namespace bs
