// AlertAggregator: event-time hopping windows per key, alert thresholds against a per-key baseline, and
// the incident lifecycle (firing → updated → resolved, one stable id per incident).
//
// Keys follow the scope of the problem, so one incident is one alert (KeyFamily): refusals of our IP
// (rate limits, blocklists, reputation, TLS, our configuration) are keyed provider × sending IP (or egress
// source, or MTA host when the log has no IP); authentication and content refusals (DMARC, SPF, DKIM,
// spam content) provider × sender domain; domain-wide deferrals provider × recipient domain. Every attempt
// counts toward the attempts of its key in each family.
//
// Windows: epoch-aligned [start, start + window_ms), one starting every advance_ms. Events are counted
// once, into the pane [p, p + advance_ms) that holds them; a window is the sum of its window/advance
// panes when it closes. The lifecycle is per key and kind, not per window: overlapping windows of one
// incident give one alert with updates.
//
// Time: only event time, passed in with each event. Each input partition (file, Kafka partition) has a
// watermark = its max event time − out_of_orderness_ms. The task watermark (monotonic) is the minimum over
// partitions that are not finished, not parked (Kafka runtime) and not idle; a partition that has not sent
// an event yet holds it back (replay knows every input exists). A started partition is idle while its max
// event time lags the max over the partitions that take part by more than idle_timeout_ms; it counts
// again once it catches up. A window closes when the watermark reaches end + grace_ms. An event whose
// every window has closed is late: counted (per partition), optionally copied to a side output, never
// silently dropped; an event some of whose windows are still open counts in those. Keys without attempts
// for key_ttl_ms start over and are dropped from memory.
//
// Deterministic for a given sequence of Add/Drain calls, and independent of how events of one window are
// interleaved across partitions: windows close in time order, keys in a fixed order (an unseeded 64-bit
// hash of the key, then the key text), kinds in enum order, samples are the earliest (by event time, then
// text) and rule ids the smallest.
//
// Speed: no allocation per event once warm. Keys are interned once by a 64-bit hash with an exact check;
// each pane maps key ids to counters in a flat table; panes are recycled. Runs in the decide stage; not
// thread-safe.
#ifndef BOUNCESTREAM_PIPELINE_WINDOW_ALERT_AGGREGATOR_H_
#define BOUNCESTREAM_PIPELINE_WINDOW_ALERT_AGGREGATOR_H_

#include <array>
#include <functional>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "pipeline/base/arena.h"
#include "pipeline/sink/records.h"
#include "pipeline/window/alert_policy.h"
#include "pipeline/window/flat_index.h"
#include "pipeline/worker/classified_event.h"

namespace bs {

enum class KeyFamily : uint8_t { kEgress, kSenderDomain, kRecipientDomain };
// The key family an alert kind is counted in.
KeyFamily FamilyOf(AlertKind kind);

// The start of the earliest window of `size_ms` (one every `advance_ms`, epoch-aligned) that contains t;
// the windows containing t start there and every advance_ms up to floor(t / advance) × advance.
int64_t FirstWindowStart(int64_t t, int64_t size_ms, int64_t advance_ms);

// One event that arrived after all its windows had closed (the optional side output).
struct LateEvent {
  int partition = 0;
  int64_t event_time_ms = 0;
  int64_t watermark_ms = 0;  // the task watermark when it arrived
  std::string position;      // "file:line" or "topic/partition@offset"
};

class AlertAggregator {
 public:
  // An invalid window shape (see ValidateAlertPolicy) falls back to tumbling windows of window_ms.
  AlertAggregator(AlertPolicy policy, int partitions);
  ~AlertAggregator();
  AlertAggregator(const AlertAggregator&) = delete;
  AlertAggregator& operator=(const AlertAggregator&) = delete;

