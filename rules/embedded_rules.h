// The rule data files (rules/data/*.rules, providers.toml, VERSION) compiled into the binary, so that
// `bouncestream` classifies from any directory without a rules path. The definition is generated at build
// time from rules/data/ by rules/embed_rules.cmake (see the top-level CMakeLists.txt).
#ifndef BOUNCESTREAM_RULES_EMBEDDED_RULES_H_
#define BOUNCESTREAM_RULES_EMBEDDED_RULES_H_

#include <cstddef>
#include <string_view>

namespace bs {

struct EmbeddedFile {
  std::string_view name;     // base name, e.g. "gmail.rules"
  std::string_view content;
};

// The embedded files, sorted by name. Static storage; valid for the life of the process.
const EmbeddedFile* EmbeddedRuleFiles(size_t* count);

}  // namespace bs

#endif  // BOUNCESTREAM_RULES_EMBEDDED_RULES_H_
