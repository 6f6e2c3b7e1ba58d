// AlertPolicy: the thresholds and window shape of the alert stage, with documented defaults (README
// "Alerts"). Plain data, filled from flags or configuration.
#ifndef BOUNCESTREAM_PIPELINE_WINDOW_ALERT_POLICY_H_
#define BOUNCESTREAM_PIPELINE_WINDOW_ALERT_POLICY_H_

#include <array>
#include <cstdint>

#include "pipeline/sink/records.h"
#include "rules/classification.h"

namespace bs {

struct KindThreshold {
  uint64_t min_attempts = 20;  // volume floor: no "100 % failure" from 1 of 1
  uint64_t min_count = 10;
  double min_rate = 0.05;      // count / attempts in the window
};

struct AlertPolicy {
  int64_t window_ms = 5 * 60 * 1000;           // tumbling, epoch-aligned [start, end)
  int64_t out_of_orderness_ms = 60 * 1000;     // watermark = max event time - this
  int64_t grace_ms = 0;                        // a window closes at watermark >= end + grace
  int resolve_after_quiet_windows = 2;         // windows below threshold before "resolved"
  double update_factor = 2.0;                  // "updated" when the count grows this much over the last report
  double baseline_alpha = 0.3;                 // EWMA weight of the newest quiet window
  double baseline_factor = 3.0;                // the rate must also exceed this × baseline
  // A key with no closed window yet has no baseline: it fires only above this rate (a key that is
  // always at 20 % learns that as its baseline instead of paging at start). Kinds whose threshold is a
  // single occurrence (blocklist, sender_config) are exempt.
  double cold_start_rate = 0.5;
  std::array<KindThreshold, kAlertKindCount> thresholds = DefaultThresholds();

  static std::array<KindThreshold, kAlertKindCount> DefaultThresholds();
};

// The alert kind a category feeds, or false when it feeds none.
bool AlertKindForCategory(Category c, AlertKind& kind);
// The recommended action for an alert kind (DECISIONS.md §2–3).
Action ActionForAlertKind(AlertKind k);

}  // namespace bs

#endif  // BOUNCESTREAM_PIPELINE_WINDOW_ALERT_POLICY_H_
