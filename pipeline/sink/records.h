// The output records of the decide and window stages, as values. Encoders (encoders.h) turn them into
// the `schema: 1` JSON contract; sinks move the bytes. Strings are owned, so a record outlives the
// chunk that produced it.
#ifndef BOUNCESTREAM_PIPELINE_SINK_RECORDS_H_
#define BOUNCESTREAM_PIPELINE_SINK_RECORDS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "parsers/delivery_event.h"
#include "rules/classification.h"

namespace bs {

struct Evidence {
  std::string position;  // "file:line" or "topic/partition@offset"
  int64_t event_time_ms = 0;
};

struct SuppressionRecord {
  bool hygiene = false;  // false: "suppression"; true: "hygiene" (reengage, verify, unsuppress)
  std::string key;       // the address, or "@domain"
  Scope scope = Scope::kAddress;
  Action action = Action::kSuppressAddress;
  std::string hygiene_action;  // for hygiene events whose action is not in the Action enum ("unsuppress")
  Category category = Category::kUnknown;
  Provider provider = Provider::kOther;
  std::string rule;      // the classification rule of the deciding record
  std::string decision;  // which decision (pipeline/state/suppression_decider.h: "permanent_failure", …)
  std::string ruleset_version;
  uint16_t code = 0;
  EnhancedCode enhanced;
  std::string text;
  std::string campaign;
  std::string tenant;
  std::vector<Evidence> evidence;
  int64_t first_seen_ms = 0;
  int64_t decided_at_ms = 0;
  // 0 for a key's first decision of this kind; counts later ones (suppressed again after an unsuppress,
  // re-engaged again after a new streak) so each has its own id. Part of the id only when > 0.
  uint32_t epoch = 0;
};

enum class AlertKind : uint8_t {
  kRateLimit, kDmarcFailure, kSpfFailure, kDkimFailure, kAuthFailure, kBlocklist, kReputation,
  kSpamContent, kSenderConfig, kTlsFailure, kDomainDeferrals,
  kSilence,  // a provider or MTA host that normally logs events went quiet (pipeline/window/silence_detector.h)
};
inline constexpr int kAlertKindCount = 12;
std::string_view AlertKindName(AlertKind k);

enum class AlertState : uint8_t { kFiring, kUpdated, kResolved };
std::string_view AlertStateName(AlertState s);

struct AlertKey {
  Provider provider = Provider::kOther;
  std::string sending_ip;     // or the egress source / MTA host when the log has no IP
  std::string sender_domain;
  std::string mta;
  std::string domain;         // recipient domain, for domain_deferrals
};

struct AlertRecord {
  std::string id;
  AlertKind kind = AlertKind::kRateLimit;
  AlertState state = AlertState::kFiring;
  AlertKey key;
  int64_t window_start_ms = 0;
  int64_t window_end_ms = 0;
  uint64_t count = 0;
  uint64_t attempts = 0;
  double rate = 0;
  double baseline = 0;
  std::string severity;  // "warning", "major", "critical"
  Action action = Action::kInvestigate;
  std::vector<std::string> samples;  // up to 3 replies
  std::vector<std::string> rules;
  std::vector<std::string> blocklists;
  // Since when the incident is open (the start of the window it fired in).
  int64_t since_ms = 0;
  // `count` split by reply class: deferrals (4xx) and refusals (5xx, or a bounce without a code).
  uint64_t soft = 0;
  uint64_t hard = 0;
  // Escalation early warnings raised so far in this incident: "rising", "4xx_to_5xx", "ageing".
  std::vector<std::string> escalation;
};

}  // namespace bs

#endif  // BOUNCESTREAM_PIPELINE_SINK_RECORDS_H_
