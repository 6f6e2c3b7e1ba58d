// Configuration of the stateful decisions (DECISIONS.md §4): thresholds per tenant, how a send's campaign
// is identified when the log has no campaign id, and the state's TTLs. Every field has a documented
// default; Validate() rejects values the state cannot represent.
#ifndef BOUNCESTREAM_PIPELINE_STATE_DECIDER_OPTIONS_H_
#define BOUNCESTREAM_PIPELINE_STATE_DECIDER_OPTIONS_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "parsers/delivery_event.h"

namespace bs {

// A streak holds at most this many distinct campaigns (the per-address campaign sketch), so campaign
// thresholds are at most 4.
inline constexpr int kMaxStreakCampaigns = 4;

inline constexpr int64_t kDayMs = 24LL * 3600 * 1000;

// The thresholds of the decisions that need history. A "streak" is an address's recipient-side failures
// since its last acceptance (or since its state expired).
struct DecisionPolicy {
  // Recipient-side deferrals (4xx: greylisting, mailbox full, mailbox unavailable…) in this many distinct
  // campaigns of one streak → a `reengage` hygiene event. 1..4.
  int reengage_campaigns = 3;
  // An address never accepted (no 2xx since its state began) after this many failed recipient-side
  // attempts → a `verify` hygiene event. 1..255.
  int verify_attempts = 5;
  // …and only when those attempts span at least this many distinct campaigns. 1..4.
  int verify_min_campaigns = 2;
  // A second permanent mailbox-full bounce (552, 5.2.2) in one streak → suppression. The first one's
  // action is retry_once and needs no output.
  bool suppress_repeated_storage_exceeded = true;
  // Mailbox full (422/452/4.2.2) in this many distinct campaigns of one streak (no delivery in between)…
  // 1..4; 0 disables the rule.
  int mailbox_full_campaigns = 4;
  // …spanning at least this long from the first of them → suppression (an abandoned mailbox stays full;
  // a full one that is emptied gets a delivery, which ends the streak).
  int64_t mailbox_full_min_span_ms = 7 * kDayMs;
  // A delivery after a suppression → an `unsuppress` hygiene event (suppression lists go stale).
  bool unsuppress_on_delivery = true;

  absl::Status Validate() const;
};

// How a send's campaign is identified when the record has no campaign id (Postfix, Exim).
enum class CampaignFallback : uint8_t {
  kNone,            // no campaign: every such send counts as one campaign ("")
  kSenderTag,       // the tag of the envelope sender: "bounces+TAG@…" (up to '@' or '=')
  kDay,             // the UTC calendar day of the event: "2026-11-02"
  kSenderTagOrDay,  // the sender tag when there is one, else the day
};

// Time-to-live of the keyed state, in event time (no wall clock anywhere).
struct StateTtl {
  // An address not seen for this long forgets its counters, streak and acceptance.
  int64_t history_ms = 30 * kDayMs;
  // A suppressed address or domain not seen for this long is forgotten (a later bounce suppresses it
  // again, with the same id).
  int64_t suppression_ms = 400 * kDayMs;
  // How often (event time) expired keys are swept from memory. Decisions do not depend on it: a key past
  // its TTL is treated as new whether or not the sweep has removed it yet.
  int64_t sweep_interval_ms = 3600 * 1000;
};

struct DeciderOptions {
  DecisionPolicy policy;  // for records without a tenant, and tenants without their own policy
  absl::flat_hash_map<std::string, DecisionPolicy> tenant_policies;
  CampaignFallback campaign_fallback = CampaignFallback::kSenderTagOrDay;
  char sender_tag_separator = '+';
  StateTtl ttl;
  // Keep changed keys and tombstones for FlushChangelog (the Kafka runtime); replay does not need it.
  bool track_changelog = false;
  // Pre-sizes the state for this many addresses (0: grow as needed).
  size_t expected_addresses = 0;

  absl::Status Validate() const;
  const DecisionPolicy& PolicyFor(std::string_view tenant) const;
};

// The campaign a send belongs to: the event's campaign id, else the fallback. The result is a view into
// the event or into `scratch`; empty when there is none.
std::string_view CampaignOf(const DeliveryEvent& e, CampaignFallback fallback, char separator, std::string& scratch);

}  // namespace bs

#endif  // BOUNCESTREAM_PIPELINE_STATE_DECIDER_OPTIONS_H_
