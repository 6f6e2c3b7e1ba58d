#include "pipeline/window/alert_aggregator.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "pipeline/base/bytes.h"
#include "pipeline/base/stable_hash.h"
#include "pipeline/base/strings.h"

namespace bs {
namespace {

int64_t FloorDiv(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

// The kinds of each family, in enum order; a kind's slot is its index here.
constexpr AlertKind kEgressKinds[] = {AlertKind::kRateLimit, AlertKind::kBlocklist, AlertKind::kReputation,
                                      AlertKind::kSenderConfig, AlertKind::kTlsFailure};
constexpr AlertKind kSenderKinds[] = {AlertKind::kDmarcFailure, AlertKind::kSpfFailure, AlertKind::kDkimFailure,
                                      AlertKind::kAuthFailure, AlertKind::kSpamContent};
constexpr AlertKind kDomainKinds[] = {AlertKind::kDomainDeferrals};

int FamilyKindCount(KeyFamily f) {
  return f == KeyFamily::kEgress ? 5 : f == KeyFamily::kSenderDomain ? 5 : 1;
}
AlertKind FamilyKind(KeyFamily f, int slot) {
  return f == KeyFamily::kEgress ? kEgressKinds[slot] : f == KeyFamily::kSenderDomain ? kSenderKinds[slot]
                                                                                       : kDomainKinds[slot];
}
int SlotOf(AlertKind kind) {
  for (int i = 0; i < 5; ++i) {
    if (kEgressKinds[i] == kind || kSenderKinds[i] == kind) return i;
  }
  return 0;  // domain_deferrals
}

enum Escalation : uint8_t { kRising = 1, k4xxTo5xx = 2, kAgeing = 4 };
constexpr std::string_view kEscalationNames[] = {"rising", "4xx_to_5xx", "ageing"};

constexpr std::string_view kSeverityNames[] = {"warning", "major", "critical"};
int BaseSeverity(AlertKind kind, double rate) {
  if (kind == AlertKind::kBlocklist || rate >= 0.5) return 2;
  if (rate >= 0.2) return 1;
  return 0;
}
// An escalation warning raises the severity one step.
int Severity(AlertKind kind, double rate, uint8_t escalation) {
  return std::min(2, BaseSeverity(kind, rate) + (escalation ? 1 : 0));
}

inline uint64_t KeyHash(KeyFamily f, Provider p, std::string_view a, std::string_view b) {
  uint64_t h = HashBytes(a, (static_cast<uint64_t>(f) << 40) | (static_cast<uint64_t>(p) << 32));
  if (!b.empty()) h = HashBytes(b, h ^ 0xff);
  return HashMix(h);
}
inline uint64_t CellHash(uint32_t key) { return uint64_t{key} * 0x9e3779b97f4a7c15ULL; }

// A bounce without a code (an out-of-band DSN, say) is a refusal, not a deferral.
bool IsHard(const ClassifiedEvent& ce) {
  uint16_t code = ce.cls.code ? ce.cls.code : ce.event.reply.code;
  if (code) return code >= 500;
  return ce.event.outcome == Outcome::kBounced || ce.event.outcome == Outcome::kOutOfBand;
}

// Inserts `v` into the sorted, distinct prefix [0, n) of `arr` (capacity N), keeping the N smallest.
template <size_t N>
void InsertSmallest(std::array<std::string, N>& arr, uint8_t& n, std::string_view v) {
  if (v.empty()) return;
  size_t i = 0;
  while (i < n && std::string_view(arr[i]) < v) ++i;
  if (i < n && arr[i] == v) return;
  if (i >= N) return;
  size_t last = n < N ? n : N - 1;
  for (size_t j = last; j > i; --j) arr[j].swap(arr[j - 1]);
  arr[i].assign(v.data(), v.size());
  if (n < N) ++n;
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
    case AlertKind::kDomainDeferrals:
      return KeyFamily::kRecipientDomain;
    default:
      return KeyFamily::kEgress;
  }
}

int64_t FirstWindowStart(int64_t t, int64_t size_ms, int64_t advance_ms) {
  return FloorDiv(t, advance_ms) * advance_ms - size_ms + advance_ms;
}

AlertAggregator::AlertAggregator(AlertPolicy policy, int partitions)
    : policy_(std::move(policy)),
      size_ms_(policy_.window_ms > 0 ? policy_.window_ms : 5 * 60 * 1000),
      advance_ms_(policy_.advance_ms),
      max_time_(partitions, INT64_MIN),
      started_(partitions, false),
      finished_(partitions, false),
      late_(partitions, 0) {
  if (advance_ms_ <= 0 || advance_ms_ > size_ms_ || size_ms_ % advance_ms_ != 0) advance_ms_ = size_ms_;
  // alpha is per window length of new data; a hopping window is evaluated size/advance times as often.
  alpha_ = 1.0 - std::pow(1.0 - policy_.baseline_alpha,
                          static_cast<double>(advance_ms_) / static_cast<double>(size_ms_));
  for (int c = 0; c < kCategoryCount; ++c) {
    AlertKind kind;
    if (AlertKindForCategory(static_cast<Category>(c), kind)) {
      feeds_[c].family = FamilyOf(kind);
      feeds_[c].slot = static_cast<int8_t>(SlotOf(kind));
    }
  }
  for (int p = 0; p < kProviderCount; ++p) {
    for (int k = 0; k < kAlertKindCount; ++k) {
      thresholds_[p][k] = policy_.Threshold(static_cast<Provider>(p), static_cast<AlertKind>(k));
    }
  }
}

AlertAggregator::~AlertAggregator() = default;

bool AlertAggregator::Holds(size_t p) const {
  return !finished_[p] && started_[p] && !(p < parked_.size() && parked_[p]);
}

// The newest event time over the partitions that hold the watermark. Idleness is relative to it: a parked
// or finished partition far ahead must not make every active one look idle.
int64_t AlertAggregator::Newest() const {
  int64_t newest = INT64_MIN;
  for (size_t p = 0; p < max_time_.size(); ++p) {
    if (Holds(p)) newest = std::max(newest, max_time_[p]);
  }
  return newest;
}

int64_t AlertAggregator::ComputeWatermark() const {
  const int64_t newest = Newest();
  int64_t wm = INT64_MAX;
  bool any_parked = false;
  for (size_t p = 0; p < max_time_.size(); ++p) {
    if (finished_[p]) continue;
    if (p < parked_.size() && parked_[p]) {
      any_parked = true;
      continue;
    }
    if (!started_[p]) return INT64_MIN;  // an input we know of that has not begun: wait for it
    if (policy_.idle_timeout_ms > 0 && newest - max_time_[p] > policy_.idle_timeout_ms) continue;
    wm = std::min(wm, max_time_[p] - policy_.out_of_orderness_ms);
  }
  // Every input parked (none finished for good): no information, so no progress — not the end of input.
  if (wm == INT64_MAX && any_parked) return INT64_MIN;
  return wm;
}

int64_t AlertAggregator::watermark() const { return std::max(watermark_, ComputeWatermark()); }

bool AlertAggregator::idle(int partition) const {
  if (partition < 0 || static_cast<size_t>(partition) >= max_time_.size()) return false;
  if (!Holds(static_cast<size_t>(partition)) || policy_.idle_timeout_ms <= 0) return false;
  return Newest() - max_time_[partition] > policy_.idle_timeout_ms;
}

uint64_t AlertAggregator::late_events(int partition) const {
  return partition >= 0 && static_cast<size_t>(partition) < late_.size() ? late_[partition] : 0;
}

uint32_t AlertAggregator::Intern(uint64_t h, KeyFamily family, Provider provider, std::string_view a,
                                 std::string_view b) {
  const uint32_t found = key_index_.Find(h, [&](uint32_t id) {
    const KeyRef& k = refs_[id];
    return k.family == family && k.provider == provider && BytesEqual(k.a, a) && BytesEqual(k.b, b);
  });
  return found != FlatIndex::kEmpty ? found : NewKey(h, family, provider, a, b);
}

uint32_t AlertAggregator::NewKey(uint64_t h, KeyFamily family, Provider provider, std::string_view a,
                                 std::string_view b) {
  return key_index_.FindOrInsert(
      h, [](uint32_t) { return false; },
      [&]() {
        KeyRef r;
        r.a = key_bytes_.Copy(a);
        r.b = key_bytes_.Copy(b);
        r.family = family;
        r.provider = provider;
        refs_.push_back(r);
        KeyInfo k;
        k.hash = h;
        const char* prefix = family == KeyFamily::kEgress ? "ip|" : family == KeyFamily::kSenderDomain ? "sd|" : "rd|";
        absl::StrAppend(&k.sort_key, prefix, Av(ProviderName(provider)), "|", Av(a));
        if (family == KeyFamily::kEgress) absl::StrAppend(&k.sort_key, "|", Av(b));
        k.kind_state = static_cast<uint32_t>(kind_states_.size());
        kind_states_.resize(kind_states_.size() + FamilyKindCount(family));
        keys_.push_back(std::move(k));
        return static_cast<uint32_t>(keys_.size() - 1);
      });
}

AlertAggregator::Pane& AlertAggregator::PaneAt(int64_t start) {
  if (current_pane_ && current_pane_->start == start) return *current_pane_;
  auto it = panes_.find(start);
  if (it == panes_.end()) {
    std::unique_ptr<Pane> pane;
    if (!pane_pool_.empty()) {
      pane = std::move(pane_pool_.back());
      pane_pool_.pop_back();
    } else {
      pane = std::make_unique<Pane>();
    }
    pane->start = start;
    it = panes_.emplace(start, std::move(pane)).first;
  }
  current_pane_ = it->second.get();
  return *current_pane_;
}

AlertAggregator::Cell& AlertAggregator::CellFor(Pane& pane, uint32_t key) {
  KeyRef& k = refs_[key];
  if (k.cache_pane == pane.start) return pane.cells[k.cache_cell];
  uint32_t idx = pane.cell_index.FindOrInsert(
      CellHash(key), [&](uint32_t c) { return pane.cells[c].key == key; },
      [&]() {
        pane.cells.emplace_back();
        pane.cells.back().key = key;
        return static_cast<uint32_t>(pane.cells.size() - 1);
      });
  k.cache_pane = pane.start;
  k.cache_cell = idx;
  return pane.cells[idx];
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
      return;  // not an answer to an attempt of ours
  }
  // The MTA's own failures (connection timeouts, its own expiry) are not the provider's answer about our
  // IP or domain; a local deferral still says the recipient domain cannot be reached.
  const bool local = e.locally_generated;
  if (local && e.outcome != Outcome::kDeferred) return;
  const int64_t t = e.event_time_ms;
  const bool known = partition >= 0 && static_cast<size_t>(partition) < max_time_.size();
  if (known) {
    max_time_[partition] = std::max(max_time_[partition], t);
    started_[partition] = true;
  }
  // Most events fall in the pane of the one before: skip the division then.
  const int64_t pane_start = current_pane_ && t >= current_pane_->start && t - current_pane_->start < advance_ms_
                                 ? current_pane_->start
                                 : FloorDiv(t, advance_ms_) * advance_ms_;
  if (pane_start < next_close_start_) {
    // Every window holding this event has closed.
    ++late_total_;
    if (known) ++late_[partition];
    if (late_out_) late_out_->push_back(LateEvent{partition, t, watermark_, e.position.ToString()});
    return;
  }
  Pane& pane = PaneAt(pane_start);
  pane.dirty = true;
  const CategoryFeed feed = static_cast<size_t>(ce.cls.category) < feeds_.size()
                                ? feeds_[static_cast<size_t>(ce.cls.category)]
                                : CategoryFeed{};
  const bool feeds = feed.slot >= 0;
  const bool hard = IsHard(ce);
  const Provider provider = ce.cls.provider;
  const std::string_view egress = !e.sending_ip.empty() ? e.sending_ip : e.egress_source;
  const std::string_view mta = egress.empty() ? e.mta_host : std::string_view();
  // The three hashes first: they are independent, so the CPU computes them side by side.
  const uint64_t h_egress = KeyHash(KeyFamily::kEgress, provider, egress, mta);
  const uint64_t h_sender = KeyHash(KeyFamily::kSenderDomain, provider, e.sender_domain, {});
  const uint64_t h_domain = KeyHash(KeyFamily::kRecipientDomain, provider, e.recipient_domain, {});
  if (!local) {
    Count(pane, Intern(h_egress, KeyFamily::kEgress, provider, egress, mta),
          feed.family == KeyFamily::kEgress ? feed.slot : -1, ce, hard);
    Count(pane, Intern(h_sender, KeyFamily::kSenderDomain, provider, e.sender_domain, {}),
          feed.family == KeyFamily::kSenderDomain ? feed.slot : -1, ce, hard);
  }
  if (!e.recipient_domain.empty()) {
    // A domain-wide deferral: a 4xx that no refusal-of-us kind explains. Greylisting is routine and
    // resolves on retry, so it does not count.
    const bool deferral =
        e.outcome == Outcome::kDeferred && !feeds && ce.cls.category != Category::kGreylisted && !hard;
    Count(pane, Intern(h_domain, KeyFamily::kRecipientDomain, provider, e.recipient_domain, {}), deferral ? 0 : -1, ce,
          false);
  }
}

void AlertAggregator::Count(Pane& pane, uint32_t key, int slot, const ClassifiedEvent& ce, bool hard) {
  Cell& c = CellFor(pane, key);
  ++c.attempts;
  if (slot < 0) return;
  ++c.failures;
  KindCell& k = c.kinds[slot];
  ++k.count;
  k.hard += hard;
  k.max_attempt = std::max(k.max_attempt, ce.event.attempt);
  AddEvidence(pane, k, ce);
}

AlertAggregator::Detail& AlertAggregator::DetailOf(Pane& pane, KindCell& kc) {
  if (kc.detail < 0) {
    if (pane.n_details == pane.details.size()) pane.details.emplace_back();
    kc.detail = static_cast<int32_t>(pane.n_details++);
    Detail& d = pane.details[kc.detail];
    d.n_samples = d.n_rules = d.n_blocklists = 0;
  }
  return pane.details[kc.detail];
}

void AlertAggregator::AddEvidence(Pane& pane, KindCell& kc, const ClassifiedEvent& ce) {
  Detail& d = DetailOf(pane, kc);
  InsertSmallest(d.rules, d.n_rules, ce.cls.rule);
  InsertSmallest(d.blocklists, d.n_blocklists, ce.cls.blocklist);
  // Samples: the earliest three distinct replies, so the choice does not depend on arrival order.
  const int64_t t = ce.event.event_time_ms;
  if (d.n_samples == 3 && t > d.samples[2].time_ms) return;
  sample_.clear();
  const std::string_view text = ce.event.reply.text;
  if (ce.cls.code && !StartsWith(text, std::to_string(ce.cls.code))) {
    absl::StrAppend(&sample_, ce.cls.code, " ");
    if (ce.cls.enhanced.present()) {
      absl::StrAppend(&sample_, ce.cls.enhanced.cls, ".", ce.cls.enhanced.subject, ".", ce.cls.enhanced.detail, " ");
    }
  }
  absl::StrAppend(&sample_, Av(text));
  InsertSample(d, t, sample_);
}

void AlertAggregator::InsertSample(Detail& d, int64_t t, std::string_view text) {
  if (text.empty()) return;
  if (d.n_samples == 3 && t > d.samples[2].time_ms) return;
  const uint64_t h = HashBytes(text, 0);
  auto less = [&](const Sample& s) {  // is the candidate before s?
    if (t != s.time_ms) return t < s.time_ms;
    if (h != s.hash) return h < s.hash;
    return text < std::string_view(s.text);
  };
  size_t i = 0;
  for (; i < d.n_samples; ++i) {
    if (d.samples[i].hash == h && d.samples[i].text == text) {
      if (!less(d.samples[i])) return;  // already there, at an earlier or equal place
      // The same text, earlier: move it forward.
      for (size_t j = i; j + 1 < d.n_samples; ++j) std::swap(d.samples[j], d.samples[j + 1]);
      --d.n_samples;
      break;
    }
  }
  i = 0;
  while (i < d.n_samples && !less(d.samples[i])) ++i;
  if (i >= 3) return;
  size_t last = d.n_samples < 3 ? d.n_samples : 2;
  for (size_t j = last; j > i; --j) std::swap(d.samples[j], d.samples[j - 1]);
  d.samples[i].time_ms = t;
  d.samples[i].hash = h;
  d.samples[i].text.assign(text.data(), text.size());
  if (d.n_samples < 3) ++d.n_samples;
}

void AlertAggregator::FinishPartition(int partition) {
  if (partition >= 0 && static_cast<size_t>(partition) < finished_.size()) finished_[partition] = true;
}

// Added for the Kafka runtime (partitions are reassigned): see the header.
void AlertAggregator::StartPartition(int partition) {
  if (partition < 0) return;
  const size_t p = static_cast<size_t>(partition);
  if (p >= max_time_.size()) {
    max_time_.resize(p + 1, INT64_MIN);
    started_.resize(p + 1, false);
    finished_.resize(p + 1, true);
    late_.resize(p + 1, 0);
  }
  if (parked_.size() < max_time_.size()) parked_.resize(max_time_.size(), false);
  max_time_[p] = INT64_MIN;
  started_[p] = false;
  finished_[p] = false;
  parked_[p] = false;
}

// Added for the Kafka runtime: see the header.
void AlertAggregator::ParkPartition(int partition, bool parked) {
  if (partition < 0) return;
  const size_t p = static_cast<size_t>(partition);
  if (parked_.size() < max_time_.size()) parked_.resize(max_time_.size(), false);
  if (p < parked_.size()) parked_[p] = parked;
}

void AlertAggregator::Drain(std::vector<AlertRecord>& out) {
  watermark_ = std::max(watermark_, ComputeWatermark());
  CloseThrough(watermark_, out);
}

void AlertAggregator::Flush(std::vector<AlertRecord>& out) {
  CloseThrough(INT64_MAX, out);
}

void AlertAggregator::CloseThrough(int64_t wm, std::vector<AlertRecord>& out) {
  while (!panes_.empty()) {
    // Windows holding no pane have nothing to evaluate: jump to the first window of the oldest pane.
    const int64_t earliest = panes_.begin()->first - size_ms_ + advance_ms_;
    const int64_t start = next_close_start_ == INT64_MIN || next_close_start_ < earliest ? earliest : next_close_start_;
    if (wm != INT64_MAX && (wm == INT64_MIN || start + size_ms_ + policy_.grace_ms > wm)) break;
    if (judging_) CloseWindow(start, out);
    next_close_start_ = start + advance_ms_;
    // The pane starting at `start` is in no later window.
    while (!panes_.empty() && panes_.begin()->first < next_close_start_) ReleasePane(panes_.begin());
    if (policy_.key_ttl_ms > 0) {
      const int64_t end = start + size_ms_;
      if (next_compaction_ == INT64_MIN) next_compaction_ = end + policy_.key_ttl_ms;
      if (end >= next_compaction_) {
        CompactKeys(end);
        next_compaction_ = end + std::max<int64_t>(policy_.key_ttl_ms / 4, size_ms_);
      }
    }
  }
  // Windows the watermark passed that held no pane are closed too: an event for them is late.
  if (wm != INT64_MIN && wm != INT64_MAX) {
    const int64_t closed = FloorDiv(wm - size_ms_ - policy_.grace_ms, advance_ms_) * advance_ms_;
    if (next_close_start_ == INT64_MIN || closed + advance_ms_ > next_close_start_) next_close_start_ = closed + advance_ms_;
  }
}

void AlertAggregator::ReleasePane(std::map<int64_t, std::unique_ptr<Pane>>::iterator it) {
  std::unique_ptr<Pane> pane = std::move(it->second);
  panes_.erase(it);
  if (current_pane_ == pane.get()) current_pane_ = nullptr;
  pane->cells.clear();
  pane->cell_index.Clear();
  pane->n_details = 0;
  pane->dirty = false;
  pane->contributions.clear();
  pane_pool_.push_back(std::move(pane));
}

void AlertAggregator::CloseWindow(int64_t start, std::vector<AlertRecord>& out) {
  // Sum the panes of [start, start + size) per key.
  window_panes_.clear();
  for (auto it = panes_.lower_bound(start); it != panes_.end() && it->first < start + size_ms_; ++it) {
    window_panes_.push_back(it->second.get());
  }
  sums_.clear();
  if (sum_of_key_.size() < keys_.size()) sum_of_key_.resize(keys_.size(), -1);
  auto sum_for = [&](uint32_t key) -> Sum& {
    int32_t& idx = sum_of_key_[key];
    if (idx < 0) {
      idx = static_cast<int32_t>(sums_.size());
      sums_.emplace_back();
      sums_.back().key = key;
    }
    return sums_[idx];
  };
  for (const Pane* pane : window_panes_) {
    for (const Cell& c : pane->cells) {
      Sum& s = sum_for(c.key);
      s.attempts += c.attempts;
      if (c.failures == 0) continue;
      s.failures += c.failures;
      const int n = FamilyKindCount(refs_[c.key].family);
      for (int k = 0; k < n; ++k) {
        s.kinds[k].count += c.kinds[k].count;
        s.kinds[k].hard += c.kinds[k].hard;
        s.kinds[k].max_attempt = std::max(s.kinds[k].max_attempt, c.kinds[k].max_attempt);
      }
    }
  }
  // Keys with an open incident are evaluated even without data: they may resolve or go stale.
  for (uint32_t key : open_keys_) sum_for(key);
  // A fixed order: by key hash, the key text only on a tie.
  order_.resize(sums_.size());
  for (size_t i = 0; i < sums_.size(); ++i) order_[i] = {keys_[sums_[i].key].hash, static_cast<uint32_t>(i)};
  std::sort(order_.begin(), order_.end(), [&](const std::pair<uint64_t, uint32_t>& x, const std::pair<uint64_t, uint32_t>& y) {
    if (x.first != y.first) return x.first < y.first;
    return keys_[sums_[x.second].key].sort_key < keys_[sums_[y.second].key].sort_key;
  });
  for (const auto& [hash, i] : order_) EvaluateKey(start, sums_[i], out);
  for (const Sum& s : sums_) sum_of_key_[s.key] = -1;
}

void AlertAggregator::CompactKeys(int64_t now) {
  std::vector<uint8_t> live(keys_.size(), 0);
  for (const auto& [start, pane] : panes_) {
    for (const Cell& c : pane->cells) live[c.key] = 1;
  }
  size_t n_live = 0;
  for (size_t k = 0; k < keys_.size(); ++k) {
    const KeyInfo& key = keys_[k];
    live[k] |= key.open > 0 || (key.last_data_end != INT64_MIN && now - key.last_data_end <= policy_.key_ttl_ms);
    n_live += live[k];
  }
  if (n_live == keys_.size()) return;
  if (track_state_) {
    for (size_t k = 0; k < keys_.size(); ++k) {
      if (!live[k]) dropped_keys_.push_back(keys_[k].sort_key);
    }
  }
  std::vector<uint32_t> remap(keys_.size(), FlatIndex::kEmpty);
  std::vector<KeyRef> refs;
  std::vector<KeyInfo> keys;
  std::vector<KindState> states;
  Arena bytes;
  refs.reserve(n_live);
  keys.reserve(n_live);
  FlatIndex index;
  for (size_t k = 0; k < keys_.size(); ++k) {
    if (!live[k]) continue;
    const uint32_t id = static_cast<uint32_t>(keys.size());
    remap[k] = id;
    KeyRef r = refs_[k];
    r.a = bytes.Copy(r.a);
    r.b = bytes.Copy(r.b);
    refs.push_back(r);
    KeyInfo info = std::move(keys_[k]);
    const int n = FamilyKindCount(r.family);
    const uint32_t first = static_cast<uint32_t>(states.size());
    for (int i = 0; i < n; ++i) states.push_back(std::move(kind_states_[info.kind_state + i]));
    info.kind_state = first;
    index.FindOrInsert(info.hash, [](uint32_t) { return false; }, [&] { return id; });
    keys.push_back(std::move(info));
  }
  refs_.swap(refs);
  keys_.swap(keys);
  kind_states_.swap(states);
  key_bytes_ = std::move(bytes);
  key_index_ = std::move(index);
  // Cells keep their place in each pane (so the keys' cached cells stay right); only their key ids and
  // the pane's index of them change.
  for (auto& [start, pane] : panes_) {
    pane->cell_index.Clear();
    for (uint32_t c = 0; c < pane->cells.size(); ++c) {
      Cell& cell = pane->cells[c];
      cell.key = remap[cell.key];
      pane->cell_index.FindOrInsert(CellHash(cell.key), [](uint32_t) { return false; }, [&] { return c; });
    }
    if (!pane->contributions.empty()) {
      std::map<uint64_t, Contribution> renamed;
      for (const auto& [id, c] : pane->contributions) {
        renamed.emplace((id & ~uint64_t{0xffffffff}) | remap[id & 0xffffffff], c);
      }
      pane->contributions.swap(renamed);
    }
  }
  std::vector<uint32_t> dirty;
  for (uint32_t k : dirty_keys_) {
    if (remap[k] != FlatIndex::kEmpty) dirty.push_back(remap[k]);
  }
  dirty_keys_.swap(dirty);
  std::set<uint32_t> open;
  for (uint32_t k : open_keys_) open.insert(remap[k]);
  open_keys_.swap(open);
  sum_of_key_.assign(keys_.size(), -1);
}

void AlertAggregator::Learn(KindState& st, double rate) const {
  st.baseline = st.baseline_seen ? alpha_ * rate + (1 - alpha_) * st.baseline : rate;
  st.baseline_seen = true;
}

void AlertAggregator::EvaluateKey(int64_t start, const Sum& sum, std::vector<AlertRecord>& out) {
  KeyInfo& key = keys_[sum.key];
  if (track_state_ && !key.dirty) {
    key.dirty = true;
    dirty_keys_.push_back(sum.key);
  }
  const KeyRef& ref = refs_[sum.key];
  const int64_t end = start + size_ms_;
  const int n = FamilyKindCount(ref.family);
  if (sum.attempts > 0 && key.open == 0 && policy_.key_ttl_ms > 0 && key.last_data_end != INT64_MIN &&
      end - key.last_data_end > policy_.key_ttl_ms) {
    // Back after more than key_ttl_ms without attempts: start over, as a new key would (it may have been
    // dropped from memory meanwhile; both ways must give the same alerts).
    for (int k = 0; k < n; ++k) kind_states_[key.kind_state + k] = KindState{};
    key.run_since = INT64_MIN;
    key.run_escalated = false;
  }
  if (sum.attempts > 0) key.last_data_end = end;
  if (sum.failures == 0 && key.open == 0) {
    // The common case, short: no failures and no incident. Only the baselines learn (and a 4xx run ends).
    if (sum.attempts > 0) {
      key.run_since = INT64_MIN;
      key.run_escalated = false;
      for (int k = 0; k < n; ++k) {
        const AlertKind kind = FamilyKind(ref.family, k);
        if (sum.attempts >= thresholds_[static_cast<size_t>(ref.provider)][static_cast<size_t>(kind)].min_attempts) {
          Learn(kind_states_[key.kind_state + k], 0.0);
        }
      }
    }
    return;
  }
  // 4xx → 5xx: a run of windows with substantial 4xx refusals of us, then the first 5xx.
  bool escalate_5xx = false;
  if (ref.family != KeyFamily::kRecipientDomain && sum.attempts > 0) {
    uint64_t soft = 0, hard = 0;
    bool substantial = false;
    for (int k = 0; k < n; ++k) {
      const KindSum& ks = sum.kinds[k];
      const uint64_t s = ks.count - ks.hard;
      soft += s;
      hard += ks.hard;
      if (s > 0 && s >= thresholds_[static_cast<size_t>(ref.provider)][static_cast<size_t>(FamilyKind(ref.family, k))].min_count) {
        substantial = true;
      }
    }
    if (hard > 0) {
      if (key.run_since != INT64_MIN && start - key.run_since >= policy_.escalation_run_ms && !key.run_escalated) {
        escalate_5xx = true;
        key.run_escalated = true;
      }
    } else if (substantial) {
      if (key.run_since == INT64_MIN) key.run_since = start;
    } else if (soft == 0) {
      key.run_since = INT64_MIN;
      key.run_escalated = false;
    }
  }
  for (int k = 0; k < n; ++k) EvaluateKind(start, sum.key, k, sum, escalate_5xx, out);
}

void AlertAggregator::EvaluateKind(int64_t start, uint32_t key_id, int slot, const Sum& sum, bool escalate_5xx,
                                   std::vector<AlertRecord>& out) {
  KeyInfo& key = keys_[key_id];
  const KeyRef& ref = refs_[key_id];
  const AlertKind kind = FamilyKind(ref.family, slot);
  KindState& st = kind_states_[key.kind_state + slot];
  const KindThreshold& t = thresholds_[static_cast<size_t>(ref.provider)][static_cast<size_t>(kind)];
  const KindSum& ks = sum.kinds[slot];
  const int64_t end = start + size_ms_;
  const uint64_t count = ks.count;
  const uint64_t attempts = sum.attempts;
  const double rate = attempts ? static_cast<double>(count) / static_cast<double>(attempts) : 0.0;
  const bool above_baseline = !st.baseline_seen || rate >= t.baseline_factor * st.baseline;
  const bool deferrals = ks.hard * 2 < count;  // mostly 4xx: the kind of incident that ages and escalates

  if (!st.open) {
    if (count == 0) {
      // No data is not a zero rate, and a window below the volume floor is not a rate either (the first,
      // partly filled window of a new key must not teach it that its incident is normal).
      if (attempts >= t.min_attempts && attempts > 0) Learn(st, 0.0);
      return;
    }
    const bool single_occurrence = t.min_count <= 1;
    const bool warm = st.baseline_seen || single_occurrence || rate >= policy_.cold_start_rate;
    const bool above = attempts >= t.min_attempts && count >= t.min_count && rate >= t.min_rate && above_baseline && warm;
    // The first 5xx after a run of 4xx is worth a warning even below this kind's thresholds, unless an
    // incident of the key already carries it.
    const bool escalated = escalate_5xx && ks.hard > 0 && key.open == 0;
    if (!above && !escalated) {
      if (attempts >= t.min_attempts) Learn(st, rate);
      return;
    }
    st.open = true;
    st.id = StableHash().Add(AlertKindName(kind)).Add(key.sort_key).Add(start).Hex();
    st.since = start;
    st.fired_rate = rate;
    st.last_above_end = end;
    st.quiet_with_data = false;
    st.escalation = 0;
    if (escalate_5xx && ks.hard > 0) st.escalation |= k4xxTo5xx;
    if (deferrals && ks.max_attempt >= policy_.ageing_attempts) st.escalation |= kAgeing;
    const int severity = Severity(kind, rate, st.escalation);
    st.last_reported = count;
    st.last_report_end = end;
    st.last_severity = static_cast<uint8_t>(severity);
    ++key.open;
    ++open_count_;
    open_keys_.insert(key_id);
    Emit(AlertState::kFiring, start, key_id, slot, st, sum, severity, out);
    return;
  }

  // Open: it stays open while failures go on at the minimum rate (hysteresis: no flapping around the
  // count threshold); the baseline is frozen so the incident does not teach itself that it is normal.
  const bool above = count > 0 && rate >= t.min_rate && above_baseline;
  uint8_t esc = st.escalation;
  if (escalate_5xx) esc |= k4xxTo5xx;  // reported even when this kind is calming down: it is news
  // A hopping window that fired early holds only the incident's first minutes: the rate it reaches
  // while the window fills (one window_ms after firing) is the reference "rising" is measured against.
  const bool filling = start <= st.since + size_ms_;
  if (filling) st.fired_rate = std::max(st.fired_rate, rate);
  if (above && deferrals) {
    // Only windows with the volume to open an incident can show a rise (3 of 4 is not a trend).
    const bool volume = attempts >= t.min_attempts && count >= t.min_count;
    if (!filling && volume && rate >= st.fired_rate + policy_.rising_delta) esc |= kRising;
    if (end - st.since >= policy_.ageing_after_ms || ks.max_attempt >= policy_.ageing_attempts) esc |= kAgeing;
  }
  const bool new_escalation = esc != st.escalation;
  st.escalation = esc;
  if (above) {
    st.last_above_end = end;
    st.quiet_with_data = false;
    const int severity = Severity(kind, rate, esc);
    const bool worse = severity > st.last_severity;
    const bool grown = static_cast<double>(count) >= policy_.update_factor * static_cast<double>(st.last_reported);
    const bool cooled = end - st.last_report_end >= policy_.update_cooldown_ms;
    if (new_escalation || ((worse || grown) && cooled)) {
      st.last_reported = count;
      st.last_report_end = end;
      st.last_severity = static_cast<uint8_t>(std::max<int>(severity, st.last_severity));
      Emit(AlertState::kUpdated, start, key_id, slot, st, sum, severity, out);
    }
    return;
  }
  if (new_escalation) {
    st.last_severity = static_cast<uint8_t>(std::min(2, st.last_severity + 1));
    st.last_report_end = end;
    Emit(AlertState::kUpdated, start, key_id, slot, st, sum, st.last_severity, out);
  }
  if (attempts > 0) st.quiet_with_data = true;
  const bool quiet = st.quiet_with_data && end - st.last_above_end >= policy_.resolve_after_ms;
  const bool stale = key.last_data_end != INT64_MIN && end - key.last_data_end >= policy_.stale_after_ms;
  if (quiet || stale) {
    Emit(AlertState::kResolved, start, key_id, slot, st, sum, st.last_severity, out);
    st.open = false;
    st.id.clear();
    --open_count_;
    if (--key.open == 0) open_keys_.erase(key_id);
  }
}

void AlertAggregator::Emit(AlertState state, int64_t start, uint32_t key_id, int slot, const KindState& st,
                           const Sum& sum, int severity, std::vector<AlertRecord>& out) {
  const KeyRef& key = refs_[key_id];
  const AlertKind kind = FamilyKind(key.family, slot);
  const KindSum& ks = sum.kinds[slot];
  AlertRecord r;
  r.id = st.id;
  r.kind = kind;
  r.state = state;
  r.key.provider = key.provider;
  switch (key.family) {
    case KeyFamily::kEgress:
      r.key.sending_ip = std::string(key.a);
      r.key.mta = std::string(key.b);
      break;
    case KeyFamily::kSenderDomain:
      r.key.sender_domain = std::string(key.a);
      break;
    case KeyFamily::kRecipientDomain:
      r.key.domain = std::string(key.a);
      break;
  }
  r.window_start_ms = start;
  r.window_end_ms = start + size_ms_;
  r.since_ms = st.since;
  r.count = ks.count;
  r.hard = ks.hard;
  r.soft = ks.count - ks.hard;
  r.attempts = sum.attempts;
  r.rate = sum.attempts ? static_cast<double>(ks.count) / static_cast<double>(sum.attempts) : 0.0;
  r.baseline = st.baseline;
  r.severity = std::string(kSeverityNames[std::clamp(severity, 0, 2)]);
  r.action = ActionForAlertKind(kind);
  for (int b = 0; b < 3; ++b) {
    if (st.escalation & (1 << b)) r.escalation.emplace_back(kEscalationNames[b]);
  }
  if (ks.count > 0) {
    // Evidence from the window's panes: the earliest samples, the smallest rule ids.
    std::vector<const Sample*> samples;
    for (const Pane* pane : window_panes_) {
      uint32_t c = pane->cell_index.Find(CellHash(key_id),
                                         [&](uint32_t i) { return pane->cells[i].key == key_id; });
      if (c == FlatIndex::kEmpty || pane->cells[c].kinds[slot].detail < 0) continue;
      const Detail& d = pane->details[pane->cells[c].kinds[slot].detail];
      for (int i = 0; i < d.n_samples; ++i) samples.push_back(&d.samples[i]);
      for (int i = 0; i < d.n_rules; ++i) r.rules.push_back(d.rules[i]);
      for (int i = 0; i < d.n_blocklists; ++i) r.blocklists.push_back(d.blocklists[i]);
    }
    std::sort(samples.begin(), samples.end(), [](const Sample* x, const Sample* y) {
      if (x->time_ms != y->time_ms) return x->time_ms < y->time_ms;
      if (x->hash != y->hash) return x->hash < y->hash;
      return x->text < y->text;
    });
    for (const Sample* s : samples) {
      if (r.samples.size() == 3) break;
      if (std::find(r.samples.begin(), r.samples.end(), s->text) == r.samples.end()) r.samples.push_back(s->text);
    }
    for (auto* v : {&r.rules, &r.blocklists}) {
      std::sort(v->begin(), v->end());
      v->erase(std::unique(v->begin(), v->end()), v->end());
      if (v->size() > 5) v->resize(5);
    }
  }
  out.push_back(std::move(r));
}

// ------------------------------------------------------------------------------ window partials

void AlertAggregator::ExportPanes(int64_t through,
                                  const std::function<void(int64_t pane_start, const PartialCell&)>& visit) {
  PartialCell pc;
  for (auto& [start, pane] : panes_) {
    if (through != INT64_MAX && (through == INT64_MIN || start + advance_ms_ + policy_.grace_ms > through)) break;
    if (!pane->dirty) continue;
    pane->dirty = false;
    for (const Cell& c : pane->cells) {
      const KeyRef& r = refs_[c.key];
      pc.family = r.family;
      pc.provider = r.provider;
      pc.a = r.a;
      pc.b = r.b;
      pc.attempts = c.attempts;
      pc.failures = c.failures;
      pc.n_kinds = static_cast<uint8_t>(FamilyKindCount(r.family));
      for (int k = 0; k < pc.n_kinds; ++k) {
        const KindCell& kc = c.kinds[k];
        PartialKind& pk = pc.kinds[k];
        pk = PartialKind{};
        pk.count = kc.count;
        pk.hard = kc.hard;
        pk.max_attempt = kc.max_attempt;
        if (kc.detail < 0) continue;
        const Detail& d = pane->details[kc.detail];
        pk.n_samples = d.n_samples;
        pk.n_rules = d.n_rules;
        pk.n_blocklists = d.n_blocklists;
        for (int i = 0; i < d.n_samples; ++i) {
          pk.sample_time[i] = d.samples[i].time_ms;
          pk.samples[i] = d.samples[i].text;
        }
        for (int i = 0; i < d.n_rules; ++i) pk.rules[i] = d.rules[i];
        for (int i = 0; i < d.n_blocklists; ++i) pk.blocklists[i] = d.blocklists[i];
      }
      visit(start, pc);
    }
  }
}

void AlertAggregator::ApplyPartial(int source, int64_t pane_start, const PartialCell& cell) {
  const bool known = source >= 0 && static_cast<size_t>(source) < late_.size();
  if (pane_start < next_close_start_) {
    if (pane_start < restored_before_) return;  // read again after a restore: judged before it
    late_total_ += cell.attempts;
    if (known) late_[source] += cell.attempts;
    return;
  }
  Pane& pane = PaneAt(pane_start);
  const uint32_t key =
      Intern(KeyHash(cell.family, cell.provider, cell.a, cell.b), cell.family, cell.provider, cell.a, cell.b);
  Cell& c = CellFor(pane, key);
  Contribution& prev = pane.contributions[(uint64_t{static_cast<uint32_t>(source)} << 32) | key];
  // Unsigned arithmetic: exact whenever the result is (a newer partial never counts fewer events).
  c.attempts += cell.attempts - prev.attempts;
  c.failures += cell.failures - prev.failures;
  prev.attempts = cell.attempts;
  prev.failures = cell.failures;
  const int n = std::min<int>(cell.n_kinds, FamilyKindCount(cell.family));
  for (int k = 0; k < n; ++k) {
    const PartialKind& pk = cell.kinds[k];
    KindCell& kc = c.kinds[k];
    kc.count += pk.count - prev.count[k];
    kc.hard += pk.hard - prev.hard[k];
    prev.count[k] = pk.count;
    prev.hard[k] = pk.hard;
    kc.max_attempt = std::max(kc.max_attempt, pk.max_attempt);
    if (pk.n_samples == 0 && pk.n_rules == 0 && pk.n_blocklists == 0) continue;
    // Evidence only grows: the earliest samples and smallest ids of a superset include the subset's.
    Detail& d = DetailOf(pane, kc);
    for (int i = 0; i < pk.n_rules && i < 5; ++i) InsertSmallest(d.rules, d.n_rules, pk.rules[i]);
    for (int i = 0; i < pk.n_blocklists && i < 5; ++i) InsertSmallest(d.blocklists, d.n_blocklists, pk.blocklists[i]);
    for (int i = 0; i < pk.n_samples && i < 3; ++i) InsertSample(d, pk.sample_time[i], pk.samples[i]);
  }
}

void AlertAggregator::NotePane(int64_t start) {
  if (start < next_close_start_ || start < restored_before_) return;
  PaneAt(start);
}

void AlertAggregator::SetProgress(int source, int64_t max_time, bool parked) {
  if (source < 0 || static_cast<size_t>(source) >= max_time_.size()) return;
  const size_t p = static_cast<size_t>(source);
  if (parked_.size() < max_time_.size()) parked_.resize(max_time_.size(), false);
  parked_[p] = parked;
  finished_[p] = false;
  if (max_time == INT64_MIN) return;  // no event yet: it holds the watermark back unless parked
  started_[p] = true;
  max_time_[p] = std::max(max_time_[p], max_time);
}

// ------------------------------------------------------------------------- judging state

namespace {
constexpr std::string_view kClosedKey = "#closed";
constexpr uint8_t kStateVersion = 1;
}  // namespace

void AlertAggregator::TakeStateChanges(const StateFn& emit) {
  for (const std::string& k : dropped_keys_) emit(k, {}, true);
  dropped_keys_.clear();
  std::string v;
  for (uint32_t id : dirty_keys_) {
    KeyInfo& key = keys_[id];
    key.dirty = false;
    const KeyRef& ref = refs_[id];
    v.clear();
    bytes::PutU8(v, kStateVersion);
    bytes::PutU8(v, static_cast<uint8_t>(ref.family));
    bytes::PutU8(v, static_cast<uint8_t>(ref.provider));
    bytes::PutStr(v, ref.a);
    bytes::PutStr(v, ref.b);
    bytes::PutI64(v, key.last_data_end);
    bytes::PutI64(v, key.run_since);
    bytes::PutU8(v, key.run_escalated ? 1 : 0);
    const int n = FamilyKindCount(ref.family);
    for (int k = 0; k < n; ++k) {
      const KindState& st = kind_states_[key.kind_state + k];
      bytes::PutF64(v, st.baseline);
      bytes::PutU8(v, static_cast<uint8_t>((st.baseline_seen ? 1 : 0) | (st.open ? 2 : 0) | (st.quiet_with_data ? 4 : 0)));
      bytes::PutU8(v, st.escalation);
      bytes::PutU8(v, st.last_severity);
      bytes::PutI64(v, st.since);
      bytes::PutI64(v, st.last_above_end);
      bytes::PutI64(v, st.last_report_end);
      bytes::PutU64(v, st.last_reported);
      bytes::PutF64(v, st.fired_rate);
      bytes::PutStr(v, st.id);
    }
    emit(key.sort_key, v, false);
  }
  dirty_keys_.clear();
  if (next_close_start_ != saved_close_ || watermark_ != saved_watermark_) {
    v.clear();
    bytes::PutU8(v, kStateVersion);
    bytes::PutI64(v, next_close_start_);
    bytes::PutI64(v, watermark_);
    bytes::PutI64(v, next_compaction_);
    emit(kClosedKey, v, false);
    saved_close_ = next_close_start_;
    saved_watermark_ = watermark_;
  }
}

bool AlertAggregator::RestoreState(std::string_view key_text, std::string_view value) {
  bytes::Reader r(value);
  if (r.U8() != kStateVersion) return false;
  if (key_text == kClosedKey) {
    const int64_t close = r.I64(), wm = r.I64(), compaction = r.I64();
    if (!r.ok() || !r.done()) return false;
    next_close_start_ = restored_before_ = saved_close_ = close;
    watermark_ = saved_watermark_ = std::max(watermark_, wm);
    next_compaction_ = compaction;
    return true;
  }
  const uint8_t family = r.U8(), provider = r.U8();
  if (family > static_cast<uint8_t>(KeyFamily::kRecipientDomain) || provider >= kProviderCount) return false;
  const KeyFamily f = static_cast<KeyFamily>(family);
  const Provider p = static_cast<Provider>(provider);
  const std::string_view a = r.Str(), b = r.Str();
  KeyInfo info;
  info.last_data_end = r.I64();
  info.run_since = r.I64();
  info.run_escalated = r.U8() != 0;
  const int n = FamilyKindCount(f);
  std::array<KindState, kMaxFamilyKinds> states;
  for (int k = 0; k < n; ++k) {
    KindState& st = states[k];
    st.baseline = r.F64();
    const uint8_t flags = r.U8();
    st.baseline_seen = flags & 1;
    st.open = flags & 2;
    st.quiet_with_data = flags & 4;
    st.escalation = r.U8();
    st.last_severity = r.U8();
    st.since = r.I64();
    st.last_above_end = r.I64();
    st.last_report_end = r.I64();
    st.last_reported = r.U64();
    st.fired_rate = r.F64();
    st.id = std::string(r.Str());
  }
  if (!r.ok() || !r.done()) return false;
  const uint32_t id = Intern(KeyHash(f, p, a, b), f, p, a, b);
  KeyInfo& key = keys_[id];
  if (key.sort_key != key_text) return false;
  // A later record of the same key replaces an earlier one (the changelog before compaction).
  open_count_ -= static_cast<uint64_t>(key.open);
  key.last_data_end = info.last_data_end;
  key.run_since = info.run_since;
  key.run_escalated = info.run_escalated;
  key.open = 0;
  for (int k = 0; k < n; ++k) {
    kind_states_[key.kind_state + k] = std::move(states[k]);
    key.open += kind_states_[key.kind_state + k].open ? 1 : 0;
  }
  open_count_ += static_cast<uint64_t>(key.open);
  if (key.open > 0) {
    open_keys_.insert(id);
  } else {
    open_keys_.erase(id);
  }
  return true;
}

}  // namespace bs
