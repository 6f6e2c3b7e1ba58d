#include "pipeline/window/alert_aggregator.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "pipeline/base/stable_hash.h"
#include "pipeline/base/strings.h"

namespace bs {
namespace {

int64_t FloorDiv(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

std::string Severity(AlertKind kind, double rate) {
  if (kind == AlertKind::kBlocklist || rate >= 0.5) return "critical";
  if (rate >= 0.2) return "major";
  return "warning";
}

int SeverityRank(std::string_view s) { return s == "critical" ? 2 : s == "major" ? 1 : 0; }

template <typename T>
void AddDistinct(std::vector<T>& v, std::string_view s, size_t cap) {
  if (s.empty() || v.size() >= cap) return;
  for (const auto& x : v) {
    if (x == s) return;
  }
  v.emplace_back(s);
}

}  // namespace

KeyFamily FamilyOf(AlertKind kind) {
  switch (kind) {
    case AlertKind::kDmarcFailure:
    case AlertKind::kSpfFailure:
    case AlertKind::kDkimFailure:
    case AlertKind::kAuthFailure:
    case AlertKind::kSpamContent:
      return KeyFamily::kSenderDomain;
    default:
      return KeyFamily::kEgress;
  }
}

AlertAggregator::AlertAggregator(AlertPolicy policy, int partitions)
    : policy_(policy), max_time_(partitions, INT64_MIN), finished_(partitions, false) {}

int64_t AlertAggregator::watermark() const {
  int64_t wm = INT64_MAX;
  for (size_t p = 0; p < max_time_.size(); ++p) {
    if (finished_[p]) continue;
    int64_t pw = max_time_[p] == INT64_MIN ? INT64_MIN : max_time_[p] - policy_.out_of_orderness_ms;
    wm = std::min(wm, pw);
  }
  return wm;
}

uint64_t AlertAggregator::open_incidents() const {
  uint64_t n = 0;
  for (const auto& [group, arr] : incidents_) {
    for (const Incident& i : arr) n += i.open;
  }
  return n;
}

void AlertAggregator::Add(int partition, const ClassifiedEvent& ce) {
  const DeliveryEvent& e = ce.event;
  switch (e.outcome) {
    case Outcome::kDelivered:
    case Outcome::kDeferred:
    case Outcome::kBounced:
    case Outcome::kOutOfBand:
      break;
    default:
      return;  // not a remote answer to an attempt of ours
  }
  if (e.locally_generated) return;  // the MTA's own failures are not the provider's answer
  int64_t start = FloorDiv(e.event_time_ms, policy_.window_ms) * policy_.window_ms;
  if (start + policy_.window_ms <= closed_through_) {
    ++late_events_;
    return;
  }
  if (partition >= 0 && static_cast<size_t>(partition) < max_time_.size()) {
    max_time_[partition] = std::max(max_time_[partition], e.event_time_ms);
  }
  std::string_view egress = !e.sending_ip.empty() ? e.sending_ip : e.egress_source;
  std::string_view mta = egress.empty() ? e.mta_host : std::string_view();
  AlertKind kind;
  const bool feeds = AlertKindForCategory(ce.cls.category, kind);
  // Every attempt counts toward both key families; the failure counts toward the family of its kind.
  for (KeyFamily family : {KeyFamily::kEgress, KeyFamily::kSenderDomain}) {
    group_.clear();
    if (family == KeyFamily::kEgress) {
      absl::StrAppend(&group_, "ip|", Av(ProviderName(ce.cls.provider)), "|", Av(egress), "|", Av(mta));
    } else {
      absl::StrAppend(&group_, "sd|", Av(ProviderName(ce.cls.provider)), "|", Av(e.sender_domain));
    }
    WindowCounts& w = windows_[start][group_];
    if (w.attempts == 0) {
      w.family = family;
      w.key.provider = ce.cls.provider;
      if (family == KeyFamily::kEgress) {
        w.key.sending_ip = std::string(egress);
        w.key.mta = std::string(mta);
      } else {
        w.key.sender_domain = std::string(e.sender_domain);
      }
    }
    ++w.attempts;
    if (!feeds || FamilyOf(kind) != family) continue;
    KindCounts& k = w.kinds[static_cast<size_t>(kind)];
    ++k.count;
    if (k.samples.size() < 3) {
      sample_.clear();
      if (!StartsWith(e.reply.text, std::to_string(ce.cls.code))) {
        absl::StrAppend(&sample_, ce.cls.code, " ");
        if (ce.cls.enhanced.present()) {
          absl::StrAppend(&sample_, ce.cls.enhanced.cls, ".", ce.cls.enhanced.subject, ".", ce.cls.enhanced.detail, " ");
        }
      }
      absl::StrAppend(&sample_, Av(e.reply.text));
      AddDistinct(k.samples, sample_, 3);
    }
    AddDistinct(k.rules, ce.cls.rule, 5);
    AddDistinct(k.blocklists, ce.cls.blocklist, 5);
  }
}

void AlertAggregator::FinishPartition(int partition) {
  if (partition >= 0 && static_cast<size_t>(partition) < finished_.size()) finished_[partition] = true;
}

void AlertAggregator::Drain(std::vector<AlertRecord>& out) {
  int64_t wm = watermark();
  while (!windows_.empty()) {
    auto it = windows_.begin();
    int64_t end = it->first + policy_.window_ms;
    if (wm == INT64_MAX ? false : end + policy_.grace_ms > wm) break;
    CloseWindow(it->first, it->second, out);
    closed_through_ = std::max(closed_through_, end);
    windows_.erase(it);
  }
}

void AlertAggregator::Flush(std::vector<AlertRecord>& out) {
  while (!windows_.empty()) {
    auto it = windows_.begin();
    CloseWindow(it->first, it->second, out);
    closed_through_ = std::max(closed_through_, it->first + policy_.window_ms);
    windows_.erase(it);
  }
}

void AlertAggregator::CloseWindow(int64_t start, Window& window, std::vector<AlertRecord>& out) {
  // Groups with data in this window, then groups with an open incident but no data (a quiet window).
  for (auto& [group, counts] : window) {
    if (!group_keys_.count(group)) group_keys_.emplace(group, counts.key);
    for (int k = 0; k < kAlertKindCount; ++k) {
      if (FamilyOf(static_cast<AlertKind>(k)) == counts.family) Evaluate(start, group, &counts, static_cast<AlertKind>(k), out);
    }
  }
  for (auto& [group, arr] : incidents_) {
    if (window.count(group)) continue;
    for (int k = 0; k < kAlertKindCount; ++k) {
      if (arr[k].open) Evaluate(start, group, nullptr, static_cast<AlertKind>(k), out);
    }
  }
}

void AlertAggregator::Evaluate(int64_t start, const std::string& group, const WindowCounts* counts, AlertKind kind,
                               std::vector<AlertRecord>& out) {
  const size_t ki = static_cast<size_t>(kind);
  uint64_t attempts = counts ? counts->attempts : 0;
  uint64_t count = counts ? counts->kinds[ki].count : 0;
  Incident& inc = incidents_[group][ki];
  if (count == 0 && !inc.open) {
    // Nothing of this kind and no incident: only the baseline learns (a quiet window at rate 0).
    inc.baseline = inc.baseline_seen ? inc.baseline * (1 - policy_.baseline_alpha) : 0.0;
    inc.baseline_seen = true;
    return;
  }
  const KindThreshold& t = policy_.thresholds[ki];
  double rate = attempts ? static_cast<double>(count) / static_cast<double>(attempts) : 0.0;
  // To open, a window must pass every threshold; an open incident stays open while the failures go on
  // at the minimum rate (hysteresis: no flapping around the count threshold), and the baseline is
  // frozen while it is open so the incident does not teach itself that it is normal.
  const bool above_baseline = !inc.baseline_seen || rate >= policy_.baseline_factor * inc.baseline;
  const bool single_occurrence = t.min_count <= 1;
  const bool warm = inc.baseline_seen || single_occurrence || rate >= policy_.cold_start_rate;
  bool above = inc.open ? count > 0 && rate >= t.min_rate && above_baseline
                        : attempts >= t.min_attempts && count >= t.min_count && rate >= t.min_rate &&
                              above_baseline && warm;
  auto make = [&](AlertState state) {
    AlertRecord r;
    r.id = inc.id;
    r.kind = kind;
    r.state = state;
    r.key = counts ? counts->key : group_keys_[group];
    r.window_start_ms = start;
    r.window_end_ms = start + policy_.window_ms;
    r.count = count;
    r.attempts = attempts;
    r.rate = rate;
    r.baseline = inc.baseline;
    r.severity = Severity(kind, rate);
    r.action = ActionForAlertKind(kind);
    if (counts) {
      r.samples = counts->kinds[ki].samples;
      r.rules = counts->kinds[ki].rules;
      r.blocklists = counts->kinds[ki].blocklists;
    }
    out.push_back(std::move(r));
  };
  if (above) {
    inc.quiet = 0;
    std::string severity = Severity(kind, rate);
    if (!inc.open) {
      inc.open = true;
      inc.id = StableHash().Add(AlertKindName(kind)).Add(group).Add(start).Hex();
      inc.last_reported = count;
      inc.last_severity = severity;
      make(AlertState::kFiring);
    } else if (static_cast<double>(count) >= policy_.update_factor * static_cast<double>(inc.last_reported) ||
               SeverityRank(severity) > SeverityRank(inc.last_severity)) {
      inc.last_reported = count;
      inc.last_severity = severity;
      make(AlertState::kUpdated);
    }
    return;
  }
  // Below threshold: the baseline learns from it, unless an incident is open.
  if (!inc.open) {
    inc.baseline = inc.baseline_seen ? policy_.baseline_alpha * rate + (1 - policy_.baseline_alpha) * inc.baseline : rate;
    inc.baseline_seen = true;
  }
  if (inc.open && ++inc.quiet >= policy_.resolve_after_quiet_windows) {
    make(AlertState::kResolved);
    inc.open = false;
    inc.quiet = 0;
  }
}

}  // namespace bs
