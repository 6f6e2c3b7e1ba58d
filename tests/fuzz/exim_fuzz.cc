// libFuzzer target: the Exim main log parser on arbitrary bytes, including syslog split-part joins (a
// reference time is set so year-less syslog stamps resolve). See fuzz_common.h for what is checked.
#include "tests/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  bs::ParserOptions options;
  options.reference_time_ms = 1700000000000;
  return bs::fuzz::RunLines(bs::Format::kExim, data, size, options);
}
