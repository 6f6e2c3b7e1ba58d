// ScanProgram: the snapshot's scan patterns (rule texts, then reply identifiers) compiled into one
// Thompson NFA over ASCII byte classes, for ScanDfa (scan_dfa.h) to run as a lazily built DFA.
//
// Why not only RE2::Set: RE2's DFA answers the same question, but each of its states is a heap object
// with one 8-byte pointer per byte class plus the instruction list, and every byte reads two dependent
// cache lines (the transition, then the next state's flags). Over a realistic reply mix the states of
// the 372-pattern set spread over ~7 MB and the scan is bound by those misses (rules/README.md "Speed").
// ScanDfa keeps one 4-byte entry per (state, class), carries "matches here" in that entry, and reads one
// cache line per byte; the states live in the worker's scratch, so no lock is shared between workers.
//
// It answers exactly as RE2::Set (UNANCHORED, default RE2::Options) for texts of ASCII bytes. The
// supported syntax is the subset the rule files use: a leading (?i); literals and escaped punctuation;
// . [...] [^...] \d \D \w \W \s \S; ^ $ \A \z \b \B; ( ) (?: ) |; ? * + {n} {n,} {n,m} (and their lazy
// forms, which cannot change whether a pattern matches). Anything else (other flags, Unicode classes,
// non-ASCII pattern bytes, repeats above 1000) makes Compile fail with kUnimplemented, and the caller
// keeps RE2::Set. Texts with a byte >= 0x80 are never answered here (ScanDfa::Scan returns false): RE2
// matches UTF-8 characters there (". matches one character", (?i) folds U+212A KELVIN SIGN to k).
#ifndef BOUNCESTREAM_RULES_SCAN_PROGRAM_H_
#define BOUNCESTREAM_RULES_SCAN_PROGRAM_H_

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace bs {

class ScanProgram {
 public:
  enum class Kind : uint8_t { kByte, kSplit, kAssert, kMatch };
  enum Assertion : uint8_t { kBeginText, kEndText, kWordBoundary, kNotWordBoundary };
  struct Node {
    Kind kind = Kind::kSplit;
    uint8_t assertion = 0;  // kAssert
    uint16_t set = 0;       // kByte: index into sets()
    int32_t out = -1;       // kMatch: the pattern index
    int32_t out1 = -1;      // kSplit: the second way on
  };
  // A set of ASCII bytes, one bit each.
  struct ByteSet {
    uint64_t w[2] = {0, 0};
    bool Has(unsigned c) const { return c < 128 && ((w[c >> 6] >> (c & 63)) & 1) != 0; }
    void Add(unsigned c) { w[c >> 6] |= uint64_t{1} << (c & 63); }
    bool operator==(const ByteSet& o) const { return w[0] == o.w[0] && w[1] == o.w[1]; }
  };

  // Patterns in the order their indices are reported. kUnimplemented names the first pattern outside
  // the supported syntax; other errors mean the pattern is not a valid regex either.
  static absl::StatusOr<std::unique_ptr<const ScanProgram>> Compile(const std::vector<std::string>& patterns);

  const std::vector<Node>& nodes() const { return nodes_; }
  const std::vector<ByteSet>& sets() const { return sets_; }
  const std::vector<int32_t>& roots() const { return roots_; }  // each pattern's first node
  int pattern_count() const { return pattern_count_; }
  // Byte → class; bytes >= 0x80 map to bail_class().
  const std::array<uint8_t, 256>& byte_class() const { return byte_class_; }
  int class_count() const { return class_count_; }  // ASCII classes, then the bail class
  int bail_class() const { return class_count_ - 1; }
  uint8_t representative(int cls) const { return representative_[cls]; }
  static bool IsWordByte(unsigned c) {
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
  }
  // Distinguishes programs (and so the DFA states built for them) for the life of the process.
  uint64_t id() const { return id_; }

 private:
  ScanProgram() = default;
  friend class ScanProgramBuilder;

  std::vector<Node> nodes_;
  std::vector<ByteSet> sets_;
  std::vector<int32_t> roots_;
  int pattern_count_ = 0;
  std::array<uint8_t, 256> byte_class_{};
  std::vector<uint8_t> representative_;
  int class_count_ = 0;
  uint64_t id_ = 0;
};

}  // namespace bs

#endif  // BOUNCESTREAM_RULES_SCAN_PROGRAM_H_
