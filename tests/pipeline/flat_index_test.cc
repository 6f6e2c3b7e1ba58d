// FlatIndex: keys with the same 64-bit hash stay apart (the caller's exact check decides), growth keeps
// every entry, Clear empties without shrinking; and the string helpers it is used with.
#include "pipeline/window/flat_index.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace bs {
namespace {

TEST(FlatIndexTest, CollidingHashesAreSeparatedByTheExactCheck) {
  FlatIndex index;
  std::vector<std::string> keys;
  auto intern = [&](const std::string& k, uint64_t hash) {
    return index.FindOrInsert(
        hash, [&](uint32_t v) { return keys[v] == k; },
        [&]() {
          keys.push_back(k);
          return static_cast<uint32_t>(keys.size() - 1);
        });
  };
  // Every key under the same hash: a worst case, still exact.
  for (int i = 0; i < 100; ++i) EXPECT_EQ(intern("key" + std::to_string(i), 42), static_cast<uint32_t>(i));
  for (int i = 0; i < 100; ++i) EXPECT_EQ(intern("key" + std::to_string(i), 42), static_cast<uint32_t>(i));
  EXPECT_EQ(index.size(), 100u);
  EXPECT_EQ(index.Find(42, [&](uint32_t v) { return keys[v] == "key77"; }), 77u);
  EXPECT_EQ(index.Find(42, [&](uint32_t v) { return keys[v] == "nope"; }), FlatIndex::kEmpty);
  EXPECT_EQ(index.Find(43, [&](uint32_t) { return true; }), FlatIndex::kEmpty);
}

TEST(FlatIndexTest, GrowsAndClears) {
  FlatIndex index;
  std::vector<uint64_t> ids;
  for (uint64_t i = 0; i < 10000; ++i) {
    const uint64_t h = HashBytes(std::to_string(i), 0);
    uint32_t v = index.FindOrInsert(h, [&](uint32_t x) { return ids[x] == i; }, [&]() {
      ids.push_back(i);
      return static_cast<uint32_t>(ids.size() - 1);
    });
    EXPECT_EQ(v, i);
  }
  for (uint64_t i = 0; i < 10000; i += 97) {
    EXPECT_EQ(index.Find(HashBytes(std::to_string(i), 0), [&](uint32_t x) { return ids[x] == i; }), i);
  }
  index.Clear();
  EXPECT_EQ(index.size(), 0u);
  EXPECT_EQ(index.Find(HashBytes("5", 0), [&](uint32_t) { return true; }), FlatIndex::kEmpty);
}

TEST(FlatIndexTest, HashAndEqualityOfShortStrings) {
  // Every length from 0 to 40, and strings differing only in their last byte or in length.
  for (size_t n = 0; n <= 40; ++n) {
    std::string a(n, 'x'), b(n, 'x');
    EXPECT_TRUE(BytesEqual(a, b));
    EXPECT_EQ(HashBytes(a, 7), HashBytes(b, 7));
    if (n == 0) continue;
    b.back() = 'y';
    EXPECT_FALSE(BytesEqual(a, b)) << n;
    EXPECT_NE(HashBytes(a, 7), HashBytes(b, 7)) << n;
    if (n >= 2) {  // only the first byte differs
      b.front() = 'y';
      b.back() = 'x';
      EXPECT_FALSE(BytesEqual(a, b)) << n;
    }
    EXPECT_FALSE(BytesEqual(a, a.substr(0, n - 1)));
    EXPECT_NE(HashBytes(a, 7), HashBytes(a.substr(0, n - 1), 7)) << n;
  }
  // Views into a larger buffer compare their own bytes only.
  std::string buf = "203.0.113.7|203.0.113.70";
  EXPECT_TRUE(BytesEqual(std::string_view(buf).substr(0, 11), "203.0.113.7"));
  EXPECT_FALSE(BytesEqual(std::string_view(buf).substr(12), "203.0.113.7"));
}

}  // namespace
}  // namespace bs
