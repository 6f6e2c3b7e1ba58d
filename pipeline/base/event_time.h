// Event-time parsing shared by the parsers. Times are milliseconds since the Unix epoch, UTC.
// Nothing here reads the wall clock.
#ifndef BOUNCESTREAM_PIPELINE_BASE_EVENT_TIME_H_
#define BOUNCESTREAM_PIPELINE_BASE_EVENT_TIME_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace bs {

// Days since 1970-01-01 of a proleptic Gregorian date (month 1..12).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d);

// "2026-11-30T05:21:44Z", "…T05:21:44.123456789+01:00", "2014-08-24 16:00:14+0530", "…14:57:25" (UTC
// assumed when no zone). Returns nullopt on anything malformed.
std::optional<int64_t> ParseIsoTime(std::string_view s);

// "Jan", "Feb", … → 1..12, or 0.
unsigned MonthFromAbbrev(std::string_view s);

// Writes "2026-11-30T05:21:44.123Z".
std::string FormatIsoTimeMs(int64_t ms);

}  // namespace bs

#endif  // BOUNCESTREAM_PIPELINE_BASE_EVENT_TIME_H_
