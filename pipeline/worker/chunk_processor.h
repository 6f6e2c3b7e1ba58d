// ChunkProcessor: the parse → classify stage for one worker. It owns its parsers (one per input file,
// since some formats keep per-file state such as a CSV header), its classification scratch and its event
// buffer; it reads the shared RuleSet snapshot without locks. Not thread-safe: one per worker thread.
#ifndef BOUNCESTREAM_PIPELINE_WORKER_CHUNK_PROCESSOR_H_
#define BOUNCESTREAM_PIPELINE_WORKER_CHUNK_PROCESSOR_H_

#include <memory>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "parsers/format.h"
#include "pipeline/source/file_source.h"
#include "pipeline/worker/classified_event.h"
#include "rules/rule_set.h"

namespace bs {

class ChunkProcessor {
 public:
  ChunkProcessor(std::shared_ptr<const RuleSet> rules, ParserOptions options);

  // Parses and classifies every record of `chunk` (from input `input_index`, named `source`, in
  // `format`) into `out` (cleared first). Fails only when the format has no parser. `partition` is the
  // Kafka partition of the records (their positions become topic/partition@offset, with the offset in
  // RecordSpan::line), or -1 for files (file:line).
  absl::Status Process(const Chunk& chunk, int input_index, std::string_view source, Format format, ChunkResult& out,
                       int32_t partition = -1);

 private:
  // Copies the views of `e` that point outside [lo, hi) into the arena.
  static void MakeDurable(DeliveryEvent& e, const char* lo, const char* hi, Arena& arena);

  std::shared_ptr<const RuleSet> rules_;
  ParserOptions options_;
  absl::flat_hash_map<int, std::unique_ptr<Parser>> parsers_;
  ClassifyScratch scratch_;
  std::vector<DeliveryEvent> events_;
};

}  // namespace bs

#endif  // BOUNCESTREAM_PIPELINE_WORKER_CHUNK_PROCESSOR_H_
