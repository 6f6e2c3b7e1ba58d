// RuleSet loading (files or the embedded copy, overrides, validation, compilation) and classification.
#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "rules/embedded_rules.h"
#include "rules/rule_set_impl.h"

namespace bs {

// Debian's Abseil is built with its own string_view (ABSL_OPTION_USE_STD_STRING_VIEW 0): convert explicitly.
inline absl::string_view AV(std::string_view s) { return absl::string_view(s.data(), s.size()); }

ClassifyScratch::ClassifyScratch() : impl_(std::make_unique<Impl>()) {
  impl_->norm_buf.reserve(512);
  impl_->lower_buf.reserve(256);
  impl_->matches.reserve(64);
  impl_->detect_matches.reserve(16);
}
ClassifyScratch::~ClassifyScratch() = default;

std::string_view DetectedByName(DetectedBy d) {
  switch (d) {
    case DetectedBy::kNone: return "none";
    case DetectedBy::kMx: return "mx";
    case DetectedBy::kReply: return "reply";
    case DetectedBy::kRecipientDomain: return "recipient_domain";
  }
  return "none";
}

namespace {

constexpr std::string_view kUnknownRule = "unknown";
// RE2's DFA budget per set: large sets need more than the 8 MiB default before the DFA cache thrashes.
constexpr int64_t kSetMaxMem = 64 << 20;

struct SourceFile {
  std::string name;  // shown in messages: a path, or "<embedded>/x.rules"
  std::string base;  // base name
  std::string content;
};

absl::Status ReadDir(const std::string& dir, std::vector<SourceFile>* out) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return absl::NotFoundError(absl::StrCat(dir, ": not a directory"));
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    std::string base = it->path().filename().string();
    if (!(absl::EndsWith(base, ".rules") || base == "providers.toml" || base == "VERSION")) continue;
    std::ifstream in(it->path(), std::ios::binary);
    if (!in) return absl::NotFoundError(absl::StrCat(it->path().string(), ": cannot read"));
    std::ostringstream ss;
    ss << in.rdbuf();
    out->push_back({it->path().string(), base, ss.str()});
  }
  if (ec) return absl::InternalError(absl::StrCat(dir, ": ", ec.message()));
  std::sort(out->begin(), out->end(), [](const SourceFile& a, const SourceFile& b) { return a.base < b.base; });
  return absl::OkStatus();
}

void ReadEmbedded(std::vector<SourceFile>* out) {
  size_t n = 0;
  const EmbeddedFile* files = EmbeddedRuleFiles(&n);
  for (size_t i = 0; i < n; ++i) {
    out->push_back({absl::StrCat("<embedded>/", AV(files[i].name)), std::string(files[i].name),
                    std::string(files[i].content)});
  }
}

// One layer (the base directory or an override directory), parsed.
struct Layer {
  std::vector<Rule> rules;
  ProvidersFile providers;
  bool has_providers = false;
  std::string version;
};

void ParseLayer(const std::vector<SourceFile>& files, Layer* layer, std::vector<std::string>* errors) {
  for (const auto& f : files) {
    if (f.base == "VERSION") {
      layer->version = std::string(absl::StripAsciiWhitespace(f.content));
      if (layer->version.empty() || layer->version.find('\n') != std::string::npos) {
        errors->push_back(absl::StrCat(f.name, ":1: VERSION must be one non-empty line"));
      }
    } else if (f.base == "providers.toml") {
      ParseProvidersFile(f.name, f.content, &layer->providers, errors);
      layer->has_providers = true;
    } else {
      ParseRuleFile(f.name, f.content, &layer->rules, errors);
    }
  }
  // Duplicate ids inside one layer are mistakes (across layers they are overrides).
  absl::flat_hash_map<std::string, const Rule*> seen;
  for (const Rule& r : layer->rules) {
    auto [it, inserted] = seen.emplace(r.id, &r);
    if (!inserted) {
      errors->push_back(absl::StrCat(r.file, ":", r.line, ": duplicate rule id '", r.id, "' (first at ",
                                     it->second->file, ":", it->second->line, ")"));
    }
    if (r.id == kUnknownRule) {
      errors->push_back(absl::StrCat(r.file, ":", r.line, ": rule id 'unknown' is reserved"));
    }
  }
}

