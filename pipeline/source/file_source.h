// FileSource: reads one log file (plain, gzip or zstd, by magic bytes) as chunks of whole records.
//
// A chunk is a padded buffer (kRecordPadding readable bytes after the data) plus the spans of its
// records and their 1-based line numbers. Line formats split on '\n' (blank lines are not records; a
// missing final newline is fine); a file whose first byte is '[' is a JSON array whose elements are the
// records (ESP webhook dumps), read whole. A line longer than kMaxRecordBytes becomes one oversized
// record (the parser dead-letters it) and the rest of that line is dropped with it.
// Not thread-safe; chunks are independent values that may be handed to other threads.
#ifndef BOUNCESTREAM_PIPELINE_SOURCE_FILE_SOURCE_H_
#define BOUNCESTREAM_PIPELINE_SOURCE_FILE_SOURCE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "parsers/json_array.h"

namespace bs {

struct Chunk {
  std::unique_ptr<char[]> buffer;
  size_t size = 0;
  size_t capacity = 0;  // allocated bytes, ≥ size + kRecordPadding
  std::vector<RecordSpan> records;

  std::string_view data() const { return {buffer.get(), size}; }
  std::string_view record(size_t i) const { return data().substr(records[i].begin, records[i].end - records[i].begin); }
};

class FileSource {
 public:
  // `block_bytes`: target chunk size for line formats.
  static absl::StatusOr<std::unique_ptr<FileSource>> Open(const std::string& path, size_t block_bytes = 4 << 20);
  ~FileSource();

  // The first bytes of the decompressed content (for format detection); available after Open.
  std::string_view head() const { return head_; }
  bool is_json_array() const { return json_array_; }

  // Fills `chunk` with the next records; returns false at the end of the file.
  absl::StatusOr<bool> Next(Chunk& chunk);

  // Compressed bytes consumed so far and the file size, for progress display.
  uint64_t bytes_consumed() const;
  uint64_t file_size() const { return file_size_; }

 private:
  class Reader;
  FileSource() = default;
  absl::StatusOr<size_t> Fill(char* dst, size_t n);

  std::string path_;
  std::unique_ptr<Reader> reader_;
  size_t block_bytes_ = 0;
  uint64_t file_size_ = 0;
  std::string head_;
  bool json_array_ = false;
  std::string carry_;       // bytes after the last newline of the previous chunk
  bool eof_ = false;
  bool skipping_long_line_ = false;
  int64_t next_line_ = 1;
};

}  // namespace bs

#endif  // BOUNCESTREAM_PIPELINE_SOURCE_FILE_SOURCE_H_
