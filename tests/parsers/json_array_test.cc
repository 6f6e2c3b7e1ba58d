// SplitJsonArray: element spans of a top-level JSON array, including the malformed inputs the fuzzers found.
#include "parsers/json_array.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace bs {
namespace {

std::vector<std::string> Elements(std::string_view text) {
  std::vector<RecordSpan> spans;
  SplitJsonArray(text, spans);
  std::vector<std::string> out;
  for (const RecordSpan& s : spans) {
    EXPECT_LE(s.begin, s.end);
    EXPECT_LE(s.end, text.size());
    out.emplace_back(text.substr(s.begin, s.end - s.begin));
  }
  return out;
}

TEST(JsonArrayTest, SplitsElements) {
  EXPECT_EQ(Elements(R"([{"a":1}, {"b":[1,2,{"c":"]"}]} ,3, "x,y"])"),
            (std::vector<std::string>{R"({"a":1})", R"({"b":[1,2,{"c":"]"}]})", "3", R"("x,y")"}));
  EXPECT_EQ(Elements(R"([{"s":"quote \" and } inside"}])"),
            (std::vector<std::string>{R"({"s":"quote \" and } inside"})"}));
  EXPECT_TRUE(Elements("[]").empty());
  EXPECT_TRUE(Elements("  [ ]  ").empty());
  EXPECT_TRUE(Elements(R"({"not":"an array"})").empty());
}

TEST(JsonArrayTest, LineNumbersOfPrettyPrintedElements) {
  std::string text = "[\n {\n  \"a\": 1\n },\n {\n  \"b\": 2\n }\n]\n";
  std::vector<RecordSpan> spans;
  SplitJsonArray(text, spans);
  ASSERT_EQ(spans.size(), 2u);
  EXPECT_EQ(spans[0].line, 2);
  EXPECT_EQ(spans[1].line, 5);
}

TEST(JsonArrayTest, UnterminatedArrayKeepsTheRest) {
  EXPECT_EQ(Elements(R"([{"a":1},{"b":)"), (std::vector<std::string>{R"({"a":1})", R"({"b":)"}));
  EXPECT_EQ(Elements("[{\"a\":\"x\\"), (std::vector<std::string>{"{\"a\":\"x\\"}));
}

// Found by the fuzzers: a stray '}' at the top level used to stop the scan without advancing it.
TEST(JsonArrayTest, StrayClosingBracesMakeProgress) {
  EXPECT_EQ(Elements("[}"), (std::vector<std::string>{"}"}));
  EXPECT_EQ(Elements("[}]"), (std::vector<std::string>{"}"}));
  EXPECT_EQ(Elements("[{}},{}]"), (std::vector<std::string>{"{}", "}", "{}"}));
  EXPECT_EQ(Elements("[{}x,{}]"), (std::vector<std::string>{"{}", "x", "{}"}));
}

}  // namespace
}  // namespace bs
