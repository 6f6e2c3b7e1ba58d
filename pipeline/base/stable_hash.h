// A hash that is the same in every process and on every machine (FNV-1a, 64 bit), for output ids that
// downstream consumers de-duplicate on. absl::Hash is seeded per process and must not be used for ids.
#ifndef BOUNCESTREAM_PIPELINE_BASE_STABLE_HASH_H_
#define BOUNCESTREAM_PIPELINE_BASE_STABLE_HASH_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace bs {

class StableHash {
 public:
  StableHash& Add(std::string_view s) {
    for (unsigned char c : s) {
      h_ ^= c;
      h_ *= 0x100000001b3ULL;
    }
    // A separator so ("ab","c") and ("a","bc") differ.
    h_ ^= 0xff;
    h_ *= 0x100000001b3ULL;
    return *this;
  }
  StableHash& Add(int64_t v) { return Add(std::string_view(reinterpret_cast<const char*>(&v), sizeof v)); }
  uint64_t value() const { return h_; }
  // 16 lowercase hex digits.
  std::string Hex() const {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out(16, '0');
    uint64_t v = h_;
    for (int i = 15; i >= 0; --i, v >>= 4) out[i] = kHex[v & 15];
    return out;
  }

 private:
  uint64_t h_ = 0xcbf29ce484222325ULL;
};

}  // namespace bs

#endif  // BOUNCESTREAM_PIPELINE_BASE_STABLE_HASH_H_
