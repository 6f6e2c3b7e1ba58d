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

// A fast, unseeded 64-bit hash (the same in every process): 8 bytes per multiply, then a final mix.
inline uint64_t HashMix(uint64_t x) {
  x ^= x >> 32;
  x *= 0xd6e8feb86659fd93ULL;
  x ^= x >> 32;
  x *= 0xd6e8feb86659fd93ULL;
  x ^= x >> 32;
  return x;
}
inline uint64_t HashBytes(std::string_view s, uint64_t h) {
  const char* p = s.data();
  size_t n = s.size();
  h ^= n * 0x9e3779b97f4a7c15ULL;
  while (n >= 8) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    h = (h ^ (v * 0xbf58476d1ce4e5b9ULL)) * 0x94d049bb133111ebULL;
    h ^= h >> 29;
    p += 8;
    n -= 8;
  }
  if (n > 0) {
    uint64_t v = 0;
    std::memcpy(&v, p, n);
    h = (h ^ (v * 0xbf58476d1ce4e5b9ULL)) * 0x94d049bb133111ebULL;
    h ^= h >> 29;
  }
  return h;
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
