// Fast path of the KumoMTA parser: a hand-written scanner for the common record shape, tried before the
// simdjson On-Demand walk of parsers/kumomta.cc, which stays the reference and the fallback.
//
// One SIMD pass over the record (AVX2, SSE2, or a byte loop, by build flags; AVX-512 with VBMI2, whose byte
// compress lists a block's quotes in one step, when the CPU has it) lists the offsets of the unescaped
// quotes, keeps a bitmap of backslashes and checks that every byte is printable ASCII (otherwise the record
// must be valid UTF-8, checked with simdjson); it also prefetches the next record of the buffer. A scalar
// walk then reads the object, taking each string's end from the quote list rather than searching for it
// (so the walk is not one long chain of dependent loads): the keys we need give views into the record, the
// rest are skipped after a strict grammar check. The byte after a key (':') and after a value (',' or '}')
// is read without a bound check: it lies in the record or its padding (kumomta_fast.cc, Next, says why). The scanner gives up ("bails") on anything it is not sure gives the same answer
// as the On-Demand walk: invalid or unusual JSON (control bytes, trailing bytes, deep nesting, long
// numbers), a \u escape inside a string it would keep (the short escapes \" \\ \/ \b \f \n \r \t are
// unescaped into the scanner's own buffer), a recipient array, a duplicate key we read, a value of an
// unexpected type, a field error of any kind. It never allocates.
#ifndef BOUNCESTREAM_PARSERS_KUMOMTA_FAST_H_
#define BOUNCESTREAM_PARSERS_KUMOMTA_FAST_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "parsers/delivery_event.h"
#include "parsers/kumomta_fields.h"

namespace bs::kumomta {

// The AVX-512 listing of the quotes (FastScanner::ListWide): x86-64 with GCC or Clang, chosen at run time.
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define BS_KUMOMTA_WIDE 1
#else
#define BS_KUMOMTA_WIDE 0
#endif

class FastScanner {
 public:
  // allow_wide = false keeps to the build's own instruction set even on a CPU with AVX-512 (tests run the
  // scanner both ways).
  explicit FastScanner(bool allow_wide = true);

  // Whether this CPU runs the AVX-512 listing, and whether this scanner uses it.
  static bool WideAvailable();
  bool wide() const { return wide_; }

  // Longer records go to the slow path (the quote list and the bitmap are fixed-size members).
  static constexpr size_t kMaxBytes = 8192;

  // What a successful scan gathered: the On-Demand field loop's state when it ends without an error.
  struct Scan {
    RecordFields fields;
    std::string_view recipient;
    std::string_view recipient_domain;
    bool has_recipient = false;
  };

  // Reads `record` (trailing newlines removed, kRecordPadding readable bytes after it) into `scan` and `e`
  // (a default DeliveryEvent). Views point into the record or into this scanner (valid until the next
  // Run). True: the record is well-formed JSON (escapes inside strings it skips are not checked; simdjson
  // does not check them either), and `scan` and `e` hold exactly what the On-Demand walk would have
  // gathered, with no field error. False: bail; `scan` and `e` are left as they were.
  bool Run(std::string_view record, Scan& scan, DeliveryEvent& e);

 private:
  static constexpr size_t kWords = kMaxBytes / 64;

  // The walk's position: byte offset, and index (into quote_pos_) of the next quote not yet consumed.
  // A local of Run, passed by reference only to inlined functions, so that it lives in registers: as
  // members, every stored event field (a size_t may alias them) sent them back to memory.
  struct Cursor {
    size_t i = 0;
    size_t q = 0;
  };
  static constexpr size_t kFailed = ~size_t{0};  // Cursor::i of a failed SkipNested

  // What one walk gathers: a local of Walk, so that storing into it cannot alias the scanner's members
  // (which then stay in registers); copied into the caller's Scan and event when the walk succeeds.
  struct Gathered {
    Scan scan;
    std::string_view sender, sender_domain, message_id, campaign, tenant, sending_ip, egress_source,
        egress_pool, mx_host, mx_ip, text;
    bs::EnhancedCode enhanced;
    uint16_t code = 0;
    uint16_t attempt = 0;
    SmtpStage stage = SmtpStage::kUnknown;
    bool locally_generated = false;
    uint32_t seen = 0;  // top-level keys met, one bit per key we read
  };

  bool Index();
#if BS_KUMOMTA_WIDE
  size_t ListWide(uint64_t& unusual, uint64_t& backslash);
#endif
  bool HasBackslash(size_t from, size_t to) const;

  [[gnu::always_inline]] char Peek(const Cursor& c) const { return c.i < n_ ? s_[c.i] : '\0'; }
  [[gnu::always_inline]] void SkipSpaces(Cursor& c) const {
    while (c.i < n_ && s_[c.i] == ' ') ++c.i;
  }
  // The walk comes in two builds: kSpaces = false for compact records (no whitespace between tokens),
  // where every space check compiles away, and kSpaces = true for the rest.
  template <bool kSpaces>
  [[gnu::always_inline]] void Space(Cursor& c) const {
    if constexpr (kSpaces) SkipSpaces(c);
  }
  [[gnu::always_inline]] inline bool RawString(Cursor& c, std::string_view& out);
  [[gnu::always_inline]] inline bool String(Cursor& c, std::string_view& out);
  bool Unescape(std::string_view& s);
  [[gnu::always_inline]] inline bool Null(Cursor& c);
  [[gnu::always_inline]] inline bool Uint(Cursor& c, uint64_t& v);
  [[gnu::always_inline]] inline bool Number(Cursor& c);
  template <bool kSpaces>
  [[gnu::always_inline]] inline bool SkipValue(Cursor& c, int depth);
  // By value: a cursor whose address escapes to a call would live in memory in the whole walk.
  template <bool kSpaces>
  Cursor SkipNested(Cursor c, int depth);
  template <bool kSpaces>
  [[gnu::always_inline]] inline bool Enter(Cursor& c, int depth, bool& more);
  template <bool kSpaces>
  [[gnu::always_inline]] inline bool Key(Cursor& c, std::string_view& key);
  template <bool kSpaces>
  [[gnu::always_inline]] inline bool Next(Cursor& c, bool& more);

  template <bool kSpaces>
  [[gnu::always_inline]] inline bool TopField(Cursor& c, Gathered& g, std::string_view key);
  template <bool kSpaces>
  [[gnu::always_inline]] inline bool Response(Cursor& c, Gathered& g);
  template <bool kSpaces>
  [[gnu::always_inline]] inline bool EnhancedCode(Cursor& c, Gathered& g);
  template <bool kSpaces>
  bool Walk(Scan& scan, DeliveryEvent& e);

  bool wide_ = false;
  const char* s_ = nullptr;
  size_t n_ = 0;
  size_t words_ = 0;
  size_t quotes_ = 0;  // unescaped quotes in the record
  bool any_backslash_ = false;
  uint64_t backslashes_[kWords];
  // Offsets of the unescaped quotes, in order (slack for the unrolled writes of Index).
  uint32_t quote_pos_[kMaxBytes + 64];
  // Unescaped strings of the current record (they never get longer than in the record).
  size_t unescaped_ = 0;
  char scratch_[kMaxBytes];
};

}  // namespace bs::kumomta

#endif  // BOUNCESTREAM_PARSERS_KUMOMTA_FAST_H_
