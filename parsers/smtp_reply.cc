// SMTP reply splitting and normalisation (see smtp_reply.h). Hand-written scanning, no regex: this runs
// once per record on the hot path.
#include "parsers/smtp_reply.h"

#include <algorithm>
#include <array>
#include <cstring>

namespace bs {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'; }
bool IsClassDigit(char c) { return c == '2' || c == '4' || c == '5'; }

// Length of a basic code token "[2-5]dd" at s[i] that ends at a separator (space, '-' or the end); 0 if none.
size_t BasicCodeAt(std::string_view s, size_t i, uint16_t* code) {
  if (i + 3 > s.size()) return 0;
  if (!(s[i] >= '2' && s[i] <= '5') || !IsDigit(s[i + 1]) || !IsDigit(s[i + 2])) return 0;
  if (i + 3 < s.size() && !(IsSpace(s[i + 3]) || s[i + 3] == '-')) return 0;
  *code = static_cast<uint16_t>((s[i] - '0') * 100 + (s[i + 1] - '0') * 10 + (s[i + 2] - '0'));
  return 3;
}

// Length of an enhanced code token "X.Y.Z" at s[i] followed by a non-alphanumeric (or the end); 0 if none.
size_t EnhancedAt(std::string_view s, size_t i, EnhancedCode* out) {
  size_t j = i;
  if (j >= s.size() || !IsClassDigit(s[j])) return 0;
  EnhancedCode e;
  e.cls = static_cast<uint8_t>(s[j] - '0');
  ++j;
  for (int part = 0; part < 2; ++part) {
    if (j >= s.size() || s[j] != '.') return 0;
    ++j;
    size_t start = j;
    uint32_t v = 0;
    while (j < s.size() && IsDigit(s[j]) && j - start < 3) v = v * 10 + (s[j++] - '0');
    if (j == start) return 0;
    if (part == 0) e.subject = static_cast<uint16_t>(v); else e.detail = static_cast<uint16_t>(v);
  }
  if (j < s.size()) {
    char c = s[j];
    if (IsDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.') {
      // "5.7.1." at the end of a sentence is still a code; "5.7.1.2" (a version, an IP part) is not.
      if (!(c == '.' && (j + 1 >= s.size() || !IsDigit(s[j + 1])))) return 0;
    }
  }
  *out = e;
  return j - i;
}

// At a word start: a continuation token "550-", "550-5.7.26", "550 5.7.26" (with its trailing
// separator). Returns its length, 0 if none; fills code/enhanced when found.
size_t ContinuationAt(std::string_view s, size_t i, uint16_t* code, EnhancedCode* enh, bool* has_enh) {
  uint16_t c = 0;
  if (BasicCodeAt(s, i, &c) == 0) return 0;
  size_t j = i + 3;
  *has_enh = false;
  if (j < s.size() && s[j] == '-') {
    ++j;
    EnhancedCode e;
    size_t n = EnhancedAt(s, j, &e);
    if (n > 0) {
      j += n;
      *enh = e;
      *has_enh = true;
    }
  } else {
    // "550 5.7.26": only a basic code followed by an enhanced code counts (a bare number could be data).
    if (j >= s.size()) return 0;
    size_t k = j;
    while (k < s.size() && IsSpace(s[k])) ++k;
    EnhancedCode e;
    size_t n = EnhancedAt(s, k, &e);
    if (n == 0) return 0;
    j = k + n;
    *enh = e;
    *has_enh = true;
  }
  *code = c;
  return j - i;
}

// Characters that stop the normaliser's copy loop: whitespace, '#', and the punctuation after which a
// continuation token ("550-5.7.26") may start: a code is a word of its own.
constexpr auto kStop = [] {
  std::array<bool, 256> t{};
  for (char c : {' ', '\t', '\r', '\n', '\f', '\v', '#', '(', '[', ';', ',', ':', '"', '\''}) {
    t[static_cast<unsigned char>(c)] = true;
  }
  return t;
}();

uint64_t Load8(const char* p) {
  uint64_t x;
  std::memcpy(&x, p, 8);
  return x;
}

// The high bit of each of the 8 bytes that may be in kStop (bytes below 0x29 cover whitespace, '"',
// '#', '\'' and '('; false positives only cost a look at kStop). The lowest set bit is exact for these
// tests (a borrow only runs upwards, past a byte that matched), so it names the first candidate. Bit
// tricks from "Bit Twiddling Hacks".
uint64_t StopCandidates8(uint64_t x) {
  constexpr uint64_t k01 = 0x0101010101010101ULL, k80 = 0x8080808080808080ULL;
  auto has_zero = [](uint64_t v) { return (v - k01) & ~v & k80; };
  const uint64_t below = (x - k01 * 0x29) & ~x & k80;
  return below | has_zero(x ^ (k01 * ',')) | has_zero(x ^ (k01 * ':')) | has_zero(x ^ (k01 * ';')) |
         has_zero(x ^ (k01 * '['));
}

std::string_view Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && IsSpace(s[b])) ++b;
  while (e > b && IsSpace(s[e - 1])) --e;
  return s.substr(b, e - b);
}

}  // namespace

bool ParseEnhancedCode(std::string_view s, EnhancedCode* out) {
  EnhancedCode e;
  size_t n = EnhancedAt(s, 0, &e);
  if (n == 0 || n != s.size()) return false;
  *out = e;
  return true;
}

