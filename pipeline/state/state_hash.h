// Hashes for the keyed state: a fast 64-bit hash of short strings (addresses, domains, campaign ids).
//
// Unseeded and the same in every process, because campaign hashes are written to the changelog and must
// mean the same thing after a restore (absl::Hash is seeded per process). Not an output id: outputs use
// StableHash (pipeline/base/stable_hash.h). Words are read little-endian, as on every target we build.
#ifndef BOUNCESTREAM_PIPELINE_STATE_STATE_HASH_H_
#define BOUNCESTREAM_PIPELINE_STATE_STATE_HASH_H_

#include <cstdint>
#include <cstring>
#include <string_view>

namespace bs::state {

// 64×64 → 128-bit multiply, folded: the mixing step of the wyhash family.
inline uint64_t Mix(uint64_t a, uint64_t b) {
  const unsigned __int128 r = static_cast<unsigned __int128>(a) * b;
  return static_cast<uint64_t>(r) ^ static_cast<uint64_t>(r >> 64);
}

inline uint64_t HashBytes(std::string_view s, uint64_t seed = 0) {
  constexpr uint64_t k0 = 0xa0761d6478bd642fULL, k1 = 0xe7037ed1a0b428dbULL, k2 = 0x8ebc6af09c88c6e3ULL;
  uint64_t h = Mix(seed ^ k0, s.size() ^ k1);
  const char* p = s.data();
  size_t n = s.size();
  while (n >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    h = Mix(w ^ k0, h ^ k1);
    p += 8;
    n -= 8;
  }
  if (n > 0) {
    uint64_t w = 0;
    std::memcpy(&w, p, n);
    h = Mix(w ^ k2, h ^ k1);
  }
  return Mix(h ^ k2, h ^ k0);
}

// The hash of an address split at its last '@': local part, then domain. Lookups hash the two parts
// separately, so the table never has to join them again.
inline uint64_t HashAddress(std::string_view local, std::string_view domain) {
  return HashBytes(domain, HashBytes(local));
}

// A campaign's 32-bit identity within a tenant; never 0 (0 marks an empty sketch slot).
inline uint32_t CampaignHash(std::string_view tenant, std::string_view campaign) {
  const uint64_t h = HashBytes(campaign, HashBytes(tenant, 0x6361u));
  const uint32_t v = static_cast<uint32_t>(h ^ (h >> 32));
  return v == 0 ? 1 : v;
}

}  // namespace bs::state

#endif  // BOUNCESTREAM_PIPELINE_STATE_STATE_HASH_H_
