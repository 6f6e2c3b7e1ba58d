#include "tools/not_built.h"

namespace bs::tools {

int RunGen(const Args& args) { return NotBuiltYet(args, "gen", "usage: bouncestream gen"); }

}  // namespace bs::tools
