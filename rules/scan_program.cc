#include "rules/scan_program.h"

#include <atomic>
#include <map>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace bs {
namespace {

using ByteSet = ScanProgram::ByteSet;

constexpr int kMaxRepeat = 1000;       // RE2's limit
constexpr size_t kMaxNodes = 1 << 20;  // beyond this the patterns are not what this engine is for

ByteSet Range(unsigned lo, unsigned hi) {
  ByteSet s;
  for (unsigned c = lo; c <= hi; ++c) s.Add(c);
  return s;
}
ByteSet Union(ByteSet a, const ByteSet& b) {
  a.w[0] |= b.w[0];
  a.w[1] |= b.w[1];
  return a;
}
ByteSet Complement(const ByteSet& s) {  // within ASCII
  ByteSet out;
  out.w[0] = ~s.w[0];
  out.w[1] = ~s.w[1];
  return out;
}
ByteSet Fold(ByteSet s) {
  for (unsigned c = 'a'; c <= 'z'; ++c) {
    if (s.Has(c) || s.Has(c - 32)) {
      s.Add(c);
      s.Add(c - 32);
    }
  }
  return s;
}
ByteSet Digits() { return Range('0', '9'); }
ByteSet Word() { return Union(Union(Digits(), Range('A', 'Z')), Union(Range('a', 'z'), Range('_', '_'))); }
ByteSet Space() {  // RE2's \s: [\t\n\f\r ]
  ByteSet s;
  for (unsigned c : {'\t', '\n', '\f', '\r', ' '}) s.Add(c);
  return s;
}
bool IsPunct(unsigned char c) {
  return c > 0x20 && c < 0x7f && !ScanProgram::IsWordByte(c);
}

struct Ast {
  enum Type : uint8_t { kSet, kCat, kAlt, kRepeat, kAssert, kEmpty };
  Type type = kEmpty;
  ByteSet set;
  uint8_t assertion = 0;
  int min = 0, max = 0;  // kRepeat; max -1 = unbounded
  std::vector<Ast> kids;
};

class Parser {
 public:
  explicit Parser(std::string_view p) : p_(p) {}

  absl::Status Parse(Ast* out) {
    if (p_.substr(0, 4) == "(?i)") {
      fold_ = true;
      i_ = 4;
    }
    if (auto st = ParseAlt(out, 0); !st.ok()) return st;
    if (i_ != p_.size()) return Unsupported("unbalanced ')'");
    return absl::OkStatus();
  }

 private:
  absl::Status Unsupported(std::string_view what) const {
    return absl::UnimplementedError(absl::StrCat(std::string(what), " at offset ", i_));
  }
  bool More() const { return i_ < p_.size(); }

  absl::Status ParseAlt(Ast* out, int depth) {
    if (depth > 100) return Unsupported("nesting deeper than 100");
    Ast alt;
    alt.type = Ast::kAlt;
    for (;;) {
      Ast cat;
      if (auto st = ParseCat(&cat, depth); !st.ok()) return st;
      alt.kids.push_back(std::move(cat));
      if (More() && p_[i_] == '|') {
        ++i_;
        continue;
      }
      break;
    }
    *out = alt.kids.size() == 1 ? std::move(alt.kids[0]) : std::move(alt);
    return absl::OkStatus();
  }

  absl::Status ParseCat(Ast* out, int depth) {
    Ast cat;
    cat.type = Ast::kCat;
    while (More() && p_[i_] != '|' && p_[i_] != ')') {
      Ast atom;
      if (auto st = ParseAtom(&atom, depth); !st.ok()) return st;
      bool repeated = false;
      while (More()) {
        int min = 0, max = 0;
        const char c = p_[i_];
        if (c == '?' || c == '*' || c == '+') {
          min = c == '+' ? 1 : 0;
          max = c == '?' ? 1 : -1;
          ++i_;
        } else if (c == '{' && Braces(&min, &max)) {
          // consumed by Braces
        } else {
          break;
        }
        if (repeated) return Unsupported("repeated repetition operator");
        repeated = true;
        if (More() && p_[i_] == '?') ++i_;  // lazy: the same set of texts matches
        Ast rep;
        rep.type = Ast::kRepeat;
        rep.min = min;
        rep.max = max;
        rep.kids.push_back(std::move(atom));
        atom = std::move(rep);
      }
      cat.kids.push_back(std::move(atom));
    }
    if (cat.kids.empty()) {
      out->type = Ast::kEmpty;
    } else if (cat.kids.size() == 1) {
      *out = std::move(cat.kids[0]);
    } else {
      *out = std::move(cat);
    }
    return absl::OkStatus();
  }

