// Rule: one entry of a rule file, parsed and validated but not yet compiled (see README.md for the file
// format). Rules are built at load time only; the hot path reads the compiled form in rule_set_impl.h.
#ifndef BOUNCESTREAM_RULES_RULE_H_
#define BOUNCESTREAM_RULES_RULE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "parsers/delivery_event.h"
#include "rules/classification.h"

namespace bs {

// Which kind of file a rule came from. Higher tiers win priority ties (provider > blocklists > generic).
enum class RuleTier : uint8_t { kGeneric = 0, kBlocklists = 1, kProvider = 2 };
std::string_view RuleTierName(RuleTier t);

// A basic-code pattern such as "421", "45x", "5xx": each position a digit or a wildcard.
struct CodePattern {
  char digits[3] = {'x', 'x', 'x'};

  bool Matches(uint16_t code) const {
    if (code < 100 || code > 999) return false;
    const char d[3] = {static_cast<char>('0' + code / 100), static_cast<char>('0' + code / 10 % 10),
                       static_cast<char>('0' + code % 10)};
    for (int i = 0; i < 3; ++i) {
      if (digits[i] != 'x' && digits[i] != d[i]) return false;
    }
    return true;
  }
};

// An enhanced-code pattern such as "5.7.26", "5.1.*", "4.*.*": -1 is "any number".
struct EnhancedPattern {
  int cls = -1;
  int subject = -1;
  int detail = -1;

  bool Matches(const EnhancedCode& e) const {
    if (!e.present()) return false;
    return (cls < 0 || cls == e.cls) && (subject < 0 || subject == e.subject) &&
           (detail < 0 || detail == e.detail);
  }
};

struct Rule {
  std::string id;
  std::string file;  // for messages: the file it was read from
  int line = 0;      // line of its [[rule]] header
  RuleTier tier = RuleTier::kGeneric;
  Provider provider = Provider::kOther;  // for tier kProvider: whose replies it reads
  int priority = 0;

  // Constraints; an empty list / zero mask means "any".
  std::vector<CodePattern> codes;
  std::vector<EnhancedPattern> enhanced;
  uint32_t stage_mask = 0;    // bit per SmtpStage
  uint32_t outcome_mask = 0;  // bit per Outcome
  std::string text;           // RE2 over the normalised text; empty = code-only rule
  bool local = false;         // matches only replies our own MTA generated (and only those match it)

  // Result.
  Category category = Category::kUnknown;
  Action action = Action::kNone;
  Scope scope = Scope::kNone;
  BounceType bounce_type = BounceType::kNone;
  bool bounce_from_code = false;  // bounce_type left out: 4xx soft, 5xx hard, otherwise none
  std::string blocklist;
  std::string description;
};

}  // namespace bs

#endif  // BOUNCESTREAM_RULES_RULE_H_