bool IsSpaceOrDot(char c) { return c == '.' || c == ' '; }

// `s` itself when it has no upper-case ASCII (the usual case: no copy), else a lower-cased copy in `buf`.
std::string_view LowerView(std::string_view s, std::string& buf) {
  bool upper = false;
  for (char c : s) upper |= (c >= 'A' && c <= 'Z');
  if (!upper) return s;
  buf.assign(s.data(), s.size());
  absl::AsciiStrToLower(&buf);
  return buf;
}

BounceType BounceFromClass(int cls) {
  return cls == 4 ? BounceType::kSoft : cls == 5 ? BounceType::kHard : BounceType::kNone;
}

int ReplyClass(const NormalizedReply& r, Outcome outcome) {
  if (r.code != 0) return r.code / 100;
  if (r.enhanced.present()) return r.enhanced.cls;
  switch (outcome) {
    case Outcome::kBounced:
    case Outcome::kRejected:
    case Outcome::kOutOfBand:
      return 5;
    case Outcome::kDeferred:
    case Outcome::kExpired:
      return 4;
    default:
      return 0;
  }
}

// A code pattern holds for the reply's basic code; a pure class pattern ("5xx") also for a reply with no
// basic code whose class (see Prepared::cls) matches.
bool CodeMatches(const CodePattern& c, uint16_t code, int cls) {
  if (code != 0) return c.Matches(code);
  return c.digits[1] == 'x' && c.digits[2] == 'x' && c.digits[0] - '0' == cls;
}

}  // namespace

