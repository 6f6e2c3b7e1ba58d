// Fast path of the KumoMTA parser (see kumomta_fast.h). Every "return false" below is a bail-out to the
// On-Demand walk, which then gives the answer (events, skip or error) for the record.
#include "parsers/kumomta_fast.h"

#include <simdjson.h>

#include <cstring>
#include <optional>

#if defined(__AVX2__) || defined(__SSE2__)
#include <immintrin.h>
#endif

#include "pipeline/base/event_time.h"
#include "pipeline/base/strings.h"

namespace bs::kumomta {
namespace {

// Deeper values are left to simdjson (its own limit is 1024; real records nest 3 deep).
constexpr int kMaxDepth = 32;

// Index asks for the bytes this far past each block it reads: records come one after another in the
// source's buffer, so that is the next record, whose first touch (the parser's look at its last byte, then
// Index) otherwise waits for memory: 10 % of the time on the 17 MB benchmark set (perf), about 10 % more
// records/s with it (same-process A/B; 640 to 2048 bytes ahead measured alike). A prefetch never faults.
constexpr size_t kPrefetchAhead = 1024;

// Bits of one 64-byte block: '"', '\\', and bytes outside 0x20..0x7f (control bytes, non-ASCII).
struct BlockMasks {
  uint64_t quote;
  uint64_t backslash;
  uint64_t unusual;
};

#if defined(__AVX2__)
inline uint64_t Mask64(__m256i lo, __m256i hi) {
  return static_cast<uint32_t>(_mm256_movemask_epi8(lo)) |
         (static_cast<uint64_t>(static_cast<uint32_t>(_mm256_movemask_epi8(hi))) << 32);
}

inline BlockMasks Classify(const char* p) {
  const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32));
  const __m256i quote = _mm256_set1_epi8('"');
  const __m256i backslash = _mm256_set1_epi8('\\');
  const __m256i space = _mm256_set1_epi8(0x20);
  // Signed compare: bytes >= 0x80 are negative, so "less than 0x20" catches them with the control bytes.
  return {Mask64(_mm256_cmpeq_epi8(a, quote), _mm256_cmpeq_epi8(b, quote)),
          Mask64(_mm256_cmpeq_epi8(a, backslash), _mm256_cmpeq_epi8(b, backslash)),
          Mask64(_mm256_cmpgt_epi8(space, a), _mm256_cmpgt_epi8(space, b))};
}
#elif defined(__SSE2__)
inline uint64_t Mask16(__m128i v, int shift) {
  return static_cast<uint64_t>(static_cast<uint32_t>(_mm_movemask_epi8(v))) << shift;
}

inline BlockMasks Classify(const char* p) {
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  const __m128i space = _mm_set1_epi8(0x20);
  BlockMasks m{0, 0, 0};
  for (int k = 0; k < 4; ++k) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * k));
    m.quote |= Mask16(_mm_cmpeq_epi8(v, quote), 16 * k);
    m.backslash |= Mask16(_mm_cmpeq_epi8(v, backslash), 16 * k);
    m.unusual |= Mask16(_mm_cmplt_epi8(v, space), 16 * k);
  }
  return m;
}
#else
inline BlockMasks Classify(const char* p) {
  BlockMasks m{0, 0, 0};
  for (int k = 0; k < 64; ++k) {
    const unsigned char c = static_cast<unsigned char>(p[k]);
    m.quote |= static_cast<uint64_t>(c == '"') << k;
    m.backslash |= static_cast<uint64_t>(c == '\\') << k;
    m.unusual |= static_cast<uint64_t>(c < 0x20 || c >= 0x80) << k;
  }
  return m;
}
#endif

