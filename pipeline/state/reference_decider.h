// ReferenceDecider: a slow, plain model of the same stateful rules as SuppressionDecider — std::map of
// strings, campaign names instead of hashes, positions as strings, no sweeps (expiry is only checked when
// a key is used). Tests and the decide benchmark run both on the same events and require byte-identical
// outputs, so the compact store, its hashing and its sweeps are checked against something obviously
// right. Not used by the pipeline.
#ifndef BOUNCESTREAM_PIPELINE_STATE_REFERENCE_DECIDER_H_
#define BOUNCESTREAM_PIPELINE_STATE_REFERENCE_DECIDER_H_

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "pipeline/base/strings.h"
#include "pipeline/state/suppression_decider.h"

namespace bs {

class ReferenceDecider {
 public:
  explicit ReferenceDecider(std::string ruleset_version, DeciderOptions options = {})
      : version_(std::move(ruleset_version)), options_(std::move(options)) {}

  size_t Decide(const ClassifiedEvent& ce, std::vector<SuppressionRecord>& out) {
    const DeliveryEvent& e = ce.event;
    if (e.recipient.empty()) return 0;
    const bool accepted = e.outcome == Outcome::kDelivered;
    const bool permanent = !accepted && SuppressionDecider::MaySuppress(ce);
    const bool failure = !accepted && !permanent && SuppressionDecider::CountsForAddress(ce);
    if (!accepted && !permanent && !failure) return 0;
    const size_t before = out.size();
    clock_ = std::max(clock_, e.event_time_ms);
    if (clock_ - e.event_time_ms > options_.ttl.history_ms) return 0;
    const DecisionPolicy& p = options_.PolicyFor(e.tenant);
    if (permanent && ce.cls.action == Action::kSuppressDomain) {
      Entry& d = Use(domains_[Lower(e.recipient_domain)], e.event_time_ms);
      if (!d.suppressed && e.event_time_ms / 1000 > d.accepted_s && !(d.guard && e.event_time_ms <= *d.guard)) {
        SuppressionRecord& r = Emit(ce, "@" + Lower(e.recipient_domain), decision::kPermanentFailure, out);
        r.epoch = d.generation;
        Add(r, Current(ce));
        d.suppressed = true;
        d.sup_ev = Current(ce);
        d.guard = e.event_time_ms;
      }
      return out.size() - before;
    }
    const std::string key = Lower(e.recipient);
    Entry& s = Use(addresses_[key], e.event_time_ms);
    if (accepted) {
      OnAccepted(ce, key, s, p, out);
    } else if (permanent) {
      OnPermanent(ce, key, s, out);
    } else {
      OnFailure(ce, key, s, p, out);
    }
    return out.size() - before;
  }

  size_t suppressed_keys() const {
    size_t n = 0;
    for (const auto& [k, s] : addresses_) n += s.suppressed && !Expired(s);
    for (const auto& [k, s] : domains_) n += s.suppressed && !Expired(s);
    return n;
  }

 private:
  struct Ev {
    std::string position;
    int64_t time = 0;
  };
  struct Entry {
    bool used = false;
    int64_t last_seen_s = 0;
    int64_t accepted_s = 0;  // latest delivery, seconds
    bool suppressed = false, verified = false;
    uint32_t generation = 0, reengaged = 0;
    std::optional<int64_t> guard;
    std::optional<Ev> sup_ev;
    // The streak.
    int attempts = 0;
    int64_t first = 0, last = 0;
    std::vector<std::string> campaigns;  // at most 4, in order of first failure
    std::vector<Ev> campaign_ev;
    std::vector<bool> deferred, full;
    bool reengaged_in_streak = false;
    std::optional<Ev> storage;

    void ResetStreak() {
      attempts = 0;
      first = last = 0;
      campaigns.clear();
      campaign_ev.clear();
      deferred.clear();
      full.clear();
      reengaged_in_streak = false;
      storage.reset();
    }
  };

  static std::string Lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = AsciiLower(c);
    return out;
  }
  static Ev Current(const ClassifiedEvent& ce) { return Ev{ce.event.position.ToString(), ce.event.event_time_ms}; }

  bool Expired(const Entry& s) const {
    if (!s.used) return false;
    const int64_t ttl = s.suppressed ? options_.ttl.suppression_ms : options_.ttl.history_ms;
    return clock_ - s.last_seen_s * 1000 > ttl;
  }
  // Forgets an expired entry, then marks it seen.
  Entry& Use(Entry& s, int64_t t) {
    if (Expired(s)) s = Entry{};
    s.used = true;
    s.last_seen_s = std::max(s.last_seen_s, std::max<int64_t>(0, t / 1000));
    return s;
  }

