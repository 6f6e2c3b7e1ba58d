// SuppressionDecider: turns classified events into suppression records, exactly once per key.
//
// The first rule (DECISIONS.md): only recipient failures suppress. A suppression needs all of: a
// permanent outcome (bounced or out-of-band; a deferral never suppresses, whatever its code), a reply
// from the remote side (not the MTA's own), a rule whose action is suppress_* with address or domain
// scope, and a recipient-failure category. Refusals of our IP, domain, authentication, content, rate or
// configuration fail at least one of these and feed alerts instead.
//
// Runs in the decide stage, in input order; not thread-safe. Keys are lower-cased addresses or
// "@domain"; state is the set of keys already suppressed (issue 5 replaces it with compact per-address
// history).
#ifndef BOUNCESTREAM_PIPELINE_STATE_SUPPRESSION_DECIDER_H_
#define BOUNCESTREAM_PIPELINE_STATE_SUPPRESSION_DECIDER_H_

#include <string>
#include <string_view>

#include "absl/container/flat_hash_set.h"
#include "pipeline/sink/records.h"
#include "pipeline/worker/classified_event.h"

namespace bs {

class SuppressionDecider {
 public:
  explicit SuppressionDecider(std::string ruleset_version) : ruleset_version_(std::move(ruleset_version)) {}

  // True when `ce` decides a new suppression, written to `out`.
  bool Decide(const ClassifiedEvent& ce, SuppressionRecord& out);

  // True when a classification is allowed to suppress at all (the invariant, exposed for tests).
  static bool MaySuppress(const ClassifiedEvent& ce);

  size_t suppressed_keys() const { return suppressed_.size(); }

 private:
  std::string ruleset_version_;
  absl::flat_hash_set<std::string> suppressed_;
  std::string key_;
};

}  // namespace bs

#endif  // BOUNCESTREAM_PIPELINE_STATE_SUPPRESSION_DECIDER_H_
