// RuleSetImpl: the compiled snapshot behind RuleSet (rule_set.h). Exposed for the tools that need more
// than Classify: `classify --explain`, `rules check`, the benchmark's reference implementation, and the
// registry's layered loads. Everything here is immutable after LoadRuleSet returns.
//
// Compiled form: for each provider P, the candidate rules are P's own rules plus the blocklists and
// generic rules, sorted once by precedence (priority desc, then tier provider > blocklists > generic,
// then file order). The text regexes of ALL rules, followed by the providers' reply identifiers, form
// ONE scan for the whole snapshot (ScanProgram, run by each worker's ScanDfa; the same patterns in one
// RE2::Set for the texts ScanDfa leaves), so a reply is scanned once whatever its provider (and however
// its provider is detected); each provider maps a pattern index to its precedence position (or "not mine").
// code/enhanced/stage/outcome constraints are checked only on the rules whose text matched (plus the
// text-less ones that precede the best match). One set rather than one per provider: the DFA's states
// for the shared generic and blocklist texts are built and kept in cache once, not once per provider
// (the scan is bound by cache misses on DFA states; see README "Speed").
#ifndef BOUNCESTREAM_RULES_RULE_SET_IMPL_H_
#define BOUNCESTREAM_RULES_RULE_SET_IMPL_H_

#include <atomic>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "parsers/smtp_reply.h"
#include "re2/re2.h"
#include "re2/set.h"
#include "rules/rule.h"
#include "rules/rule_file.h"
#include "rules/mx_memo.h"
#include "rules/rule_set.h"
#include "rules/scan_dfa.h"
#include "rules/scan_program.h"
#include "rules/suffix_table.h"

namespace bs {

struct ClassifyScratch::Impl {
  std::string norm_buf;
  std::string lower_buf;
  std::vector<int> matches;
  std::vector<int> detect_matches;
  ScanDfa dfa;  // this worker's DFA states for the snapshot's scan_program_
  MxMemo mx_memo;  // recent MX hosts → provider entry, for the snapshot with id mx_memo's owner
};

enum class DetectedBy : uint8_t { kNone, kMx, kReply, kRecipientDomain };
std::string_view DetectedByName(DetectedBy d);

// Everything `classify --explain` prints, computed by the same code path as Classify.
struct Explanation {
  Classification result;
  std::string normalized_text;
  bool local = false;         // treated as our own MTA's reply
  std::string matched_set;    // "gmail", "blocklists", "generic", "fast_path", "none"
  std::string on_text;        // the substring the winning regex matched ("" for code-only rules)
  std::vector<std::string> also_matched;  // lower-precedence rules that matched too, best first
  DetectedBy detected_by = DetectedBy::kNone;
  std::string provider_variant;  // e.g. "outlook.com" vs "microsoft365" for microsoft
  std::string description;       // the winning rule's description
};

class RuleSetImpl : public RuleSet {
 public:
  struct CompiledRule {
    Rule rule;
    std::unique_ptr<RE2> re;  // the text regex alone (explain, reference, fallback); null if text-less
  };

  Classification Classify(const ReplyInput& input, ClassifyScratch& scratch) const override;
  std::string_view version() const override { return version_; }

  // Same answer as Classify, with the reasons.
  Explanation Explain(const ReplyInput& input, ClassifyScratch& scratch) const;

  // Same precedence logic, but every regex run on its own instead of the RE2::Set (the benchmark's and
  // tests' reference; also the fallback when a Set scan fails).
  Classification ClassifyReference(const ReplyInput& input, ClassifyScratch& scratch) const;

  const std::vector<CompiledRule>& rules() const { return rules_; }
  const ProvidersFile& providers() const { return providers_; }
  // Which scanner Classify uses: "ScanDfa (N patterns, C byte classes)", or why RE2::Set alone
  // ("RE2::Set only: pattern 12 (…): escape \p at offset 4"). `rules check` prints it.
  const std::string& scanner() const { return scanner_; }
  // Set scans that failed (DFA out of memory) and were answered by the per-regex fallback.
  uint64_t set_scan_failures() const { return set_failures_.load(std::memory_order_relaxed); }

 private:
  friend absl::StatusOr<std::shared_ptr<const RuleSetImpl>> LoadRuleSet(const std::string&,
                                                                        const std::vector<std::string>&);
  // Each rule's constraints, packed (rules_ order): Holds() on a Rule touches several cache lines per
  // rule scattered over the heap; the hot path checks a few hits per reply and reads these instead.
  struct Check {
    uint32_t stage_mask = 0;
    uint32_t outcome_mask = 0;
    uint32_t codes = 0;  // first index in code_pool_
    uint32_t enhanced = 0;  // first index in enhanced_pool_
    uint16_t n_codes = 0;
    uint16_t n_enhanced = 0;
    bool local = false;
  };
  struct Candidates {
    std::vector<uint32_t> order;         // rule indices in precedence order
    std::vector<uint32_t> set_pos;       // positions (ascending) of the text rules, for the per-regex loop
    std::vector<uint32_t> textless_pos;  // positions (ascending) of the code-only rules
    // scan_set_ rule index → position in `order` (-1: not a candidate) and a copy of that rule's checks,
    // so that a hit costs one cache line (this table is cold after a scan).
    struct alignas(32) ScanEntry {  // never straddles two cache lines
      int32_t pos = -1;
      Check check;
    };
    std::vector<ScanEntry> by_scan;
  };
  struct Detection {
    Provider provider = Provider::kOther;
    DetectedBy by = DetectedBy::kNone;
    int entry = -1;  // index into providers_.providers
  };
  // The state shared by Classify / Explain / ClassifyReference after the cheap steps.
  struct Prepared {
    NormalizedReply reply;
    // The reply's class (2, 4, 5; 0 unknown): the basic code's, else the enhanced code's, else the
    // outcome's (bounced/rejected → 5, deferred/expired → 4). Class patterns ("5xx") match it when the
    // reply has no basic code: sources such as DSNs often give only "5.1.1" or only text.
    int cls = 0;
    bool local = false;
    Detection detection;
  };