absl::StatusOr<std::shared_ptr<const RuleSetImpl>> LoadRuleSet(const std::string& dir,
                                                              const std::vector<std::string>& override_dirs) {
  std::vector<std::string> errors;
  std::vector<SourceFile> base_files;
  if (dir.empty()) {
    ReadEmbedded(&base_files);
  } else {
    absl::Status st = ReadDir(dir, &base_files);
    if (!st.ok()) return st;
  }
  Layer base;
  ParseLayer(base_files, &base, &errors);
  if (base.version.empty() && std::none_of(base_files.begin(), base_files.end(),
                                           [](const SourceFile& f) { return f.base == "VERSION"; })) {
    errors.push_back(absl::StrCat(dir.empty() ? "<embedded>" : dir, "/VERSION:0: missing VERSION file"));
  }
  if (!base.has_providers) {
    errors.push_back(absl::StrCat(dir.empty() ? "<embedded>" : dir, "/providers.toml:0: missing providers.toml"));
  }

  auto rs = std::shared_ptr<RuleSetImpl>(new RuleSetImpl());
  std::vector<Rule> merged = std::move(base.rules);
  rs->providers_ = std::move(base.providers);
  rs->version_ = base.version;
  for (const auto& odir : override_dirs) {
    std::vector<SourceFile> files;
    absl::Status st = ReadDir(odir, &files);
    if (!st.ok()) return st;
    Layer layer;
    ParseLayer(files, &layer, &errors);
    absl::flat_hash_map<std::string, size_t> index;
    for (size_t i = 0; i < merged.size(); ++i) index[merged[i].id] = i;
    for (Rule& r : layer.rules) {
      auto it = index.find(r.id);
      if (it != index.end()) {
        merged[it->second] = std::move(r);  // same id: replaces in place (keeps its file-order slot)
      } else {
        merged.push_back(std::move(r));
      }
    }
    // Override providers are consulted first: they are meant to correct detection.
    if (layer.has_providers) {
      auto& p = rs->providers_;
      p.providers.insert(p.providers.begin(), layer.providers.providers.begin(), layer.providers.providers.end());
      p.local_prefixes.insert(p.local_prefixes.end(), layer.providers.local_prefixes.begin(),
                              layer.providers.local_prefixes.end());
    }
    rs->version_ = absl::StrCat(rs->version_, "+", layer.version.empty() ? "local" : layer.version);
  }
  if (!errors.empty()) return absl::InvalidArgumentError(absl::StrJoin(errors, "\n"));

  // Compile the rules.
  rs->rules_.reserve(merged.size());
  for (Rule& r : merged) {
    RuleSetImpl::CompiledRule cr;
    if (!r.text.empty()) {
      RE2::Options opts;
      opts.set_log_errors(false);
      cr.re = std::make_unique<RE2>(r.text, opts);
      if (!cr.re->ok()) {
        errors.push_back(absl::StrCat(r.file, ":", r.line, ": bad regex: ", cr.re->error()));
      }
    }
    cr.rule = std::move(r);
    if (cr.rule.id == "generic.delivered") rs->delivered_rule_ = static_cast<int>(rs->rules_.size());
    rs->rules_.push_back(std::move(cr));
  }
  for (const auto& cr : rs->rules_) {
    const Rule& r = cr.rule;
    RuleSetImpl::Check k;
    k.stage_mask = r.stage_mask;
    k.outcome_mask = r.outcome_mask;
    k.local = r.local;
    k.codes = static_cast<uint32_t>(rs->code_pool_.size());
    k.n_codes = static_cast<uint16_t>(r.codes.size());
    rs->code_pool_.insert(rs->code_pool_.end(), r.codes.begin(), r.codes.end());
    k.enhanced = static_cast<uint32_t>(rs->enhanced_pool_.size());
    k.n_enhanced = static_cast<uint16_t>(r.enhanced.size());
    rs->enhanced_pool_.insert(rs->enhanced_pool_.end(), r.enhanced.begin(), r.enhanced.end());
    if (r.codes.size() > 0xffff || r.enhanced.size() > 0xffff) {
      errors.push_back(absl::StrCat(r.file, ":", r.line, ": too many code patterns"));
    }
    rs->checks_.push_back(k);
  }
  // Provider detection tables.
  {
    RE2::Options opts;
    opts.set_log_errors(false);
    opts.set_max_mem(kSetMaxMem);
    auto set = std::make_unique<RE2::Set>(opts, RE2::UNANCHORED);
    const auto& entries = rs->providers_.providers;
    for (int e = 0; e < static_cast<int>(entries.size()); ++e) {
      for (const auto& s : entries[e].mx_suffixes) {
        auto& info = rs->mx_suffix_[s];
        if (info.entry < 0) info.entry = e;  // the first entry naming a suffix wins
        for (size_t dot = s.find('.'); dot != std::string::npos; dot = s.find('.', dot + 1)) {
          rs->mx_suffix_[s.substr(dot + 1)].extendable = true;
        }
      }
      for (const auto& d : entries[e].domains) rs->domain_.emplace(d, e);
      for (const auto& pat : entries[e].reply_patterns) {
        std::string err;
        if (set->Add(pat, &err) < 0) {
          errors.push_back(absl::StrCat(entries[e].file, ":", entries[e].line, ": bad regex: ", err));
          continue;
        }
        rs->reply_entry_.push_back(e);
      }
    }
    if (!rs->reply_entry_.empty()) {
      if (!set->Compile()) errors.push_back("providers.toml: reply_patterns RE2::Set compilation failed");
      rs->reply_set_ = std::move(set);
    }
    std::vector<std::pair<std::string, SuffixTable::Value>> suffixes;
    for (const auto& [suffix, info] : rs->mx_suffix_) suffixes.push_back({suffix, {info.entry, info.extendable}});
    rs->mx_table_.Build(suffixes);
  }
  // The one scan set: every text rule, then the reply identifiers (when they all compile: the same
  // patterns as reply_set_, so the lowest identifier index found is reply_set_'s answer).
  RE2::Options set_opts;
  set_opts.set_log_errors(false);
  set_opts.set_max_mem(kSetMaxMem);
  auto scan = std::make_unique<RE2::Set>(set_opts, RE2::UNANCHORED);
  std::vector<int32_t> scan_index(rs->rules_.size(), -1);  // rule index → scan_set_ index
  for (uint32_t i = 0; i < rs->rules_.size(); ++i) {
    const Rule& r = rs->rules_[i].rule;
    if (r.text.empty()) continue;
    std::string err;
    if (scan->Add(r.text, &err) < 0) {
      errors.push_back(absl::StrCat(r.file, ":", r.line, ": bad regex: ", err));
      continue;
    }
    scan_index[i] = rs->scan_rules_++;
  }
  {
    size_t n_ids = 0;
    bool ok = true;
    for (const auto& e : rs->providers_.providers) {
      for (const auto& pat : e.reply_patterns) {
        ok = ok && scan->Add(pat, nullptr) >= 0;
        ++n_ids;
      }
    }
    // A pattern that failed here failed reply_set_ too (reported above). Without all of them the
    // identifiers are looked up by DetectReply on its own (hits past scan_rules_ are ignored).
    rs->scan_has_ids_ = ok && n_ids > 0 && n_ids == rs->reply_entry_.size();
    if (rs->scan_rules_ > 0 || rs->scan_has_ids_) {
      if (!scan->Compile()) errors.push_back("rules: RE2::Set compilation failed (out of memory)");
      rs->scan_set_ = std::move(scan);
    }
    std::vector<std::string> patterns;
    for (uint32_t i = 0; i < rs->rules_.size(); ++i) {
      if (scan_index[i] >= 0) patterns.push_back(rs->rules_[i].rule.text);
    }
    if (rs->scan_has_ids_) {
      for (const auto& e : rs->providers_.providers) {
        patterns.insert(patterns.end(), e.reply_patterns.begin(), e.reply_patterns.end());
      }
    }
    // Outside ScanDfa's syntax (an override's Unicode class, say): RE2::Set alone, about half as fast.
    if (auto prog = ScanProgram::Compile(patterns); !prog.ok()) {
      rs->scanner_ = absl::StrCat("RE2::Set only: ", prog.status().message());
    } else if (rs->scan_set_ != nullptr) {
      rs->scanner_ = absl::StrCat("ScanDfa (", patterns.size(), " patterns, ", (*prog)->class_count() - 1,
                                  " byte classes)");
      rs->scan_program_ = *std::move(prog);
    }
  }
  for (int p = 0; p < kProviderCount; ++p) {
    auto& c = rs->candidates_[p];
    for (uint32_t i = 0; i < rs->rules_.size(); ++i) {
      const Rule& r = rs->rules_[i].rule;
      if (r.tier != RuleTier::kProvider || static_cast<int>(r.provider) == p) c.order.push_back(i);
    }
    std::stable_sort(c.order.begin(), c.order.end(), [&](uint32_t a, uint32_t b) {
      const Rule& ra = rs->rules_[a].rule;
      const Rule& rb = rs->rules_[b].rule;
      if (ra.priority != rb.priority) return ra.priority > rb.priority;
      if (ra.tier != rb.tier) return ra.tier > rb.tier;
      return a < b;
    });
    c.by_scan.assign(rs->scan_rules_, {});
    for (uint32_t pos = 0; pos < c.order.size(); ++pos) {
      const uint32_t i = c.order[pos];
      if (rs->rules_[i].rule.text.empty()) {
        c.textless_pos.push_back(pos);
        continue;
      }
      if (scan_index[i] < 0) continue;
      c.set_pos.push_back(pos);
      c.by_scan[scan_index[i]] = {static_cast<int32_t>(pos), rs->checks_[i]};
    }
  }

  if (!errors.empty()) return absl::InvalidArgumentError(absl::StrJoin(errors, "\n"));
  static std::atomic<uint64_t> next_id{1};
  rs->id_ = next_id.fetch_add(1, std::memory_order_relaxed);
  return std::shared_ptr<const RuleSetImpl>(std::move(rs));
}

