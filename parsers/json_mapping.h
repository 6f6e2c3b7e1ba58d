// Parser for any JSON log whose fields are described by configuration (ParserOptions::json, a
// JsonFieldMap of dotted paths): the escape hatch for shippers and MTAs without a parser of their own.
//
// Per record (an object, or an array of objects): the outcome field's value is looked up, ignoring case,
// in JsonFieldMap::outcome_values (or the built-in list below); a value not listed makes the record a
// skip (not a delivery). The recipient path may hold a string or an array of strings (one event each).
// Time: epoch seconds or milliseconds (number or string) or ISO 8601. Reply: `code` and `enhanced` when
// mapped, else read from `text` ("550 5.1.1 …", an "smtp;" prefix removed).
//
// Built-in outcome values: delivered/delivery/sent/success/relayed → delivered; deferred/delayed/delay/
// transient/transientfailure/tempfail/soft_bounce → deferred; bounced/bounce/failed/hard_bounce/permfail →
// bounced; expired/expiration → expired; rejected/dropped/blocked/refused → rejected;
// complaint/complained/spamreport/spam_complaint/feedback → complaint; oob/out_of_band → out of band.
//
// Paths are looked up with simdjson's find_field_unordered after rewinding the object, so field order
// does not matter; cost grows with the number of mapped fields, which is fine for an escape hatch.
#ifndef BOUNCESTREAM_PARSERS_JSON_MAPPING_H_
#define BOUNCESTREAM_PARSERS_JSON_MAPPING_H_

#include <memory>

#include "absl/status/status.h"
#include "parsers/format.h"
#include "parsers/parser.h"

namespace bs {

// Checks a mapping before use: recipient, outcome and time paths are required, paths are well formed,
// outcome values are not empty. Error names the offending field.
absl::Status ValidateJsonFieldMap(const JsonFieldMap& map);

// Precondition: ValidateJsonFieldMap(options.json) is OK (CreateParser checks it).
std::unique_ptr<Parser> NewJsonMappingParser(const ParserOptions& options);

}  // namespace bs

#endif  // BOUNCESTREAM_PARSERS_JSON_MAPPING_H_