  // {n} {n,} {n,m}; false (nothing consumed) when the text is not one, as RE2 then reads a literal '{'.
  bool Braces(int* min, int* max) {
    size_t j = i_ + 1;
    auto number = [&](int* v) {
      size_t start = j;
      long n = 0;
      while (j < p_.size() && p_[j] >= '0' && p_[j] <= '9' && j - start < 6) n = n * 10 + (p_[j++] - '0');
      *v = static_cast<int>(n);
      return j > start;
    };
    if (!number(min)) return false;
    if (j < p_.size() && p_[j] == '}') {
      *max = *min;
    } else if (j < p_.size() && p_[j] == ',') {
      ++j;
      if (j < p_.size() && p_[j] == '}') {
        *max = -1;
      } else if (!number(max) || j >= p_.size() || p_[j] != '}') {
        return false;
      }
    } else {
      return false;
    }
    i_ = j + 1;
    return true;
  }

  absl::Status ParseAtom(Ast* out, int depth) {
    const unsigned char c = static_cast<unsigned char>(p_[i_]);
    switch (c) {
      case '(': {
        if (p_.substr(i_, 3) == "(?:") {
          i_ += 3;
        } else if (p_.substr(i_, 2) == "(?") {
          return Unsupported("group flags or names");
        } else {
          ++i_;
        }
        if (auto st = ParseAlt(out, depth + 1); !st.ok()) return st;
        if (!More() || p_[i_] != ')') return Unsupported("missing ')'");
        ++i_;
        return absl::OkStatus();
      }
      case '[':
        return ParseClass(out);
      case '.':
        ++i_;
        out->type = Ast::kSet;
        out->set = Complement(Range('\n', '\n'));
        return absl::OkStatus();
      case '^':
      case '$':
        ++i_;
        out->type = Ast::kAssert;
        out->assertion = c == '^' ? ScanProgram::kBeginText : ScanProgram::kEndText;
        return absl::OkStatus();
      case '\\':
        return ParseEscape(out);
      case '*':
      case '+':
      case '?':
        return Unsupported("repetition operator without an argument");
      case '{': {
        int min = 0, max = 0;
        const size_t save = i_;
        if (Braces(&min, &max)) {
          i_ = save;
          return Unsupported("repetition operator without an argument");
        }
        break;
      }
      default:
        break;
    }
    if (c >= 0x80) return Unsupported("a non-ASCII byte");
    ++i_;
    out->type = Ast::kSet;
    out->set.Add(c);
    if (fold_) out->set = Fold(out->set);
    return absl::OkStatus();
  }

  // A Perl class letter (d D w W s S) → its set; false for any other letter.
  static bool PerlClass(char e, ByteSet* s) {
    switch (e) {
      case 'd': *s = Digits(); return true;
      case 'D': *s = Complement(Digits()); return true;
      case 'w': *s = Word(); return true;
      case 'W': *s = Complement(Word()); return true;
      case 's': *s = Space(); return true;
      case 'S': *s = Complement(Space()); return true;
      default: return false;
    }
  }
  // \t \n \r \f \v \a and escaped punctuation → the byte; -1 otherwise.
  static int EscapedByte(char e) {
    switch (e) {
      case 't': return '\t';
      case 'n': return '\n';
      case 'r': return '\r';
      case 'f': return '\f';
      case 'v': return '\v';
      case 'a': return '\a';
      default: return IsPunct(static_cast<unsigned char>(e)) ? static_cast<unsigned char>(e) : -1;
    }
  }

  absl::Status ParseEscape(Ast* out) {
    if (i_ + 1 >= p_.size()) return Unsupported("trailing '\\'");
    const char e = p_[i_ + 1];
    i_ += 2;
    ByteSet s;
    if (PerlClass(e, &s)) {  // already closed under ASCII case folding
      out->type = Ast::kSet;
      out->set = s;
      return absl::OkStatus();
    }
    out->type = Ast::kAssert;
    switch (e) {
      case 'b': out->assertion = ScanProgram::kWordBoundary; return absl::OkStatus();
      case 'B': out->assertion = ScanProgram::kNotWordBoundary; return absl::OkStatus();
      case 'A': out->assertion = ScanProgram::kBeginText; return absl::OkStatus();
      case 'z': out->assertion = ScanProgram::kEndText; return absl::OkStatus();
      default: break;
    }
    const int b = EscapedByte(e);
    if (b < 0) {
      i_ -= 2;
      return Unsupported(absl::StrCat("escape \\", std::string(1, e)));
    }
    out->type = Ast::kSet;
    out->set = ByteSet{};
    out->set.Add(static_cast<unsigned>(b));
    if (fold_) out->set = Fold(out->set);
    return absl::OkStatus();
  }

