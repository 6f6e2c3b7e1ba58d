// SuffixTable (see suffix_table.h): build once per snapshot, then lock-free read-only lookups.
#include "rules/suffix_table.h"

#include <cstring>

namespace bs {
namespace {

uint64_t Load(const char* p, size_t n) {
  uint64_t x = 0;
  std::memcpy(&x, p, n);
  return x;
}

// ASCII upper-case letters of the 8 bytes to lower case (SWAR; other bytes unchanged).
uint64_t Lower8(uint64_t x) {
  constexpr uint64_t k01 = 0x0101010101010101ULL, k80 = 0x8080808080808080ULL, k7f = 0x7f7f7f7f7f7f7f7fULL;
  const uint64_t low7 = x & k7f;
  const uint64_t ge_a = low7 + k01 * (0x80 - 'A');      // high bit set where byte >= 'A'
  const uint64_t gt_z = low7 + k01 * (0x80 - 'Z' - 1);  // high bit set where byte > 'Z'
  const uint64_t upper = ge_a & ~gt_z & ~x & k80;
  return x | (upper >> 2);
}

// Bytes [0, n) for n < 8, packed so that two strings of the same length n pack equal iff they are equal:
// the first and last 4 bytes (overlapping) for n >= 4, bytes 0, n/2 and n-1 for n < 4 (that is all of them).
uint64_t Short(const char* p, size_t n) {
  if (n >= 4) return Load(p, 4) | (Load(p + n - 4, 4) << 32);
  if (n == 0) return 0;
  return static_cast<uint64_t>(static_cast<unsigned char>(p[0])) |
         static_cast<uint64_t>(static_cast<unsigned char>(p[n / 2])) << 8 |
         static_cast<uint64_t>(static_cast<unsigned char>(p[n - 1])) << 16;
}

// Whether host bytes `p` (any case) equal the lower-case key `k`, both `n` bytes: 8 bytes at a time.
bool EqualsLower(const char* p, const char* k, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    if (Lower8(Load(p + i, 8)) != Load(k + i, 8)) return false;
  }
  if (i == n) return true;
  if (n >= 8) return Lower8(Load(p + n - 8, 8)) == Load(k + n - 8, 8);  // overlapping tail
  // Short keys: fixed-size loads only (a variable-size copy is a libc call and a store-forwarding stall).
  return Lower8(Short(p, n)) == Short(k, n);
}

uint64_t Mix(uint64_t h, uint64_t w) {
  h = (h ^ w) * 0x9fb21c651e98df25ULL;
  return h ^ (h >> 28);
}

}  // namespace

uint64_t SuffixTable::Hash(const char* p, size_t n) {
  uint64_t h = n * 0x9e3779b97f4a7c15ULL;
  if (n >= 8) {
    size_t i = 0;
    for (; i + 8 < n; i += 8) h = Mix(h, Lower8(Load(p + i, 8)));
    h = Mix(h, Lower8(Load(p + n - 8, 8)));  // the last 8 bytes (overlapping the previous chunk)
  } else {
    h = Mix(h, Lower8(Short(p, n)));
  }
  h *= 0xbf58476d1ce4e5b9ULL;
  return h ^ (h >> 31);
}

void SuffixTable::Build(const std::vector<std::pair<std::string, Value>>& keys) {
  count_ = keys.size();
  size_t cap = 16;
  while (cap < keys.size() * 2) cap *= 2;
  slots_.assign(cap, Slot{});
  mask_ = cap - 1;
  keys_.clear();
  for (const auto& [key, value] : keys) {
    const uint64_t fh = Hash(key.data(), key.size());
    size_t i = fh & mask_;
    while (slots_[i].len != 0) i = (i + 1) & mask_;
    Slot& s = slots_[i];
    s.hash = fh;
    s.offset = static_cast<uint32_t>(keys_.size());
    s.len = static_cast<uint32_t>(key.size());
    s.value = value;
    keys_ += key;
  }
  // An empty key would never be looked up (the walk always starts with a non-empty last label or the
  // whole host), and the map walk never asks for "" either: nothing to special-case.
}

const SuffixTable::Slot* SuffixTable::Find(std::string_view suffix) const {
  const uint64_t fh = Hash(suffix.data(), suffix.size());
  for (size_t i = fh & mask_;; i = (i + 1) & mask_) {
    const Slot& s = slots_[i];
    if (s.len == 0) return nullptr;
    if (s.hash != fh || s.len != suffix.size()) continue;
    if (EqualsLower(suffix.data(), keys_.data() + s.offset, suffix.size())) return &s;
  }
}

int SuffixTable::Longest(std::string_view host) const {
  if (count_ == 0 || host.empty()) return -1;
  // Candidate starts, as the map walk visits them: after the last '.', then after each earlier '.'
  // (searching from two bytes left of the current start), finally 0.
  size_t i = host.rfind('.');
  i = i == std::string_view::npos ? 0 : i + 1;
  int best = -1;
  for (;;) {
    const Slot* s = Find(host.substr(i));
    if (s == nullptr) break;
    if (s->value.entry >= 0) best = s->value.entry;
    if (!s->value.extendable || i == 0) break;
    const size_t prev = i >= 2 ? host.rfind('.', i - 2) : std::string_view::npos;
    i = prev == std::string_view::npos ? 0 : prev + 1;
  }
  return best;
}

}  // namespace bs