// Bits of the characters escaped by a backslash in one block (a backslash escapes the next character,
// which, if itself a backslash, escapes nothing). `carry`: the block's first character is escaped by the
// previous block's last backslash; updated for the next block. Backslashes are rare: a plain loop.
inline uint64_t Escaped(uint64_t backslash, uint64_t& carry) {
  uint64_t escaped = 0;
  if (carry != 0) {
    escaped = 1;
    backslash &= ~uint64_t{1};
    carry = 0;
  }
  while (backslash != 0) {
    const int i = __builtin_ctzll(backslash);
    if (i == 63) {
      carry = 1;
      break;
    }
    escaped |= uint64_t{1} << (i + 1);
    backslash &= ~(uint64_t{3} << i);
  }
  return escaped;
}

// DomainOf (delivery_event.h) with memrchr instead of a byte loop.
inline std::string_view Domain(std::string_view address) {
  const void* at = address.empty() ? nullptr : memrchr(address.data(), '@', address.size());
  if (at == nullptr) return {};
  const size_t from = static_cast<size_t>(static_cast<const char*>(at) - address.data()) + 1;
  return address.substr(from);
}

[[gnu::always_inline]] inline bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Top-level keys we read; one bit each for the duplicate check.
enum TopKey : uint32_t {
  kOther, kType, kId, kSender, kRecipient, kQueue, kEventTime, kTimestamp, kNumAttempts, kEgressPool,
  kEgressSource, kResponse, kPeerAddress, kSourceAddress, kMeta,
};

// A string literal as a template argument, so that its bytes are compile-time words in Is().
template <size_t N>
struct Lit {
  char s[N];
  constexpr Lit(const char (&p)[N]) {  // NOLINT: implicit on purpose (Is<"name">)
    for (size_t k = 0; k < N; ++k) s[k] = p[k];
  }
  static constexpr size_t kLen = N - 1;
  // Bytes [from, from + len) (len <= 8) as a little-endian word.
  constexpr uint64_t Word(size_t from, size_t len) const {
    uint64_t w = 0;
    for (size_t k = 0; k < len; ++k) w |= static_cast<uint64_t>(static_cast<unsigned char>(s[from + k])) << (8 * k);
    return w;
  }
};

[[gnu::always_inline]] inline uint64_t Load8(const char* p) {
  uint64_t w;
  std::memcpy(&w, p, 8);
  return w;
}

// Whether `key` (raw bytes between the quotes) is the literal L (up to 16 bytes): one or two word
// compares. A key shorter than 8 bytes is read as a whole word and masked: the bytes after it are in the
// record or its padding. An escaped key never equals one of ours, as in the slow path.
template <Lit L>
[[gnu::always_inline]] inline bool Is(std::string_view key) {
  constexpr size_t kLen = decltype(L)::kLen;
  static_assert(kLen >= 1 && kLen <= 16);
  if (key.size() != kLen) return false;
  if constexpr (kLen <= 8) {
    constexpr uint64_t kMask = kLen == 8 ? ~uint64_t{0} : (uint64_t{1} << (8 * kLen)) - 1;
    constexpr uint64_t kWord = L.Word(0, kLen);
    return ((Load8(key.data()) ^ kWord) & kMask) == 0;
  } else {
    constexpr uint64_t kHead = L.Word(0, 8);
    constexpr uint64_t kTail = L.Word(kLen - 8, 8);
    return ((Load8(key.data()) ^ kHead) | (Load8(key.data() + kLen - 8) ^ kTail)) == 0;
  }
}

// Trailing zeros, 64 for 0 (the unrolled quote listing relies on it).
inline uint32_t Tz(uint64_t x) {
#if defined(__BMI__)
  return static_cast<uint32_t>(_tzcnt_u64(x));
#else
  return x == 0 ? 64 : static_cast<uint32_t>(__builtin_ctzll(x));
#endif
}

