// `bouncestream replay --brokers B --topic T --from TIME [--to TIME]`: the Kafka backfill, a branch of
// `replay` (tools/replay.cc hands over when --brokers, --config or --topic is given).
#ifndef BOUNCESTREAM_TOOLS_BACKFILL_H_
#define BOUNCESTREAM_TOOLS_BACKFILL_H_

#include "tools/flags.h"

namespace bs::tools {

// The flags replay.cc parsed; returns the exit code.
int RunBackfill(const Flags& flags);

}  // namespace bs::tools

#endif  // BOUNCESTREAM_TOOLS_BACKFILL_H_