std::string_view FormatEnhancedCode(const EnhancedCode& e, char* buf) {
  if (!e.present()) return {};
  char* p = buf;
  *p++ = static_cast<char>('0' + e.cls);
  for (uint16_t v : {e.subject, e.detail}) {
    *p++ = '.';
    char tmp[6];
    int n = 0;
    do {
      tmp[n++] = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v > 0 && n < 5);
    while (n > 0) *p++ = tmp[--n];
  }
  return std::string_view(buf, p - buf);
}

SmtpReply ParseSmtpReply(std::string_view raw) {
  SmtpReply r;
  std::string_view s = Trim(raw);
  uint16_t code = 0;
  if (BasicCodeAt(s, 0, &code) > 0) {
    r.code = code;
    s = s.substr(3);
    if (!s.empty() && s[0] == '-') s = s.substr(1);
    s = Trim(s);
    size_t skip = (!s.empty() && s[0] == '#') ? 1 : 0;
    EnhancedCode e;
    size_t n = EnhancedAt(s, skip, &e);
    if (n > 0) {
      r.enhanced = e;
      s = Trim(s.substr(skip + n));
    }
  }
  r.text = s;
  return r;
}

NormalizedReply NormalizeReply(uint16_t code, const EnhancedCode& enhanced, std::string_view text,
                               std::string& buf) {
  NormalizedReply out;
  out.code = code;
  out.enhanced = enhanced;
  std::string_view s = Trim(text);

  // Leading codes (possibly repeated: "550 550 5.1.1", "550-5.7.26 550-5.7.26 …" is handled below).
  for (;;) {
    uint16_t c = 0;
    if (BasicCodeAt(s, 0, &c) == 0) break;
    if (out.code == 0) out.code = c;
    s = s.substr(3);
    if (!s.empty() && s[0] == '-') s = s.substr(1);
    s = Trim(s);
    size_t skip = (!s.empty() && s[0] == '#') ? 1 : 0;
    EnhancedCode e;
    size_t n = EnhancedAt(s, skip, &e);
    if (n > 0) {
      if (!out.enhanced.present()) out.enhanced = e;
      s = Trim(s.substr(skip + n));
    }
  }
  // A bare leading enhanced code ("5.1.1 <a@b>: …", "#5.7.1 SPF unauthorized …").
  {
    size_t skip = (!s.empty() && s[0] == '#') ? 1 : 0;
    EnhancedCode e;
    size_t n = EnhancedAt(s, skip, &e);
    if (n > 0) {
      if (!out.enhanced.present()) out.enhanced = e;
      s = Trim(s.substr(skip + n));
    }
  }

  if (buf.size() < s.size()) buf.resize(s.size());
  char* dst = buf.data();
  size_t w = 0;
  bool pending_space = false;
  const size_t n = s.size();
  // A continuation token ("550-5.7.26", "550 5.7.26") can start only at a word start: here, or right
  // after whitespace or one of the punctuation marks in kStop.
  auto take_token = [&](size_t at) -> size_t {
    if (at >= n || s[at] < '2' || s[at] > '5') return 0;
    uint16_t c = 0;
    EnhancedCode e;
    bool has_enh = false;
    size_t len = ContinuationAt(s, at, &c, &e, &has_enh);
    if (len > 0) {
      if (out.code == 0) out.code = c;
      if (has_enh && !out.enhanced.present()) out.enhanced = e;
    }
    return len;
  };
  size_t i = take_token(0);
  while (i < n) {
    // Skip the run of ordinary characters, 8 bytes at a time (jumping to the first candidate stop
    // byte in them), and copy it in one go.
    size_t start = i;
    while (i + 8 <= n) {
      const uint64_t m = StopCandidates8(Load8(s.data() + i));
      if (m == 0) {
        i += 8;
        continue;
      }
      i += static_cast<size_t>(__builtin_ctzll(m)) / 8;
      if (kStop[static_cast<unsigned char>(s[i])]) break;
      ++i;  // '!', '$', '%', '&' or a control byte: not a stop
    }
    if (i + 8 > n) {
      while (i < n && !kStop[static_cast<unsigned char>(s[i])]) ++i;
    }
    if (i > start) {
      if (pending_space) {
        dst[w++] = ' ';
        pending_space = false;
      }
      std::memcpy(dst + w, s.data() + start, i - start);
      w += i - start;
      if (i >= n) break;
    }
    const char ch = s[i++];
    if (IsSpace(ch)) {
      pending_space = w > 0;
    } else {
      if (ch == '#' && !out.enhanced.present() && i < n && IsClassDigit(s[i])) {
        // MessageLabs "(#5.1.1)", AsyncOS "#5.7.1": an enhanced code the record did not carry.
        EnhancedCode e;
        if (EnhancedAt(s, i, &e) > 0) out.enhanced = e;
      }
      if (pending_space) {
        dst[w++] = ' ';
        pending_space = false;
      }
      dst[w++] = ch;
    }
    // The token and the separator after it are dropped; a space is re-inserted if text follows.
    if (ch != '#') i += take_token(i);
  }
  out.text = std::string_view(buf.data(), w);
  return out;
}

}  // namespace bs