absl::StatusOr<std::shared_ptr<const RuleSet>> RuleSet::Load(const Options& options) {
  std::vector<std::string> overrides;
  if (!options.override_dir.empty()) overrides.push_back(options.override_dir);
  auto rs = LoadRuleSet(options.dir, overrides);
  if (!rs.ok()) return rs.status();
  return std::shared_ptr<const RuleSet>(*std::move(rs));
}

// ---- classification ----

RuleSetImpl::Detection RuleSetImpl::DetectReply(std::string_view text, ClassifyScratch::Impl& s) const {
  Detection d;
  if (reply_set_ == nullptr || text.empty()) return d;
  s.detect_matches.clear();
  if (reply_set_->Match(text, &s.detect_matches) && !s.detect_matches.empty()) {
    int best = *std::min_element(s.detect_matches.begin(), s.detect_matches.end());
    d.entry = reply_entry_[best];
    d.provider = providers_.providers[d.entry].provider;
    d.by = DetectedBy::kReply;
  }
  return d;
}

RuleSetImpl::Detection RuleSetImpl::Detect(const ReplyInput& input, std::string_view text,
                                           ClassifyScratch::Impl& s, bool scan_reply, bool fast) const {
  Detection d;
  // 1. The MX host that answered, by suffix on label boundaries ("alt1.gmail-smtp-in.l.google.com").
  std::string_view mx = input.mx_host;
  while (!mx.empty() && IsSpaceOrDot(mx.back())) mx.remove_suffix(1);
  if (fast) {
    const int best = s.mx_memo.Get(id_, mx, [this](std::string_view host) { return mx_table_.Longest(host); });
    if (best >= 0) {
      d.entry = best;
      d.provider = providers_.providers[d.entry].provider;
      d.by = DetectedBy::kMx;
      return d;
    }
  } else if (!mx.empty() && !mx_suffix_.empty()) {
    std::string_view host = LowerView(mx, s.lower_buf);
    // Longest matching suffix on label boundaries, walking from the last label leftwards.
    size_t i = host.rfind('.');
    i = i == std::string_view::npos ? 0 : i + 1;
    int best = -1;
    for (;;) {
      auto it = mx_suffix_.find(AV(host.substr(i)));
      if (it == mx_suffix_.end()) break;
      if (it->second.entry >= 0) best = it->second.entry;
      if (!it->second.extendable || i == 0) break;
      size_t prev = i >= 2 ? host.rfind('.', i - 2) : std::string_view::npos;
      i = prev == std::string_view::npos ? 0 : prev + 1;
    }
    if (best >= 0) {
      d.entry = best;
      d.provider = providers_.providers[d.entry].provider;
      d.by = DetectedBy::kMx;
      return d;
    }
  }
  // 2. The reply's own identifiers ("- gsmtp", "[TSS04]", "(S3150)").
  if (scan_reply) {
    Detection r = DetectReply(text, s);
    if (r.by != DetectedBy::kNone) return r;
  }
  // 3. The recipient's domain (the weakest signal: a vanity domain can point anywhere).
  std::string_view dom = input.recipient_domain;
  while (!dom.empty() && IsSpaceOrDot(dom.back())) dom.remove_suffix(1);
  if (!dom.empty() && !domain_.empty()) {
    auto it = domain_.find(AV(LowerView(dom, s.lower_buf)));
    if (it != domain_.end()) {
      d.entry = it->second;
      d.provider = providers_.providers[d.entry].provider;
      d.by = DetectedBy::kRecipientDomain;
    }
  }
  return d;
}