// `key` is the raw text between the quotes: an escaped key never equals one of ours, as in the slow path.
[[gnu::always_inline]] inline TopKey TopKeyOf(std::string_view key) {
  switch (key.size()) {
    case 2: return Is<"id">(key) ? kId : kOther;
    case 4: return Is<"type">(key) ? kType : Is<"meta">(key) ? kMeta : kOther;
    case 5: return Is<"queue">(key) ? kQueue : kOther;
    case 6: return Is<"sender">(key) ? kSender : kOther;
    case 8: return Is<"response">(key) ? kResponse : kOther;
    case 9: return Is<"recipient">(key) ? kRecipient : Is<"timestamp">(key) ? kTimestamp : kOther;
    case 10: return Is<"event_time">(key) ? kEventTime : kOther;
    case 11: return Is<"egress_pool">(key) ? kEgressPool : kOther;
    case 12: return Is<"num_attempts">(key) ? kNumAttempts : Is<"peer_address">(key) ? kPeerAddress : kOther;
    case 13: return Is<"egress_source">(key) ? kEgressSource : kOther;
    case 14: return Is<"source_address">(key) ? kSourceAddress : kOther;
    default: return kOther;
  }
}

}  // namespace

#if BS_KUMOMTA_WIDE
// Index's loop with AVX-512 (BW, VBMI2): one 64-byte compare per character class straight into a bit mask,
// and the quotes listed by one byte compress of the lane numbers 0..63, widened sixteen at a time to
// offsets (one step for the usual block of up to 16 quotes), instead of a tzcnt/blsr/store step per quote.
// Chosen at run time (see the constructor): builds target AVX2. Returns the quote count; it fills the same
// lists and bits as the loop in Index.
[[gnu::target("avx512f,avx512bw,avx512vbmi2")]] size_t FastScanner::ListWide(uint64_t& unusual_out,
                                                                              uint64_t& backslash_out) {
  alignas(64) static constexpr uint8_t kLanes[64] = {
      0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21,
      22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43,
      44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63};
  const __m512i lanes = _mm512_load_si512(kLanes);
  const __m512i quote = _mm512_set1_epi8('"');
  const __m512i backslash_byte = _mm512_set1_epi8('\\');
  const __m512i space = _mm512_set1_epi8(0x20);
  uint64_t unusual = 0, backslash = 0, carry = 0;
  uint32_t* out = quote_pos_;
  for (size_t w = 0; w < words_; ++w) {
    // The last block reads up to 63 bytes past the record: inside the padding every record has.
    const __m512i v = _mm512_loadu_si512(s_ + 64 * w);
    __builtin_prefetch(s_ + 64 * w + kPrefetchAhead);
    uint64_t qm = _mm512_cmpeq_epi8_mask(v, quote);
    uint64_t bm = _mm512_cmpeq_epi8_mask(v, backslash_byte);
    uint64_t um = _mm512_cmplt_epi8_mask(v, space);  // signed: control bytes and bytes >= 0x80
    if (w + 1 == words_ && (n_ & 63) != 0) {
      const uint64_t keep = (uint64_t{1} << (n_ & 63)) - 1;
      qm &= keep;
      bm &= keep;
      um &= keep;
    }
    unusual |= um;
    backslash |= bm;
    backslashes_[w] = bm;
    const uint64_t q = (bm | carry) == 0 ? qm : qm & ~Escaped(bm, carry);
    const int cnt = __builtin_popcountll(q);
    const __m512i packed = _mm512_maskz_compress_epi8(q, lanes);  // the quotes' lane numbers, in order
    const __m512i base = _mm512_set1_epi32(static_cast<int>(64 * w));
    // Sixteen entries a step, of which the first cnt - 16 * k are quotes; the rest are overwritten by the
    // next block or lie past the count (quote_pos_ has the slack). The lane numbers go through memory:
    // GCC 12 warns that its register casts and extractions read an undefined register.
    alignas(64) uint8_t bytes[64];
    _mm512_store_si512(bytes, packed);
    for (int k = 0; k == 0 || (k < 4 && cnt > 16 * k); ++k) {
      const __m128i part = _mm_load_si128(reinterpret_cast<const __m128i*>(bytes + 16 * k));
      _mm512_storeu_si512(out + 16 * k, _mm512_add_epi32(_mm512_maskz_cvtepu8_epi32(0xffff, part), base));
    }
    out += cnt;
  }
  unusual_out = unusual;
  backslash_out = backslash;
  return static_cast<size_t>(out - quote_pos_);
}

