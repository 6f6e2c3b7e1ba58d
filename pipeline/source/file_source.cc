#include "pipeline/source/file_source.h"

#include <sys/stat.h>
#include <zlib.h>
#include <zstd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "parsers/parser.h"

namespace bs {

// Decompressing reader over a FILE*: zstd by magic, otherwise zlib's gz reader (which passes plain files
// through unchanged).
class FileSource::Reader {
 public:
  ~Reader() {
    if (gz_) gzclose(gz_);
    if (file_) std::fclose(file_);
    if (zstd_) ZSTD_freeDStream(zstd_);
  }

  static absl::StatusOr<std::unique_ptr<Reader>> Open(const std::string& path) {
    auto r = std::unique_ptr<Reader>(new Reader);
    FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) return absl::NotFoundError(absl::StrCat(path, ": ", std::strerror(errno)));
    unsigned char magic[4] = {0, 0, 0, 0};
    size_t got = std::fread(magic, 1, 4, f);
    std::rewind(f);
    if (got == 4 && magic[0] == 0x28 && magic[1] == 0xB5 && magic[2] == 0x2F && magic[3] == 0xFD) {
      r->file_ = f;
      r->zstd_ = ZSTD_createDStream();
      ZSTD_initDStream(r->zstd_);
      r->in_buf_.resize(ZSTD_DStreamInSize());
    } else {
      int fd = dup(fileno(f));
      std::fclose(f);
      r->gz_ = gzdopen(fd, "rb");
      if (!r->gz_) return absl::InternalError(absl::StrCat(path, ": cannot open"));
      gzbuffer(r->gz_, 256 * 1024);
    }
    return r;
  }

  absl::StatusOr<size_t> Read(char* dst, size_t n) {
    if (gz_) {
      int got = gzread(gz_, dst, static_cast<unsigned>(n));
      if (got < 0) {
        int err;
        const char* msg = gzerror(gz_, &err);
        return absl::DataLossError(absl::StrCat("gzip: ", msg));
      }
      return static_cast<size_t>(got);
    }
    ZSTD_outBuffer out{dst, n, 0};
    while (out.pos < out.size) {
      if (in_.pos == in_.size) {
        if (in_eof_) break;
        size_t got = std::fread(in_buf_.data(), 1, in_buf_.size(), file_);
        consumed_ += got;
        if (got == 0) {
          in_eof_ = true;
          if (last_ret_ != 0) return absl::DataLossError("zstd: truncated frame");
          break;
        }
        in_ = ZSTD_inBuffer{in_buf_.data(), got, 0};
      }
      size_t ret = ZSTD_decompressStream(zstd_, &out, &in_);
      if (ZSTD_isError(ret)) return absl::DataLossError(absl::StrCat("zstd: ", ZSTD_getErrorName(ret)));
      last_ret_ = ret;
    }
    return out.pos;
  }

  uint64_t consumed() const {
    if (gz_) return static_cast<uint64_t>(gzoffset(gz_));
    return consumed_;
  }

 private:
  Reader() = default;
  gzFile gz_ = nullptr;
  FILE* file_ = nullptr;
  ZSTD_DStream* zstd_ = nullptr;
  std::vector<char> in_buf_;
  ZSTD_inBuffer in_{nullptr, 0, 0};
  bool in_eof_ = false;
  size_t last_ret_ = 0;
  uint64_t consumed_ = 0;
};

FileSource::~FileSource() = default;