RuleSetImpl::Prepared RuleSetImpl::Prepare(const ReplyInput& input, ClassifyScratch::Impl& s,
                                           bool scan_reply) const {
  Prepared p;
  p.reply = NormalizeReply(input.code, input.enhanced, input.text, s.norm_buf);
  p.cls = ReplyClass(p.reply, input.outcome);
  p.local = input.locally_generated;
  if (!p.local) {
    for (const auto& prefix : providers_.local_prefixes) {
      if (absl::StartsWithIgnoreCase(AV(p.reply.text), prefix)) {
        p.local = true;
        break;
      }
    }
  }
  // Our own MTA's replies say nothing about the remote provider's rules.
  if (!p.local) p.detection = Detect(input, p.reply.text, s, scan_reply, /*fast=*/!scan_reply);
  return p;
}

bool RuleSetImpl::Holds(const Rule& r, const Prepared& p, const ReplyInput& input) const {
  if (r.local != p.local) return false;
  if (r.stage_mask != 0 && (r.stage_mask & (1u << static_cast<int>(input.stage))) == 0) return false;
  if (r.outcome_mask != 0 && (r.outcome_mask & (1u << static_cast<int>(input.outcome))) == 0) return false;
  if (!r.codes.empty()) {
    bool any = false;
    for (const auto& c : r.codes) any = any || CodeMatches(c, p.reply.code, p.cls);
    if (!any) return false;
  }
  if (!r.enhanced.empty()) {
    bool any = false;
    for (const auto& e : r.enhanced) any = any || e.Matches(p.reply.enhanced);
    if (!any) return false;
  }
  return true;
}