bool FastScanner::WideAvailable() {
  // __builtin_cpu_init: a scanner may be built before libgcc's own constructor has run.
  static const bool available =
      (__builtin_cpu_init(), __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                                 __builtin_cpu_supports("avx512vbmi2"));
  return available;
}
#else
bool FastScanner::WideAvailable() { return false; }
#endif

FastScanner::FastScanner(bool allow_wide) : wide_(allow_wide && WideAvailable()) {}

bool FastScanner::Index() {
  words_ = (n_ + 63) / 64;
  uint64_t unusual = 0, backslash = 0, carry = 0;
  size_t count = 0;
#if BS_KUMOMTA_WIDE
  if (wide_) {
    count = ListWide(unusual, backslash);
    words_ = 0;  // skips the loop below
  }
#endif
  for (size_t w = 0; w < words_; ++w) {
    // The last block reads up to 63 bytes past the record: inside the padding every record has.
    BlockMasks m = Classify(s_ + 64 * w);
    __builtin_prefetch(s_ + 64 * w + kPrefetchAhead);
    if (w + 1 == words_ && (n_ & 63) != 0) {
      const uint64_t keep = (uint64_t{1} << (n_ & 63)) - 1;
      m.quote &= keep;
      m.backslash &= keep;
      m.unusual &= keep;
    }
    unusual |= m.unusual;
    backslash |= m.backslash;
    backslashes_[w] = m.backslash;
    uint64_t q = (m.backslash | carry) == 0 ? m.quote : m.quote & ~Escaped(m.backslash, carry);
    // List the quotes: eight writes whatever the count (most blocks have fewer; the extra entries are
    // overwritten by the next block or lie past quotes_), then the rest one by one.
    const uint32_t base = static_cast<uint32_t>(64 * w);
    const size_t cnt = static_cast<size_t>(__builtin_popcountll(q));
    uint32_t* out = quote_pos_ + count;
#pragma GCC unroll 8
    for (int k = 0; k < 8; ++k) {
      out[k] = base + Tz(q);
      q &= q - 1;
    }
    for (size_t k = 8; k < cnt; ++k) {
      out[k] = base + Tz(q);
      q &= q - 1;
    }
    count += cnt;
  }
  words_ = (n_ + 63) / 64;
  quotes_ = count;
  // An odd count is an unclosed string. With an even one, RawString consumes quotes in pairs, so a
  // string's closing quote is always in the list.
  if ((count & 1) != 0) return false;
  // Sentinels: no cursor position equals them, so RawString needs no bound check on the list.
  quote_pos_[count] = quote_pos_[count + 1] = ~uint32_t{0};
  any_backslash_ = backslash != 0;
  if (unusual != 0) {
    // Control bytes: invalid in strings, and whitespace other than ' ' is left to simdjson too.
    for (size_t k = 0; k < n_; ++k) {
      if (static_cast<unsigned char>(s_[k]) < 0x20) return false;
    }
    // Non-ASCII: the slow path reports invalid UTF-8 anywhere in the record.
    if (!simdjson::validate_utf8(s_, n_)) return false;
  }
  return true;
}

bool FastScanner::HasBackslash(size_t from, size_t to) const {
  if (from >= to) return false;
  size_t w = from >> 6;
  const size_t last = (to - 1) >> 6;
  uint64_t bits = backslashes_[w] & (~uint64_t{0} << (from & 63));
  for (;;) {
    if (w == last) {
      const size_t end = to & 63;
      if (end != 0) bits &= (uint64_t{1} << end) - 1;
      return bits != 0;
    }
    if (bits != 0) return true;
    bits = backslashes_[++w];
  }
}