  std::string Campaign(const DeliveryEvent& e) {
    std::string scratch;
    return std::string(CampaignOf(e, options_.campaign_fallback, options_.sender_tag_separator, scratch));
  }

  void OnAccepted(const ClassifiedEvent& ce, const std::string& key, Entry& s, const DecisionPolicy& p,
                  std::vector<SuppressionRecord>& out) {
    const int64_t t = ce.event.event_time_ms;
    s.accepted_s = std::max(s.accepted_s, t / 1000);
    if (s.suppressed) {
      if (p.unsuppress_on_delivery && t > s.guard.value_or(0)) {
        SuppressionRecord& r = Emit(ce, key, decision::kDeliveredAfterSuppression, out);
        r.hygiene = true;
        r.hygiene_action = "unsuppress";
        r.category = Category::kDelivered;
        r.epoch = s.generation;
        Add(r, *s.sup_ev);
        Add(r, Current(ce));
        r.first_seen_ms = s.sup_ev->time;
        s.suppressed = false;
        s.generation = std::min<uint32_t>(255, s.generation + 1);
        s.ResetStreak();
        s.sup_ev.reset();
        s.guard = t;
      }
    } else if (s.attempts > 0 && t > s.last) {
      s.ResetStreak();
    }
    const size_t at = key.rfind('@');
    if (at == std::string::npos || at + 1 == key.size()) return;
    const std::string domain = key.substr(at + 1);
    Entry& d = Use(domains_[domain], t);
    if (d.suppressed && p.unsuppress_on_delivery && t > d.guard.value_or(0)) {
      SuppressionRecord& r = Emit(ce, "@" + domain, decision::kDeliveredAfterSuppression, out);
      r.hygiene = true;
      r.hygiene_action = "unsuppress";
      r.scope = Scope::kDomain;
      r.category = Category::kDelivered;
      r.epoch = d.generation;
      Add(r, *d.sup_ev);
      Add(r, Current(ce));
      r.first_seen_ms = d.sup_ev->time;
      d.suppressed = false;
      d.sup_ev.reset();
      d.guard = t;
      d.generation = std::min<uint32_t>(255, d.generation + 1);
    }
    d.accepted_s = std::max(d.accepted_s, t / 1000);
  }

  void OnPermanent(const ClassifiedEvent& ce, const std::string& key, Entry& s, std::vector<SuppressionRecord>& out) {
    const int64_t t = ce.event.event_time_ms;
    if (s.suppressed || t / 1000 <= s.accepted_s || (s.guard && t <= *s.guard)) return;
    SuppressionRecord& r = Emit(ce, key, decision::kPermanentFailure, out);
    r.epoch = s.generation;
    Add(r, Current(ce));
    r.first_seen_ms = s.attempts > 0 ? std::min(s.first, t) : t;
    Suppress(s, ce);
  }

  void Suppress(Entry& s, const ClassifiedEvent& ce) {
    s.ResetStreak();
    s.suppressed = true;
    s.sup_ev = Current(ce);
    s.guard = ce.event.event_time_ms;
  }

