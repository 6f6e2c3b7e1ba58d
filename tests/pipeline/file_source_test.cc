#include "pipeline/source/file_source.h"

#include <zlib.h>
#include <zstd.h>

#include <cstdio>
#include <fstream>

#include "gtest/gtest.h"
#include "parsers/parser.h"

namespace bs {
namespace {

std::string TempPath(const std::string& name) {
  return std::string(::testing::TempDir()) + "/" + name;
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

struct Read {
  std::vector<std::string> records;
  std::vector<int64_t> lines;
};

Read ReadAll(const std::string& path, size_t block = 4 << 20) {
  Read r;
  auto src = FileSource::Open(path, block);
  EXPECT_TRUE(src.ok()) << src.status();
  if (!src.ok()) return r;
  Chunk chunk;
  while (true) {
    auto more = (*src)->Next(chunk);
    EXPECT_TRUE(more.ok()) << more.status();
    if (!more.ok() || !*more) break;
    EXPECT_GE(chunk.capacity, chunk.size + kRecordPadding);
    for (size_t i = 0; i < chunk.records.size(); ++i) {
      r.records.emplace_back(chunk.record(i));
      r.lines.push_back(chunk.records[i].line);
    }
  }
  return r;
}

TEST(FileSourceTest, LinesWithCrlfBlanksAndNoFinalNewline) {
  std::string path = TempPath("plain.log");
  WriteFile(path, "one\r\n\ntwo\nthree");
  Read r = ReadAll(path);
  EXPECT_EQ(r.records, (std::vector<std::string>{"one", "two", "three"}));
  EXPECT_EQ(r.lines, (std::vector<int64_t>{1, 3, 4}));
}

TEST(FileSourceTest, GzipAndZstdGiveTheSameRecords) {
  std::string text;
  for (int i = 0; i < 50000; ++i) text += "record number " + std::to_string(i) + "\n";
  std::string gz = TempPath("x.log.gz");
  gzFile g = gzopen(gz.c_str(), "wb");
  ASSERT_NE(g, nullptr);
  gzwrite(g, text.data(), static_cast<unsigned>(text.size()));
  gzclose(g);
  std::string zst = TempPath("x.log.zst");
  std::string z(ZSTD_compressBound(text.size()), '\0');
  z.resize(ZSTD_compress(z.data(), z.size(), text.data(), text.size(), 3));
  WriteFile(zst, z);
  // A small block size forces records across chunk boundaries.
  Read a = ReadAll(gz, 1);
  Read b = ReadAll(zst, 1);
  ASSERT_EQ(a.records.size(), 50000u);
  EXPECT_EQ(a.records, b.records);
  EXPECT_EQ(a.records[49999], "record number 49999");
  EXPECT_EQ(a.lines[49999], 50000);
}

TEST(FileSourceTest, TruncatedZstdIsAnError) {
  std::string text(100000, 'a');
  std::string z(ZSTD_compressBound(text.size()), '\0');
  z.resize(ZSTD_compress(z.data(), z.size(), text.data(), text.size(), 3));
  z.resize(z.size() / 2);
  std::string path = TempPath("cut.zst");
  WriteFile(path, z);
  // The error surfaces when the cut is reached: at Open (which reads the head) or at a later Next.
  auto src = FileSource::Open(path);
  if (!src.ok()) {
    EXPECT_NE(std::string(src.status().message()).find("zstd"), std::string::npos) << src.status();
    return;
  }
  Chunk chunk;
  absl::StatusOr<bool> more = true;
  while (more.ok() && *more) more = (*src)->Next(chunk);
  EXPECT_FALSE(more.ok());
}

TEST(FileSourceTest, OversizedLineBecomesOneRecordAndReadingGoesOn) {
  std::string path = TempPath("long.log");
  std::string huge(3 * kMaxRecordBytes, 'x');
  WriteFile(path, "before\n" + huge + "\nafter\n");
  Read r = ReadAll(path);
  ASSERT_EQ(r.records.size(), 3u);
  EXPECT_EQ(r.records[0], "before");
  EXPECT_GT(r.records[1].size(), kMaxRecordBytes);  // dead-lettered by the parser as record_too_large
  EXPECT_EQ(r.records[2], "after");
  EXPECT_EQ(r.lines[2], 3);
}

TEST(FileSourceTest, JsonArrayElementsAreRecordsWithTheirLines) {
  std::string path = TempPath("esp.json");
  WriteFile(path, "[\n {\"a\": \"x,]\"},\n {\"b\": [1, {\"c\": 2}]}\n]\n");
  auto src = FileSource::Open(path);
  ASSERT_TRUE(src.ok());
  EXPECT_TRUE((*src)->is_json_array());
  Read r = ReadAll(path);
  EXPECT_EQ(r.records, (std::vector<std::string>{"{\"a\": \"x,]\"}", "{\"b\": [1, {\"c\": 2}]}"}));
  EXPECT_EQ(r.lines, (std::vector<int64_t>{2, 3}));
}

TEST(FileSourceTest, MissingFileAndDirectoryAreClearErrors) {
  auto missing = FileSource::Open("/nonexistent/x.log");
  EXPECT_FALSE(missing.ok());
  EXPECT_NE(std::string(missing.status().message()).find("/nonexistent/x.log"), std::string::npos);
  EXPECT_FALSE(FileSource::Open(::testing::TempDir()).ok());
}

}  // namespace
}  // namespace bs
