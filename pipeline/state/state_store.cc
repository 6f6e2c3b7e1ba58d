#include "pipeline/state/state_store.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "pipeline/base/strings.h"
#include "pipeline/state/state_hash.h"

namespace bs::state {
namespace {

constexpr uint8_t kValueVersion = 1;
constexpr size_t kKeyBlock = size_t{1} << 20;
constexpr size_t kMaxKeyBlocks = size_t{1} << 12;  // offsets are 32 bits: 4096 blocks of 1 MiB

size_t VarintSize(size_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

[[noreturn]] void Fatal(const char* what) {
  std::fprintf(stderr, "bouncestream: state store: %s\n", what);
  std::abort();
}

}  // namespace

size_t StateStore::ViewHash::operator()(std::string_view s) const { return HashBytes(s); }

template <typename T, int kShift>
uint32_t StateStore::Blocks<T, kShift>::Allocate() {
  if (!free_.empty()) {
    const uint32_t i = free_.back();
    free_.pop_back();
    (*this)[i] = T{};
    return i;
  }
  if ((next_ >> kShift) == blocks_.size()) {
    if (blocks_.size() >= (size_t{1} << (32 - kShift)) - 1) Fatal("more than 2^32 records");
    blocks_.push_back(std::make_unique<T[]>(size_t{1} << kShift));
  }
  return next_++;
}

StateStore::StateStore(StateTtl ttl, bool track_changes, size_t expected_addresses)
    : ttl_(ttl), track_changes_(track_changes) {
  capacity_ = std::max<size_t>(1024, expected_addresses + expected_addresses / 4 + 1);
  slots_.assign(capacity_, 0);
  domain_names_.emplace_back();
  domain_states_.emplace_back();
}

// ---- keys --------------------------------------------------------------------------------------------

StateStore::Split StateStore::SplitAddress(std::string_view address) {
  Split k;
  const size_t at = address.rfind('@');
  if (at == std::string_view::npos || at + 1 == address.size()) {
    k.local = address;  // no domain: the whole key ("foo" and "foo@" stay distinct)
    return k;
  }
  k.local = address.substr(0, at);
  k.domain = address.substr(at + 1);
  k.has_domain = true;
  return k;
}

std::string_view StateStore::LocalOf(const KeyState& s) const {
  const char* p = key_blocks_[s.key >> kKeyBlockShift].get() + (s.key & (kKeyBlock - 1));
  size_t n = 0;
  for (int shift = 0;; shift += 7) {
    const uint8_t b = static_cast<uint8_t>(*p++);
    n |= static_cast<size_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) break;
  }
  return {p, n};
}

bool StateStore::Matches(const KeyState& s, const Split& k) const {
  if (k.has_domain) {
    if (s.domain == kNoDomain || domain_names_[s.domain] != k.domain) return false;
  } else if (s.domain != kNoDomain) {
    return false;
  }
  return LocalOf(s) == k.local;
}

uint64_t StateStore::HashOf(const KeyState& s) const {
  return HashAddress(LocalOf(s), s.domain == kNoDomain ? std::string_view() : domain_names_[s.domain]);
}

void StateStore::KeyOf(Ref r, std::string& out) const {
  const KeyState& s = records_[r];
  out.assign(LocalOf(s));
  if (s.domain != kNoDomain) {
    out.push_back('@');
    out.append(domain_names_[s.domain]);
  }
}

uint32_t StateStore::AppendKey(std::string_view local) {
  const size_t need = VarintSize(local.size()) + local.size();
  if (key_blocks_.empty() || key_used_ + need > key_block_size_) {
    if (key_blocks_.size() >= kMaxKeyBlocks) Fatal("key arena full (4 GiB of keys)");
    key_block_size_ = std::max(kKeyBlock, need);
    key_blocks_.push_back(std::make_unique_for_overwrite<char[]>(key_block_size_));
    key_blocks_bytes_ += key_block_size_;
    key_used_ = 0;
  }
  const uint32_t offset = static_cast<uint32_t>(((key_blocks_.size() - 1) << kKeyBlockShift) | key_used_);
  char* p = key_blocks_.back().get() + key_used_;
  size_t v = local.size();
  while (v >= 0x80) {
    *p++ = static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<char>(v);
  std::memcpy(p, local.data(), local.size());
  // A huge key fills its own block, so the next one starts a new block.
  key_used_ = need > kKeyBlock ? key_block_size_ : key_used_ + need;
  key_bytes_ += need;
  return offset;
}

void StateStore::CompactKeys() {
  std::vector<std::unique_ptr<char[]>> old = std::move(key_blocks_);
  key_blocks_.clear();
  key_block_size_ = key_blocks_bytes_ = key_used_ = key_bytes_ = key_garbage_ = 0;
  // Old entries stay readable from `old` while they are copied.
  for (uint32_t r = 0; r < records_.high_water(); ++r) {
    KeyState& s = records_[r];
    if (!(s.flags & KeyState::kLive)) continue;
    const char* p = old[s.key >> kKeyBlockShift].get() + (s.key & (kKeyBlock - 1));
    size_t n = 0;
    for (int shift = 0;; shift += 7) {
      const uint8_t b = static_cast<uint8_t>(*p++);
      n |= static_cast<size_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) break;
    }
    s.key = AppendKey(std::string_view(p, n));
  }
}

uint32_t StateStore::LookupDomain(std::string_view domain) const {
  if (domain.empty()) return kNoDomain;
  auto it = domain_ids_.find(domain);
  return it == domain_ids_.end() ? kNoDomain : it->second;
}

uint32_t StateStore::InternDomain(std::string_view domain) {
  if (domain.empty()) return kNoDomain;
  auto it = domain_ids_.find(domain);
  if (it != domain_ids_.end()) return it->second;
  const uint32_t id = static_cast<uint32_t>(domain_names_.size());
  domain_names_.emplace_back(domain);
  domain_states_.emplace_back();
  domain_ids_.emplace(std::string_view(domain_names_.back()), id);
  return id;
}

// ---- index -------------------------------------------------------------------------------------------

void StateStore::InsertSlot(uint64_t h, Ref r) {
  size_t pos = Home(h);
  while (slots_[pos] != 0) pos = pos + 1 == capacity_ ? 0 : pos + 1;
  slots_[pos] = (h & 0xffffffff00000000ULL) | (static_cast<uint64_t>(r) + 1);
  ++used_slots_;
}

// A slot keeps the hash bits its home is computed from, so growing moves slots without reading a key
// (hashing every key again was a cache miss per address).
void StateStore::Grow() {
  std::vector<uint64_t> old;
  old.swap(slots_);
  capacity_ += capacity_ / 2;
  slots_.assign(capacity_, 0);
  for (const uint64_t s : old) {
    if (s == 0) continue;
    size_t pos = Home(s);
    while (slots_[pos] != 0) pos = pos + 1 == capacity_ ? 0 : pos + 1;
    slots_[pos] = s;
  }
}

StateStore::Ref StateStore::Find(std::string_view address) const {
  const Split k = SplitAddress(address);
  const uint64_t h = HashAddress(k.local, k.domain);
  const uint32_t tag = static_cast<uint32_t>(h >> 32);
  for (size_t pos = Home(h);; pos = pos + 1 == capacity_ ? 0 : pos + 1) {
    const uint64_t s = slots_[pos];
    if (s == 0) return kNotFound;
    const Ref r = static_cast<Ref>(s) - 1;
    if (static_cast<uint32_t>(s >> 32) == tag && Matches(records_[r], k)) return r;
  }
}

StateStore::Ref StateStore::FindOrInsert(std::string_view address) {
  const Split k = SplitAddress(address);
  const uint64_t h = HashAddress(k.local, k.domain);
  const uint32_t tag = static_cast<uint32_t>(h >> 32);
  for (size_t pos = Home(h);; pos = pos + 1 == capacity_ ? 0 : pos + 1) {
    const uint64_t s = slots_[pos];
    if (s == 0) break;
    const Ref r = static_cast<Ref>(s) - 1;
    if (static_cast<uint32_t>(s >> 32) == tag && Matches(records_[r], k)) return r;
  }
  if ((used_slots_ + 1) * 5 > capacity_ * 4) Grow();
  const Ref r = records_.Allocate();
  KeyState& st = records_[r];
  st.key = AppendKey(k.local);
  st.domain = k.has_domain ? InternDomain(k.domain) : kNoDomain;
  st.flags = KeyState::kLive;
  InsertSlot(h, r);
  ++live_records_;
  return r;
}

void StateStore::RemoveKey(Ref r, bool tombstone) {
  KeyState& s = records_[r];
  const uint64_t h = HashOf(s);
  size_t i = Home(h);
  while (static_cast<Ref>(slots_[i]) != r + 1) i = i + 1 == capacity_ ? 0 : i + 1;
  // Backward-shift deletion: pull later members of the cluster into the hole when their home allows,
  // so lookups never need tombstones.
  for (size_t j = i;;) {
    j = j + 1 == capacity_ ? 0 : j + 1;
    const uint64_t sj = slots_[j];
    if (sj == 0) break;
    const size_t home = Home(sj);
    const bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
    if (!stays) {
      slots_[i] = sj;
      i = j;
    }
  }
  slots_[i] = 0;
  --used_slots_;
  if (tombstone && track_changes_) {
    KeyOf(r, scratch_);
    ValueWriter(tombstones_).Bytes(scratch_);
  }
  const std::string_view local = LocalOf(s);
  key_garbage_ += VarintSize(local.size()) + local.size();
  ReleaseHistory(s);
  s = KeyState{};
  records_.Free(r);
  --live_records_;
}

// ---- time --------------------------------------------------------------------------------------------

bool StateStore::Expired(const KeyState& s) const {
  if (!(s.flags & KeyState::kLive)) return false;
  const int64_t ttl = (s.flags & KeyState::kSuppressed) ? ttl_.suppression_ms : ttl_.history_ms;
  return clock_ms_ - static_cast<int64_t>(s.last_seen_s) * 1000 > ttl;
}

void StateStore::Refresh(KeyState& s, int64_t event_time_ms) {
  if (Expired(s)) {
    ReleaseHistory(s);
    s.flags &= KeyState::kLive | KeyState::kDirty;
    s.accepted_s = 0;
    s.generation = 0;
    s.reengaged = 0;
  }
  s.flags |= KeyState::kLive;
  const uint32_t t = Seconds(event_time_ms);
  if (t > s.last_seen_s) s.last_seen_s = t;
}

void StateStore::RefreshDomain(uint32_t id, int64_t event_time_ms) {
  Refresh(domain_states_[id], event_time_ms);
  MarkDomainDirty(id);
}

void StateStore::AdvanceClock(int64_t event_time_ms) {
  if (event_time_ms > clock_ms_) {
    clock_ms_ = event_time_ms;
    if (!sweeping_ && clock_ms_ >= next_sweep_ms_) {
      sweeping_ = true;
      sweep_cursor_ = 0;
      next_sweep_ms_ = clock_ms_ + ttl_.sweep_interval_ms;
    }
  }
  // Four records an event: a pass over a million keys takes 250 000 events, a few ns each.
  if (sweeping_) SweepStep(4);
}

void StateStore::Sweep() {
  sweeping_ = true;
  sweep_cursor_ = 0;
  SweepStep(~0u);
}

void StateStore::SweepStep(uint32_t records) {
  const uint32_t end = records_.high_water();
  for (; records > 0 && sweep_cursor_ < end; --records, ++sweep_cursor_) {
    if (Expired(records_[sweep_cursor_])) {
      RemoveKey(sweep_cursor_, /*tombstone=*/true);
      ++swept_;
    }
  }
  if (sweep_cursor_ < end) return;
  sweeping_ = false;
  for (uint32_t id = 1; id < domain_states_.size(); ++id) {
    KeyState& d = domain_states_[id];
    if (!Expired(d)) continue;
    ReleaseHistory(d);
    d = KeyState{};
    ++swept_;
    if (track_changes_) {
      scratch_.assign("@");
      scratch_.append(domain_names_[id]);
      ValueWriter(tombstones_).Bytes(scratch_);
    }
  }
  if (key_garbage_ > (size_t{1} << 20) && key_garbage_ * 2 > key_bytes_) CompactKeys();
}

// ---- history and evidence ----------------------------------------------------------------------------

KeyHistory& StateStore::EnsureHistory(KeyState& s) {
  if (s.history == 0) {
    s.history = histories_.Allocate() + 1;
    ++live_histories_;
  }
  return histories_[s.history - 1];
}

void StateStore::ReleaseHistory(KeyState& s) {
  if (s.history == 0) return;
  histories_.Free(s.history - 1);
  s.history = 0;
  --live_histories_;
}

CompactEvidence StateStore::MakeEvidence(const Position& p, int64_t time_ms) {
  CompactEvidence e;
  e.partition = p.partition;
  e.offset = p.offset;
  e.time_ms = time_ms;
  if (last_source_id_ != 0 && source_names_[last_source_id_ - 1] == p.source) {
    e.source = last_source_id_;
    return e;
  }
  auto it = source_ids_.find(p.source);
  if (it == source_ids_.end()) {
    source_names_.emplace_back(p.source);
    it = source_ids_.emplace(std::string_view(source_names_.back()), static_cast<uint32_t>(source_names_.size()))
             .first;
  }
  e.source = last_source_id_ = it->second;
  return e;
}

Position StateStore::PositionOf(const CompactEvidence& e) const {
  Position p;
  if (e.source != 0) p.source = source_names_[e.source - 1];
  p.partition = e.partition;
  p.offset = e.offset;
  return p;
}

// ---- changelog ---------------------------------------------------------------------------------------

void StateStore::MarkDirty(Ref r) {
  if (!track_changes_) return;
  KeyState& s = records_[r];
  if (s.flags & KeyState::kDirty) return;
  s.flags |= KeyState::kDirty;
  dirty_.push_back(r);
}

void StateStore::MarkDomainDirty(uint32_t id) {
  if (!track_changes_) return;
  KeyState& s = domain_states_[id];
  if (s.flags & KeyState::kDirty) return;
  s.flags |= KeyState::kDirty;
  dirty_domains_.push_back(id);
}

void StateStore::EncodeState(const KeyState& s, std::string& out) const {
  ValueWriter w(out);
  w.Byte(kValueVersion);
  w.Byte(s.flags & KeyState::kPersistentFlags);
  w.Byte(s.generation);
  w.Byte(s.reengaged);
  w.Varint(s.last_seen_s);
  w.Varint(s.accepted_s);
  if (s.history == 0) {
    w.Byte(0);
    return;
  }
  const KeyHistory& h = histories_[s.history - 1];
  w.Byte(1);
  w.Signed(h.first_ms);
  w.Signed(h.last_ms);
  w.Signed(h.guard_ms);
  w.Byte(h.campaign_count);
  for (int i = 0; i < h.campaign_count; ++i) w.Fixed32(h.campaigns[i]);
  w.Byte(h.deferral_mask);
  w.Byte(h.full_mask);
  w.Byte(h.attempts);
  w.Byte(h.streak_flags);
  uint8_t present = h.storage.present() ? 1u << kMaxStreakCampaigns : 0;
  for (int i = 0; i < kMaxStreakCampaigns; ++i) present |= h.evidence[i].present() ? 1u << i : 0;
  w.Byte(present);
  auto ev = [&](const CompactEvidence& e) {
    w.Bytes(source_names_[e.source - 1]);
    w.Signed(e.partition);
    w.Signed(e.offset);
    w.Signed(e.time_ms);
  };
  for (int i = 0; i < kMaxStreakCampaigns; ++i) {
    if (h.evidence[i].present()) ev(h.evidence[i]);
  }
  if (h.storage.present()) ev(h.storage);
}

absl::Status StateStore::DecodeState(std::string_view value, KeyState& s) {
  ValueReader r(value);
  uint8_t version = 0, flags = 0, has_history = 0;
  uint64_t last_seen = 0, accepted = 0;
  r.Byte(version);
  if (r.ok() && version != kValueVersion) {
    return absl::DataLossError(absl::StrCat("state value version ", version, " is not ", kValueVersion));
  }
  r.Byte(flags);
  r.Byte(s.generation);
  r.Byte(s.reengaged);
  r.Varint(last_seen);
  r.Varint(accepted);
  r.Byte(has_history);
  s.flags = static_cast<uint8_t>((flags & KeyState::kPersistentFlags) | KeyState::kLive);
  s.last_seen_s = static_cast<uint32_t>(std::min<uint64_t>(last_seen, 0xffffffffu));
  s.accepted_s = static_cast<uint32_t>(std::min<uint64_t>(accepted, 0xffffffffu));
  ReleaseHistory(s);
  if (r.ok() && has_history) {
    KeyHistory& h = EnsureHistory(s);
    r.Signed(h.first_ms);
    r.Signed(h.last_ms);
    r.Signed(h.guard_ms);
    r.Byte(h.campaign_count);
    if (h.campaign_count > kMaxStreakCampaigns) return absl::DataLossError("state value: too many campaigns");
    for (int i = 0; i < h.campaign_count; ++i) r.Fixed32(h.campaigns[i]);
    r.Byte(h.deferral_mask);
    r.Byte(h.full_mask);
    r.Byte(h.attempts);
    r.Byte(h.streak_flags);
    uint8_t present = 0;
    r.Byte(present);
    auto ev = [&](CompactEvidence& e) {
      std::string_view source;
      int64_t partition = -1;
      if (!r.Bytes(source) || !r.Signed(partition) || !r.Signed(e.offset) || !r.Signed(e.time_ms)) return;
      e = MakeEvidence(Position{source, static_cast<int32_t>(partition), e.offset}, e.time_ms);
    };
    for (int i = 0; i < kMaxStreakCampaigns; ++i) {
      if (present & (1u << i)) ev(h.evidence[i]);
    }
    if (present & (1u << kMaxStreakCampaigns)) ev(h.storage);
  }
  if (!r.ok() || !r.done()) return absl::DataLossError("state value: malformed");
  return absl::OkStatus();
}

void StateStore::EncodeMeta(std::string& out) const {
  ValueWriter w(out);
  w.Byte(kValueVersion);
  w.Signed(clock_ms_);
  w.Signed(next_sweep_ms_);
}

absl::Status StateStore::Snapshot(ChangelogSink& sink) const {
  std::string value, key;
  EncodeMeta(value);
  if (auto s = sink.Put("", value); !s.ok()) return s;
  for (uint32_t id = 1; id < domain_states_.size(); ++id) {
    const KeyState& d = domain_states_[id];
    if (!(d.flags & KeyState::kLive)) continue;
    value.clear();
    EncodeState(d, value);
    key.assign("@");
    key.append(domain_names_[id]);
    if (auto s = sink.Put(key, value); !s.ok()) return s;
  }
  for (uint32_t r = 0; r < records_.high_water(); ++r) {
    const KeyState& st = records_[r];
    if (!(st.flags & KeyState::kLive)) continue;
    value.clear();
    EncodeState(st, value);
    KeyOf(r, key);
    if (auto s = sink.Put(key, value); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status StateStore::FlushChangelog(ChangelogSink& sink) {
  if (!track_changes_) return absl::FailedPreconditionError("state store does not track changes");
  std::string value, key;
  // Tombstones first: a key swept and seen again since the last flush is then written after its delete.
  for (ValueReader r(tombstones_); !r.done();) {
    std::string_view k;
    if (!r.Bytes(k)) return absl::InternalError("state store: corrupt tombstone buffer");
    if (auto s = sink.Delete(k); !s.ok()) return s;
  }
  tombstones_.clear();
  EncodeMeta(value);
  if (auto s = sink.Put("", value); !s.ok()) return s;
  for (uint32_t id : dirty_domains_) {
    KeyState& d = domain_states_[id];
    if (!(d.flags & KeyState::kDirty)) continue;
    d.flags &= ~KeyState::kDirty;
    key.assign("@");
    key.append(domain_names_[id]);
    if (!(d.flags & KeyState::kLive)) {
      if (auto s = sink.Delete(key); !s.ok()) return s;
      continue;
    }
    value.clear();
    EncodeState(d, value);
    if (auto s = sink.Put(key, value); !s.ok()) return s;
  }
  dirty_domains_.clear();
  for (Ref r : dirty_) {
    KeyState& st = records_[r];
    if (!(st.flags & KeyState::kDirty) || !(st.flags & KeyState::kLive)) continue;
    st.flags &= ~KeyState::kDirty;
    value.clear();
    EncodeState(st, value);
    KeyOf(r, key);
    if (auto s = sink.Put(key, value); !s.ok()) return s;
  }
  dirty_.clear();
  return absl::OkStatus();
}

absl::Status StateStore::Apply(std::string_view key, std::string_view value, bool tombstone) {
  if (key.empty()) {
    if (tombstone) return absl::OkStatus();
    ValueReader r(value);
    uint8_t version = 0;
    int64_t clock = 0, next = 0;
    if (!r.Byte(version) || version != kValueVersion || !r.Signed(clock) || !r.Signed(next) || !r.done()) {
      return absl::DataLossError("state metadata: malformed");
    }
    clock_ms_ = clock;
    next_sweep_ms_ = next;
    return absl::OkStatus();
  }
  if (key[0] == '@') {
    const uint32_t id = InternDomain(key.substr(1));
    if (id == kNoDomain) return absl::DataLossError("state key \"@\" has no domain");
    KeyState& d = domain_states_[id];
    if (tombstone) {
      ReleaseHistory(d);
      d = KeyState{};
      return absl::OkStatus();
    }
    return DecodeState(value, d);
  }
  if (tombstone) {
    const Ref r = Find(key);
    if (r != kNotFound) RemoveKey(r, /*tombstone=*/false);
    return absl::OkStatus();
  }
  const Ref r = FindOrInsert(key);
  KeyState& st = records_[r];
  const uint32_t k = st.key, domain = st.domain;
  absl::Status s = DecodeState(value, st);
  st.key = k;
  st.domain = domain;
  return s;
}

absl::Status StateStore::Restore(std::string_view framed) {
  ChangelogRecordView rec;
  while (true) {
    absl::StatusOr<bool> more = ReadFramedRecord(framed, rec);
    if (!more.ok()) return more.status();
    if (!*more) return absl::OkStatus();
    if (auto s = Apply(rec.key, rec.value, rec.tombstone); !s.ok()) return s;
  }
}

size_t StateStore::CountSuppressed() const {
  size_t n = 0;
  for (uint32_t r = 0; r < records_.high_water(); ++r) {
    const KeyState& s = records_[r];
    n += (s.flags & KeyState::kSuppressed) && !Expired(s);
  }
  for (const KeyState& d : domain_states_) n += (d.flags & KeyState::kSuppressed) && !Expired(d);
  return n;
}

StateStore::Memory StateStore::memory() const {
  Memory m;
  m.index = slots_.capacity() * sizeof(uint64_t);
  m.records = records_.bytes();
  m.keys = key_blocks_bytes_ + key_blocks_.capacity() * sizeof(void*);
  m.histories = histories_.bytes();
  // Domain and source tables: names, states and the hash maps' slots (key view + id + control byte).
  for (const std::string& d : domain_names_) m.domains += sizeof(std::string) + (d.size() > 15 ? d.capacity() + 1 : 0);
  m.domains += domain_states_.capacity() * sizeof(KeyState) + domain_ids_.capacity() * (sizeof(std::string_view) + 8 + 1);
  for (const std::string& s : source_names_) m.sources += sizeof(std::string) + s.capacity() + 1;
  m.sources += source_ids_.capacity() * (sizeof(std::string_view) + 8 + 1);
  m.records += (dirty_.capacity() + dirty_domains_.capacity()) * sizeof(uint32_t);
  return m;
}

}  // namespace bs::state
