// AlertAggregator: event-time windows per key, alert thresholds against a per-key baseline, and the
// incident lifecycle (firing → updated → resolved, one stable id per incident).
//
// Keys follow the scope of the problem, so one incident is one alert: refusals of our IP (rate limits,
// blocklists, reputation, TLS, our configuration) are keyed provider × sending IP (or egress source, or
// MTA host when the log has no IP); authentication and content refusals (DMARC, SPF, DKIM, spam content)
// provider × sender domain. Every attempt counts toward the attempts of both keys.
//
// Time: only event time. Each input partition (file, Kafka partition) has a watermark = its max event
// time − out-of-orderness; the aggregator's watermark is the minimum over partitions not yet finished
// (a partition not yet started holds it back). A window [start, end) closes when the watermark reaches
// end + grace; events for closed windows are counted as late, never silently dropped.
//
// Deterministic: windows close in time order, keys in sorted order, kinds in enum order. Runs in the
// decide stage; not thread-safe.
#ifndef BOUNCESTREAM_PIPELINE_WINDOW_ALERT_AGGREGATOR_H_
#define BOUNCESTREAM_PIPELINE_WINDOW_ALERT_AGGREGATOR_H_

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "pipeline/sink/records.h"
#include "pipeline/window/alert_policy.h"
#include "pipeline/worker/classified_event.h"

namespace bs {

enum class KeyFamily : uint8_t { kEgress, kSenderDomain };
// The key family an alert kind is counted in.
KeyFamily FamilyOf(AlertKind kind);

class AlertAggregator {
 public:
  AlertAggregator(AlertPolicy policy, int partitions);

  // Counts one event of `partition` (0-based) into its window.
  void Add(int partition, const ClassifiedEvent& ce);
  // The partition will send no more events.
  void FinishPartition(int partition);
  // Appends the alerts of every window the watermark has closed.
  void Drain(std::vector<AlertRecord>& out);
  // End of input: closes every remaining window.
  void Flush(std::vector<AlertRecord>& out);

  int64_t watermark() const;
  uint64_t late_events() const { return late_events_; }
  uint64_t open_incidents() const;

 private:
  struct KindCounts {
    uint64_t count = 0;
    std::vector<std::string> samples;
    std::vector<std::string> rules;
    std::vector<std::string> blocklists;
  };
  struct WindowCounts {
    KeyFamily family = KeyFamily::kEgress;
    AlertKey key;
    uint64_t attempts = 0;
    std::array<KindCounts, kAlertKindCount> kinds;
  };
  struct Incident {
    bool open = false;
    std::string id;
    uint64_t last_reported = 0;
    std::string last_severity;
    int quiet = 0;
    double baseline = 0;
    bool baseline_seen = false;
  };
  // key string → counts, per window start.
  using Window = std::map<std::string, WindowCounts>;

  void CloseWindow(int64_t start, Window& window, std::vector<AlertRecord>& out);
  void Evaluate(int64_t start, const std::string& group, const WindowCounts* counts, AlertKind kind,
                std::vector<AlertRecord>& out);

  AlertPolicy policy_;
  std::vector<int64_t> max_time_;
  std::vector<bool> finished_;
  std::map<int64_t, Window> windows_;
  // (kind, group) → incident; group keys kept with a copy of their AlertKey.
  std::map<std::string, std::array<Incident, kAlertKindCount>> incidents_;
  std::map<std::string, AlertKey> group_keys_;
  uint64_t late_events_ = 0;
  int64_t closed_through_ = INT64_MIN;  // every window ending at or before this is closed
  std::string group_;
  std::string sample_;
};

}  // namespace bs

#endif  // BOUNCESTREAM_PIPELINE_WINDOW_ALERT_AGGREGATOR_H_
