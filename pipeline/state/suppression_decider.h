// SuppressionDecider: turns classified events into suppressions and hygiene events, from each address's
// history, exactly once.
//
// The first rule (DECISIONS.md): only recipient failures suppress. An immediate suppression needs all of:
// a permanent outcome (bounced or out-of-band; a deferral never suppresses, whatever its code), a reply
// from the remote side (not the MTA's own), a rule whose action is suppress_* with address or domain
// scope, and a recipient-failure category. Refusals of our IP, domain, authentication, content, rate or
// configuration fail at least one of these, feed alerts instead, and never touch recipient state.
//
// Decisions that need history (DECISIONS.md §4; README "Decisions that need history"):
//  - permanent_failure        5xx address-scope failure → suppress the address; 556/null MX → "@domain"
//  - storage_exceeded_twice   a second permanent mailbox-full (552) in a streak → suppress
//  - mailbox_full_recurring   mailbox full in 4 campaigns over ≥ 7 days, no delivery between → suppress
//  - deferred_in_campaigns    recipient-side deferrals in 3 distinct campaigns → hygiene `reengage`
//  - never_accepted           5 failed attempts across ≥ 2 campaigns, never a delivery → hygiene `verify`
//  - delivered_after_suppression  a delivery after a suppression → hygiene `unsuppress`
// A streak is an address's recipient-side failures since its last delivery; a delivery ends it (4xx then
// success is greylisting: no action). Thresholds are per tenant (DeciderOptions).
//
// Exactly once: each decision changes the key's state (suppressed, streak flags), so repeating the input
// decides nothing new; a key's state only moves forward in event time (records at or before the last one
// counted or decided are duplicates or late, and count for nothing); ids are a stable hash of key and
// action, plus an epoch when a key is suppressed again after an unsuppress (or re-engaged again after a
// new streak), so every distinct decision has its own id and a replay gives the same ids.
//
// Runs in the decide stage, in input order; not thread-safe.
#ifndef BOUNCESTREAM_PIPELINE_STATE_SUPPRESSION_DECIDER_H_
#define BOUNCESTREAM_PIPELINE_STATE_SUPPRESSION_DECIDER_H_

#include <string>
#include <string_view>
#include <vector>

#include "pipeline/sink/records.h"
#include "pipeline/state/decider_options.h"
#include "pipeline/state/state_store.h"
#include "pipeline/worker/classified_event.h"

namespace bs {

// Decision ids, written in each output's "decision" field.
namespace decision {
inline constexpr std::string_view kPermanentFailure = "permanent_failure";
inline constexpr std::string_view kStorageExceededTwice = "storage_exceeded_twice";
inline constexpr std::string_view kMailboxFullRecurring = "mailbox_full_recurring";
inline constexpr std::string_view kDeferredInCampaigns = "deferred_in_campaigns";
inline constexpr std::string_view kNeverAccepted = "never_accepted";
inline constexpr std::string_view kDeliveredAfterSuppression = "delivered_after_suppression";
}  // namespace decision

class SuppressionDecider {
 public:
  explicit SuppressionDecider(std::string ruleset_version, DeciderOptions options = {});

  // Appends what `ce` decides to `out` (usually nothing; at most a few records). Returns how many.
  size_t Decide(const ClassifiedEvent& ce, std::vector<SuppressionRecord>& out);

  // For callers that expect at most one decision per event (immediate suppressions): true when `ce`
  // decides something, the first record in `out`. The pipeline uses the vector form.
  bool Decide(const ClassifiedEvent& ce, SuppressionRecord& out);

  // True when a classification is allowed to suppress at once (the first rule, exposed for tests).
  static bool MaySuppress(const ClassifiedEvent& ce);
  // True when an event is a recipient-side failure that counts toward an address's streak.
  static bool CountsForAddress(const ClassifiedEvent& ce);

  // Keys (addresses and @domains) currently suppressed (a scan: for tests and summaries).
  size_t suppressed_keys() const { return store_.CountSuppressed(); }
  state::StateStore& store() { return store_; }
  const state::StateStore& store() const { return store_; }
  const DeciderOptions& options() const { return options_; }

  // Rebuilds the state from a framed changelog stream (a snapshot, or a snapshot plus flushes).
  absl::Status Restore(std::string_view framed);

 private:
  enum class Kind { kIgnore, kAccepted, kPermanent, kFailure };
  static Kind KindOf(const ClassifiedEvent& ce);

  const DecisionPolicy& PolicyFor(std::string_view tenant);
  void OnAccepted(const ClassifiedEvent& ce, state::StateStore::Ref ref, const DecisionPolicy& p,
                  std::vector<SuppressionRecord>& out);
  void OnPermanent(const ClassifiedEvent& ce, state::StateStore::Ref ref, std::vector<SuppressionRecord>& out);
  void OnDomainPermanent(const ClassifiedEvent& ce, std::vector<SuppressionRecord>& out);
  void OnFailure(const ClassifiedEvent& ce, state::StateStore::Ref ref, const DecisionPolicy& p,
                 std::vector<SuppressionRecord>& out);
  // Suppresses the address from its history (552 twice, mailbox full recurring).
  void SuppressFromHistory(const ClassifiedEvent& ce, state::KeyState& s, state::KeyHistory& h,
                           std::string_view decision, uint8_t evidence_mask, const state::CompactEvidence* extra,
                           int64_t first_seen, std::vector<SuppressionRecord>& out);

  // Fills the fields every record shares, from the deciding event.
  SuppressionRecord& Emit(const ClassifiedEvent& ce, std::string_view key, std::string_view decision,
                          std::vector<SuppressionRecord>& out);
  void AddEvidence(SuppressionRecord& r, const state::CompactEvidence& e) const;
  void AddCurrent(SuppressionRecord& r, const ClassifiedEvent& ce) const;
  std::string_view Campaign(const DeliveryEvent& e);
  state::CompactEvidence Current(const ClassifiedEvent& ce) {
    return store_.MakeEvidence(ce.event.position, ce.event.event_time_ms);
  }

  std::string ruleset_version_;
  DeciderOptions options_;
  state::StateStore store_;
  std::string key_;
  std::string domain_key_;
  std::string campaign_scratch_;
  // The last tenant's policy: tenants repeat, so most events skip the map lookup.
  std::string last_tenant_;
  const DecisionPolicy* last_policy_ = nullptr;
};

}  // namespace bs

#endif  // BOUNCESTREAM_PIPELINE_STATE_SUPPRESSION_DECIDER_H_