bool RuleSetImpl::HoldsFast(const Check& k, const Prepared& p, const ReplyInput& input) const {
  if (k.local != p.local) return false;
  if (k.stage_mask != 0 && (k.stage_mask & (1u << static_cast<int>(input.stage))) == 0) return false;
  if (k.outcome_mask != 0 && (k.outcome_mask & (1u << static_cast<int>(input.outcome))) == 0) return false;
  if (k.n_codes != 0) {
    bool any = false;
    for (uint32_t i = k.codes; i < k.codes + k.n_codes && !any; ++i) {
      any = CodeMatches(code_pool_[i], p.reply.code, p.cls);
    }
    if (!any) return false;
  }
  if (k.n_enhanced != 0) {
    bool any = false;
    for (uint32_t i = k.enhanced; i < k.enhanced + k.n_enhanced && !any; ++i) {
      any = enhanced_pool_[i].Matches(p.reply.enhanced);
    }
    if (!any) return false;
  }
  return true;
}

int RuleSetImpl::Select(const Candidates& c, const Prepared& p, const ReplyInput& input,
                        const std::vector<int>* scan_hits, bool fast, std::vector<uint32_t>* matched) const {
  auto holds = [&](uint32_t pos) {
    const uint32_t index = c.order[pos];
    return fast ? HoldsFast(checks_[index], p, input) : Holds(rules_[index].rule, p, input);
  };
  constexpr int kNone = 1 << 30;
  int best = kNone;
  // Text regexes are not consulted for 2xx replies: acceptance texts carry no signal the code lacks.
  if (ScansText(p)) {
    // Classify: the candidates' positions among the hits, best first, until one holds. The checks'
    // data is mostly out of cache after a scan, so testing only the winner (usually the first) saves
    // a few misses per reply over testing every hit.
    constexpr size_t kMaxSorted = 64;
    const Candidates::ScanEntry* sorted[kMaxSorted];
    size_t n = 0;
    bool overflow = false;
    if (scan_hits != nullptr && matched == nullptr) {
      for (int idx : *scan_hits) {
        if (idx >= scan_rules_) continue;  // a reply identifier
        const Candidates::ScanEntry* e = &c.by_scan[idx];
        if (e->pos < 0) continue;  // another provider's rule
        if (n == kMaxSorted) {
          overflow = true;
          break;
        }
        const Candidates::ScanEntry** at = sorted + n++;  // insertion sort: a handful of hits
        while (at > sorted && at[-1]->pos > e->pos) {
          *at = at[-1];
          --at;
        }
        *at = e;
      }
      if (!overflow) {
        for (size_t k = 0; k < n; ++k) {
          if (fast ? HoldsFast(sorted[k]->check, p, input) : holds(static_cast<uint32_t>(sorted[k]->pos))) {
            best = sorted[k]->pos;
            break;
          }
        }
      }
    }
    if (scan_hits != nullptr && (matched != nullptr || overflow)) {
      for (int idx : *scan_hits) {
        if (idx >= scan_rules_) continue;  // a reply identifier
        const int pos = c.by_scan[idx].pos;
        if (pos < 0) continue;  // another provider's rule
        if (pos >= best && matched == nullptr) continue;
        if (!holds(pos)) continue;
        if (matched != nullptr) matched->push_back(pos);
        best = std::min(best, pos);
      }
    } else if (scan_hits == nullptr) {
      for (uint32_t pos : c.set_pos) {
        if (static_cast<int>(pos) >= best && matched == nullptr) break;
        if (!holds(pos)) continue;
        if (!RE2::PartialMatch(p.reply.text, *rules_[c.order[pos]].re)) continue;
        if (matched != nullptr) matched->push_back(pos);
        best = std::min(best, static_cast<int>(pos));
      }
    }
  }
  for (uint32_t pos : c.textless_pos) {
    if (static_cast<int>(pos) >= best && matched == nullptr) break;
    if (!holds(pos)) continue;
    if (matched != nullptr) matched->push_back(pos);
    best = std::min(best, static_cast<int>(pos));
  }
  return best == kNone ? -1 : best;
}

