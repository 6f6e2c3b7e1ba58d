// FlatIndex: an open-addressing table from a precomputed 64-bit hash to a uint32 value (an index into the
// caller's own vector), for the window hot path. The caller supplies the exact-key check, so two keys
// whose hashes collide still get their own entries. Linear probing, power-of-two capacity, load ≤ 1/2;
// Clear() keeps the capacity, so a recycled table allocates nothing. No erase (panes are cleared whole).
#ifndef BOUNCESTREAM_PIPELINE_WINDOW_FLAT_INDEX_H_
#define BOUNCESTREAM_PIPELINE_WINDOW_FLAT_INDEX_H_

#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

namespace bs {

inline uint64_t Load8(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
inline uint64_t Load4(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// A fast, unseeded 64-bit hash (the same in every process): one multiply per 8 bytes, the tail read as
// one overlapping word (never byte by byte: that stalls store forwarding); HashMix finishes it. Keys are
// checked exactly after the lookup, so this only has to spread well, not resist attacks.
inline uint64_t HashMix(uint64_t x) {
  x ^= x >> 32;
  x *= 0xd6e8feb86659fd93ULL;
  x ^= x >> 29;
  return x;
}
inline uint64_t HashStep(uint64_t h, uint64_t v) { return (h ^ v) * 0x9e3779b97f4a7c15ULL; }
inline uint64_t HashBytes(std::string_view s, uint64_t h) {
  const char* p = s.data();
  const size_t n = s.size();
  h += n;
  if (n >= 8) {
    const char* last = p + n - 8;
    for (; p < last; p += 8) h = HashStep(h, Load8(p));
    return HashStep(h, Load8(last));
  }
  if (n >= 4) return HashStep(h, (Load4(p) << 32) | Load4(p + n - 4));
  if (n > 0) {
    const auto* u = reinterpret_cast<const unsigned char*>(p);
    return HashStep(h, (uint64_t{u[0]} << 16) | (uint64_t{u[n / 2]} << 8) | u[n - 1]);
  }
  return h;
}

// Equality of two short strings with word loads (keys are IPs and domain names: mostly 8–30 bytes).
inline bool BytesEqual(std::string_view a, std::string_view b) {
  const size_t n = a.size();
  if (n != b.size()) return false;
  const char* p = a.data();
  const char* q = b.data();
  if (n >= 8) {
    for (size_t i = 0; i + 8 < n; i += 8) {
      if (Load8(p + i) != Load8(q + i)) return false;
    }
    return Load8(p + n - 8) == Load8(q + n - 8);
  }
  if (n >= 4) return Load4(p) == Load4(q) && Load4(p + n - 4) == Load4(q + n - 4);
  for (size_t i = 0; i < n; ++i) {
    if (p[i] != q[i]) return false;
  }
  return true;
}

class FlatIndex {
 public:
  static constexpr uint32_t kEmpty = UINT32_MAX;

  // The value stored under `hash` for which eq(value) holds; otherwise stores and returns make().
  template <typename Eq, typename Make>
  uint32_t FindOrInsert(uint64_t hash, Eq&& eq, Make&& make) {
    if (slots_.empty()) Grow();
    size_t i = hash & mask_;
    while (true) {
      Slot& s = slots_[i];
      if (s.value == kEmpty) break;
      if (s.hash == hash && eq(s.value)) return s.value;
      i = (i + 1) & mask_;
    }
    uint32_t v = make();
    if ((size_ + 1) * 2 > slots_.size()) {
      Grow();
      Place(hash, v);
    } else {
      slots_[i] = Slot{hash, v};
    }
    ++size_;
    return v;
  }
  // The value under `hash` for which eq(value) holds, or kEmpty.
  template <typename Eq>
  uint32_t Find(uint64_t hash, Eq&& eq) const {
    if (slots_.empty()) return kEmpty;
    for (size_t i = hash & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.value == kEmpty) return kEmpty;
      if (s.hash == hash && eq(s.value)) return s.value;
    }
  }
  void Clear() {
    if (size_ == 0) return;
    for (Slot& s : slots_) s.value = kEmpty;
    size_ = 0;
  }
  size_t size() const { return size_; }

 private:
  struct Slot {
    uint64_t hash = 0;
    uint32_t value = kEmpty;
  };
  void Place(uint64_t hash, uint32_t v) {
    size_t i = hash & mask_;
    while (slots_[i].value != kEmpty) i = (i + 1) & mask_;
    slots_[i] = Slot{hash, v};
  }
  void Grow() {
    std::vector<Slot> old;
    old.swap(slots_);
    slots_.assign(old.empty() ? 16 : old.size() * 2, Slot{});
    mask_ = slots_.size() - 1;
    for (const Slot& s : old) {
      if (s.value != kEmpty) Place(s.hash, s.value);
    }
  }

  std::vector<Slot> slots_;
  size_t mask_ = 0;
  size_t size_ = 0;
};

}  // namespace bs

#endif  // BOUNCESTREAM_PIPELINE_WINDOW_FLAT_INDEX_H_
