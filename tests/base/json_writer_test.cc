#include "pipeline/base/json_writer.h"

#include "gtest/gtest.h"
#include "pipeline/base/stable_hash.h"

namespace bs {
namespace {

TEST(JsonWriterTest, WritesNestedObjectsInCallOrder) {
  std::string out;
  JsonWriter w(out);
  w.BeginObject();
  w.KVInt("schema", 1);
  w.Key("a");
  w.BeginArray();
  w.String("x");
  w.Int(-2);
  w.Double(0.25);
  w.Null();
  w.EndArray();
  w.Key("o");
  w.BeginObject();
  w.Key("t");
  w.Bool(true);
  w.EndObject();
  w.EndObject();
  EXPECT_EQ(out, R"({"schema":1,"a":["x",-2,0.25,null],"o":{"t":true}})");
}

TEST(JsonWriterTest, EscapesControlQuotesAndInvalidUtf8) {
  std::string out;
  JsonWriter::Escape(std::string_view("a\"b\\c\n\x01 \xc3\xa9 \xff"), out);
  EXPECT_EQ(out, "a\\\"b\\\\c\\n\\u0001 \xc3\xa9 \xef\xbf\xbd");
}

TEST(JsonWriterTest, DoublesAreStable) {
  std::string out;
  JsonWriter w(out);
  w.BeginArray();
  w.Double(1.0);
  w.Double(0.60869565);
  w.Double(-0.0);
  w.EndArray();
  EXPECT_EQ(out, "[1,0.6087,0]");
}

TEST(StableHashTest, SameInputSameIdAndSeparatorMatters) {
  EXPECT_EQ(StableHash().Add("a@b.com").Add("suppress_address").Hex(),
            StableHash().Add("a@b.com").Add("suppress_address").Hex());
  EXPECT_NE(StableHash().Add("ab").Add("c").Hex(), StableHash().Add("a").Add("bc").Hex());
  EXPECT_EQ(StableHash().Hex().size(), 16u);
  // FNV-1a of the empty input followed by the 0xff separator: a fixed value on every machine.
  EXPECT_EQ(StableHash().Add("").value(), (0xcbf29ce484222325ULL ^ 0xff) * 0x100000001b3ULL);
}

}  // namespace
}  // namespace bs
