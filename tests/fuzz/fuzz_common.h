// Shared driver of the parser fuzz targets (libFuzzer): feeds an input to a fresh parser the way the
// sources do — one line at a time for text formats, one record (and the elements of a top-level JSON
// array) for JSON formats — each copied into its own heap buffer with exactly kRecordPadding bytes after
// it, so AddressSanitizer catches any read past the padding. After each Parse it reads every byte of
// every event view (a dangling view is a use-after-free) and checks the contract: an error adds no
// events, a skip adds none either, and every error detail is a short static name.
#ifndef BOUNCESTREAM_TESTS_FUZZ_FUZZ_COMMON_H_
#define BOUNCESTREAM_TESTS_FUZZ_FUZZ_COMMON_H_

#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

#include "parsers/format.h"
#include "parsers/json_array.h"
#include "parsers/parser.h"

namespace bs::fuzz {

inline void Check(bool ok) {
  if (!ok) __builtin_trap();
}

inline uint64_t Touch(std::string_view v) {
  uint64_t sum = 0;
  for (char c : v) sum += static_cast<unsigned char>(c);
  return sum;
}

// Parses one record through a padded private copy and verifies what came out.
inline void ParseOne(Parser& parser, std::string_view record, int64_t line, std::vector<DeliveryEvent>& events) {
  std::unique_ptr<char[]> buf(new char[record.size() + kRecordPadding]);
  if (!record.empty()) std::memcpy(buf.get(), record.data(), record.size());
  std::memset(buf.get() + record.size(), 0, kRecordPadding);
  events.clear();
  ParseResult r = parser.Parse(std::string_view(buf.get(), record.size()), Position{"fuzz", -1, line}, events);
  if (!r.ok()) {
    Check(events.empty());
    Check(r.skip == SkipReason::kNone);
    Check(r.detail.size() < 64);
    Check(!ParseErrorName(r.error).empty());
  } else if (r.skip != SkipReason::kNone) {
    Check(events.empty());
  }
  volatile uint64_t sink = 0;
  for (const DeliveryEvent& e : events) {
    sink = sink + Touch(e.recipient) + Touch(e.recipient_domain) + Touch(e.sender) + Touch(e.sender_domain) +
           Touch(e.message_id) + Touch(e.campaign) + Touch(e.tenant) + Touch(e.sending_ip) +
           Touch(e.egress_source) + Touch(e.egress_pool) + Touch(e.mta_host) + Touch(e.mx_host) + Touch(e.mx_ip) +
           Touch(e.reply.text);
    Check(e.position.offset >= 1);
    Check(e.reply.code <= 999);
    // The domain is a suffix of the recipient when both are set.
    if (!e.recipient.empty() && !e.recipient_domain.empty()) {
      Check(e.recipient.size() > e.recipient_domain.size());
    }
  }
  (void)sink;
}

inline std::unique_ptr<Parser> MakeParser(Format format, const ParserOptions& options = {}) {
  auto p = CreateParser(format, options);
  Check(p.ok());
  return std::move(p).value();
}

// Text formats: every line, in order, through one parser (stateful formats need the sequence).
inline int RunLines(Format format, const uint8_t* data, size_t size, const ParserOptions& options = {}) {
  auto parser = MakeParser(format, options);
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<DeliveryEvent> events;
  int64_t line = 1;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos) nl = text.size();
    ParseOne(*parser, text.substr(start, nl - start), line++, events);
    start = nl + 1;
  }
  return 0;
}

// JSON formats: the whole input as one record (a Kafka message), then its lines (JSONL), then the
// elements of a top-level array (a webhook dump split by the file source).
inline int RunJson(Format format, const uint8_t* data, size_t size, const ParserOptions& options = {}) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parser = MakeParser(format, options);
  std::vector<DeliveryEvent> events;
  ParseOne(*parser, text, 1, events);
  RunLines(format, data, size, options);
  std::vector<RecordSpan> spans;
  SplitJsonArray(text, spans);
  for (const RecordSpan& s : spans) {
    Check(s.begin <= s.end && s.end <= text.size());
    ParseOne(*parser, text.substr(s.begin, s.end - s.begin), s.line, events);
  }
  return 0;
}

}  // namespace bs::fuzz

#endif  // BOUNCESTREAM_TESTS_FUZZ_FUZZ_COMMON_H_
