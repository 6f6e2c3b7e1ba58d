// Sink: where encoded outputs go (NDJSON files here; Kafka topics in the runtime). Sinks only move bytes;
// encoding happens before (encoders.h). Called from the decide stage only; not thread-safe.
#ifndef BOUNCESTREAM_PIPELINE_SINK_SINK_H_
#define BOUNCESTREAM_PIPELINE_SINK_SINK_H_

#include <string_view>

#include "absl/status/status.h"

namespace bs {

// kLate: events that arrived after every window holding them had closed (the optional side output; they
// are still decided, only their alert windows are gone).
enum class OutputKind : uint8_t { kAlerts, kSuppressions, kDeadLetters, kClassified, kLate };
inline constexpr int kOutputKindCount = 5;

class Sink {
 public:
  virtual ~Sink() = default;
  // `key` is the record's Kafka key (alert id, suppressed address); `json` one encoded record.
  virtual absl::Status Write(OutputKind kind, std::string_view key, std::string_view json) = 0;
  virtual absl::Status Flush() = 0;
};

}  // namespace bs

#endif  // BOUNCESTREAM_PIPELINE_SINK_SINK_H_
