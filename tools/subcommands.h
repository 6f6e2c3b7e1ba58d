// The subcommands of the `bouncestream` binary, one file each in tools/. Each takes the arguments after
// its name and returns the process exit code: 0 ok, 1 runtime error, 2 usage error.
#ifndef BOUNCESTREAM_TOOLS_SUBCOMMANDS_H_
#define BOUNCESTREAM_TOOLS_SUBCOMMANDS_H_

#include <string_view>
#include <vector>

namespace bs::tools {

using Args = std::vector<std::string_view>;

int RunReplay(const Args& args);
int RunClassify(const Args& args);
int RunRules(const Args& args);
int RunGen(const Args& args);
int RunRun(const Args& args);
int RunTail(const Args& args);
int RunConfig(const Args& args);
int RunHashAddress(const Args& args);

}  // namespace bs::tools

#endif  // BOUNCESTREAM_TOOLS_SUBCOMMANDS_H_
