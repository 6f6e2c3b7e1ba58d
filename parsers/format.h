// Log formats, their names, detection from a file's first bytes, and the one parser factory.
#ifndef BOUNCESTREAM_PARSERS_FORMAT_H_
#define BOUNCESTREAM_PARSERS_FORMAT_H_

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "parsers/parser.h"

namespace bs {

enum class Format : uint8_t {
  kAuto,
  kKumoMta,
  kPostfix,
  kPowerMta,
  kExim,
  kSendGrid,
  kMailgun,
  kSes,
  kSparkPost,
  kJsonMapping,
};

std::string_view FormatName(Format f);
// "kumomta", "postfix", ... or nullopt for an unknown name.
std::optional<Format> FormatFromName(std::string_view name);

// Guesses the format from the first bytes of a file or topic (a few KiB is plenty).
// Returns kAuto when it cannot tell.
Format DetectFormat(std::string_view head);

// Generic JSON (--format json): where each field of a record lives, as dotted paths into the object
// ("response.code", "recipients.0" for an array element; "\." is a dot inside a key). An empty path means
// the records have no such field. Defaults fit a flat {"recipient","type","timestamp",…} record.
struct JsonFieldMap {
  std::string recipient = "recipient";  // a string, or an array of strings (one event each)
  std::string outcome = "type";         // mapped through `outcome_values`
  std::string time = "timestamp";       // epoch s / ms (number or string), or ISO 8601
  std::string sender;
  std::string message_id;
  std::string campaign;
  std::string tenant;
  std::string sending_ip;
  std::string mx_host;
  std::string mx_ip;
  std::string code;      // basic reply code (number or string); else read from `text`
  std::string enhanced;  // "5.1.1"; else read from `text`
  std::string text;      // reply text, possibly with leading codes ("550 5.1.1 …")
  std::string attempt;
  // Values of the outcome field (compared ignoring case) → outcome; a value not listed makes the record a
  // skip (not a delivery record). Empty: the built-in list in json_mapping.h.
  std::vector<std::pair<std::string, Outcome>> outcome_values;
};

struct ParserOptions {
  // Year-less syslog timestamps (Postfix, Exim via syslog) take the year that puts them at or before
  // `reference_time_ms` (+1 day of clock skew): a file's mtime, or the --year given (as its Dec 31).
  // That rule is per record, so it needs no order and handles logs that cross New Year.
  int64_t reference_time_ms = 0;
  // PowerMTA accounting: the CSV header ("type,timeLogged,…") assumed until the stream carries its own
  // header line (a Kafka topic fed by a forwarder that drops it). Empty: records seen before any header
  // are dead-lettered (missing_field "header").
  std::string powermta_header;
  // Generic JSON mapping.
  JsonFieldMap json;
};

// Creates the parser for `format` (not kAuto). Error: the format is not built yet.
absl::StatusOr<std::unique_ptr<Parser>> CreateParser(Format format, const ParserOptions& options);

}  // namespace bs

#endif  // BOUNCESTREAM_PARSERS_FORMAT_H_
