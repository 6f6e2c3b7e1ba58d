// The closed set of reasons a record cannot become an event. Per-record paths return these codes; the
// message string is built only when the record goes to the dead-letter output.
#ifndef BOUNCESTREAM_PARSERS_PARSE_ERROR_H_
#define BOUNCESTREAM_PARSERS_PARSE_ERROR_H_

#include <cstdint>
#include <string_view>

namespace bs {

enum class ParseError : uint8_t {
  kNone = 0,
  kEmpty,               // blank record
  kTooLarge,            // larger than the 1 MiB record limit
  kInvalidUtf8,
  kInvalidJson,
  kNotAnObject,
  kMissingField,        // a field the format requires is absent
  kBadFieldType,        // present with the wrong JSON type
  kBadTimestamp,
  kBadRecipient,
  kUnknownRecordType,
  kUnrecognizedLine,    // text line of the format's family that matches no known shape
  kTruncated,
  kUnknownFormat,       // auto-detection could not tell
};

// Stable snake_case name written in dead letters and metrics ("invalid_json").
std::string_view ParseErrorName(ParseError e);

// Why a record that parsed fine produced no event ("reception", "not_a_delivery_line").
enum class SkipReason : uint8_t {
  kNone = 0,
  kNotDelivery,    // a record type that is not a delivery outcome (Reception, AdminRebind, ...)
  kInformational,  // a line of the MTA that carries no outcome (TLS established, removed, ...)
  kLocalDelivery,  // delivered locally (maildir, virtual), not by SMTP
  kContinued,      // part of a record split over several (syslog "[1/3]"); events come with the last part.
                   // Keep last: kSkipReasonCount (pipeline/worker/classified_event.h) counts up to it.
};
std::string_view SkipReasonName(SkipReason r);

}  // namespace bs

#endif  // BOUNCESTREAM_PARSERS_PARSE_ERROR_H_