  // One class member: a byte (*byte >= 0) or a Perl class (*byte = -1, *set filled).
  absl::Status ClassItem(int* byte, ByteSet* set) {
    if (!More()) return Unsupported("missing ']'");
    const unsigned char c = static_cast<unsigned char>(p_[i_]);
    if (c == '[' && i_ + 1 < p_.size() && p_[i_ + 1] == ':') return Unsupported("POSIX class");
    if (c >= 0x80) return Unsupported("a non-ASCII byte");
    if (c != '\\') {
      ++i_;
      *byte = c;
      return absl::OkStatus();
    }
    if (i_ + 1 >= p_.size()) return Unsupported("trailing '\\'");
    const char e = p_[i_ + 1];
    if (PerlClass(e, set)) {
      i_ += 2;
      *byte = -1;
      return absl::OkStatus();
    }
    const int b = EscapedByte(e);
    if (b < 0) return Unsupported(absl::StrCat("escape \\", std::string(1, e), " in a class"));
    i_ += 2;
    *byte = b;
    return absl::OkStatus();
  }

  absl::Status ParseClass(Ast* out) {
    ++i_;  // '['
    bool negate = false;
    if (More() && p_[i_] == '^') {
      negate = true;
      ++i_;
    }
    ByteSet s;
    bool first = true;
    for (;;) {
      if (!More()) return Unsupported("missing ']'");
      if (p_[i_] == ']' && !first) {
        ++i_;
        break;
      }
      first = false;
      int lo = 0;
      ByteSet perl;
      if (auto st = ClassItem(&lo, &perl); !st.ok()) return st;
      if (lo < 0) {
        s = Union(s, perl);
        continue;
      }
      if (i_ + 1 < p_.size() && p_[i_] == '-' && p_[i_ + 1] != ']') {
        ++i_;
        int hi = 0;
        if (auto st = ClassItem(&hi, &perl); !st.ok()) return st;
        if (hi < lo) return Unsupported("bad class range");
        s = Union(s, Range(static_cast<unsigned>(lo), static_cast<unsigned>(hi)));
      } else {
        s.Add(static_cast<unsigned>(lo));
      }
    }
    if (fold_) s = Fold(s);
    out->type = Ast::kSet;
    out->set = negate ? Complement(s) : s;
    return absl::OkStatus();
  }

  std::string_view p_;
  size_t i_ = 0;
  bool fold_ = false;
};

}  // namespace

class ScanProgramBuilder {
 public:
  explicit ScanProgramBuilder(ScanProgram* p) : p_(p) {}

  // Nodes for `a` that continue at `next`; returns the first one. Built back to front, so that no
  // dangling exits need patching.
  absl::StatusOr<int32_t> Emit(const Ast& a, int32_t next) {
    if (p_->nodes_.size() > kMaxNodes) return absl::UnimplementedError("patterns too large for the scan DFA");
    switch (a.type) {
      case Ast::kEmpty:
        return next;
      case Ast::kSet: {
        ScanProgram::Node n;
        n.kind = ScanProgram::Kind::kByte;
        n.set = Intern(a.set);
        n.out = next;
        return Add(n);
      }
      case Ast::kAssert: {
        ScanProgram::Node n;
        n.kind = ScanProgram::Kind::kAssert;
        n.assertion = a.assertion;
        n.out = next;
        return Add(n);
      }
      case Ast::kCat: {
        for (size_t k = a.kids.size(); k-- > 0;) {
          auto s = Emit(a.kids[k], next);
          if (!s.ok()) return s;
          next = *s;
        }
        return next;
      }
      case Ast::kAlt: {
        std::vector<int32_t> starts;
        for (const Ast& kid : a.kids) {
          auto s = Emit(kid, next);
          if (!s.ok()) return s;
          starts.push_back(*s);
        }
        int32_t cur = starts.back();
        for (size_t k = starts.size() - 1; k-- > 0;) cur = Split(starts[k], cur);
        return cur;
      }
      case Ast::kRepeat: {
        const Ast& x = a.kids[0];
        if (a.min > kMaxRepeat || a.max > kMaxRepeat || (a.max >= 0 && a.max < a.min)) {
          return absl::UnimplementedError("repeat count above 1000");
        }
        int32_t cur = next;
        if (a.max < 0) {  // x* : a loop
          const int32_t loop = Split(-1, next);
          auto body = Emit(x, loop);
          if (!body.ok()) return body;
          p_->nodes_[loop].out = *body;
          cur = loop;
        } else {  // (x(x(x)?)?)? for the optional copies
          for (int k = 0; k < a.max - a.min; ++k) {
            auto body = Emit(x, cur);
            if (!body.ok()) return body;
            cur = Split(*body, next);
          }
        }
        for (int k = 0; k < a.min; ++k) {
          auto body = Emit(x, cur);
          if (!body.ok()) return body;
          cur = *body;
        }
        return cur;
      }
    }
    return absl::InternalError("unknown node");
  }

