// RuleSet: the compiled, immutable classifier. Load() reads and validates the rule files (file:line
// errors), compiles every text regex and reply identifier into one scan program (ScanProgram, with an
// RE2::Set of the same patterns beside it), and returns a snapshot that any number of workers share
// read-only. Classify() is the hot path: no allocation once the caller's
// ClassifyScratch has warmed up, no locks, no exceptions.
//
// Order of use: Load → (share the shared_ptr) → Classify from any thread, each with its own scratch.
// Hot reload builds a new snapshot with Load and swaps the shared_ptr (see registry.h); a snapshot is
// never mutated.
#ifndef BOUNCESTREAM_RULES_RULE_SET_H_
#define BOUNCESTREAM_RULES_RULE_SET_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "parsers/delivery_event.h"
#include "rules/classification.h"

namespace bs {

// What classification reads from an event.
struct ReplyInput {
  Outcome outcome = Outcome::kBounced;
  uint16_t code = 0;
  EnhancedCode enhanced;
  std::string_view text;
  std::string_view mx_host;
  std::string_view recipient_domain;
  SmtpStage stage = SmtpStage::kUnknown;
  bool locally_generated = false;

  static ReplyInput FromEvent(const DeliveryEvent& e) {
    return {e.outcome, e.reply.code, e.reply.enhanced, e.reply.text, e.mx_host, e.recipient_domain, e.stage,
            e.locally_generated};
  }
};

// Per-worker scratch reused across calls (normalised text, hit vectors, the worker's ScanDfa states and
// MX memo). Not thread-safe.
class ClassifyScratch {
 public:
  ClassifyScratch();
  ~ClassifyScratch();
  ClassifyScratch(const ClassifyScratch&) = delete;
  ClassifyScratch& operator=(const ClassifyScratch&) = delete;

  struct Impl;
  Impl& impl() { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

class RuleSet {
 public:
  struct Options {
    // Directory of *.rules files and providers.toml; empty = the rule files embedded in the binary.
    std::string dir;
    // Optional local overrides: same rule id replaces, new ids add.
    std::string override_dir;
  };

  static absl::StatusOr<std::shared_ptr<const RuleSet>> Load(const Options& options);

  virtual ~RuleSet() = default;

  // Never fails: a reply no rule matches is Category::kUnknown with rule "unknown".
  virtual Classification Classify(const ReplyInput& input, ClassifyScratch& scratch) const = 0;

  // The rule-set version written on every output ("2026.11.30-1").
  virtual std::string_view version() const = 0;
};

}  // namespace bs

#endif  // BOUNCESTREAM_RULES_RULE_SET_H_
