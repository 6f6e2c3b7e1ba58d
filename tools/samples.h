// Where the bundled sample logs live: $BOUNCESTREAM_SAMPLES, else tools/samples/ of the source tree the
// binary was built from. Positions name them "samples/<file>" so outputs do not depend on the path.
#ifndef BOUNCESTREAM_TOOLS_SAMPLES_H_
#define BOUNCESTREAM_TOOLS_SAMPLES_H_

#include <vector>

#include "absl/status/statusor.h"
#include "pipeline/replay.h"

namespace bs::tools {

absl::StatusOr<std::vector<ReplayInput>> BundledSamples();

}  // namespace bs::tools

#endif  // BOUNCESTREAM_TOOLS_SAMPLES_H_
