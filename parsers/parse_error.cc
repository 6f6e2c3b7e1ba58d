#include "parsers/parse_error.h"

namespace bs {

std::string_view ParseErrorName(ParseError e) {
  switch (e) {
    case ParseError::kNone: return "none";
    case ParseError::kEmpty: return "empty_record";
    case ParseError::kTooLarge: return "record_too_large";
    case ParseError::kInvalidUtf8: return "invalid_utf8";
    case ParseError::kInvalidJson: return "invalid_json";
    case ParseError::kNotAnObject: return "not_a_json_object";
    case ParseError::kMissingField: return "missing_field";
    case ParseError::kBadFieldType: return "bad_field_type";
    case ParseError::kBadTimestamp: return "bad_timestamp";
    case ParseError::kBadRecipient: return "bad_recipient";
    case ParseError::kUnknownRecordType: return "unknown_record_type";
    case ParseError::kUnrecognizedLine: return "unrecognized_line";
    case ParseError::kTruncated: return "truncated_record";
    case ParseError::kUnknownFormat: return "unknown_format";
  }
  return "unknown";
}

std::string_view SkipReasonName(SkipReason r) {
  switch (r) {
    case SkipReason::kNone: return "none";
    case SkipReason::kNotDelivery: return "not_a_delivery_record";
    case SkipReason::kInformational: return "informational_line";
    case SkipReason::kLocalDelivery: return "local_delivery";
    case SkipReason::kContinued: return "continued_in_next_record";
  }
  return "unknown";
}

}  // namespace bs
