// Parser for PowerMTA accounting CSV files (LOG_FORMATS.md §2).
//
// Operation: RFC 4180 CSV, one record per line (CR LF or LF). The first column is the record type; a line
// whose type cell is "type" is the header and configures the column map (columns are configurable in
// PowerMTA, so fields are read by header name, never by position). Header names are matched ignoring
// case; unknown columns are ignored.
//
// State: the column map is per stream. Create one parser per file, or per Kafka partition; a new header
// line (file rotation) replaces the map. Records seen before any header use
// ParserOptions::powermta_header when set, else they are dead-lettered (missing_field "header").
//
// Records: d → delivered; b → bounced (expired when bounceCat is message-expired); t and tq → deferred
// (tq may carry no rcpt: the recipient domain then comes from `queue`); rb → out-of-band bounce; rs →
// out-of-band when its dsnAction is failed, else skipped; f → complaint; r → skipped (not a delivery).
// A record whose cell count differs from the header is dead-lettered: re-serialised lines that lost their
// quoting would otherwise shift every column silently. Quoted cells spanning lines are not joined: both
// halves are dead-lettered (truncated / unknown type), PowerMTA itself writes none.
//
// Not thread-safe (one worker owns it). Event views point into the record, or into the parser's scratch
// for cells with doubled quotes; valid until the next Parse.
#ifndef BOUNCESTREAM_PARSERS_POWERMTA_H_
#define BOUNCESTREAM_PARSERS_POWERMTA_H_

#include <memory>

#include "parsers/format.h"
#include "parsers/parser.h"

namespace bs {

std::unique_ptr<Parser> NewPowerMtaParser(const ParserOptions& options);

}  // namespace bs

#endif  // BOUNCESTREAM_PARSERS_POWERMTA_H_
