// Parser: bytes of one record → zero or more DeliveryEvents, or a ParseError.
//
// Preconditions: `record` is followed in memory by at least kRecordPadding readable bytes (sources
// allocate their buffers that way) so simdjson can read past the end without copying. A Parser is owned
// by one worker and is not thread-safe; it may keep bounded state between records (a CSV header), but
// joins across records (Postfix's qmgr from=, Exim's <= line) happen in the pipeline's join stage from
// Outcome::kEnvelope events.
//
// Lifetime: the string_views of the events point into `record` or into the parser's own scratch
// (unescaped JSON strings) and are valid until the next call to Parse on this parser. A caller that keeps
// events longer copies what it needs (the worker does, into its chunk arena).
#ifndef BOUNCESTREAM_PARSERS_PARSER_H_
#define BOUNCESTREAM_PARSERS_PARSER_H_

#include <cstddef>
#include <string_view>
#include <vector>

#include "parsers/delivery_event.h"
#include "parsers/parse_error.h"
#include "pipeline/base/position.h"

namespace bs {

// Bytes every source guarantees readable after each record (simdjson's SIMDJSON_PADDING is 64).
inline constexpr size_t kRecordPadding = 64;
// Records longer than this are dead-lettered without parsing.
inline constexpr size_t kMaxRecordBytes = 1 << 20;

struct ParseResult {
  ParseError error = ParseError::kNone;
  SkipReason skip = SkipReason::kNone;  // set when the record parsed but yields no event
  // For errors: a static string naming the field or shape at fault ("response.code"); never allocated.
  std::string_view detail;

  bool ok() const { return error == ParseError::kNone; }
  static ParseResult Error(ParseError e, std::string_view detail = {}) { return {e, SkipReason::kNone, detail}; }
  static ParseResult Skip(SkipReason r) { return {ParseError::kNone, r, {}}; }
};

class Parser {
 public:
  virtual ~Parser() = default;
  // Appends the record's events to `out` (never clears it) with `pos` as their position.
  virtual ParseResult Parse(std::string_view record, const Position& pos, std::vector<DeliveryEvent>& out) = 0;
};

}  // namespace bs

#endif  // BOUNCESTREAM_PARSERS_PARSER_H_
