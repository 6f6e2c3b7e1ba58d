// Helpers for the parser tests: records with the padding every source guarantees, corpus files split the
// way the file source splits them (lines, or the elements of a top-level JSON array), and a one-word
// summary of each record's fate ("events:2", "skip:not_a_delivery_record", "error:missing_field").
#ifndef BOUNCESTREAM_TESTS_PARSERS_PARSER_TEST_UTIL_H_
#define BOUNCESTREAM_TESTS_PARSERS_PARSER_TEST_UTIL_H_

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "parsers/json_array.h"
#include "parsers/parser.h"

namespace bs::testing {

// Parses one record through a padded copy (kept alive in `storage` so the events' views stay valid
// until the next call). Appends to `events`.
inline ParseResult ParsePadded(Parser& parser, std::string_view record, std::vector<DeliveryEvent>& events,
                               std::string& storage, const Position& pos = {"test", -1, 1}) {
  storage.assign(record);
  storage.append(kRecordPadding, '\0');
  return parser.Parse(std::string_view(storage.data(), record.size()), pos, events);
}

// What happened to one record, as a short string that reads well in a failed expectation.
inline std::string Fate(const ParseResult& r, size_t events) {
  if (!r.ok()) return "error:" + std::string(ParseErrorName(r.error));
  if (r.skip != SkipReason::kNone) return "skip:" + std::string(SkipReasonName(r.skip));
  return "events:" + std::to_string(events);
}

// Lines of `text` without their "\n" (a final line without a newline is kept; the empty piece after a
// final newline is not).
inline std::vector<std::string_view> SplitLines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos) nl = text.size();
    lines.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return lines;
}

// Elements of a top-level JSON array, as the replay file source splits them.
inline std::vector<std::string_view> SplitArray(std::string_view text) {
  std::vector<RecordSpan> spans;
  SplitJsonArray(text, spans);
  std::vector<std::string_view> out;
  for (const RecordSpan& s : spans) out.push_back(text.substr(s.begin, s.end - s.begin));
  return out;
}

// The ESP class as the classified output writes it ("ses:Permanent/NoEmail", "sparkpost:10"); "" if absent.
inline std::string EspKey(const EspClass& c) {
  if (!c.present()) return "";
  std::string s = std::string(EspName(c.esp)) + ":" + std::string(c.type);
  if (!c.subtype.empty()) s += "/" + std::string(c.subtype);
  return s;
}

// Counts of each ESP class among `events` (absent classes counted under "").
inline void CountEspClasses(const std::vector<DeliveryEvent>& events, std::map<std::string, int>& counts) {
  for (const DeliveryEvent& e : events) ++counts[EspKey(e.esp_class)];
}

struct RecordFate {
  std::string fate;
  std::vector<DeliveryEvent> events;  // views valid only until the parser's next Parse
};

// Parses every record in order with one parser (stateful formats need the order) and returns the fates.
// Events are summarised by the caller through `on_events` before the next record is parsed.
template <typename OnEvents>
std::vector<std::string> ParseAll(Parser& parser, const std::vector<std::string_view>& records,
                                  std::string_view source, OnEvents on_events) {
  std::vector<std::string> fates;
  std::string storage;
  for (size_t i = 0; i < records.size(); ++i) {
    std::vector<DeliveryEvent> events;
    Position pos{source, -1, static_cast<int64_t>(i + 1)};
    ParseResult r = ParsePadded(parser, records[i], events, storage, pos);
    fates.push_back(Fate(r, events.size()));
    on_events(i, r, events);
  }
  return fates;
}

}  // namespace bs::testing

#endif  // BOUNCESTREAM_TESTS_PARSERS_PARSER_TEST_UTIL_H_