  // `scan_reply`: also run the reply-identifier set (otherwise Run finds identifiers in its rule scan).
  Prepared Prepare(const ReplyInput& input, ClassifyScratch::Impl& s, bool scan_reply) const;
  // Whether the rules' text regexes are consulted for this reply (2xx replies never are).
  static bool ScansText(const Prepared& p) { return !p.reply.text.empty() && p.cls != 2; }
  // `fast`: the MX host is looked up in mx_table_ (Classify) rather than by the map walk (reference).
  Detection Detect(const ReplyInput& input, std::string_view text, ClassifyScratch::Impl& s, bool scan_reply,
                   bool fast) const;
  Detection DetectReply(std::string_view text, ClassifyScratch::Impl& s) const;
  bool Holds(const Rule& r, const Prepared& p, const ReplyInput& input) const;
  // The same test on the compact copy of a rule's constraints (checks_), for the hot path.
  bool HoldsFast(const Check& k, const Prepared& p, const ReplyInput& input) const;
  // Position in candidates.order of the winner, or -1. `scan_hits`: the scan_set_ indices that matched
  // the text; null = run each candidate's own regex instead (the reference, or a failed scan).
  // `matched_positions`, when given, receives every position whose rule matched (for explain).
  // `fast`: constraints are read from checks_ (Classify) rather than from the rules (reference).
  int Select(const Candidates& c, const Prepared& p, const ReplyInput& input, const std::vector<int>* scan_hits,
             bool fast, std::vector<uint32_t>* matched_positions) const;
  Classification Finish(const Prepared& p, int rule_index) const;
  Classification Run(const ReplyInput& input, ClassifyScratch& scratch, bool use_set,
                     Explanation* explain) const;

  std::string version_;
  uint64_t id_ = 0;  // unique per snapshot in this process (workers' memos are tied to it)
  std::vector<CompiledRule> rules_;
  std::vector<Check> checks_;  // rules_ order
  std::vector<CodePattern> code_pool_;
  std::vector<EnhancedPattern> enhanced_pool_;
  Candidates candidates_[kProviderCount];
  // Every text rule's regex (indices 0..scan_rules_-1, in rules_ order), then, when scan_has_ids_, every
  // provider's reply identifiers in providers.toml order (same order as reply_set_).
  std::unique_ptr<RE2::Set> scan_set_;
  int scan_rules_ = 0;
  bool scan_has_ids_ = false;
  // The same patterns, in the same order, for ScanDfa (null when one is outside its syntax: then every
  // scan is scan_set_'s). Texts ScanDfa does not answer (non-ASCII bytes) go to scan_set_.
  std::unique_ptr<const ScanProgram> scan_program_;
  std::string scanner_;
  int delivered_rule_ = -1;  // "generic.delivered": the fast path for accepted mail

  ProvidersFile providers_;
  // MX suffix → provider entry (-1 for a suffix only present because a longer one extends it), and
  // whether a longer suffix exists: the lookup walks from the last label leftwards and stops as soon as
  // no longer suffix can match (usually after 1–2 lookups).
  struct SuffixInfo {
    int entry = -1;
    bool extendable = false;
  };
  absl::flat_hash_map<std::string, SuffixInfo> mx_suffix_;  // the reference walk's table
  SuffixTable mx_table_;                                     // the same suffixes, for Classify
  absl::flat_hash_map<std::string, int> domain_;     // recipient domain → provider entry
  std::unique_ptr<RE2::Set> reply_set_;
  std::vector<int> reply_entry_;  // reply_set_ index → provider entry

  mutable std::atomic<uint64_t> set_failures_{0};
};

// Loads `dir` (empty: the files embedded in the binary), then each override directory in turn (same id
// replaces, new ids add). Errors list every problem as "file:line: message", one per line.
absl::StatusOr<std::shared_ptr<const RuleSetImpl>> LoadRuleSet(const std::string& dir,
                                                              const std::vector<std::string>& override_dirs);

// The snapshot's concrete type (every RuleSet from Load is one).
inline const RuleSetImpl& Impl(const RuleSet& rs) { return static_cast<const RuleSetImpl&>(rs); }

}  // namespace bs

#endif  // BOUNCESTREAM_RULES_RULE_SET_IMPL_H_