// At a string's opening quote (the next one not consumed, else this is no string): its raw text, escapes
// and all. Enough for keys (an escaped key never equals one of ours) and for strings we skip.
inline bool FastScanner::RawString(Cursor& c, std::string_view& out) {
  if (quote_pos_[c.q] != c.i) return false;  // also false at the sentinel past the last quote
  const size_t close = quote_pos_[c.q + 1];
  out = std::string_view(s_ + c.i + 1, close - c.i - 1);
  c.q += 2;
  c.i = close + 1;
  return true;
}

// A string value we keep: a view into the record, or into scratch_ when it has escapes.
inline bool FastScanner::String(Cursor& c, std::string_view& out) {
  if (!RawString(c, out)) return false;
  const size_t from = static_cast<size_t>(out.data() - s_);
  return !any_backslash_ || !HasBackslash(from, from + out.size()) || Unescape(out);
}

// The short escapes, as simdjson decodes them; \u (surrogates, invalid code points) is left to simdjson.
bool FastScanner::Unescape(std::string_view& s) {
  char* const start = scratch_ + unescaped_;
  char* d = start;
  for (size_t k = 0; k < s.size(); ++k) {
    const char ch = s[k];
    if (ch != '\\') {
      *d++ = ch;
      continue;
    }
    if (++k == s.size()) return false;
    switch (s[k]) {
      case '"': *d++ = '"'; break;
      case '\\': *d++ = '\\'; break;
      case '/': *d++ = '/'; break;
      case 'b': *d++ = '\b'; break;
      case 'f': *d++ = '\f'; break;
      case 'n': *d++ = '\n'; break;
      case 'r': *d++ = '\r'; break;
      case 't': *d++ = '\t'; break;
      default: return false;
    }
  }
  s = std::string_view(start, static_cast<size_t>(d - start));
  unescaped_ += s.size();
  return true;
}

inline bool FastScanner::Null(Cursor& c) {
  // s_[c.i] is readable even at the end (padding); most values are not null, so test one byte first.
  if (s_[c.i] == 'n' && c.i + 4 <= n_ && Is<"null">(std::string_view(s_ + c.i, 4))) {
    c.i += 4;
    return true;
  }
  return false;
}

// A JSON integer without sign, fraction or exponent, at most 18 digits (fits int64 and uint64).
inline bool FastScanner::Uint(Cursor& c, uint64_t& v) {
  const size_t start = c.i;
  v = 0;
  while (c.i < n_ && IsDigit(s_[c.i])) v = v * 10 + static_cast<uint64_t>(s_[c.i++] - '0');
  const size_t digits = c.i - start;
  if (digits == 0 || digits > 18 || (digits > 1 && s_[start] == '0')) return false;
  const char ch = Peek(c);
  return ch != '.' && ch != 'e' && ch != 'E';
}

// Any JSON number, checked against the grammar and skipped.
inline bool FastScanner::Number(Cursor& c) {
  if (Peek(c) == '-') ++c.i;
  if (Peek(c) == '0') {
    ++c.i;
  } else if (IsDigit(Peek(c))) {
    while (IsDigit(Peek(c))) ++c.i;
  } else {
    return false;
  }
  if (Peek(c) == '.') {
    ++c.i;
    if (!IsDigit(Peek(c))) return false;
    while (IsDigit(Peek(c))) ++c.i;
  }
  if (Peek(c) == 'e' || Peek(c) == 'E') {
    ++c.i;
    if (Peek(c) == '+' || Peek(c) == '-') ++c.i;
    if (!IsDigit(Peek(c))) return false;
    while (IsDigit(Peek(c))) ++c.i;
  }
  return true;
}

