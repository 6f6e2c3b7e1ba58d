// libFuzzer target: the PowerMTA accounting parser on arbitrary bytes, once learning the header from the
// input and once with a configured header (so record lines are split even without one). See
// fuzz_common.h for what is checked.
#include "tests/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  bs::fuzz::RunLines(bs::Format::kPowerMta, data, size);
  bs::ParserOptions options;
  options.powermta_header =
      "type,timeLogged,timeQueued,orig,rcpt,orcpt,dsnAction,dsnStatus,dsnDiag,dsnMta,bounceCat,srcType,srcMta,"
      "dlvType,dlvSourceIp,dlvDestinationIp,dlvEsmtpAvailable,dlvSize,vmta,jobId,envId,queue,vmtaPool";
  return bs::fuzz::RunLines(bs::Format::kPowerMta, data, size, options);
}
