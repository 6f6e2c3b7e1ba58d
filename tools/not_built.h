// Subcommands that are not built yet say so and exit 2 (they still answer --help).
#ifndef BOUNCESTREAM_TOOLS_NOT_BUILT_H_
#define BOUNCESTREAM_TOOLS_NOT_BUILT_H_

#include <cstdio>
#include <string_view>

#include "tools/subcommands.h"

namespace bs::tools {

inline int NotBuiltYet(const Args& args, std::string_view name, std::string_view help) {
  for (auto a : args) {
    if (a == "--help" || a == "-h") {
      std::printf("%.*s\n(not built yet)\n", static_cast<int>(help.size()), help.data());
      return 0;
    }
  }
  std::fprintf(stderr, "bouncestream %.*s: not built yet in this version\n", static_cast<int>(name.size()),
               name.data());
  return 2;
}

}  // namespace bs::tools

#endif  // BOUNCESTREAM_TOOLS_NOT_BUILT_H_