// Objects are walked with Enter, then Key / (the value) / Next while `more`. What follows a value must be
// ',' or '}', so a scalar that runs on into other bytes ("12abc", "nullx") is a bail-out.
template <bool kSpaces>
inline bool FastScanner::Enter(Cursor& c, int depth, bool& more) {
  if (Peek(c) != '{' || depth > kMaxDepth) return false;
  ++c.i;
  Space<kSpaces>(c);
  more = Peek(c) != '}';
  if (!more) ++c.i;
  return true;
}

template <bool kSpaces>
inline bool FastScanner::Key(Cursor& c, std::string_view& key) {
  if (!RawString(c, key)) return false;
  Space<kSpaces>(c);
  // No bound check (see Next): after the key's closing quote c.i <= n_, and a padding byte that happens to
  // be ':' only takes the cursor past the end, where every value and the final check fail.
  if (s_[c.i] != ':') return false;
  ++c.i;
  Space<kSpaces>(c);
  return true;
}

// After a value, c.i <= n_ + depth: every value ends inside the record (strings at a listed quote, numbers
// and literals at bounded checks) except a nested one whose closing byte was a padding byte read here, one
// byte past the end per level. So this read, unchecked, stays within n_ + kMaxDepth + 1 < n_ + kRecordPadding,
// and a cursor past the end never comes back: the walk then fails its final c.i == n_ check, or sooner.
template <bool kSpaces>
inline bool FastScanner::Next(Cursor& c, bool& more) {
  Space<kSpaces>(c);
  const char ch = s_[c.i];
  ++c.i;
  more = ch == ',';
  if (!more && ch != '}') return false;
  Space<kSpaces>(c);
  return true;
}

// A value we do not read: strings and scalars here, objects and arrays in SkipNested.
template <bool kSpaces>
inline bool FastScanner::SkipValue(Cursor& c, int depth) {
  switch (Peek(c)) {
    case '"': {
      std::string_view s;
      return RawString(c, s);
    }
    case '{':
    case '[':
      c = SkipNested<kSpaces>(c, depth);
      return c.i != kFailed;
    case 't':
      if (c.i + 4 <= n_ && Is<"true">(std::string_view(s_ + c.i, 4))) {
        c.i += 4;
        return true;
      }
      return false;
    case 'f':
      if (c.i + 5 <= n_ && Is<"false">(std::string_view(s_ + c.i, 5))) {
        c.i += 5;
        return true;
      }
      return false;
    case 'n':
      return Null(c);
    default:
      return Number(c);
  }
}

// An object or array value we do not read; the returned cursor is past it, or at kFailed.
template <bool kSpaces>
FastScanner::Cursor FastScanner::SkipNested(Cursor c, int depth) {
  const Cursor failed{kFailed, 0};
  if (Peek(c) == '{') {
    bool more;
    if (!Enter<kSpaces>(c, depth + 1, more)) return failed;
    while (more) {
      std::string_view key;
      if (!Key<kSpaces>(c, key) || !SkipValue<kSpaces>(c, depth + 1) || !Next<kSpaces>(c, more)) return failed;
    }
    return c;
  }
  if (depth + 1 > kMaxDepth) return failed;
  ++c.i;
  Space<kSpaces>(c);
  if (Peek(c) == ']') {
    ++c.i;
    return c;
  }
  for (;;) {
    if (!SkipValue<kSpaces>(c, depth + 1)) return failed;
    Space<kSpaces>(c);
    const char ch = Peek(c);
    ++c.i;
    if (ch == ']') return c;
    if (ch != ',') return failed;
    Space<kSpaces>(c);
  }
}

