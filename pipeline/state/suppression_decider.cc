#include "pipeline/state/suppression_decider.h"

#include "absl/strings/ascii.h"

namespace bs {
namespace {

bool IsRecipientFailure(Category c) {
  switch (c) {
    case Category::kUserUnknown:
    case Category::kMailboxDisabled:
    case Category::kBadAddress:
    case Category::kMailboxUnavailable:
    case Category::kDomainNotFound:
    case Category::kDomainNoMail:
      return true;
    default:
      return false;
  }
}

}  // namespace

bool SuppressionDecider::MaySuppress(const ClassifiedEvent& ce) {
  const DeliveryEvent& e = ce.event;
  const Classification& c = ce.cls;
  if (e.outcome != Outcome::kBounced && e.outcome != Outcome::kOutOfBand) return false;
  if (e.locally_generated || e.recipient.empty()) return false;
  if (!IsRecipientScope(c.scope) || !IsRecipientFailure(c.category)) return false;
  if (c.action == Action::kSuppressAddress) return c.scope == Scope::kAddress;
  if (c.action == Action::kSuppressDomain) return c.scope == Scope::kDomain && !e.recipient_domain.empty();
  return false;
}

bool SuppressionDecider::Decide(const ClassifiedEvent& ce, SuppressionRecord& out) {
  if (!MaySuppress(ce)) return false;
  const DeliveryEvent& e = ce.event;
  const Classification& c = ce.cls;
  if (c.action == Action::kSuppressDomain) {
    key_.assign("@");
    key_.append(e.recipient_domain);
  } else {
    key_.assign(e.recipient);
  }
  absl::AsciiStrToLower(&key_);
  if (!suppressed_.insert(key_).second) return false;
  out = SuppressionRecord{};
  out.key = key_;
  out.scope = c.scope;
  out.action = c.action;
  out.category = c.category;
  out.provider = c.provider;
  out.rule = std::string(c.rule);
  out.ruleset_version = ruleset_version_;
  out.code = c.code;
  out.enhanced = c.enhanced;
  out.text = std::string(e.reply.text);
  out.campaign = std::string(e.campaign);
  out.tenant = std::string(e.tenant);
  out.evidence.push_back(Evidence{e.position.ToString(), e.event_time_ms});
  out.first_seen_ms = e.event_time_ms;
  out.decided_at_ms = e.event_time_ms;
  return true;
}

}  // namespace bs
