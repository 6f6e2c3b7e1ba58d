// Record framing shared by the JSON event parsers (see json_event_parser.h).
#include "parsers/json_event_parser.h"

namespace bs {
namespace {

using simdjson::ondemand::json_type;

bool IsJsonSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Folds one object's result into the record's: the first error wins, the first skip reason is kept.
bool Merge(const ParseResult& r, ParseResult& error, SkipReason& skip) {
  if (!r.ok()) {
    error = r;
    return false;
  }
  if (r.skip != SkipReason::kNone && skip == SkipReason::kNone) skip = r.skip;
  return true;
}

}  // namespace

ParseResult JsonEventParser::Parse(std::string_view record, const Position& pos, std::vector<DeliveryEvent>& out) {
  // Leading spaces can go (the padding after the record stays); trailing ones too (the bytes stay readable).
  while (!record.empty() && IsJsonSpace(record.front())) record.remove_prefix(1);
  while (!record.empty() && IsJsonSpace(record.back())) record.remove_suffix(1);
  if (record.empty()) return ParseResult::Error(ParseError::kEmpty);
  if (record.size() > kMaxRecordBytes) return ParseResult::Error(ParseError::kTooLarge);
  arena_.Reset(JsonArenaBound(record.size()));
  const size_t start = out.size();
  ParseResult error;
  SkipReason skip = SkipReason::kNone;

  simdjson::ondemand::document doc;
  if (auto e = parser_.iterate(record.data(), record.size(), record.size() + simdjson::SIMDJSON_PADDING).get(doc)) {
    return ParseResult::Error(ErrorFromSimdjson(e));
  }
  json_type type;
  if (auto e = doc.type().get(type)) return ParseResult::Error(ErrorFromSimdjson(e));
  if (type == json_type::object) {
    simdjson::ondemand::object obj;
    if (auto e = doc.get_object().get(obj)) return ParseResult::Error(ErrorFromSimdjson(e));
    Merge(ParseObject(obj, pos, out), error, skip);
  } else if (type == json_type::array) {
    simdjson::ondemand::array arr;
    if (auto e = doc.get_array().get(arr)) return ParseResult::Error(ErrorFromSimdjson(e));
    for (auto element : arr) {
      simdjson::ondemand::object obj;
      if (auto e = element.get_object().get(obj)) {
        error = e == simdjson::INCORRECT_TYPE ? ParseResult::Error(ParseError::kNotAnObject, "batch element")
                                              : ParseResult::Error(ErrorFromSimdjson(e));
        break;
      }
      if (!Merge(ParseObject(obj, pos, out), error, skip)) break;
    }
  } else {
    // A JSON scalar is not an event; text that only starts like one ("not json" reads as null) is not JSON.
    const bool scalar = record == "null" || record == "true" || record == "false" ||
                        (type == json_type::string && record.size() >= 2 && record.back() == '"') ||
                        (type == json_type::number && !doc.get_double().error());
    return ParseResult::Error(scalar ? ParseError::kNotAnObject : ParseError::kInvalidJson);
  }
  // simdjson 3.0.1 has no document::at_end(): past the root value, current_location() is out of bounds.
  const char* location = nullptr;
  if (error.ok() && doc.current_location().get(location) != simdjson::OUT_OF_BOUNDS) {
    error = ParseResult::Error(ParseError::kInvalidJson, "trailing content");
  }
  if (!error.ok()) {
    out.resize(start);
    return error;
  }
  if (out.size() > start) return {};
  return ParseResult::Skip(skip == SkipReason::kNone ? SkipReason::kNotDelivery : skip);
}

ParseResult JsonEventParser::ParseObjectArray(simdjson::ondemand::value v, const Position& pos,
                                              std::vector<DeliveryEvent>& out, SkipReason& skip) {
  simdjson::ondemand::array arr;
  if (auto e = v.get_array().get(arr)) return FieldError(e, "batch");
  ParseResult error;
  for (auto element : arr) {
    simdjson::ondemand::object obj;
    if (auto e = element.get_object().get(obj)) {
      return e == simdjson::INCORRECT_TYPE ? ParseResult::Error(ParseError::kNotAnObject, "batch element")
                                           : FieldError(e, "batch element");
    }
    if (!Merge(ParseObject(obj, pos, out), error, skip)) return error;
  }
  return {};
}

}  // namespace bs