  // Counts one event of `partition` (0-based) into its pane. Events that are not a remote answer to an
  // attempt of ours (envelopes, complaints, rejections before queueing) are ignored.
  void Add(int partition, const ClassifiedEvent& ce);
  // The partition will send no more events: it stops holding the watermark back.
  void FinishPartition(int partition);
  // The partition is an input again (Kafka: assigned after a rebalance): not finished, not started, so it
  // holds the watermark back until its first event. Indices beyond the constructor's count are added.
  void StartPartition(int partition);
  // Kafka runtime: a parked partition (unassigned, or caught up and quiet) does not hold the watermark
  // back, yet is not finished: when every unfinished partition is parked the watermark stays where it is
  // (it only jumps to the end when every partition is finished). Unparking keeps its max event time.
  void ParkPartition(int partition, bool parked);
  // Advances the watermark and appends the alerts of every window it has closed.
  void Drain(std::vector<AlertRecord>& out);
  // End of input: closes every remaining window.
  void Flush(std::vector<AlertRecord>& out);

  // ---- Window partials (WindowExchange: counting and judging in different processes) ----
  // One key's counts in one pane of one input partition, cumulative: a newer partial of the same
  // partition, pane and key replaces the older one. Views point into the exporting aggregator (or into
  // a decoded message) and live until the next call on it.
  struct PartialKind {
    uint32_t count = 0, hard = 0;
    uint16_t max_attempt = 0;
    uint8_t n_samples = 0, n_rules = 0, n_blocklists = 0;
    std::array<int64_t, 3> sample_time{};
    std::array<std::string_view, 3> samples;
    std::array<std::string_view, 5> rules, blocklists;
  };
  struct PartialCell {
    KeyFamily family = KeyFamily::kEgress;
    Provider provider = Provider::kOther;
    std::string_view a, b;
    uint32_t attempts = 0, failures = 0;
    uint8_t n_kinds = 0;  // the family's kind count
    std::array<PartialKind, 5> kinds{};
  };
  // Counting side (an aggregator that never judges: see set_judging): visits every cell of each pane
  // changed since its last export whose end + grace_ms is at or before `through` (every changed pane
  // with INT64_MAX), in pane order, and marks those panes clean. Panes stay (events still count in
  // them) until no window can use them; events after that are late.
  void ExportPanes(int64_t through, const std::function<void(int64_t pane_start, const PartialCell&)>& visit);
  // Off: Drain/Flush close windows without judging them (no alerts, no incident state).
  void set_judging(bool on) { judging_ = on; }
  // Judging side: replaces `source`'s earlier partial of this pane and key with `cell`. A partial for a
  // pane no open window holds is late (its attempts are counted as late events).
  void ApplyPartial(int source, int64_t pane_start, const PartialCell& cell);
  // Judging side: some input had events in the pane starting at `start` (a window holding it is judged,
  // as in one process, for every key with an open incident even if this judge got no partial for it).
  void NotePane(int64_t start);
  // Judging side: `source`'s newest event time and whether it is parked (a marker of its progress).
  // Starts the partition; the max time only grows.
  void SetProgress(int source, int64_t max_time, bool parked);
  int64_t max_time(int partition) const {
    return partition >= 0 && static_cast<size_t>(partition) < max_time_.size() ? max_time_[partition] : INT64_MIN;
  }

  // ---- Judging state for the changelog (Kafka runtime with a repartition topic) ----
  // With set_track_state(true), TakeStateChanges hands out every change of lifecycle state since its last
  // call: keys dropped from memory (tombstones), keys whose baselines, incidents or 4xx runs changed
  // (changelog key: the key's sort text), then "#closed" with where the windows stand. Binary values.
  using StateFn = std::function<void(std::string_view key, std::string_view value, bool tombstone)>;
  void set_track_state(bool on) { track_state_ = on; }
  void TakeStateChanges(const StateFn& emit);
  // Applies one entry of TakeStateChanges (a restore, before any partial); false if it cannot be read.
  // Partials of windows the restored state had closed are skipped without counting as late.
  bool RestoreState(std::string_view key, std::string_view value);

  // Late events are also appended here when set (the caller owns the vector and empties it).
  void set_late_output(std::vector<LateEvent>* late) { late_out_ = late; }

