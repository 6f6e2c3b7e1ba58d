// SuffixTable: the MX-host → provider lookup of the classification hot path (every record, accepted mail
// included, asks it). Same answer as walking an absl::flat_hash_map<std::string, SuffixInfo> from the last
// label leftwards over a lower-cased copy of the host (RuleSetImpl::Detect's reference walk), without the
// copy: each candidate suffix is hashed with the case folded on the fly (8 bytes at a time) and looked up
// in a small open-addressing array.
#ifndef BOUNCESTREAM_RULES_SUFFIX_TABLE_H_
#define BOUNCESTREAM_RULES_SUFFIX_TABLE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace bs {

class SuffixTable {
 public:
  struct Value {
    int entry = -1;           // provider entry named by this suffix, -1 if only a longer one is
    bool extendable = false;  // a longer suffix (one more label on the left) exists
  };

  // Keys are the suffixes as stored (lower-case; a key with upper-case letters never matches, as in the
  // map walk). Replaces any previous content.
  void Build(const std::vector<std::pair<std::string, Value>>& keys);
  bool empty() const { return count_ == 0; }

  // The longest suffix of `host` (already stripped of trailing dots and spaces) on a label boundary that
  // names an entry, walking leftwards while a longer suffix can exist; -1 if none. ASCII case-insensitive.
  int Longest(std::string_view host) const;

 private:
  struct Slot {
    uint64_t hash = 0;
    uint32_t offset = 0;  // key bytes in keys_
    uint32_t len = 0;     // 0: empty slot
    Value value;
  };
  // Hash of a candidate suffix, ASCII case folded, 8 bytes per multiply (a byte-at-a-time hash is a
  // serial chain of multiplies: slower than the absl map it replaces).
  static uint64_t Hash(const char* p, size_t n);
  // The slot holding `suffix` (compared ASCII case-insensitively against the lower-case key), or null.
  const Slot* Find(std::string_view suffix) const;

  std::vector<Slot> slots_;
  std::string keys_;
  uint64_t mask_ = 0;
  size_t count_ = 0;
};

}  // namespace bs

#endif  // BOUNCESTREAM_RULES_SUFFIX_TABLE_H_
