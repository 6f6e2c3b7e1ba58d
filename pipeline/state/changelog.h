// The changelog: keyed state as a stream of key → value records.
//
// This is the format the Kafka runtime writes to its compacted changelog topic: the record key is the
// state key (a lower-cased address, "@domain", or "" for the store's own metadata), the value a compact
// binary encoding (state_store.cc), and a tombstone (a record without a value) deletes the key. Applying a
// stream in order rebuilds the state, so a full snapshot, a compacted topic, or a snapshot followed by
// incremental flushes all restore the same thing.
//
// For files and tests, records are framed as: varint(key size) key varint(value size + 1) value, where a
// value size field of 0 marks a tombstone. Values use the small writer/reader below (LEB128 varints,
// zig-zag for signed numbers, little-endian fixed32).
#ifndef BOUNCESTREAM_PIPELINE_STATE_CHANGELOG_H_
#define BOUNCESTREAM_PIPELINE_STATE_CHANGELOG_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace bs::state {

// Receives changelog records (a Kafka producer in the runtime, a framed file or a vector in tests).
class ChangelogSink {
 public:
  virtual ~ChangelogSink() = default;
  virtual absl::Status Put(std::string_view key, std::string_view value) = 0;
  virtual absl::Status Delete(std::string_view key) = 0;
};

// Appends framed records to a string.
class FramedChangelogWriter : public ChangelogSink {
 public:
  explicit FramedChangelogWriter(std::string& out) : out_(out) {}
  absl::Status Put(std::string_view key, std::string_view value) override;
  absl::Status Delete(std::string_view key) override;
  uint64_t records() const { return records_; }

 private:
  std::string& out_;
  uint64_t records_ = 0;
};

struct ChangelogRecordView {
  std::string_view key;
  std::string_view value;
  bool tombstone = false;
};

// Reads the next framed record from `in` and advances it. Returns false at the end of the input, an
// error when the input ends inside a record.
absl::StatusOr<bool> ReadFramedRecord(std::string_view& in, ChangelogRecordView& record);

// Value encoding helpers.
class ValueWriter {
 public:
  explicit ValueWriter(std::string& out) : out_(out) {}
  void Byte(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void Varint(uint64_t v);
  void Signed(int64_t v) { Varint((static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63)); }
  void Fixed32(uint32_t v);
  void Bytes(std::string_view s) {
    Varint(s.size());
    out_.append(s);
  }

 private:
  std::string& out_;
};

// Reads what ValueWriter wrote. Every call returns false (and leaves ok() false) once the input is short
// or malformed, so a decoder can read all fields and check once.
class ValueReader {
 public:
  explicit ValueReader(std::string_view in) : in_(in) {}
  bool Byte(uint8_t& v);
  bool Varint(uint64_t& v);
  bool Signed(int64_t& v);
  bool Fixed32(uint32_t& v);
  bool Bytes(std::string_view& s);
  bool ok() const { return ok_; }
  bool done() const { return in_.empty(); }
  // What has not been read yet.
  std::string_view rest() const { return in_; }

 private:
  bool Fail() {
    ok_ = false;
    return false;
  }
  std::string_view in_;
  bool ok_ = true;
};

}  // namespace bs::state

#endif  // BOUNCESTREAM_PIPELINE_STATE_CHANGELOG_H_
