// StateStore: compact keyed state for the stateful decisions — one small record per tracked address, a
// history record only for the few addresses with failures or a suppression, and suppression state per
// recipient domain.
//
// Layout (why it is small):
//  - index: open addressing with linear probing, 8 bytes a slot (32-bit hash tag + 32-bit record
//    number), at most 80 % full; home slot from the other 32 hash bits (multiply-shift, any capacity);
//  - records: 24 bytes (KeyState) in fixed blocks, recycled through a free list;
//  - keys: the lower-cased local part in a byte arena (varint length + bytes) and the domain as a 32-bit
//    id into an interned domain table, so "gmail.com" is stored once. Two addresses are never merged: a
//    tag match is confirmed by comparing the local part and the domain exactly;
//  - histories (KeyHistory, ~170 bytes) from a pool, only while a key has a failure streak, a pending
//    552 or a suppression.
// Nothing is allocated per event once the blocks exist (new keys take arena and block space; blocks are
// allocated 1 MiB / 64 Ki records at a time).
//
// Time is event time only: the store's clock is the largest event time it has seen. A key is expired
// when clock − last seen exceeds its TTL (suppressed keys have a longer one). Refresh() treats an expired
// key as new, and the sweep removes expired keys; both use the same clock, so decisions never depend on
// when the sweep ran. A sweep pass starts every sweep interval of event time and then advances a few
// records per event (no pause proportional to the table).
//
// Changelog (changelog.h): Snapshot() writes every key; with track_changes, FlushChangelog() writes the
// keys changed since the last flush and a tombstone per swept key; Apply() rebuilds from either.
//
// Single-threaded: owned by the decide stage (or one partition's worker).
#ifndef BOUNCESTREAM_PIPELINE_STATE_STATE_STORE_H_
#define BOUNCESTREAM_PIPELINE_STATE_STATE_STORE_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "pipeline/base/position.h"
#include "pipeline/state/changelog.h"
#include "pipeline/state/decider_options.h"

namespace bs::state {

// Where a record came from, compactly: enough to print its position and time in evidence.
struct CompactEvidence {
  uint32_t source = 0;  // 1-based index into the store's source names; 0: absent
  int32_t partition = -1;
  int64_t offset = 0;
  int64_t time_ms = 0;

  bool present() const { return source != 0; }
  bool SamePosition(const CompactEvidence& o) const {
    return source == o.source && partition == o.partition && offset == o.offset;
  }
};

// The memory of one key with failures or a suppression.
struct KeyHistory {
  enum : uint8_t { kReengagedInStreak = 1 };

  int64_t first_ms = 0;  // first record of the current streak
  int64_t last_ms = 0;   // last record counted; records at or before it are duplicates or late
  int64_t guard_ms = 0;  // event time of the last suppress or unsuppress decision
  uint32_t campaigns[kMaxStreakCampaigns] = {};  // the streak's first distinct campaigns (CampaignHash)
  uint8_t campaign_count = 0;
  uint8_t deferral_mask = 0;  // bit i: campaigns[i] had a recipient-side deferral
  uint8_t full_mask = 0;      // bit i: campaigns[i] had a mailbox-full deferral
  uint8_t attempts = 0;       // recipient-side failed attempts in the streak (saturating)
  uint8_t streak_flags = 0;
  // evidence[i]: the first failing record of campaigns[i]. While suppressed, evidence[0] is the record
  // that suppressed.
  CompactEvidence evidence[kMaxStreakCampaigns];
  CompactEvidence storage;  // the streak's first permanent mailbox-full (552)

  bool in_streak() const { return attempts != 0; }
  void ResetStreak() {
    const int64_t guard = guard_ms;
    *this = KeyHistory{};
    guard_ms = guard;
  }
};

// One address (or one domain's suppression state). 24 bytes.
struct KeyState {
  enum : uint8_t {
    kSuppressed = 2,  // currently suppressed
    kVerified = 4,    // the verify event was emitted
    kLive = 32,       // a key, not a free record
    kDirty = 64,      // changed since the last changelog flush
  };
  static constexpr uint8_t kPersistentFlags = kSuppressed | kVerified;