// The slow path's loop body for one top-level field (parsers/kumomta.cc, ParseObject).
template <bool kSpaces>
inline bool FastScanner::TopField(Cursor& c, Gathered& g, std::string_view key) {
  const TopKey k = TopKeyOf(key);
  if (k == kOther) return SkipValue<kSpaces>(c, 1);
  // A repeated key we read: the slow path's in-order overwrites (and pushes, for recipients) are left to it.
  const uint32_t bit = uint32_t{1} << k;
  if ((g.seen & bit) != 0) return false;
  g.seen |= bit;
  if (Null(c)) return true;
  RecordFields& f = g.scan.fields;
  bool more;
  switch (k) {
    case kType: return String(c, f.type_name);
    case kRecipient:
      // An array of recipients (BatchByDomain) is the slow path's.
      if (!String(c, g.scan.recipient)) return false;
      g.scan.recipient_domain = Domain(g.scan.recipient);
      g.scan.has_recipient = true;
      return true;
    case kSender:
      if (!String(c, g.sender)) return false;
      g.sender_domain = Domain(g.sender);
      return true;
    case kId: return String(c, g.message_id);
    case kQueue: return String(c, f.queue);
    case kEventTime:
      if (!String(c, f.event_time)) return false;
      f.event_time_ms = CanonicalIsoTimeMs(f.event_time);
      return true;
    case kTimestamp: {
      if (Peek(c) == '"') {
        std::string_view ts;
        if (!String(c, ts)) return false;
        std::optional<int64_t> ms = ParseIsoTime(ts);
        if (!ms) return false;
        f.timestamp_s = *ms / 1000;
        return true;
      }
      uint64_t v;
      if (!Uint(c, v)) return false;
      f.timestamp_s = static_cast<int64_t>(v);
      return true;
    }
    case kNumAttempts: {
      uint64_t v;
      if (!Uint(c, v)) return false;
      g.attempt = static_cast<uint16_t>(v > 65535 ? 65535 : v);
      return true;
    }
    case kEgressPool: return String(c, g.egress_pool);
    case kEgressSource: return String(c, g.egress_source);
    case kResponse:
      f.have_response = true;
      return Response<kSpaces>(c, g);
    case kPeerAddress:
      if (!Enter<kSpaces>(c, 1, more)) return false;
      while (more) {
        std::string_view pk;
        if (!Key<kSpaces>(c, pk)) return false;
        bool ok;
        if (Is<"name">(pk)) ok = String(c, g.mx_host);
        else if (Is<"addr">(pk)) ok = String(c, g.mx_ip);
        else ok = SkipValue<kSpaces>(c, 2);
        if (!ok || !Next<kSpaces>(c, more)) return false;
      }
      return true;
    case kSourceAddress:
      if (!Enter<kSpaces>(c, 1, more)) return false;
      while (more) {
        std::string_view sk;
        if (!Key<kSpaces>(c, sk)) return false;
        if (Is<"address">(sk)) {
          std::string_view a;
          if (!String(c, a)) return false;
          g.sending_ip = StripPort(a);
        } else if (!SkipValue<kSpaces>(c, 2)) {
          return false;
        }
        if (!Next<kSpaces>(c, more)) return false;
      }
      return true;
    case kMeta:
      if (!Enter<kSpaces>(c, 1, more)) return false;
      while (more) {
        std::string_view mk;
        if (!Key<kSpaces>(c, mk)) return false;
        std::string_view* target = nullptr;
        if (Is<"campaign">(mk) || Is<"campaign_id">(mk)) {
          target = &g.campaign;
        } else if (Is<"tenant">(mk)) {
          target = &g.tenant;
        }
        // The slow path ignores a value that is not a string; so do we (after checking it).
        const bool ok = target == nullptr || Peek(c) != '"' ? SkipValue<kSpaces>(c, 2) : String(c, *target);
        if (!ok || !Next<kSpaces>(c, more)) return false;
      }
      return true;
    case kOther: break;
  }
  return false;
}