  void OnFailure(const ClassifiedEvent& ce, const std::string& key, Entry& s, const DecisionPolicy& p,
                 std::vector<SuppressionRecord>& out) {
    const DeliveryEvent& e = ce.event;
    const int64_t t = e.event_time_ms;
    if (s.suppressed) return;
    if (t / 1000 <= s.accepted_s) return;
    if (s.guard && t <= *s.guard) return;
    bool changed = false;
    if (s.attempts == 0) {
      s.first = s.last = t;
      s.attempts = 1;
      changed = true;
    } else {
      s.first = std::min(s.first, t);
      if (t > s.last) {
        s.last = t;
        s.attempts = std::min(255, s.attempts + 1);
        changed = true;
      }
    }
    const std::string campaign = std::string(e.tenant) + '\x1f' + Campaign(e);
    auto pos = std::find(s.campaigns.begin(), s.campaigns.end(), campaign);
    int slot = pos == s.campaigns.end() ? -1 : static_cast<int>(pos - s.campaigns.begin());
    if (slot < 0 && s.campaigns.size() < static_cast<size_t>(kMaxStreakCampaigns)) {
      slot = static_cast<int>(s.campaigns.size());
      s.campaigns.push_back(campaign);
      s.campaign_ev.push_back(Current(ce));
      s.deferred.push_back(false);
      s.full.push_back(false);
      changed = true;
    }
    const bool deferral = e.outcome == Outcome::kDeferred;
    const bool full = ce.cls.category == Category::kMailboxFull;
    if (slot >= 0 && deferral) {
      if (!s.deferred[slot] || (full && !s.full[slot])) changed = true;
      s.deferred[slot] = true;
      if (full) s.full[slot] = true;
    }
    if (full && (e.outcome == Outcome::kBounced || e.outcome == Outcome::kOutOfBand)) {
      if (!s.storage) {
        s.storage = Current(ce);
      } else if (s.storage->time != t && p.suppress_repeated_storage_exceeded) {
        SuppressionRecord& r = HistorySuppression(ce, key, s, decision::kStorageExceededTwice, out);
        Add(r, *s.storage);
        Add(r, Current(ce));
        r.first_seen_ms = std::min(s.storage->time, t);
        Suppress(s, ce);
        return;
      }
    }
    if (!changed) return;
    const int fulls = static_cast<int>(std::count(s.full.begin(), s.full.end(), true));
    if (p.mailbox_full_campaigns > 0 && fulls >= p.mailbox_full_campaigns) {
      int64_t first_full = t, last_full = t;
      for (size_t i = 0; i < s.full.size(); ++i) {
        if (s.full[i]) {
          first_full = std::min(first_full, s.campaign_ev[i].time);
          last_full = std::max(last_full, s.campaign_ev[i].time);
        }
      }
      if (last_full - first_full >= p.mailbox_full_min_span_ms) {
        SuppressionRecord& r = HistorySuppression(ce, key, s, decision::kMailboxFullRecurring, out);
        for (size_t i = 0; i < s.full.size(); ++i) {
          if (s.full[i]) Add(r, s.campaign_ev[i]);
        }
        Add(r, Current(ce));
        r.first_seen_ms = first_full;
        Suppress(s, ce);
        return;
      }
    }
    const int deferred = static_cast<int>(std::count(s.deferred.begin(), s.deferred.end(), true));
    if (!s.reengaged_in_streak && deferred >= p.reengage_campaigns) {
      SuppressionRecord& r = Emit(ce, key, decision::kDeferredInCampaigns, out);
      r.hygiene = true;
      r.action = Action::kReengage;
      r.epoch = s.reengaged;
      for (size_t i = 0; i < s.deferred.size(); ++i) {
        if (s.deferred[i]) Add(r, s.campaign_ev[i]);
      }
      Add(r, Current(ce));
      r.first_seen_ms = s.first;
      s.reengaged_in_streak = true;
      s.reengaged = std::min<uint32_t>(255, s.reengaged + 1);
    }
    if (s.accepted_s == 0 && !s.verified && s.attempts >= p.verify_attempts &&
        s.campaigns.size() >= static_cast<size_t>(p.verify_min_campaigns)) {
      SuppressionRecord& r = Emit(ce, key, decision::kNeverAccepted, out);
      r.hygiene = true;
      r.action = Action::kVerify;
      for (const Ev& ev : s.campaign_ev) Add(r, ev);
      Add(r, Current(ce));
      r.first_seen_ms = s.first;
      s.verified = true;
    }
  }

  SuppressionRecord& HistorySuppression(const ClassifiedEvent& ce, const std::string& key, Entry& s,
                                        std::string_view decision, std::vector<SuppressionRecord>& out) {
    SuppressionRecord& r = Emit(ce, key, decision, out);
    r.action = Action::kSuppressAddress;
    r.scope = Scope::kAddress;
    r.category = Category::kMailboxFull;
    r.epoch = s.generation;
    return r;
  }

  SuppressionRecord& Emit(const ClassifiedEvent& ce, const std::string& key, std::string_view decision,
                          std::vector<SuppressionRecord>& out) {
    const DeliveryEvent& e = ce.event;
    const Classification& c = ce.cls;
    SuppressionRecord& r = out.emplace_back();
    r.key = key;
    r.scope = c.scope == Scope::kDomain ? Scope::kDomain : Scope::kAddress;
    r.action = c.action;
    r.category = c.category;
    r.provider = c.provider;
    r.rule = std::string(c.rule);
    r.decision = std::string(decision);
    r.ruleset_version = version_;
    r.code = c.code;
    r.enhanced = c.enhanced;
    r.text = std::string(e.reply.text);
    r.campaign = Campaign(e);
    r.tenant = std::string(e.tenant);
    r.first_seen_ms = r.decided_at_ms = e.event_time_ms;
    return r;
  }

  static void Add(SuppressionRecord& r, const Ev& ev) {
    for (const Evidence& have : r.evidence) {
      if (have.position == ev.position) return;
    }
    r.evidence.push_back(Evidence{ev.position, ev.time});
  }

  std::string version_;
  DeciderOptions options_;
  int64_t clock_ = 0;
  std::map<std::string, Entry> addresses_;
  std::map<std::string, Entry> domains_;
};

}  // namespace bs

#endif  // BOUNCESTREAM_PIPELINE_STATE_REFERENCE_DECIDER_H_
