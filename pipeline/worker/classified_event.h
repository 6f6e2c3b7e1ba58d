// What the parse+classify stage hands to the decide stage: events with their classification, dead
// letters, and per-chunk counts. Views point into the chunk buffer or the result's arena, so a
// ChunkResult is valid while its Chunk is alive and until it is reused.
#ifndef BOUNCESTREAM_PIPELINE_WORKER_CLASSIFIED_EVENT_H_
#define BOUNCESTREAM_PIPELINE_WORKER_CLASSIFIED_EVENT_H_

#include <array>
#include <cstdint>
#include <vector>

#include "parsers/delivery_event.h"
#include "parsers/parse_error.h"
#include "pipeline/base/arena.h"
#include "rules/classification.h"

namespace bs {

struct ClassifiedEvent {
  DeliveryEvent event;
  Classification cls;  // default (unknown) for Outcome::kEnvelope events, which are not classified
};

struct DeadLetter {
  Position position;
  ParseError error = ParseError::kNone;
  std::string_view detail;  // static string from the parser
  std::string_view bytes;   // the record as read
};

inline constexpr int kSkipReasonCount = static_cast<int>(SkipReason::kContinued) + 1;  // kNone..last

struct ChunkResult {
  std::vector<ClassifiedEvent> events;
  std::vector<DeadLetter> dead_letters;
  uint64_t records = 0;
  uint64_t event_records = 0;  // records that produced at least one event
  std::array<uint64_t, kSkipReasonCount> skipped{};
  Arena arena;

  void Clear() {
    events.clear();
    dead_letters.clear();
    records = 0;
    event_records = 0;
    skipped.fill(0);
    arena.Reset();
  }
};

}  // namespace bs

#endif  // BOUNCESTREAM_PIPELINE_WORKER_CLASSIFIED_EVENT_H_
