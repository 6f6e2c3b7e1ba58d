// Where a record came from: a file and line, or a Kafka topic, partition and offset. Every output that
// a record decides (suppression evidence, dead letters) carries its position so a user can find it.
#ifndef BOUNCESTREAM_PIPELINE_BASE_POSITION_H_
#define BOUNCESTREAM_PIPELINE_BASE_POSITION_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace bs {

struct Position {
  // File path or topic name. A view into a name owned by the source, which outlives every record.
  std::string_view source;
  // -1 for files; the partition for Kafka records.
  int32_t partition = -1;
  // 1-based line number for files; the offset for Kafka records.
  int64_t offset = 0;

  // "file:line" or "topic/partition@offset".
  std::string ToString() const;

  friend bool operator==(const Position& a, const Position& b) {
    return a.source == b.source && a.partition == b.partition && a.offset == b.offset;
  }
};

}  // namespace bs

#endif  // BOUNCESTREAM_PIPELINE_BASE_POSITION_H_
