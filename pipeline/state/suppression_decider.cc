#include "pipeline/state/suppression_decider.h"

#include <algorithm>
#include <bit>

#include "pipeline/base/strings.h"
#include "pipeline/state/state_hash.h"

namespace bs {
namespace {

using state::CompactEvidence;
using state::KeyHistory;
using state::KeyState;
using state::StateStore;

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

// Failures that say something about one mailbox (not its domain, not us): they build an address's streak.
bool IsAddressCondition(Category c) {
  switch (c) {
    case Category::kGreylisted:
    case Category::kMailboxFull:
    case Category::kMailboxUnavailable:
    case Category::kUserUnknown:
    case Category::kMailboxDisabled:
    case Category::kBadAddress:
      return true;
    default:
      return false;
  }
}

bool IsPermanent(Outcome o) { return o == Outcome::kBounced || o == Outcome::kOutOfBand; }

void Lower(std::string_view in, std::string& out) {
  out.resize(in.size());
  for (size_t i = 0; i < in.size(); ++i) out[i] = AsciiLower(in[i]);
}

uint8_t SaturatingInc(uint8_t v) { return v == 0xff ? v : static_cast<uint8_t>(v + 1); }

}  // namespace

SuppressionDecider::SuppressionDecider(std::string ruleset_version, DeciderOptions options)
    : ruleset_version_(std::move(ruleset_version)),
      options_(std::move(options)),
      store_(options_.ttl, options_.track_changelog, options_.expected_addresses) {}

bool SuppressionDecider::MaySuppress(const ClassifiedEvent& ce) {
  const DeliveryEvent& e = ce.event;
  const Classification& c = ce.cls;
  if (!IsPermanent(e.outcome)) return false;
  if (e.locally_generated || e.recipient.empty()) return false;
  if (!IsRecipientScope(c.scope) || !IsRecipientFailure(c.category)) return false;
  if (c.action == Action::kSuppressAddress) return c.scope == Scope::kAddress;
  if (c.action == Action::kSuppressDomain) return c.scope == Scope::kDomain && !e.recipient_domain.empty();
  return false;
}

bool SuppressionDecider::CountsForAddress(const ClassifiedEvent& ce) {
  const DeliveryEvent& e = ce.event;
  switch (e.outcome) {
    case Outcome::kDeferred:
    case Outcome::kBounced:
    case Outcome::kExpired:
    case Outcome::kOutOfBand:
      break;
    default:
      return false;
  }
  if (e.locally_generated || e.recipient.empty()) return false;
  // Sender-side scopes (our IP, domain, content, configuration) never count; neither do domain-wide ones.
  if (ce.cls.scope != Scope::kAddress && ce.cls.scope != Scope::kNone) return false;
  return IsAddressCondition(ce.cls.category);
}

SuppressionDecider::Kind SuppressionDecider::KindOf(const ClassifiedEvent& ce) {
  if (ce.event.recipient.empty()) return Kind::kIgnore;
  if (ce.event.outcome == Outcome::kDelivered) return Kind::kAccepted;
  if (MaySuppress(ce)) return Kind::kPermanent;
  if (CountsForAddress(ce)) return Kind::kFailure;
  return Kind::kIgnore;
}

const DecisionPolicy& SuppressionDecider::PolicyFor(std::string_view tenant) {
  if (options_.tenant_policies.empty()) return options_.policy;
  if (last_policy_ == nullptr || tenant != last_tenant_) {
    last_tenant_.assign(tenant);
    last_policy_ = &options_.PolicyFor(tenant);
  }
  return *last_policy_;
}

std::string_view SuppressionDecider::Campaign(const DeliveryEvent& e) {
  return CampaignOf(e, options_.campaign_fallback, options_.sender_tag_separator, campaign_scratch_);
}

absl::Status SuppressionDecider::Restore(std::string_view framed) { return store_.Restore(framed); }

size_t SuppressionDecider::Decide(const ClassifiedEvent& ce, std::vector<SuppressionRecord>& out) {
  const Kind kind = KindOf(ce);
  if (kind == Kind::kIgnore) return 0;  // refusals of us, rejections before queueing: no state at all
  const size_t before = out.size();
  const DeliveryEvent& e = ce.event;
  store_.AdvanceClock(e.event_time_ms);
  // Too late to change anything: a key untouched for that long would have expired, so a record this far
  // behind the clock cannot be judged against the key's history (and a replay of forgotten history must
  // not decide again).
  if (store_.clock_ms() - e.event_time_ms > store_.ttl().history_ms) return 0;
  if (kind == Kind::kPermanent && ce.cls.action == Action::kSuppressDomain) {
    OnDomainPermanent(ce, out);
    return out.size() - before;
  }
  Lower(e.recipient, key_);
  const StateStore::Ref ref = store_.FindOrInsert(key_);
  store_.RefreshAddress(ref, e.event_time_ms);
  switch (kind) {
    case Kind::kAccepted:
      OnAccepted(ce, ref, PolicyFor(e.tenant), out);
      break;
    case Kind::kPermanent:
      OnPermanent(ce, ref, out);
      break;
    case Kind::kFailure:
      OnFailure(ce, ref, PolicyFor(e.tenant), out);
      break;
    case Kind::kIgnore:
      break;
  }
  return out.size() - before;
}

bool SuppressionDecider::Decide(const ClassifiedEvent& ce, SuppressionRecord& out) {
  std::vector<SuppressionRecord> records;
  if (Decide(ce, records) == 0) return false;
  out = std::move(records.front());
  return true;
}

// ---- decisions ---------------------------------------------------------------------------------------

void SuppressionDecider::OnAccepted(const ClassifiedEvent& ce, StateStore::Ref ref, const DecisionPolicy& p,
                                    std::vector<SuppressionRecord>& out) {
  const int64_t t = ce.event.event_time_ms;
  KeyState& s = store_.state(ref);
  s.accepted_s = std::max(s.accepted_s, state::Seconds(t));
  if (KeyHistory* h = store_.history(s)) {
    if (s.flags & KeyState::kSuppressed) {
      // Only a delivery after the suppression was decided shows the address works again; an older one
      // (late, or a replay) says nothing new.
      if (p.unsuppress_on_delivery && t > h->guard_ms) {
        SuppressionRecord& r = Emit(ce, key_, decision::kDeliveredAfterSuppression, out);
        r.hygiene = true;
        r.hygiene_action = "unsuppress";
        r.category = Category::kDelivered;
        r.epoch = s.generation;
        AddEvidence(r, h->evidence[0]);
        AddCurrent(r, ce);
        r.first_seen_ms = h->evidence[0].present() ? h->evidence[0].time_ms : h->guard_ms;
        s.flags &= ~KeyState::kSuppressed;
        s.generation = SaturatingInc(s.generation);
        h->ResetStreak();
        h->guard_ms = t;
      }
    } else if (t > h->last_ms) {
      // 4xx then success: greylisting or a transient fault. The streak ends; nothing to say.
      if (s.generation == 0) {
        store_.ReleaseHistory(s);
      } else {
        h->ResetStreak();  // keeps the guard of the last unsuppress
      }
    }
  }
  // A delivery to any address of a domain: the domain accepts mail. It lifts a domain suppression, and a
  // domain failure older than it is stale.
  const uint32_t domain = s.domain;
  if (domain == StateStore::kNoDomain) return;
  store_.RefreshDomain(domain, t);
  KeyState& d = store_.domain_state(domain);
  KeyHistory* dh = store_.history(d);
  if ((d.flags & KeyState::kSuppressed) && dh && p.unsuppress_on_delivery && t > dh->guard_ms) {
    domain_key_.assign("@");
    domain_key_.append(store_.domain_name(domain));
    SuppressionRecord& r = Emit(ce, domain_key_, decision::kDeliveredAfterSuppression, out);
    r.hygiene = true;
    r.hygiene_action = "unsuppress";
    r.scope = Scope::kDomain;
    r.category = Category::kDelivered;
    r.epoch = d.generation;
    AddEvidence(r, dh->evidence[0]);
    AddCurrent(r, ce);
    r.first_seen_ms = dh->evidence[0].time_ms;
    dh->guard_ms = t;
    dh->evidence[0] = CompactEvidence{};
    d.flags &= ~KeyState::kSuppressed;
    d.generation = SaturatingInc(d.generation);
  }
  d.accepted_s = std::max(d.accepted_s, state::Seconds(t));
}

void SuppressionDecider::OnPermanent(const ClassifiedEvent& ce, StateStore::Ref ref,
                                     std::vector<SuppressionRecord>& out) {
  const int64_t t = ce.event.event_time_ms;
  KeyState& s = store_.state(ref);
  if (s.flags & KeyState::kSuppressed) return;  // exactly once
  // Stale: a delivery after this record shows the address works (within the second counts as after).
  if (state::Seconds(t) <= s.accepted_s) return;
  KeyHistory* h = store_.history(s);
  if (h && t <= h->guard_ms) return;  // older than the last unsuppress: late or replayed
  SuppressionRecord& r = Emit(ce, key_, decision::kPermanentFailure, out);
  r.epoch = s.generation;
  AddCurrent(r, ce);
  r.first_seen_ms = h && h->in_streak() ? std::min(h->first_ms, t) : t;
  KeyHistory& hist = store_.EnsureHistory(s);
  hist.ResetStreak();
  hist.evidence[0] = Current(ce);
  hist.guard_ms = t;
  s.flags |= KeyState::kSuppressed;
}

void SuppressionDecider::OnDomainPermanent(const ClassifiedEvent& ce, std::vector<SuppressionRecord>& out) {
  const int64_t t = ce.event.event_time_ms;
  Lower(ce.event.recipient_domain, domain_key_);
  const uint32_t id = store_.InternDomain(domain_key_);
  store_.RefreshDomain(id, t);
  KeyState& d = store_.domain_state(id);
  if (d.flags & KeyState::kSuppressed) return;
  if (state::Seconds(t) <= d.accepted_s) return;  // the domain accepted mail after this record
  KeyHistory* h = store_.history(d);
  if (h && t <= h->guard_ms) return;
  domain_key_.insert(0, "@");
  SuppressionRecord& r = Emit(ce, domain_key_, decision::kPermanentFailure, out);
  r.epoch = d.generation;
  AddCurrent(r, ce);
  r.first_seen_ms = t;
  KeyHistory& hist = store_.EnsureHistory(d);
  hist.evidence[0] = Current(ce);
  hist.guard_ms = t;
  d.flags |= KeyState::kSuppressed;
}

void SuppressionDecider::OnFailure(const ClassifiedEvent& ce, StateStore::Ref ref, const DecisionPolicy& p,
                                   std::vector<SuppressionRecord>& out) {
  const DeliveryEvent& e = ce.event;
  const int64_t t = e.event_time_ms;
  KeyState& s = store_.state(ref);
  if (s.flags & KeyState::kSuppressed) return;  // already decided; hygiene would be noise
  // Records that cannot belong to the current streak: older than the latest delivery (whose streak
  // ended) or than the last suppress/unsuppress decision. This is what makes a
  // replay of the same records count for nothing.
  if (state::Seconds(t) <= s.accepted_s) return;
  if (KeyHistory* old = store_.history(s); old && t <= old->guard_ms) return;
  KeyHistory& h = store_.EnsureHistory(s);
  // Sets (campaigns, deferral and mailbox-full marks) take late records of the streak too; the attempt
  // count only moves forward, so a record seen twice counts once.
  bool changed = false;
  if (!h.in_streak()) {
    h.first_ms = h.last_ms = t;
    h.attempts = 1;
    changed = true;
  } else {
    h.first_ms = std::min(h.first_ms, t);
    if (t > h.last_ms) {
      h.last_ms = t;
      h.attempts = SaturatingInc(h.attempts);
      changed = true;
    }
  }
  const CompactEvidence current = Current(ce);

  // The campaign sketch: the streak's first distinct campaigns, each with its first failing record.
  const uint32_t campaign = state::CampaignHash(e.tenant, Campaign(e));
  int slot = -1;
  for (int i = 0; i < h.campaign_count; ++i) {
    if (h.campaigns[i] == campaign) slot = i;
  }
  if (slot < 0 && h.campaign_count < kMaxStreakCampaigns) {
    slot = h.campaign_count++;
    h.campaigns[slot] = campaign;
    h.evidence[slot] = current;
    changed = true;
  }
  const bool deferral = e.outcome == Outcome::kDeferred;
  const bool mailbox_full = ce.cls.category == Category::kMailboxFull;
  if (slot >= 0 && deferral) {
    const uint8_t bit = static_cast<uint8_t>(1u << slot);
    changed |= !(h.deferral_mask & bit) || (mailbox_full && !(h.full_mask & bit));
    h.deferral_mask |= bit;
    if (mailbox_full) h.full_mask |= bit;
  }

  // 552: retry once; another one in the streak (a different record: not the same time) suppresses.
  if (mailbox_full && IsPermanent(e.outcome)) {
    if (!h.storage.present()) {
      h.storage = current;
    } else if (t != h.storage.time_ms && p.suppress_repeated_storage_exceeded) {
      SuppressFromHistory(ce, s, h, decision::kStorageExceededTwice, 0, &h.storage, std::min(h.storage.time_ms, t),
                          out);
      return;
    }
  }

  // A record that adds nothing to the streak decides nothing (a replay, or another tenant's policy
  // looking at the same history).
  if (!changed) return;

  // Mailbox full campaign after campaign, for long enough: abandoned.
  if (p.mailbox_full_campaigns > 0 && std::popcount(h.full_mask) >= p.mailbox_full_campaigns) {
    int64_t first_full = t, last_full = t;
    for (int i = 0; i < h.campaign_count; ++i) {
      if (h.full_mask & (1u << i)) {
        first_full = std::min(first_full, h.evidence[i].time_ms);
        last_full = std::max(last_full, h.evidence[i].time_ms);
      }
    }
    if (last_full - first_full >= p.mailbox_full_min_span_ms) {
      SuppressFromHistory(ce, s, h, decision::kMailboxFullRecurring, h.full_mask, nullptr, first_full, out);
      return;
    }
  }

  if (!(h.streak_flags & KeyHistory::kReengagedInStreak) && std::popcount(h.deferral_mask) >= p.reengage_campaigns) {
    SuppressionRecord& r = Emit(ce, key_, decision::kDeferredInCampaigns, out);
    r.hygiene = true;
    r.action = Action::kReengage;
    r.epoch = s.reengaged;
    for (int i = 0; i < h.campaign_count; ++i) {
      if (h.deferral_mask & (1u << i)) AddEvidence(r, h.evidence[i]);
    }
    AddCurrent(r, ce);
    r.first_seen_ms = h.first_ms;
    h.streak_flags |= KeyHistory::kReengagedInStreak;
    s.reengaged = SaturatingInc(s.reengaged);
  }

  if (s.accepted_s == 0 && !(s.flags & KeyState::kVerified) && h.attempts >= p.verify_attempts &&
      h.campaign_count >= p.verify_min_campaigns) {
    SuppressionRecord& r = Emit(ce, key_, decision::kNeverAccepted, out);
    r.hygiene = true;
    r.action = Action::kVerify;
    for (int i = 0; i < h.campaign_count; ++i) AddEvidence(r, h.evidence[i]);
    AddCurrent(r, ce);
    r.first_seen_ms = h.first_ms;
    s.flags |= KeyState::kVerified;
  }
}

void SuppressionDecider::SuppressFromHistory(const ClassifiedEvent& ce, KeyState& s, KeyHistory& h,
                                             std::string_view decision, uint8_t evidence_mask,
                                             const CompactEvidence* extra, int64_t first_seen,
                                             std::vector<SuppressionRecord>& out) {
  SuppressionRecord& r = Emit(ce, key_, decision, out);
  r.action = Action::kSuppressAddress;
  r.scope = Scope::kAddress;
  r.category = Category::kMailboxFull;
  r.epoch = s.generation;
  for (int i = 0; i < h.campaign_count; ++i) {
    if (evidence_mask & (1u << i)) AddEvidence(r, h.evidence[i]);
  }
  if (extra) AddEvidence(r, *extra);
  AddCurrent(r, ce);
  r.first_seen_ms = first_seen;
  const int64_t t = ce.event.event_time_ms;
  h.ResetStreak();
  h.evidence[0] = Current(ce);
  h.guard_ms = t;
  s.flags |= KeyState::kSuppressed;
}

// ---- records -----------------------------------------------------------------------------------------

SuppressionRecord& SuppressionDecider::Emit(const ClassifiedEvent& ce, std::string_view key,
                                            std::string_view decision, std::vector<SuppressionRecord>& out) {
  const DeliveryEvent& e = ce.event;
  const Classification& c = ce.cls;
  SuppressionRecord& r = out.emplace_back();
  r.key.assign(key);
  r.scope = c.scope == Scope::kDomain ? Scope::kDomain : Scope::kAddress;
  r.action = c.action;
  r.category = c.category;
  r.provider = c.provider;
  r.rule.assign(c.rule);
  r.decision.assign(decision);
  r.ruleset_version = ruleset_version_;
  r.code = c.code;
  r.enhanced = c.enhanced;
  r.text.assign(e.reply.text);
  r.campaign.assign(Campaign(e));
  r.tenant.assign(e.tenant);
  r.first_seen_ms = e.event_time_ms;
  r.decided_at_ms = e.event_time_ms;
  return r;
}

void SuppressionDecider::AddEvidence(SuppressionRecord& r, const CompactEvidence& e) const {
  if (!e.present()) return;
  std::string position = store_.PositionOf(e).ToString();
  for (const Evidence& have : r.evidence) {
    if (have.position == position) return;
  }
  r.evidence.push_back(Evidence{std::move(position), e.time_ms});
}

void SuppressionDecider::AddCurrent(SuppressionRecord& r, const ClassifiedEvent& ce) const {
  std::string position = ce.event.position.ToString();
  for (const Evidence& have : r.evidence) {
    if (have.position == position) return;
  }
  r.evidence.push_back(Evidence{std::move(position), ce.event.event_time_ms});
}

}  // namespace bs