  uint32_t key = 0;          // offset of the local part in the key arena (addresses only)
  uint32_t domain = 0;       // domain id
  uint32_t last_seen_s = 0;  // event time, seconds
  // Event time (seconds) of the latest delivery; 0: never accepted while the state lived. Failures at or
  // before it belong to a streak that a delivery already ended, so they never count again (replays).
  uint32_t accepted_s = 0;
  uint32_t history = 0;      // 1-based index into the history pool; 0: none
  uint8_t flags = 0;
  uint8_t generation = 0;  // completed suppress → unsuppress cycles: the epoch of the next suppression
  uint8_t reengaged = 0;   // reengage events so far: the epoch of the next one
  uint8_t reserved = 0;
};
static_assert(sizeof(KeyState) == 24);

// Event time in whole seconds, clamped to what a uint32 holds (until 2106).
inline uint32_t Seconds(int64_t event_time_ms) {
  const int64_t sec = event_time_ms < 0 ? 0 : event_time_ms / 1000;
  return sec > 0xffffffffLL ? 0xffffffffu : static_cast<uint32_t>(sec);
}

class StateStore {
 public:
  using Ref = uint32_t;  // record number of an address
  static constexpr uint32_t kNoDomain = 0;

  struct Memory {
    size_t index = 0, records = 0, keys = 0, histories = 0, domains = 0, sources = 0;
    size_t total() const { return index + records + keys + histories + domains + sources; }
  };

  StateStore(StateTtl ttl, bool track_changes, size_t expected_addresses = 0);
  StateStore(const StateStore&) = delete;
  StateStore& operator=(const StateStore&) = delete;

  // Advances the clock to `event_time_ms` (never backwards), starts a sweep pass when one is due, and
  // advances the current pass by a few records. Call once per event.
  void AdvanceClock(int64_t event_time_ms);
  int64_t clock_ms() const { return clock_ms_; }
  const StateTtl& ttl() const { return ttl_; }

  // `address` must be lower-case. An address without '@' is kept whole with no domain.
  Ref FindOrInsert(std::string_view address);
  // kNotFound when absent.
  static constexpr Ref kNotFound = ~0u;
  Ref Find(std::string_view address) const;

  KeyState& state(Ref r) { return records_[r]; }
  const KeyState& state(Ref r) const { return records_[r]; }
  // The lower-cased key of an address record, rebuilt into `out`.
  void KeyOf(Ref r, std::string& out) const;

  // Domains: `domain` lower-case. Domain state (suppression of "@domain") lives beside the name.
  uint32_t InternDomain(std::string_view domain);
  KeyState& domain_state(uint32_t id) { return domain_states_[id]; }
  std::string_view domain_name(uint32_t id) const { return domain_names_[id]; }

  // Treats an expired key as new: clears its flags, history and epochs (as if swept and re-inserted).
  // Then marks it seen at `event_time_ms` and changed. Call once per event before deciding.
  void Refresh(KeyState& s, int64_t event_time_ms);
  void RefreshAddress(Ref r, int64_t event_time_ms) {
    Refresh(records_[r], event_time_ms);
    MarkDirty(r);
  }
  void RefreshDomain(uint32_t id, int64_t event_time_ms);
  bool Expired(const KeyState& s) const;

  KeyHistory* history(const KeyState& s) { return s.history ? &histories_[s.history - 1] : nullptr; }
  KeyHistory& EnsureHistory(KeyState& s);
  void ReleaseHistory(KeyState& s);

  // Evidence: source names are interned once.
  CompactEvidence MakeEvidence(const Position& p, int64_t time_ms);
  Position PositionOf(const CompactEvidence& e) const;

  // Changelog.
  absl::Status Snapshot(ChangelogSink& sink) const;
  absl::Status FlushChangelog(ChangelogSink& sink);
  absl::Status Apply(std::string_view key, std::string_view value, bool tombstone);
  // Applies a framed stream (changelog.h).
  absl::Status Restore(std::string_view framed);

  // Removes every expired key now (a whole pass).
  void Sweep();

  // Addresses and domains suppressed and not expired (a scan).
  size_t CountSuppressed() const;
  size_t addresses() const { return live_records_; }
  size_t histories_in_use() const { return live_histories_; }
  uint64_t swept() const { return swept_; }
  Memory memory() const;