  // The task watermark now (at least the one the last Drain used).
  int64_t watermark() const;
  bool idle(int partition) const;
  uint64_t late_events() const { return late_total_; }
  uint64_t late_events(int partition) const;
  uint64_t open_incidents() const { return open_count_; }
  // Keys held in memory (all families); see AlertPolicy::key_ttl_ms.
  size_t key_count() const { return keys_.size(); }
  const AlertPolicy& policy() const { return policy_; }

 private:
  static constexpr int kMaxFamilyKinds = 5;
  struct KindCell {
    uint32_t count = 0;
    uint32_t hard = 0;  // 5xx (or a bounce without a code)
    uint16_t max_attempt = 0;
    int32_t detail = -1;
  };
  struct Cell {
    uint32_t key = 0;
    uint32_t attempts = 0;
    uint32_t failures = 0;  // over all kinds: most cells have none, and closing a window skips their kinds
    std::array<KindCell, kMaxFamilyKinds> kinds{};
  };
  struct Sample {
    int64_t time_ms = 0;
    uint64_t hash = 0;
    std::string text;
  };
  // Evidence for one key and kind in one pane; strings keep their capacity when the pane is recycled.
  struct Detail {
    std::array<Sample, 3> samples;  // the earliest distinct replies, sorted
    std::array<std::string, 5> rules;  // the smallest distinct rule ids, sorted
    std::array<std::string, 5> blocklists;
    uint8_t n_samples = 0, n_rules = 0, n_blocklists = 0;
  };
  // Judging side: what one source partition's partial added to a cell (replaced by its next partial).
  struct Contribution {
    uint32_t attempts = 0, failures = 0;
    std::array<uint32_t, kMaxFamilyKinds> count{}, hard{};
  };
  struct Pane {
    int64_t start = 0;
    bool dirty = false;  // counting side: changed since the last ExportPanes
    std::map<uint64_t, Contribution> contributions;  // judging side: (source << 32 | key id) → last partial
    FlatIndex cell_index;  // key id → index in cells
    std::vector<Cell> cells;
    std::vector<Detail> details;
    size_t n_details = 0;
  };
  // What the per-event path reads of a key, kept small and apart from the rest for the cache.
  struct KeyRef {
    std::string_view a, b;  // egress + MTA host; sender domain; recipient domain (bytes in key_bytes_)
    KeyFamily family = KeyFamily::kEgress;
    Provider provider = Provider::kOther;
    uint32_t cache_cell = 0;
    int64_t cache_pane = INT64_MIN;  // the last pane this key was counted in, and its cell there
  };
  struct KeyInfo {
    uint64_t hash = 0;
    std::string sort_key;  // "ip|gmail|203.0.113.7|", "sd|…", "rd|…": tie-break of the order, incident ids
    uint32_t kind_state = 0;
    int64_t last_data_end = INT64_MIN;  // end of the last window with attempts
    int64_t run_since = INT64_MIN;      // start of the window opening the current 4xx run
    bool run_escalated = false;
    int open = 0;  // open incidents of this key
    bool dirty = false;  // lifecycle state changed since TakeStateChanges
  };
  struct KindState {
    double baseline = 0;
    bool baseline_seen = false;
    bool open = false;
    bool quiet_with_data = false;
    uint8_t escalation = 0;  // bits of Escalation
    uint8_t last_severity = 0;
    int64_t since = 0;           // window start when it fired
    int64_t last_above_end = 0;  // end of the last window above threshold
    int64_t last_report_end = 0;
    uint64_t last_reported = 0;
    double fired_rate = 0;
    std::string id;
  };
  struct KindSum {
    uint64_t count = 0, hard = 0;
    uint16_t max_attempt = 0;
  };
  struct Sum {
    uint32_t key = 0;
    uint64_t attempts = 0;
    uint64_t failures = 0;
    std::array<KindSum, kMaxFamilyKinds> kinds{};
  };

