// ScanDfa: a worker's lazily built DFA for one ScanProgram (scan_program.h): which patterns match
// somewhere in a text, as RE2::Set::Match (UNANCHORED) answers.
//
// A state is the set of NFA nodes still waiting for a byte (the patterns' first nodes are implied in
// every state: the scan is unanchored), whether the previous byte was a word byte (for \b), and the
// patterns that matched just before the byte that led here. Transitions are built the first time they
// are taken and kept in one table: a row of 4-byte entries per state, one per byte class, each holding
// the target row's offset and, in its top bit, "the target reports matches". The hot loop reads one
// entry per byte and tests one bit. The table belongs to the worker (ClassifyScratch), so workers share
// no lock; it is dropped when it outgrows its budget or the program changes (hot reload).
//
// Scan returns false, answering nothing, for a text with a byte >= 0x80 and when the budget ran out
// during the scan; the caller then asks RE2::Set.
#ifndef BOUNCESTREAM_RULES_SCAN_DFA_H_
#define BOUNCESTREAM_RULES_SCAN_DFA_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "rules/scan_program.h"

namespace bs {

class ScanDfa {
 public:
  static constexpr size_t kDefaultBudgetBytes = size_t{48} << 20;

  // Fills *hits (cleared first) with the index of every pattern that matches somewhere in `text`, each
  // once, ascending. False: not answered (see above).
  bool Scan(const ScanProgram& program, std::string_view text, std::vector<int>* hits);

  void set_budget_bytes(size_t bytes) { budget_ = bytes; }
  size_t state_count() const { return states_.size(); }
  size_t memory_bytes() const;
  uint64_t resets() const { return resets_; }  // times the table outgrew its budget

 private:
  static constexpr uint32_t kMatchBit = 0x80000000u;
  static constexpr uint32_t kBail = 0xfffffffeu;     // a byte >= 0x80 (the bail class)
  static constexpr uint32_t kUnknown = 0xffffffffu;  // not built yet
  static constexpr uint8_t kPrevWord = 1, kAtBegin = 2;

  struct State {
    uint32_t nodes = 0, n_nodes = 0;      // in pool_
    uint32_t matches = 0, n_matches = 0;  // in pool_: reported on arrival
    int32_t end_matches = -1;             // in pool_, once computed: reported when the text ends here
    uint32_t n_end_matches = 0;
    uint8_t flags = 0;
  };

  void Reset(const ScanProgram& program);
  // The entry for (state at `row`, class) after building it; kBail when the budget ran out (the table
  // was reset).
  uint32_t Build(uint32_t row, int cls);
  // Follows empty moves from the state's nodes and the patterns' first nodes (their part precomputed in
  // root_steps_ unless `from_roots`). `c` < 0: the end of the text. Leaves the nodes waiting after byte c
  // in next_nodes_ and the matches in matches_ (sorted).
  void Step(const State& s, int c, bool from_roots = false);
  // root_steps_ index for (flags, class or the end).
  size_t RootIndex(uint8_t flags, int cls) const { return flags * (width_ + 1) + static_cast<size_t>(cls); }
  // The state's row offset, adding it if new; kBail when over budget.
  uint32_t FindOrAdd(uint8_t flags);
  void Report(uint32_t first, uint32_t n);

  const ScanProgram* prog_ = nullptr;
  uint64_t program_id_ = 0;
  uint32_t width_ = 0;
  size_t budget_ = kDefaultBudgetBytes;
  uint64_t resets_ = 0;
  std::vector<uint32_t> next_;  // per state: width_ entries, then the state's number
  std::vector<State> states_;
  std::vector<int32_t> pool_;
  // What the patterns' first nodes alone give for each (flags, class; the end last): the same in every
  // state, so computed once per program instead of on every new transition.
  struct RootStep {
    std::vector<int32_t> nodes, matches;
  };
  std::vector<RootStep> root_steps_;
  absl::flat_hash_map<std::string, uint32_t> index_;  // state key → state number
  size_t key_bytes_ = 0;
  // Scratch for Step.
  std::vector<uint32_t> visited_, queued_, reported_;
  uint32_t stamp_ = 0;
  std::vector<int32_t> stack_, next_nodes_, matches_;
  std::string key_;
  std::vector<uint64_t> hit_bits_;
};

}  // namespace bs

#endif  // BOUNCESTREAM_RULES_SCAN_DFA_H_
