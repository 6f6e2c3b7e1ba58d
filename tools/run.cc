#include "tools/not_built.h"

namespace bs::tools {

int RunRun(const Args& args) { return NotBuiltYet(args, "run", "usage: bouncestream run --config FILE"); }

}  // namespace bs::tools
