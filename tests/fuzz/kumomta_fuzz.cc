// libFuzzer target: the kumomta parser on arbitrary bytes (see fuzz_common.h for what is checked).
#include "tests/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return bs::fuzz::RunJson(bs::Format::kKumoMta, data, size);
}