Classification RuleSetImpl::Finish(const Prepared& p, int rule_index) const {
  Classification out;
  out.provider = p.detection.provider;
  out.code = p.reply.code;
  out.enhanced = p.reply.enhanced;
  if (rule_index < 0) {
    out.rule = kUnknownRule;
    out.category = Category::kUnknown;
    out.action = Action::kNone;
    out.scope = Scope::kNone;
    out.bounce_type = BounceFromClass(p.cls);
    return out;
  }
  const Rule& r = rules_[rule_index].rule;
  out.rule = r.id;
  out.category = r.category;
  out.action = r.action;
  out.scope = r.scope;
  out.bounce_type = r.bounce_from_code ? BounceFromClass(p.cls) : r.bounce_type;
  out.blocklist = r.blocklist;
  return out;
}

Classification RuleSetImpl::Run(const ReplyInput& input, ClassifyScratch& scratch, bool use_set,
                                Explanation* explain) const {
  ClassifyScratch::Impl& s = scratch.impl();
  // Fast path: accepted mail (most of the traffic) needs neither normalisation nor a scan.
  if (delivered_rule_ >= 0 && input.outcome == Outcome::kDelivered &&
      (input.code == 250 || (input.code == 0 && input.text.empty())) && !input.locally_generated) {
    Prepared p;
    p.reply.code = input.code;
    p.reply.enhanced = input.enhanced;
    p.cls = 2;
    p.detection = Detect(input, {}, s, /*scan_reply=*/false, /*fast=*/use_set);
    if (explain != nullptr) {
      explain->normalized_text = std::string(input.text);
      explain->matched_set = "fast_path";
      explain->detected_by = p.detection.by;
      if (p.detection.entry >= 0) explain->provider_variant = providers_.providers[p.detection.entry].variant;
    }
    return Finish(p, delivered_rule_);
  }
  // With the scan set, reply identifiers are found by the rule scan itself when the MX host did not
  // name the provider: one scan for most replies, and the same hits serve whichever provider is then
  // detected. The per-regex reference detects first, as the definition says (MX, reply identifiers,
  // recipient domain).
  Prepared p = Prepare(input, s, /*scan_reply=*/!use_set);
  std::vector<uint32_t> matched;
  std::vector<uint32_t>* mp = explain != nullptr ? &matched : nullptr;
  const std::vector<int>* hits = nullptr;  // null: each candidate's own regex
  if (use_set && ScansText(p) && scan_set_ != nullptr) {
    s.matches.clear();
    RE2::Set::ErrorInfo info;
    if (scan_program_ != nullptr && s.dfa.Scan(*scan_program_, p.reply.text, &s.matches)) {
      hits = &s.matches;
    } else if (scan_set_->Match(p.reply.text, &s.matches, &info) || info.kind == RE2::Set::kNoError) {
      hits = &s.matches;  // (a clean "no match" leaves it empty)
    } else {
      // Out of memory in the DFA (or similar): not "no match". Count it and answer with the per-regex
      // loop, which is slower but right.
      set_failures_.fetch_add(1, std::memory_order_relaxed);
    }
  }
  if (use_set && !p.local && p.detection.by != DetectedBy::kMx && reply_set_ != nullptr &&
      !p.reply.text.empty()) {
    Detection r;
    if (hits != nullptr && scan_has_ids_) {
      int id = -1;
      for (int idx : *hits) {
        const int k = idx - scan_rules_;
        if (k >= 0 && (id < 0 || k < id)) id = k;
      }
      if (id >= 0) {
        r.entry = reply_entry_[id];
        r.provider = providers_.providers[r.entry].provider;
        r.by = DetectedBy::kReply;
      }
    } else {
      r = DetectReply(p.reply.text, s);  // 2xx (not scanned), a failed scan, or no identifiers in the set
    }
    if (r.by != DetectedBy::kNone) p.detection = r;
  }
  const Candidates* c = &candidates_[static_cast<int>(p.detection.provider)];
  const int pos = Select(*c, p, input, hits, use_set, mp);
  const Candidates& cand = *c;
  int rule_index = pos < 0 ? -1 : static_cast<int>(cand.order[pos]);
  Classification out = Finish(p, rule_index);
  if (explain != nullptr) {
    explain->normalized_text = std::string(p.reply.text);
    explain->local = p.local;
    explain->detected_by = p.detection.by;
    if (p.detection.entry >= 0) explain->provider_variant = providers_.providers[p.detection.entry].variant;
    if (rule_index < 0) {
      explain->matched_set = "none";
    } else {
      const auto& cr = rules_[rule_index];
      explain->matched_set = cr.rule.tier == RuleTier::kProvider ? std::string(ProviderName(cr.rule.provider))
                                                                 : std::string(RuleTierName(cr.rule.tier));
      explain->description = cr.rule.description;
      if (cr.re != nullptr) {
        re2::StringPiece m;
        if (cr.re->Match(p.reply.text, 0, p.reply.text.size(), RE2::UNANCHORED, &m, 1)) {
          explain->on_text = std::string(m.data(), m.size());
        }
      }
      std::sort(matched.begin(), matched.end());
      for (uint32_t m : matched) {
        if (static_cast<int>(m) != pos) explain->also_matched.push_back(rules_[cand.order[m]].rule.id);
      }
    }
  }
  return out;
}

Classification RuleSetImpl::Classify(const ReplyInput& input, ClassifyScratch& scratch) const {
  return Run(input, scratch, /*use_set=*/true, nullptr);
}

Classification RuleSetImpl::ClassifyReference(const ReplyInput& input, ClassifyScratch& scratch) const {
  return Run(input, scratch, /*use_set=*/false, nullptr);
}

Explanation RuleSetImpl::Explain(const ReplyInput& input, ClassifyScratch& scratch) const {
  Explanation e;
  e.result = Run(input, scratch, /*use_set=*/true, &e);
  return e;
}

}  // namespace bs
