#include "tools/not_built.h"

namespace bs::tools {

int RunTail(const Args& args) { return NotBuiltYet(args, "tail", "usage: bouncestream tail --brokers B [--topic alerts] [--json]"); }

}  // namespace bs::tools
