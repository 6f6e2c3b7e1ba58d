// SilenceDetector: an alert of kind `silence` when a provider, or one of our MTA hosts, that normally
// logs events goes quiet while the rest of the stream goes on (issue 9, "Observability").
//
// Keys come in two families: the provider of each event (gmail, yahoo, …: a provider whose events stop
// usually means a broken route or a stuck queue) and the MTA host that logged it (a host that stops
// logging is down, or its shipper is). Events are counted per key in tumbling, epoch-aligned windows of
// SilencePolicy::window_ms, by event time. A window is judged when the task watermark (the alert
// aggregator's, passed to Advance) passes its end; nothing here reads a clock, so a replay gives the same
// alerts for any --threads and any interleaving of partitions within a window.
//
// Judging one window for one key, whose baseline is an EWMA of its events per window:
//  - the rest of its family (every other key of the family) must have logged at least rest_min_percent %
//    of their own baselines in the window, else the window says nothing about this key (the whole stream
//    is quiet: the end of the input, a night, a stalled pipeline) and is skipped;
//  - the key is quiet when its count is at most quiet_percent % of its baseline (0: none at all);
//  - it fires after quiet_windows judged quiet windows in a row, if its baseline is at least
//    min_events_per_window (the volume floor) and it has been seen in warmup_windows windows;
//  - an open incident resolves in the first judged window that is not quiet (events are back).
// Baselines learn from judged windows that are not quiet and not in an incident. A key without events for
// key_ttl_ms starts over (an open incident is resolved first: nothing left to watch).
//
// The end of input (Finish, or a watermark of INT64_MAX) judges nothing: the last windows are partial.
// Not thread-safe; runs in the decide stage next to the AlertAggregator. No allocation per event once the
// keys are known.
#ifndef BOUNCESTREAM_PIPELINE_WINDOW_SILENCE_DETECTOR_H_
#define BOUNCESTREAM_PIPELINE_WINDOW_SILENCE_DETECTOR_H_

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "pipeline/sink/records.h"
#include "pipeline/window/alert_policy.h"
#include "pipeline/worker/classified_event.h"

namespace bs {

class SilenceDetector {
 public:
  // key_ttl_ms: AlertPolicy::key_ttl_ms (0: keys live forever).
  SilenceDetector(SilencePolicy policy, int64_t key_ttl_ms);

  // Counts one event (not an envelope line) into its window, by event time. An event for a window that
  // was already judged is only counted in late_events().
  void Add(const ClassifiedEvent& ce);
  // Judges every window that ends at or before `watermark` and appends the alerts. INT64_MIN (no
  // watermark yet) and INT64_MAX (every input finished) judge nothing.
  void Advance(int64_t watermark, std::vector<AlertRecord>& out);
  // End of input: drops the windows not judged yet.
  void Finish();

  uint64_t open_incidents() const { return open_count_; }
  uint64_t late_events() const { return late_; }
  size_t key_count() const { return keys_.size(); }

 private:
  enum Family : uint8_t { kProviderFamily = 0, kHostFamily = 1 };
  struct Key {
    Family family = kProviderFamily;
    Provider provider = Provider::kOther;
    std::string host;
    std::string sort_key;  // "provider|gmail", "mta|mta1": emission order and incident ids
    double baseline = 0;
    int learned = 0;       // windows the baseline learned from
    int active = 0;        // ... of which with events (warmup_windows counts these)
    int quiet_run = 0;     // judged quiet windows in a row
    int64_t quiet_since = 0;
    int64_t last_seen_end = INT64_MIN;  // end of the last window with events
    bool open = false;
    std::string id;
  };

  uint32_t ProviderKey(Provider p);
  uint32_t HostKey(std::string_view host);
  uint32_t NewKey(Family family, Provider provider, std::string_view host);
  std::vector<uint32_t>& BucketAt(int64_t start);
  void Judge(int64_t start, const std::vector<uint32_t>& counts, std::vector<AlertRecord>& out);
  void Emit(AlertState state, int64_t start, const Key& k, uint64_t count, uint64_t rest,
            std::vector<AlertRecord>& out) const;
  void Forget(int64_t now, std::vector<AlertRecord>& out);
  void Learn(Key& k, uint64_t count) const;

  SilencePolicy policy_;
  int64_t window_ms_;
  int64_t key_ttl_ms_;

  std::vector<Key> keys_;
  std::array<int32_t, kProviderCount> provider_key_;
  absl::flat_hash_map<std::string, uint32_t> host_key_;
  std::string last_host_;  // the host of the previous event and its key: most events repeat it
  uint32_t last_host_key_ = 0;
  bool has_last_host_ = false;

  // Windows not judged yet, by start: events per key id.
  std::map<int64_t, std::vector<uint32_t>> buckets_;
  int64_t cur_start_ = INT64_MIN;
  std::vector<uint32_t>* cur_ = nullptr;
  int64_t next_judge_ = INT64_MIN;  // windows starting before this have been judged
  int64_t next_forget_ = INT64_MIN;
  uint64_t open_count_ = 0;
  uint64_t late_ = 0;

  std::vector<uint32_t> order_;  // key ids by (family, sort_key)
  bool order_dirty_ = false;
};

}  // namespace bs

#endif  // BOUNCESTREAM_PIPELINE_WINDOW_SILENCE_DETECTOR_H_