 private:
  // Fixed-size blocks of T addressed by a 32-bit number; blocks never move.
  template <typename T, int kShift>
  class Blocks {
   public:
    T& operator[](uint32_t i) { return blocks_[i >> kShift][i & kMask]; }
    const T& operator[](uint32_t i) const { return blocks_[i >> kShift][i & kMask]; }
    uint32_t Allocate();
    void Free(uint32_t i) { free_.push_back(i); }
    uint32_t high_water() const { return next_; }
    size_t bytes() const { return blocks_.size() * (sizeof(T) << kShift) + free_.capacity() * sizeof(uint32_t); }

   private:
    static constexpr uint32_t kMask = (1u << kShift) - 1;
    std::vector<std::unique_ptr<T[]>> blocks_;
    std::vector<uint32_t> free_;
    uint32_t next_ = 0;
  };

  struct Split {
    std::string_view local, domain;
    bool has_domain = false;
  };
  static Split SplitAddress(std::string_view address);
  std::string_view LocalOf(const KeyState& s) const;
  bool Matches(const KeyState& s, const Split& k) const;
  uint64_t HashOf(const KeyState& s) const;
  // From the high 32 bits of a hash, which a slot keeps (so a slot's home needs no key).
  size_t Home(uint64_t h) const {
    return static_cast<size_t>((static_cast<uint64_t>(static_cast<uint32_t>(h >> 32)) * capacity_) >> 32);
  }
  // Advances the sweep pass by up to `records` records; finishes the pass (domains, key compaction) at
  // the end of the table.
  void SweepStep(uint32_t records);
  void Grow();
  void InsertSlot(uint64_t h, Ref r);
  void RemoveKey(Ref r, bool tombstone);
  uint32_t AppendKey(std::string_view local);
  void CompactKeys();
  void MarkDirty(Ref r);
  void MarkDomainDirty(uint32_t id);
  uint32_t LookupDomain(std::string_view domain) const;  // kNoDomain when absent (or empty)

  void EncodeState(const KeyState& s, std::string& out) const;
  absl::Status DecodeState(std::string_view value, KeyState& s);
  void EncodeMeta(std::string& out) const;

  StateTtl ttl_;
  bool track_changes_;
  int64_t clock_ms_ = 0;
  int64_t next_sweep_ms_ = 0;
  bool sweeping_ = false;
  uint32_t sweep_cursor_ = 0;

  std::vector<uint64_t> slots_;  // (tag << 32) | (record + 1); 0 is empty
  size_t capacity_ = 0;
  size_t used_slots_ = 0;

  Blocks<KeyState, 16> records_;
  size_t live_records_ = 0;
  Blocks<KeyHistory, 12> histories_;
  size_t live_histories_ = 0;

  // Key arena: 1 MiB blocks; an entry never crosses a block. Offsets are block << 20 | position.
  static constexpr int kKeyBlockShift = 20;
  std::vector<std::unique_ptr<char[]>> key_blocks_;
  size_t key_block_size_ = 0;  // size of the last block (larger than 1 MiB only for a huge key)
  size_t key_blocks_bytes_ = 0;
  size_t key_used_ = 0;     // position in the last block
  size_t key_bytes_ = 0;    // bytes of all entries written
  size_t key_garbage_ = 0;  // bytes of removed entries

  struct ViewHash {
    size_t operator()(std::string_view s) const;
  };
  // Names live in deques, which never move their elements, so the maps can key on views of them.
  std::deque<std::string> domain_names_;  // id → name; [0] is "" (no domain)
  std::vector<KeyState> domain_states_;   // id → suppression state of "@name"
  absl::flat_hash_map<std::string_view, uint32_t, ViewHash> domain_ids_;

  std::deque<std::string> source_names_;  // id - 1 → name
  absl::flat_hash_map<std::string_view, uint32_t, ViewHash> source_ids_;
  uint32_t last_source_id_ = 0;

  std::vector<Ref> dirty_;
  std::vector<uint32_t> dirty_domains_;
  std::string tombstones_;  // framed keys removed since the last flush
  uint64_t swept_ = 0;
  mutable std::string scratch_;
};

}  // namespace bs::state

#endif  // BOUNCESTREAM_PIPELINE_STATE_STATE_STORE_H_
