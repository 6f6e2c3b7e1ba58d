// Reading the rule data files (TOML): *.rules (one rule set each) and providers.toml (provider
// detection). Every problem is reported as "file:line: message" and parsing continues, so one run of
// `bouncestream rules check` lists all of them. The format is described in rules/README.md.
#ifndef BOUNCESTREAM_RULES_RULE_FILE_H_
#define BOUNCESTREAM_RULES_RULE_FILE_H_

#include <string>
#include <string_view>
#include <vector>

#include "rules/classification.h"
#include "rules/rule.h"

namespace bs {

// One [[provider]] entry of providers.toml. Several entries may name the same provider with different
// variants (microsoft: "outlook.com" consumer vs "microsoft365" tenants).
struct ProviderEntry {
  Provider provider = Provider::kOther;
  std::string variant;
  std::vector<std::string> mx_suffixes;     // lower-case host suffixes, matched on label boundaries
  std::vector<std::string> reply_patterns;  // RE2 over the normalised reply text
  std::vector<std::string> domains;         // recipient domains (exact, lower-case)
  std::string file;
  int line = 0;
};

struct ProvidersFile {
  std::vector<ProviderEntry> providers;
  // Prefixes of the normalised text that mark a reply our own MTA generated ("KumoMTA internal"), for
  // inputs that do not carry the locally_generated flag (raw lines given to `classify`).
  std::vector<std::string> local_prefixes;
};

// Parses one *.rules file; appends its rules (in file order) to `rules` and problems to `errors`.
void ParseRuleFile(std::string_view file_name, std::string_view content, std::vector<Rule>* rules,
                   std::vector<std::string>* errors);

// Parses providers.toml; appends to `out` and `errors`.
void ParseProvidersFile(std::string_view file_name, std::string_view content, ProvidersFile* out,
                        std::vector<std::string>* errors);

// Checks that don't depend on the file syntax (also applied to rules built in code, e.g. by tests):
// the never-suppress-when-refused invariant and local-rule restrictions. Returns "" when valid.
std::string ValidateRuleSemantics(const Rule& rule);

}  // namespace bs

#endif  // BOUNCESTREAM_RULES_RULE_FILE_H_