absl::StatusOr<std::unique_ptr<FileSource>> FileSource::Open(const std::string& path, size_t block_bytes) {
  auto src = std::unique_ptr<FileSource>(new FileSource);
  src->path_ = path;
  src->block_bytes_ = block_bytes < 2 * kMaxRecordBytes ? 2 * kMaxRecordBytes : block_bytes;
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return absl::NotFoundError(absl::StrCat(path, ": ", std::strerror(errno)));
  if (S_ISDIR(st.st_mode)) return absl::InvalidArgumentError(absl::StrCat(path, ": is a directory"));
  src->file_size_ = static_cast<uint64_t>(st.st_size);
  auto reader = Reader::Open(path);
  if (!reader.ok()) return reader.status();
  src->reader_ = std::move(reader).value();
  // Read the head now: detection needs it, and it becomes the start of the first chunk.
  src->carry_.resize(64 * 1024);
  auto got = src->reader_->Read(src->carry_.data(), src->carry_.size());
  if (!got.ok()) return absl::DataLossError(absl::StrCat(path, ": ", got.status().message()));
  src->carry_.resize(*got);
  if (*got < 64 * 1024) src->eof_ = true;
  src->head_ = src->carry_.substr(0, 8192);
  src->json_array_ = LooksLikeJsonArray(src->carry_);
  return src;
}

uint64_t FileSource::bytes_consumed() const { return reader_->consumed(); }

absl::StatusOr<size_t> FileSource::Fill(char* dst, size_t n) {
  size_t total = 0;
  while (total < n && !eof_) {
    auto got = reader_->Read(dst + total, n - total);
    if (!got.ok()) return absl::DataLossError(absl::StrCat(path_, ": ", got.status().message()));
    if (*got == 0) eof_ = true;
    total += *got;
  }
  return total;
}

absl::StatusOr<bool> FileSource::Next(Chunk& chunk) {
  chunk.records.clear();
  chunk.size = 0;
  if (json_array_) {
    if (carry_.empty() && eof_) return false;
    // Read the whole document.
    std::string doc = std::move(carry_);
    carry_.clear();
    while (!eof_) {
      size_t old = doc.size();
      doc.resize(old + (1 << 20));
      auto got = Fill(doc.data() + old, 1 << 20);
      if (!got.ok()) return got.status();
      doc.resize(old + *got);
    }
    chunk.capacity = doc.size() + kRecordPadding;
    chunk.buffer = std::make_unique<char[]>(chunk.capacity);
    std::memcpy(chunk.buffer.get(), doc.data(), doc.size());
    std::memset(chunk.buffer.get() + doc.size(), 0, kRecordPadding);
    chunk.size = doc.size();
    SplitJsonArray(chunk.data(), chunk.records);
    return true;
  }
  if (carry_.empty() && eof_) return false;
  size_t want = block_bytes_ + kRecordPadding;
  if (chunk.capacity < want) {
    chunk.buffer = std::make_unique<char[]>(want);
    chunk.capacity = want;
  }
  char* buf = chunk.buffer.get();
  size_t n = carry_.size();
  std::memcpy(buf, carry_.data(), n);
  carry_.clear();
  auto got = Fill(buf + n, block_bytes_ - n);
  if (!got.ok()) return got.status();
  n += *got;
  // Cut at the last newline; keep the tail for the next chunk (unless at EOF).
  size_t cut = n;
  if (!eof_) {
    const char* nl = static_cast<const char*>(memrchr(buf, '\n', n));
    if (nl == nullptr) {
      cut = n;  // one giant line: emitted as an oversized record below
    } else {
      cut = static_cast<size_t>(nl - buf) + 1;
      carry_.assign(buf + cut, n - cut);
    }
  }
  chunk.size = cut;
  std::memset(buf + cut, 0, kRecordPadding);
  size_t pos = 0;
  while (pos < cut) {
    const char* nl = static_cast<const char*>(std::memchr(buf + pos, '\n', cut - pos));
    size_t end = nl ? static_cast<size_t>(nl - buf) : cut;
    if (skipping_long_line_) {
      // The remainder of an oversized line already reported.
      skipping_long_line_ = nl == nullptr;
      if (nl) ++next_line_;
      pos = end + 1;
      continue;
    }
    size_t rec_end = end;
    if (rec_end > pos && buf[rec_end - 1] == '\r') --rec_end;
    if (rec_end > pos) chunk.records.push_back(RecordSpan{pos, rec_end, next_line_});
    if (nl) {
      ++next_line_;
    } else if (!eof_ && cut == n) {
      skipping_long_line_ = true;  // the line continues in the next read
    }
    pos = end + 1;
  }
  return true;
}

}  // namespace bs
