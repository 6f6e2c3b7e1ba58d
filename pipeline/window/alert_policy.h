// AlertPolicy: the window shape, watermark, lifecycle, escalation and threshold settings of the alert
// stage, with documented defaults (README "Alerts"). Plain data, filled from flags or (later) a TOML
// section; ValidateAlertPolicy() is what a loader calls before handing one to AlertAggregator.
#ifndef BOUNCESTREAM_PIPELINE_WINDOW_ALERT_POLICY_H_
#define BOUNCESTREAM_PIPELINE_WINDOW_ALERT_POLICY_H_

#include <array>
#include <cstdint>
#include <map>
#include <utility>

#include "absl/status/status.h"
#include "pipeline/sink/records.h"
#include "rules/classification.h"

namespace bs {

// When a window's failures of one kind for one key are an alert. All four must hold to open an incident.
struct KindThreshold {
  uint64_t min_attempts = 20;    // volume floor: no "100 % failure" from 1 of 1
  uint64_t min_count = 10;       // failures of this kind in the window
  double min_rate = 0.05;        // count / attempts in the window
  double baseline_factor = 3.0;  // the rate must also reach this × the key's baseline rate
};

// The silence detector (pipeline/window/silence_detector.h): when a provider or an MTA host that
// normally logs events goes quiet while the rest of the stream goes on. Event time only.
struct SilencePolicy {
  bool enabled = true;
  // Tumbling, epoch-aligned windows of this length; each is judged once the task watermark passes its end.
  int64_t window_ms = 15 * 60 * 1000;
  // Volume floor: only a key whose baseline (EWMA of its events per window) is at least this can fire,
  // so a trickle that is often zero never pages.
  uint64_t min_events_per_window = 100;
  // A key counts as quiet in a window when its events are at most quiet_percent % of its baseline
  // (0: only when it has none at all) ...
  int quiet_percent = 0;
  // ... and fires after this many quiet windows in a row (judged windows only, see rest_min_percent).
  int quiet_windows = 2;
  // A window is judged for a key only while the rest of its family (the other providers, or the other
  // MTA hosts) logged at least this % of their own baseline: when everything is quiet (the end of the
  // input, a night without sending, a stalled pipeline) no single key is singled out.
  int rest_min_percent = 50;
  // Windows a key must have been seen in (its baseline learned) before it can fire.
  int warmup_windows = 4;
  // Weight of the newest window in the baseline.
  double baseline_alpha = 0.3;
};

struct AlertPolicy {
  // Windows: epoch-aligned [start, end) of `window_ms`, one starting every `advance_ms` (hopping; equal
  // values give tumbling windows). window_ms must be a multiple of advance_ms.
  int64_t window_ms = 5 * 60 * 1000;
  int64_t advance_ms = 60 * 1000;
  // Watermarks: a partition's watermark is its max event time − out_of_orderness_ms. A window closes once
  // the task watermark reaches end + grace_ms.
  int64_t out_of_orderness_ms = 60 * 1000;
  int64_t grace_ms = 0;
  // A started partition whose max event time lags the max over all partitions by more than this stops
  // holding the task watermark back (event time only, no wall clock). 0 disables idleness.
  int64_t idle_timeout_ms = 15 * 60 * 1000;

  // Lifecycle. An open incident is resolved once no window ending in the last resolve_after_ms passed
  // its (hysteresis) threshold and the key had attempts in at least one of them; a key with no attempts
  // at all for stale_after_ms is resolved too (we stopped sending: nothing left to watch).
  int64_t resolve_after_ms = 10 * 60 * 1000;
  int64_t stale_after_ms = 60 * 60 * 1000;
  // "updated" when the count reaches update_factor × the last reported count or the severity rises, at
  // most once per update_cooldown_ms (so a hopping window filling up after an early firing gives one
  // update, not one a minute); a new escalation is reported at once.
  double update_factor = 2.0;
  int64_t update_cooldown_ms = 5 * 60 * 1000;

  // A key without attempts for this long starts over when it comes back (a day-old baseline says little
  // about today), and its state is dropped from memory meanwhile, so a stream that meets ever new
  // recipient domains stays bounded. Checked every quarter of it, on event time. 0: keys live forever.
  int64_t key_ttl_ms = 24LL * 60 * 60 * 1000;

  // Baseline: EWMA of the rate in windows without an incident; alpha is the weight of one window_ms of
  // new data (scaled for hopping windows). Frozen while an incident is open.
  double baseline_alpha = 0.3;
  // A key with no window yet has no baseline: it opens only at this rate (a key that is always at 20 %
  // learns that instead of paging at start). Kinds whose min_count is 1 (blocklist, sender_config) are
  // exempt.
  double cold_start_rate = 0.5;

  // Escalation early warnings (a severity bump and an "escalation" reason on the alert):
  // "rising": the rate of an open deferral (4xx) incident grew by this much (absolute) over the highest
  // rate of its first window_ms (while the window that fired early fills up).
  double rising_delta = 0.2;
  // "4xx_to_5xx": the first 5xx refusal of a key after a run of substantial 4xx refusals (each window at
  // least the kind's min_count) covering at least this much time.
  int64_t escalation_run_ms = 10 * 60 * 1000;
  // "ageing": an open deferral incident older than this, or deferrals on their ageing_attempts-th
  // attempt: messages deferred at its start are moving toward their queue lifetime (Postfix 5 days,
  // KumoMTA per-queue max_age) and Yahoo's advice is to escalate persistent deferrals.
  int64_t ageing_after_ms = 4 * 60 * 60 * 1000;
  uint16_t ageing_attempts = 8;

  SilencePolicy silence;

  std::array<KindThreshold, kAlertKindCount> thresholds = DefaultThresholds();
  // Per-provider overrides of `thresholds`, e.g. {kOther, kDomainDeferrals}.
  std::map<std::pair<Provider, AlertKind>, KindThreshold> provider_thresholds = DefaultProviderThresholds();

  // The threshold for `kind` at `provider`: the override when there is one, the kind's otherwise.
  const KindThreshold& Threshold(Provider provider, AlertKind kind) const;

  static std::array<KindThreshold, kAlertKindCount> DefaultThresholds();
  static std::map<std::pair<Provider, AlertKind>, KindThreshold> DefaultProviderThresholds();
};

// Rejects shapes the aggregator cannot run (non-positive sizes, a window that is not a multiple of the
// advance, rates outside [0, 1], negative times). AlertAggregator falls back to tumbling windows for an
// invalid advance, so this is for loaders that want to fail loudly.
absl::Status ValidateAlertPolicy(const AlertPolicy& policy);

// The alert kind a refusal category feeds, or false when it feeds none (recipient failures, deliveries).
bool AlertKindForCategory(Category c, AlertKind& kind);
// The recommended action for an alert kind (DECISIONS.md §2–3).
Action ActionForAlertKind(AlertKind k);

}  // namespace bs

#endif  // BOUNCESTREAM_PIPELINE_WINDOW_ALERT_POLICY_H_
