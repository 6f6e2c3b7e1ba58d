// A small command-line flag reader for the subcommands (the only place flags are parsed; library code
// takes option structs). Accepts `--name value`, `--name=value` and boolean `--name`.
#ifndef BOUNCESTREAM_TOOLS_FLAGS_H_
#define BOUNCESTREAM_TOOLS_FLAGS_H_

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "tools/subcommands.h"

namespace bs::tools {

class Flags {
 public:
  // `with_value` names the flags that take a value; `booleans` those that do not. Anything else that
  // starts with "--" is a usage error; other arguments are positional.
  absl::Status Parse(const Args& args, const std::set<std::string>& with_value,
                     const std::set<std::string>& booleans);

  bool Has(const std::string& name) const { return values_.count(name) > 0; }
  std::string Get(const std::string& name, const std::string& fallback = "") const;
  // All values of a repeatable flag, in order.
  std::vector<std::string> GetAll(const std::string& name) const;
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  std::multimap<std::string, std::string> values_;
  std::vector<std::string> positional_;
};

// Prints "bouncestream SUBCOMMAND: message" and the usage hint to stderr; returns 2.
int UsageError(std::string_view subcommand, std::string_view message);
inline int UsageError(std::string_view subcommand, const absl::Status& s) {
  return UsageError(subcommand, std::string_view(s.message().data(), s.message().size()));
}

}  // namespace bs::tools

#endif  // BOUNCESTREAM_TOOLS_FLAGS_H_