  int32_t Add(const ScanProgram::Node& n) {
    p_->nodes_.push_back(n);
    return static_cast<int32_t>(p_->nodes_.size() - 1);
  }
  int32_t Split(int32_t a, int32_t b) {
    ScanProgram::Node n;
    n.kind = ScanProgram::Kind::kSplit;
    n.out = a;
    n.out1 = b;
    return Add(n);
  }
  uint16_t Intern(const ByteSet& s) {
    for (size_t k = 0; k < p_->sets_.size(); ++k) {
      if (p_->sets_[k] == s) return static_cast<uint16_t>(k);
    }
    p_->sets_.push_back(s);
    return static_cast<uint16_t>(p_->sets_.size() - 1);
  }

  // Bytes that every set (and the word-byte test behind \b) treats alike share a class.
  absl::Status Classes() {
    if (p_->sets_.size() > 0xffff) return absl::UnimplementedError("too many byte sets");
    std::vector<ByteSet> splitters = p_->sets_;
    splitters.push_back(Word());
    std::map<std::vector<bool>, int> by_signature;
    for (unsigned c = 0; c < 128; ++c) {
      std::vector<bool> sig(splitters.size());
      for (size_t k = 0; k < splitters.size(); ++k) sig[k] = splitters[k].Has(c);
      auto [it, added] = by_signature.emplace(std::move(sig), static_cast<int>(by_signature.size()));
      if (added) p_->representative_.push_back(static_cast<uint8_t>(c));
      p_->byte_class_[c] = static_cast<uint8_t>(it->second);
      if (by_signature.size() > 250) return absl::UnimplementedError("too many byte classes");
    }
    const int bail = static_cast<int>(by_signature.size());
    for (unsigned c = 128; c < 256; ++c) p_->byte_class_[c] = static_cast<uint8_t>(bail);
    p_->representative_.push_back(0x80);
    p_->class_count_ = bail + 1;
    return absl::OkStatus();
  }

 private:
  ScanProgram* p_;
};

absl::StatusOr<std::unique_ptr<const ScanProgram>> ScanProgram::Compile(const std::vector<std::string>& patterns) {
  static std::atomic<uint64_t> next_id{1};
  std::unique_ptr<ScanProgram> prog(new ScanProgram);
  ScanProgramBuilder b(prog.get());
  for (size_t k = 0; k < patterns.size(); ++k) {
    Ast ast;
    if (auto st = Parser(patterns[k]).Parse(&ast); !st.ok()) {
      return absl::Status(st.code(), absl::StrCat("pattern ", k, " (", patterns[k], "): ", st.message()));
    }
    Node m;
    m.kind = Kind::kMatch;
    m.out = static_cast<int32_t>(k);
    auto root = b.Emit(ast, b.Add(m));
    if (!root.ok()) return absl::Status(root.status().code(), absl::StrCat("pattern ", k, ": ", root.status().message()));
    prog->roots_.push_back(*root);
  }
  prog->pattern_count_ = static_cast<int>(patterns.size());
  if (auto st = b.Classes(); !st.ok()) return st;
  prog->id_ = next_id.fetch_add(1, std::memory_order_relaxed);
  return std::unique_ptr<const ScanProgram>(std::move(prog));
}

}  // namespace bs
