#include "tools/not_built.h"

namespace bs::tools {

int RunConfig(const Args& args) { return NotBuiltYet(args, "config", "usage: bouncestream config check FILE"); }

}  // namespace bs::tools
