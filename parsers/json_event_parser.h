// Base of the ESP webhook parsers (SendGrid, Mailgun, SES, SparkPost) and the generic JSON mapping: a
// record is one JSON object, or a top-level array of them (a webhook batch as posted), and each object
// yields zero or more events.
//
// A batch is all-or-nothing: if one element is malformed the whole record is dead-lettered (and `out` is
// left as it was), so a replay of the dead letter after a fix re-creates every event once. A record whose
// objects are all non-deliveries (opens, clicks, processed) is a skip with the first such reason.
//
// One simdjson On-Demand parser per object, reused; unescaped strings live in `arena_`, reset at the start
// of each Parse. Event views are valid until the next Parse. Not thread-safe.
#ifndef BOUNCESTREAM_PARSERS_JSON_EVENT_PARSER_H_
#define BOUNCESTREAM_PARSERS_JSON_EVENT_PARSER_H_

#include <simdjson.h>

#include <string_view>
#include <vector>

#include "parsers/json_fields.h"
#include "parsers/parser.h"

namespace bs {

class JsonEventParser : public Parser {
 public:
  ParseResult Parse(std::string_view record, const Position& pos, std::vector<DeliveryEvent>& out) final;

 protected:
  // One object: appends its events, or returns a skip or an error. Errors carry a static detail naming the
  // field at fault. Unless it returns an error, it must leave the object consumed (iterated to its end),
  // so that the record can be checked for trailing bytes.
  virtual ParseResult ParseObject(simdjson::ondemand::object obj, const Position& pos,
                                  std::vector<DeliveryEvent>& out) = 0;

  // Runs ParseObject over an array value's elements (a batch nested in an envelope: Mailgun's "items").
  ParseResult ParseObjectArray(simdjson::ondemand::value v, const Position& pos, std::vector<DeliveryEvent>& out,
                               SkipReason& skip);

  ScratchArena arena_;

 private:
  simdjson::ondemand::parser parser_;
};

// A simdjson error met while reading `detail` (a static field name) as a ParseResult: a wrong type is
// bad_field_type, a cut-off document truncated_record, anything else invalid_json.
inline ParseResult FieldError(simdjson::error_code e, std::string_view detail) {
  return ParseResult::Error(ErrorFromSimdjson(e), detail);
}

}  // namespace bs

#endif  // BOUNCESTREAM_PARSERS_JSON_EVENT_PARSER_H_
