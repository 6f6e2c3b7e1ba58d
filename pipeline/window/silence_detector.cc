#include "pipeline/window/silence_detector.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "pipeline/base/stable_hash.h"
#include "pipeline/base/strings.h"

namespace bs {
namespace {

int64_t FloorDiv(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

}  // namespace

SilenceDetector::SilenceDetector(SilencePolicy policy, int64_t key_ttl_ms)
    : policy_(std::move(policy)),
      window_ms_(policy_.window_ms > 0 ? policy_.window_ms : 15 * 60 * 1000),
      key_ttl_ms_(key_ttl_ms) {
  provider_key_.fill(-1);
}

uint32_t SilenceDetector::NewKey(Family family, Provider provider, std::string_view host) {
  Key k;
  k.family = family;
  k.provider = provider;
  k.host = std::string(host);
  k.sort_key = family == kProviderFamily ? absl::StrCat("provider|", Av(ProviderName(provider)))
                                         : absl::StrCat("mta|", Av(host));
  keys_.push_back(std::move(k));
  order_dirty_ = true;
  return static_cast<uint32_t>(keys_.size() - 1);
}

uint32_t SilenceDetector::ProviderKey(Provider p) {
  int32_t& id = provider_key_[static_cast<size_t>(p) % kProviderCount];
  if (id < 0) id = static_cast<int32_t>(NewKey(kProviderFamily, p, {}));
  return static_cast<uint32_t>(id);
}

uint32_t SilenceDetector::HostKey(std::string_view host) {
  if (has_last_host_ && host == last_host_) return last_host_key_;
  auto it = host_key_.find(absl::string_view(host.data(), host.size()));
  uint32_t id;
  if (it != host_key_.end()) {
    id = it->second;
  } else {
    id = NewKey(kHostFamily, Provider::kOther, host);
    host_key_.emplace(std::string(host), id);
  }
  last_host_.assign(host.data(), host.size());
  last_host_key_ = id;
  has_last_host_ = true;
  return id;
}

std::vector<uint32_t>& SilenceDetector::BucketAt(int64_t start) {
  if (cur_ != nullptr && cur_start_ == start) return *cur_;
  cur_ = &buckets_[start];
  cur_start_ = start;
  return *cur_;
}

void SilenceDetector::Add(const ClassifiedEvent& ce) {
  if (!policy_.enabled || ce.event.outcome == Outcome::kEnvelope) return;
  const int64_t start = FloorDiv(ce.event.event_time_ms, window_ms_) * window_ms_;
  if (start < next_judge_) {
    ++late_;
    return;
  }
  const uint32_t pk = ProviderKey(ce.cls.provider);
  const bool has_host = !ce.event.mta_host.empty();
  const uint32_t hk = has_host ? HostKey(ce.event.mta_host) : 0;
  std::vector<uint32_t>& counts = BucketAt(start);
  if (counts.size() < keys_.size()) counts.resize(keys_.size(), 0);
  ++counts[pk];
  if (has_host) ++counts[hk];
}

void SilenceDetector::Advance(int64_t watermark, std::vector<AlertRecord>& out) {
  if (!policy_.enabled || watermark == INT64_MIN || watermark == INT64_MAX) return;
  if (order_dirty_) {
    order_.resize(keys_.size());
    for (uint32_t i = 0; i < keys_.size(); ++i) order_[i] = i;
    std::sort(order_.begin(), order_.end(), [&](uint32_t a, uint32_t b) {
      if (keys_[a].family != keys_[b].family) return keys_[a].family < keys_[b].family;
      return keys_[a].sort_key < keys_[b].sort_key;
    });
    order_dirty_ = false;
  }
  while (!buckets_.empty() && buckets_.begin()->first + window_ms_ <= watermark) {
    auto it = buckets_.begin();
    Judge(it->first, it->second, out);
    if (cur_ == &it->second) cur_ = nullptr;
    buckets_.erase(it);
  }
  const int64_t judged = FloorDiv(watermark, window_ms_) * window_ms_;
  if (judged > next_judge_) {
    next_judge_ = judged;
    if (key_ttl_ms_ > 0 && (next_forget_ == INT64_MIN || judged >= next_forget_)) {
      Forget(judged, out);
      next_forget_ = judged + std::max<int64_t>(key_ttl_ms_ / 4, window_ms_);
    }
  }
}

void SilenceDetector::Finish() {
  buckets_.clear();
  cur_ = nullptr;
}

void SilenceDetector::Learn(Key& k, uint64_t count) const {
  const double c = static_cast<double>(count);
  k.baseline = k.learned > 0 ? policy_.baseline_alpha * c + (1 - policy_.baseline_alpha) * k.baseline : c;
  ++k.learned;
  if (count > 0) ++k.active;
}

void SilenceDetector::Judge(int64_t start, const std::vector<uint32_t>& counts, std::vector<AlertRecord>& out) {
  const int64_t end = start + window_ms_;
  auto count_of = [&](uint32_t id) -> uint64_t { return id < counts.size() ? counts[id] : 0; };
  // Per family: events in this window, and the sum of the baselines (what the family usually logs).
  std::array<uint64_t, 2> total{};
  std::array<double, 2> usual{};
  for (uint32_t id = 0; id < keys_.size(); ++id) {
    const Key& k = keys_[id];
    total[k.family] += count_of(id);
    if (k.learned > 0) usual[k.family] += k.baseline;
  }
  for (uint32_t id : order_) {
    Key& k = keys_[id];
    const uint64_t c = count_of(id);
    if (c > 0) k.last_seen_end = end;
    const uint64_t rest = total[k.family] - c;
    const double rest_usual = std::max(0.0, usual[k.family] - (k.learned > 0 ? k.baseline : 0.0));
    // Skipped unless the rest of the family goes on as usual.
    if (rest == 0 || static_cast<double>(rest) * 100.0 < policy_.rest_min_percent * rest_usual) continue;
    const bool quiet = static_cast<double>(c) * 100.0 <= policy_.quiet_percent * k.baseline;
    if (k.open) {
      if (!quiet) {
        Emit(AlertState::kResolved, start, k, c, rest, out);
        k.open = false;
        k.quiet_run = 0;
        --open_count_;
      }
      continue;  // the baseline is frozen during an incident
    }
    if (quiet && k.active >= policy_.warmup_windows &&
        k.baseline >= static_cast<double>(policy_.min_events_per_window)) {
      if (k.quiet_run++ == 0) k.quiet_since = start;
      if (k.quiet_run >= policy_.quiet_windows) {
        k.open = true;
        k.id = StableHash().Add(AlertKindName(AlertKind::kSilence)).Add(k.sort_key).Add(k.quiet_since).Hex();
        ++open_count_;
        Emit(AlertState::kFiring, start, k, c, rest, out);
      }
      continue;  // a quiet run does not teach the baseline that quiet is normal
    }
    k.quiet_run = 0;
    Learn(k, c);
  }
}

// Keys without events for key_ttl_ms start over (a day-old volume says little about today's); an open
// incident is resolved first. Their few bytes stay in memory: providers and hosts are few.
void SilenceDetector::Forget(int64_t now, std::vector<AlertRecord>& out) {
  for (uint32_t id : order_) {
    Key& k = keys_[id];
    if (k.last_seen_end == INT64_MIN || now - k.last_seen_end <= key_ttl_ms_) continue;
    if (k.open) {
      Emit(AlertState::kResolved, now - window_ms_, k, 0, 0, out);
      --open_count_;
    }
    k.baseline = 0;
    k.learned = 0;
    k.active = 0;
    k.quiet_run = 0;
    k.open = false;
    k.last_seen_end = INT64_MIN;
  }
}

void SilenceDetector::Emit(AlertState state, int64_t start, const Key& k, uint64_t count, uint64_t rest,
                           std::vector<AlertRecord>& out) const {
  AlertRecord r;
  r.id = k.id;
  r.kind = AlertKind::kSilence;
  r.state = state;
  r.key.provider = k.provider;
  if (k.family == kHostFamily) r.key.mta = k.host;
  r.window_start_ms = start;
  r.window_end_ms = start + window_ms_;
  r.since_ms = k.quiet_since;
  r.count = count;     // events of the key in the window
  r.attempts = rest;   // events of the rest of its family in the window
  r.baseline = k.baseline;
  r.rate = k.baseline > 0 ? static_cast<double>(count) / k.baseline : 0.0;  // share of its usual volume
  r.severity = "major";
  r.action = ActionForAlertKind(AlertKind::kSilence);
  out.push_back(std::move(r));
}

}  // namespace bs
