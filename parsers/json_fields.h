// simdjson On-Demand helpers shared by the ESP parsers (SendGrid, Mailgun, SES, SparkPost) and the generic
// JSON mapping: reading strings without copying when they need no unescaping, times that may be numbers,
// numeric strings or ISO text, and mapping simdjson's errors onto the closed ParseError set.
//
// Lifetime: a string read by JsonString() is a view into the record when it has no escapes, otherwise a
// view into the ScratchArena; both stay valid until the parser's next Parse() (which resets the arena).
#ifndef BOUNCESTREAM_PARSERS_JSON_FIELDS_H_
#define BOUNCESTREAM_PARSERS_JSON_FIELDS_H_

#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "parsers/parse_error.h"

namespace bs {

// Per-parser bytes for unescaped strings and inner documents (SES's Message). Reset() at the start of
// each Parse with an upper bound of what the record can need; storage only grows there, so views handed
// out stay valid until the next Reset. Not thread-safe (owned by one Parser).
class ScratchArena {
 public:
  // Empties the arena and makes sure `capacity` bytes fit (grows at most here, amortised).
  void Reset(size_t capacity);
  // `n` bytes, or nullptr when the bound given to Reset would be exceeded (a bug in the bound, reported
  // by the caller as a parse error rather than a reallocation that would invalidate earlier views).
  char* Allocate(size_t n);
  std::string_view Copy(std::string_view s);
  // Copies `s` followed by `padding` zero bytes (for simdjson's iterate); returns the copy without them.
  std::string_view CopyPadded(std::string_view s, size_t padding);

 private:
  std::unique_ptr<char[]> buf_;
  size_t capacity_ = 0;
  size_t used_ = 0;
};

// Arena bound for a JSON record of `len` bytes: unescaping never lengthens a string, and one inner
// document (a JSON string holding JSON) plus its own strings fit twice over.
inline size_t JsonArenaBound(size_t len) { return 2 * len + 4 * simdjson::SIMDJSON_PADDING; }

// simdjson error → ParseError (UTF-8 errors, truncation, everything else invalid JSON).
ParseError ErrorFromSimdjson(simdjson::error_code e);

// Reads a string value: a view into the input when it has no escapes, otherwise unescaped into `arena`.
// Error: INCORRECT_TYPE when the value is not a string.
simdjson::error_code JsonString(simdjson::ondemand::value v, ScratchArena& arena, std::string_view& out);

// Reads a string or a number as text (numbers as written: "1337", 1337 → "1337"). Used for ESP fields
// that are documented as numbers but sent as strings, or the other way round.
simdjson::error_code JsonScalarText(simdjson::ondemand::value v, ScratchArena& arena, std::string_view& out);

// A time value: integer or fractional epoch seconds (or 13-digit milliseconds), the same as a string, or
// an ISO 8601 string. nullopt when it is none of these.
std::optional<int64_t> JsonTimeMs(simdjson::ondemand::value v, ScratchArena& arena);

// An unsigned integer written as a number or a numeric string ("2"); nullopt otherwise.
std::optional<uint64_t> JsonUint(simdjson::ondemand::value v, ScratchArena& arena);

// json_type of `v`, or nullopt when simdjson cannot tell (malformed input).
std::optional<simdjson::ondemand::json_type> JsonTypeOf(simdjson::ondemand::value v);

}  // namespace bs

#endif  // BOUNCESTREAM_PARSERS_JSON_FIELDS_H_