// The slow path's ParseResponse.
template <bool kSpaces>
inline bool FastScanner::Response(Cursor& c, Gathered& g) {
  uint32_t seen = 0;
  bool more;
  if (!Enter<kSpaces>(c, 1, more)) return false;
  while (more) {
    std::string_view k;
    if (!Key<kSpaces>(c, k)) return false;
    int id = -1;
    if (Is<"code">(k)) id = 0;
    else if (Is<"content">(k)) id = 1;
    else if (Is<"command">(k)) id = 2;
    else if (Is<"enhanced_code">(k)) id = 3;
    if (id >= 0) {
      if ((seen & (1u << id)) != 0) return false;
      seen |= 1u << id;
    }
    bool ok = true;
    if (id < 0) {
      ok = SkipValue<kSpaces>(c, 2);
    } else if (Null(c)) {
    } else if (id == 0) {
      uint64_t code;
      ok = Uint(c, code) && code <= 999;
      g.code = static_cast<uint16_t>(code);
    } else if (id == 1) {
      ok = String(c, g.text);
    } else if (id == 2) {
      std::string_view cmd;
      ok = String(c, cmd);
      if (ok) g.stage = StageFromCommand(cmd);
    } else {
      ok = EnhancedCode<kSpaces>(c, g);
    }
    if (!ok || !Next<kSpaces>(c, more)) return false;
  }
  // The first byte alone rules out nearly every reply (a memcmp call less per record).
  if (!g.text.empty() && g.text[0] == 'K' && StartsWith(g.text, "KumoMTA internal:")) g.locally_generated = true;
  return true;
}

// Every member must be an integer <= 999 (the slow path checks all of them, known or not).
template <bool kSpaces>
inline bool FastScanner::EnhancedCode(Cursor& c, Gathered& g) {
  uint64_t cls = 0, subject = 0, detail = 0;
  bool more;
  if (!Enter<kSpaces>(c, 2, more)) return false;
  while (more) {
    std::string_view k;
    uint64_t n;
    if (!Key<kSpaces>(c, k) || !Uint(c, n) || n > 999) return false;
    if (Is<"class">(k)) cls = n;
    else if (Is<"subject">(k)) subject = n;
    else if (Is<"detail">(k)) detail = n;
    if (!Next<kSpaces>(c, more)) return false;
  }
  if (cls >= 2 && cls <= 5) {
    g.enhanced = {static_cast<uint8_t>(cls), static_cast<uint16_t>(subject), static_cast<uint16_t>(detail)};
  }
  return true;
}

template <bool kSpaces>
bool FastScanner::Walk(Scan& scan, DeliveryEvent& e) {
  Gathered g;
  Cursor c;
  Space<kSpaces>(c);
  bool more;
  if (!Enter<kSpaces>(c, 0, more)) return false;
  while (more) {
    std::string_view key;
    if (!Key<kSpaces>(c, key) || !TopField<kSpaces>(c, g, key) || !Next<kSpaces>(c, more)) return false;
  }
  // Bytes after the object: simdjson's reading of them is not ours to guess.
  Space<kSpaces>(c);
  if (c.i != n_) return false;
  scan = g.scan;
  e.sender = g.sender;
  e.sender_domain = g.sender_domain;
  e.message_id = g.message_id;
  e.campaign = g.campaign;
  e.tenant = g.tenant;
  e.sending_ip = g.sending_ip;
  e.egress_source = g.egress_source;
  e.egress_pool = g.egress_pool;
  e.mx_host = g.mx_host;
  e.mx_ip = g.mx_ip;
  e.stage = g.stage;
  e.reply.code = g.code;
  e.reply.enhanced = g.enhanced;
  e.reply.text = g.text;
  e.attempt = g.attempt;
  e.locally_generated = g.locally_generated;
  return true;
}

bool FastScanner::Run(std::string_view record, Scan& scan, DeliveryEvent& e) {
  if (record.empty() || record.size() > kMaxBytes) return false;
  s_ = record.data();
  n_ = record.size();
  unescaped_ = 0;
  if (!Index()) return false;
  // Records as kumod writes them have no space between tokens: that walk has no space checks at all. If
  // it fails, the same walk with them, from scratch (a failed walk leaves `scan` and `e` alone).
  if (Walk<false>(scan, e)) return true;
  unescaped_ = 0;
  return Walk<true>(scan, e);
}

}  // namespace bs::kumomta