  // The id of the key (family, provider, a, b) whose hash is h; a new key gets the next id.
  inline uint32_t Intern(uint64_t h, KeyFamily family, Provider provider, std::string_view a, std::string_view b);
  uint32_t NewKey(uint64_t h, KeyFamily family, Provider provider, std::string_view a, std::string_view b);
  Pane& PaneAt(int64_t start);
  Cell& CellFor(Pane& pane, uint32_t key);
  void Count(Pane& pane, uint32_t key, int slot, const ClassifiedEvent& ce, bool hard);
  void AddEvidence(Pane& pane, KindCell& kc, const ClassifiedEvent& ce);
  Detail& DetailOf(Pane& pane, KindCell& kc);
  void InsertSample(Detail& d, int64_t t, std::string_view text);
  // Started, not finished, not parked: the partition takes part in the watermark.
  bool Holds(size_t partition) const;
  int64_t Newest() const;
  int64_t ComputeWatermark() const;
  void CloseThrough(int64_t wm, std::vector<AlertRecord>& out);
  void CloseWindow(int64_t start, std::vector<AlertRecord>& out);
  void EvaluateKey(int64_t start, const Sum& sum, std::vector<AlertRecord>& out);
  void EvaluateKind(int64_t start, uint32_t key_id, int slot, const Sum& sum, bool escalate_5xx,
                    std::vector<AlertRecord>& out);
  void Learn(KindState& st, double rate) const;
  void Emit(AlertState state, int64_t start, uint32_t key_id, int slot, const KindState& st, const Sum& sum,
            int severity, std::vector<AlertRecord>& out);
  void ReleasePane(std::map<int64_t, std::unique_ptr<Pane>>::iterator it);
  // Drops keys idle for key_ttl_ms (no attempts, no open incident, nothing in an open pane) and renumbers
  // the rest. Invisible in the output: such a key would start over anyway when it came back.
  void CompactKeys(int64_t now);

  AlertPolicy policy_;
  bool judging_ = true;
  bool track_state_ = false;
  std::vector<uint32_t> dirty_keys_;
  std::vector<std::string> dropped_keys_;
  int64_t restored_before_ = INT64_MIN;  // panes before it were judged by the restored state's owner
  int64_t saved_close_ = INT64_MIN, saved_watermark_ = INT64_MIN;
  int64_t size_ms_;
  int64_t advance_ms_;
  double alpha_;  // baseline weight of one evaluation (one advance)
  // Per category: the kind it feeds (its family and slot), or family kRecipientDomain and slot -1.
  struct CategoryFeed {
    KeyFamily family = KeyFamily::kRecipientDomain;
    int8_t slot = -1;
  };
  std::array<CategoryFeed, kCategoryCount> feeds_{};
  // Thresholds resolved per provider and kind, so the hot path does not look up the override map.
  std::array<std::array<KindThreshold, kAlertKindCount>, kProviderCount> thresholds_;

  // Partitions.
  std::vector<int64_t> max_time_;
  std::vector<bool> started_, finished_;
  std::vector<bool> parked_;  // Kafka runtime (ParkPartition); empty in replay
  std::vector<uint64_t> late_;
  uint64_t late_total_ = 0;
  std::vector<LateEvent>* late_out_ = nullptr;
  int64_t watermark_ = INT64_MIN;

  // Keys and their lifecycle state.
  std::vector<KeyRef> refs_;
  std::vector<KeyInfo> keys_;
  Arena key_bytes_;
  FlatIndex key_index_;
  std::vector<KindState> kind_states_;
  std::set<uint32_t> open_keys_;
  uint64_t open_count_ = 0;

  // Panes by start; the window starting at next_close_start_ is the next to close.
  std::map<int64_t, std::unique_ptr<Pane>> panes_;
  std::vector<std::unique_ptr<Pane>> pane_pool_;
  Pane* current_pane_ = nullptr;
  int64_t next_close_start_ = INT64_MIN;
  int64_t next_compaction_ = INT64_MIN;  // event time of the next CompactKeys

  // Scratch reused across events and windows.
  std::string sample_;
  std::vector<Sum> sums_;
  std::vector<int32_t> sum_of_key_;
  std::vector<std::pair<uint64_t, uint32_t>> order_;
  std::vector<Pane*> window_panes_;
};

}  // namespace bs

#endif  // BOUNCESTREAM_PIPELINE_WINDOW_ALERT_AGGREGATOR_H_
