// MxMemo: a worker's memo of the MX hosts it has recently looked up, and the provider entry each maps to.
//
// Every record, accepted mail included, needs its provider, and the MX host names it first. A sender's
// traffic goes to few hosts (a provider's handful of MX names), so the suffix walk (SuffixTable::Longest:
// a hash and a probe per label) is mostly repeated work. The memo is direct-mapped, one 64-byte line per
// host of up to kMaxHost bytes, keyed by the exact bytes (another spelling of a host is a miss, never a
// wrong answer), and belongs to the snapshot whose id it was filled for: a reload empties it.
#ifndef BOUNCESTREAM_RULES_MX_MEMO_H_
#define BOUNCESTREAM_RULES_MX_MEMO_H_

#include <array>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace bs {

class MxMemo {
 public:
  static constexpr size_t kMaxHost = 48;

  // The entry for `host` under snapshot `owner`: remembered, or computed by `lookup(host)` and kept.
  template <typename Lookup>
  int Get(uint64_t owner, std::string_view host, Lookup&& lookup) {
    if (owner != owner_) {
      for (Line& l : lines_) l.len = kEmpty;
      owner_ = owner;
    }
    if (host.empty() || host.size() > kMaxHost) return lookup(host);
    const uint64_t key = Key(host);
    Line& l = lines_[key & (kLines - 1)];
    if (l.key == key && l.len == host.size() && Same(l.host, host.data(), host.size())) return l.value;
    const int value = lookup(host);
    l.key = key;
    l.len = static_cast<uint32_t>(host.size());
    l.value = value;
    std::memcpy(l.host, host.data(), host.size());
    return value;
  }

 private:
  static constexpr size_t kLines = 128;
  static constexpr uint32_t kEmpty = 0xffffffffu;
  struct alignas(64) Line {
    uint64_t key = 0;
    uint32_t len = kEmpty;
    int32_t value = -1;
    char host[kMaxHost] = {};
  };

  static uint64_t Load(const char* p, size_t n) {
    uint64_t x = 0;
    std::memcpy(&x, p, n);
    return x;
  }
  // Length, first and last 8 bytes (fewer for short hosts): the parts where MX names differ.
  static uint64_t Key(std::string_view h) {
    const size_t n = h.size();
    const uint64_t a = n >= 8 ? Load(h.data(), 8) : Load(h.data(), n);
    const uint64_t b = n >= 8 ? Load(h.data() + n - 8, 8) : 0;
    uint64_t x = (a ^ (b * 0x9e3779b97f4a7c15ULL) ^ n) * 0xbf58476d1ce4e5b9ULL;
    return x ^ (x >> 29);
  }
  static bool Same(const char* a, const char* b, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
      if (Load(a + i, 8) != Load(b + i, 8)) return false;
    }
    if (i == n) return true;
    if (n >= 8) return Load(a + n - 8, 8) == Load(b + n - 8, 8);
    return Load(a, n) == Load(b, n);
  }

  uint64_t owner_ = 0;
  std::array<Line, kLines> lines_{};
};

}  // namespace bs

#endif  // BOUNCESTREAM_RULES_MX_MEMO_H_
