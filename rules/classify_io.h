// Text formats around classification, shared by `bouncestream classify`, `rules check` and the golden
// tests: reading one reply line (raw or JSON), reading golden cases, and writing a Classification (and
// its explanation) as JSON. Not on the pipeline's hot path.
#ifndef BOUNCESTREAM_RULES_CLASSIFY_IO_H_
#define BOUNCESTREAM_RULES_CLASSIFY_IO_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rules/rule_set.h"
#include "rules/rule_set_impl.h"
#include "simdjson.h"

namespace bs {

// One input line (owning its strings, so it can be stored and moved).
struct ReplyLine {
  std::string reply, mx, recipient_domain;
  Outcome outcome = Outcome::kBounced;
  SmtpStage stage = SmtpStage::kUnknown;
  bool local = false;
  int line = 0;  // set by callers that track it
  // Golden-case expectations (empty when the line does not give them).
  std::string expect_category, expect_action, expect_rule, expect_scope, expect_provider, expect_blocklist;
  // Near-miss negatives: the reply must NOT get this category / rule.
  std::string expect_not_category, expect_not_rule;

  // Views into this object: valid while it is alive and unmodified.
  ReplyInput Input() const;
};

class ReplyLineReader {
 public:
  // Parses a raw reply or a JSON object {"reply", "mx", "recipient", "outcome", "stage", "local", and
  // for golden cases "category", "action", "rule", "scope", "provider", "blocklist"}. Returns false for
  // blank lines and '#' comments (error empty) and bad lines (error set).
  bool Parse(std::string_view line, ReplyLine* out, std::string* error);

 private:
  simdjson::ondemand::parser parser_;
  simdjson::padded_string buf_;
};

// Golden cases: rules/data/<name>.golden.jsonl, one case per line (see README.md). Checks every case
// in every *.golden.jsonl of `dir` against `rules`; appends "file:line: message" for each failure.
// Returns the number of cases run, or -1 when `dir` cannot be read (message in failures).
int RunGoldenCases(const RuleSetImpl& rules, const std::string& dir, std::vector<std::string>* failures);

// Appends {"provider",…,"ruleset_version"[,"explain":{…}]} (no newline).
void WriteClassificationJson(const Classification& c, std::string_view ruleset_version,
                             const Explanation* explain, std::string& out);

}  // namespace bs

#endif  // BOUNCESTREAM_RULES_CLASSIFY_IO_H_
