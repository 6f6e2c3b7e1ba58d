// NdjsonSink: one file per output kind in a directory (alerts.jsonl, suppressions.jsonl, dlq.jsonl and,
// when enabled, classified.jsonl and late.jsonl), one JSON object per line. Files are replaced at open.
#ifndef BOUNCESTREAM_PIPELINE_SINK_NDJSON_SINK_H_
#define BOUNCESTREAM_PIPELINE_SINK_NDJSON_SINK_H_

#include <array>
#include <cstdio>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "pipeline/sink/sink.h"

namespace bs {

class NdjsonSink final : public Sink {
 public:
  // classified.jsonl and late.jsonl only when asked for.
  static absl::StatusOr<std::unique_ptr<NdjsonSink>> Open(const std::string& dir, bool classified, bool late = false);
  ~NdjsonSink() override;

  absl::Status Write(OutputKind kind, std::string_view key, std::string_view json) override;
  absl::Status Flush() override;

  static std::string_view FileName(OutputKind kind);

 private:
  NdjsonSink() = default;
  std::array<FILE*, kOutputKindCount> files_{};
  std::array<std::string, kOutputKindCount> paths_;
};

}  // namespace bs

#endif  // BOUNCESTREAM_PIPELINE_SINK_NDJSON_SINK_H_
