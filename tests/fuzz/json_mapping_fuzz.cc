// libFuzzer target: the generic JSON mapping with nested paths, array indexes and an escaped dot, on
// arbitrary bytes. See fuzz_common.h for what is checked.
#include "tests/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  bs::ParserOptions options;
  options.json.recipient = "rcpt";
  options.json.outcome = "event.type";
  options.json.time = "event.time";
  options.json.code = "reply.code";
  options.json.enhanced = "reply.esc";
  options.json.text = "reply.text";
  options.json.mx_host = "mx.0";
  options.json.campaign = "tags\\.campaign";
  options.json.attempt = "n";
  return bs::fuzz::RunJson(bs::Format::kJsonMapping, data, size, options);
}
