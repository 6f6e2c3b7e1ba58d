#include "rules/scan_dfa.h"

#include <algorithm>
#include <cstring>

namespace bs {

size_t ScanDfa::memory_bytes() const {
  // The index's keys and slots; each key's heap block, roughly.
  constexpr size_t kPerKey = sizeof(std::string) + sizeof(uint32_t) + 32;
  return next_.size() * sizeof(uint32_t) + states_.size() * sizeof(State) + pool_.size() * sizeof(int32_t) +
         index_.size() * kPerKey + key_bytes_;
}

void ScanDfa::Reset(const ScanProgram& program) {
  const bool same_program = prog_ == &program && program_id_ == program.id();
  if (same_program) ++resets_;
  next_.clear();
  states_.clear();
  pool_.clear();
  index_.clear();
  key_bytes_ = 0;
  if (!same_program) {  // what depends on the program alone survives running out of budget
    prog_ = &program;
    program_id_ = program.id();
    width_ = static_cast<uint32_t>(program.class_count());
    visited_.assign(program.nodes().size(), 0);
    queued_.assign(program.nodes().size(), 0);
    reported_.assign(static_cast<size_t>(program.pattern_count()), 0);
    stamp_ = 0;
    hit_bits_.assign((static_cast<size_t>(program.pattern_count()) + 63) / 64, 0);
    root_steps_.assign(4 * (width_ + 1), {});
    for (uint8_t flags = 0; flags < 4; ++flags) {
      for (uint32_t k = 0; k <= width_; ++k) {
        State empty;
        empty.flags = flags;
        Step(empty, k == width_ ? -1 : program.representative(static_cast<int>(k)), /*from_roots=*/true);
        root_steps_[RootIndex(flags, static_cast<int>(k))] = {next_nodes_, matches_};
      }
    }
  }
  next_nodes_.clear();
  matches_.clear();
  FindOrAdd(kAtBegin);  // the start state, row 0
}

void ScanDfa::Step(const State& s, int c, bool from_roots) {
  if (++stamp_ == 0) {  // wrapped: forget every old mark
    std::fill(visited_.begin(), visited_.end(), 0);
    std::fill(queued_.begin(), queued_.end(), 0);
    std::fill(reported_.begin(), reported_.end(), 0);
    stamp_ = 1;
  }
  const auto& nodes = prog_->nodes();
  const auto& sets = prog_->sets();
  const bool at_end = c < 0;
  const bool prev_word = (s.flags & kPrevWord) != 0;
  const bool next_word = !at_end && ScanProgram::IsWordByte(static_cast<unsigned>(c));
  const bool at_begin = (s.flags & kAtBegin) != 0;
  next_nodes_.clear();
  matches_.clear();
  stack_.clear();
  if (from_roots) {
    const auto& roots = prog_->roots();
    for (size_t k = roots.size(); k-- > 0;) stack_.push_back(roots[k]);
  } else {
    // A byte's class decides everything Step reads of it (sets, word or not), so its representative
    // stands for it.
    const int cls = c < 0 ? static_cast<int>(width_) : prog_->byte_class()[static_cast<unsigned>(c)];
    const RootStep& r = root_steps_[RootIndex(s.flags, cls)];
    for (int32_t n : r.nodes) {
      queued_[n] = stamp_;
      next_nodes_.push_back(n);
    }
    for (int32_t m : r.matches) {
      reported_[m] = stamp_;
      matches_.push_back(m);
    }
  }
  for (uint32_t k = 0; k < s.n_nodes; ++k) stack_.push_back(pool_[s.nodes + k]);
  while (!stack_.empty()) {
    const int32_t n = stack_.back();
    stack_.pop_back();
    if (visited_[n] == stamp_) continue;
    visited_[n] = stamp_;
    const ScanProgram::Node& node = nodes[n];
    switch (node.kind) {
      case ScanProgram::Kind::kByte:
        if (!at_end && sets[node.set].Has(static_cast<unsigned>(c)) && queued_[node.out] != stamp_) {
          queued_[node.out] = stamp_;
          next_nodes_.push_back(node.out);
        }
        break;
      case ScanProgram::Kind::kSplit:
        stack_.push_back(node.out1);
        stack_.push_back(node.out);
        break;
      case ScanProgram::Kind::kAssert: {
        bool ok = false;
        switch (node.assertion) {
          case ScanProgram::kBeginText: ok = at_begin; break;
          case ScanProgram::kEndText: ok = at_end; break;
          case ScanProgram::kWordBoundary: ok = prev_word != next_word; break;
          case ScanProgram::kNotWordBoundary: ok = prev_word == next_word; break;
          default: break;
        }
        if (ok) stack_.push_back(node.out);
        break;
      }
      case ScanProgram::Kind::kMatch:
        if (reported_[node.out] != stamp_) {
          reported_[node.out] = stamp_;
          matches_.push_back(node.out);
        }
        break;
    }
  }
  std::sort(next_nodes_.begin(), next_nodes_.end());
  std::sort(matches_.begin(), matches_.end());
}

uint32_t ScanDfa::FindOrAdd(uint8_t flags) {
  key_.assign(1, static_cast<char>(flags));
  const uint32_t n_nodes = static_cast<uint32_t>(next_nodes_.size());
  key_.append(reinterpret_cast<const char*>(&n_nodes), sizeof(n_nodes));
  key_.append(reinterpret_cast<const char*>(next_nodes_.data()), next_nodes_.size() * sizeof(int32_t));
  key_.append(reinterpret_cast<const char*>(matches_.data()), matches_.size() * sizeof(int32_t));
  auto it = index_.find(key_);
  if (it != index_.end()) return it->second * (width_ + 1);
  const size_t after = memory_bytes() + (width_ + 1) * sizeof(uint32_t) + sizeof(State) +
                       (n_nodes + matches_.size()) * sizeof(int32_t) + 2 * key_.size() + 64;
  const uint32_t number = static_cast<uint32_t>(states_.size());
  if ((after > budget_ && !states_.empty()) || (static_cast<uint64_t>(number) + 1) * (width_ + 1) >= kMatchBit) {
    return kBail;
  }
  State st;
  st.flags = flags;
  st.nodes = static_cast<uint32_t>(pool_.size());
  st.n_nodes = n_nodes;
  pool_.insert(pool_.end(), next_nodes_.begin(), next_nodes_.end());
  st.matches = static_cast<uint32_t>(pool_.size());
  st.n_matches = static_cast<uint32_t>(matches_.size());
  pool_.insert(pool_.end(), matches_.begin(), matches_.end());
  states_.push_back(st);
  next_.resize(next_.size() + width_ + 1, kUnknown);
  next_[next_.size() - 2] = kBail;    // the bail class is always last
  next_[next_.size() - 1] = number;  // then the state's number (read on matches only)
  index_.emplace(key_, number);
  key_bytes_ += key_.size();
  return number * (width_ + 1);
}

uint32_t ScanDfa::Build(uint32_t row, int cls) {
  const State s = states_[next_[row + width_]];
  Step(s, prog_->representative(cls));
  const uint8_t flags = ScanProgram::IsWordByte(prog_->representative(cls)) ? kPrevWord : 0;
  const uint32_t target = FindOrAdd(flags);
  if (target == kBail) {
    Reset(*prog_);
    return kBail;
  }
  const uint32_t entry = target | (matches_.empty() ? 0 : kMatchBit);
  next_[row + static_cast<uint32_t>(cls)] = entry;
  return entry;
}

void ScanDfa::Report(uint32_t first, uint32_t n) {
  for (uint32_t k = 0; k < n; ++k) {
    const uint32_t p = static_cast<uint32_t>(pool_[first + k]);
    hit_bits_[p >> 6] |= uint64_t{1} << (p & 63);
  }
}

bool ScanDfa::Scan(const ScanProgram& program, std::string_view text, std::vector<int>* hits) {
  hits->clear();
  if (prog_ != &program || program_id_ != program.id()) Reset(program);
  std::fill(hit_bits_.begin(), hit_bits_.end(), 0);
  const uint8_t* cls = program.byte_class().data();
  const uint32_t* next = next_.data();
  const uint32_t width = width_;
  uint32_t row = 0;
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const auto* end = p + text.size();
  for (; p < end; ++p) {
    const uint32_t k = cls[*p];
    uint32_t v = next[row + k];
    if (v & kMatchBit) {
      if (v >= kBail) {
        if (v == kBail) return false;
        v = Build(row, static_cast<int>(k));
        if (v == kBail) return false;
        next = next_.data();
      }
      if (v & kMatchBit) {
        v &= ~kMatchBit;
        const State& s = states_[next[v + width]];
        Report(s.matches, s.n_matches);
      }
    }
    row = v;
  }
  const uint32_t number = next[row + width];
  if (states_[number].end_matches < 0) {
    const State copy = states_[number];
    Step(copy, -1);
    State& again = states_[number];
    again.end_matches = static_cast<int32_t>(pool_.size());
    again.n_end_matches = static_cast<uint32_t>(matches_.size());
    pool_.insert(pool_.end(), matches_.begin(), matches_.end());
  }
  const State& last = states_[number];
  Report(static_cast<uint32_t>(last.end_matches), last.n_end_matches);
  for (size_t w = 0; w < hit_bits_.size(); ++w) {
    for (uint64_t bits = hit_bits_[w]; bits != 0; bits &= bits - 1) {
      hits->push_back(static_cast<int>(w * 64 + static_cast<size_t>(__builtin_ctzll(bits))));
    }
  }
  return true;
}

}  // namespace bs
