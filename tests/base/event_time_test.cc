#include "pipeline/base/event_time.h"

#include "gtest/gtest.h"

namespace bs {
namespace {

TEST(EventTimeTest, ParsesRfc3339Variants) {
  EXPECT_EQ(ParseIsoTime("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(ParseIsoTime("2026-11-02T08:00:00Z"), 1793606400000);
  EXPECT_EQ(ParseIsoTime("2026-11-02T08:00:00.123456789Z"), 1793606400123);
  EXPECT_EQ(ParseIsoTime("2026-11-02T09:00:00+01:00"), 1793606400000);
  EXPECT_EQ(ParseIsoTime("2026-11-02 13:30:00+0530"), 1793606400000);
  EXPECT_EQ(ParseIsoTime("2026-11-02T08:00:00.5"), 1793606400500);  // no zone: UTC
}

TEST(EventTimeTest, RejectsMalformed) {
  for (const char* bad : {"", "2026-11-02", "2026-13-02T08:00:00Z", "2026-11-02T25:00:00Z", "2026-11-02T08:00:00X",
                          "2026-11-02T08:00:00.Z", "2026-11-02T08:00:00+1", "yesterday at noon"}) {
    EXPECT_FALSE(ParseIsoTime(bad).has_value()) << bad;
  }
}

TEST(EventTimeTest, FormatsMillisecondsRoundTrip) {
  for (int64_t ms : {int64_t{0}, int64_t{1793606400123}, int64_t{951782400000} /* 2000-02-29 */, int64_t{-1}}) {
    std::string s = FormatIsoTimeMs(ms);
    EXPECT_EQ(ParseIsoTime(s), ms) << s;
  }
  EXPECT_EQ(FormatIsoTimeMs(1793606400123), "2026-11-02T08:00:00.123Z");
}

TEST(EventTimeTest, MonthAbbreviations) {
  EXPECT_EQ(MonthFromAbbrev("Jan"), 1u);
  EXPECT_EQ(MonthFromAbbrev("Dec"), 12u);
  EXPECT_EQ(MonthFromAbbrev("dec"), 0u);
  EXPECT_EQ(MonthFromAbbrev("Decem"), 0u);
}

}  // namespace
}  // namespace bs
