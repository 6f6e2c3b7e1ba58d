// Rule-file and providers.toml reading with toml++ (used header-only without exceptions in this one file:
// Debian's compiled libtomlplusplus is built with exceptions, and the project builds without using them).
#include "rules/rule_file.h"

#undef TOML_HEADER_ONLY
#undef TOML_SHARED_LIB
#define TOML_HEADER_ONLY 1
#define TOML_EXCEPTIONS 0
#include <toml++/toml.h>

#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "re2/re2.h"

namespace bs {

// Debian's Abseil is built with its own string_view (ABSL_OPTION_USE_STD_STRING_VIEW 0): convert explicitly.
inline absl::string_view AV(std::string_view s) { return absl::string_view(s.data(), s.size()); }

std::string_view RuleTierName(RuleTier t) {
  switch (t) {
    case RuleTier::kGeneric: return "generic";
    case RuleTier::kBlocklists: return "blocklists";
    case RuleTier::kProvider: return "provider";
  }
  return "generic";
}

namespace {

constexpr SmtpStage kStages[] = {SmtpStage::kConnect, SmtpStage::kHelo, SmtpStage::kMail, SmtpStage::kRcpt,
                                 SmtpStage::kData};
constexpr Outcome kOutcomes[] = {Outcome::kDelivered, Outcome::kDeferred, Outcome::kBounced,
                                 Outcome::kExpired,   Outcome::kRejected, Outcome::kOutOfBand,
                                 Outcome::kComplaint};

class Reporter {
 public:
  Reporter(std::string_view file, std::vector<std::string>* errors) : file_(file), errors_(errors) {}
  void Error(const toml::node& at, std::string_view msg) { Error(at.source().begin.line, msg); }
  void Error(uint32_t line, std::string_view msg) {
    errors_->push_back(absl::StrCat(file_, ":", line, ": ", AV(msg)));
  }
  const std::string& file() const { return file_; }

 private:
  std::string file_;
  std::vector<std::string>* errors_;
};

std::optional<std::string> GetString(Reporter& r, const toml::node& n, std::string_view key) {
  if (const auto* s = n.as_string()) return s->get();
  r.Error(n, absl::StrCat("'", AV(key), "' must be a string"));
  return std::nullopt;
}

// A string or an array of strings (a single string is accepted as a one-element list).
std::optional<std::vector<std::string>> GetStringList(Reporter& r, const toml::node& n, std::string_view key) {
  std::vector<std::string> out;
  if (const auto* s = n.as_string()) {
    out.push_back(s->get());
    return out;
  }
  const auto* arr = n.as_array();
  if (arr == nullptr) {
    r.Error(n, absl::StrCat("'", AV(key), "' must be an array of strings"));
    return std::nullopt;
  }
  for (const auto& el : *arr) {
    if (const auto* s = el.as_string()) {
      out.push_back(s->get());
    } else if (const auto* i = el.as_integer(); i != nullptr && key == "codes") {
      out.push_back(std::to_string(i->get()));  // codes = [550] is accepted as "550"
    } else {
      r.Error(el, absl::StrCat("'", AV(key), "' must contain only strings"));
      return std::nullopt;
    }
  }
  return out;
}

bool ParseCodePattern(std::string_view s, CodePattern* out) {
  if (s.size() != 3) return false;
  if (!(s[0] >= '2' && s[0] <= '5')) return false;
  for (int i = 0; i < 3; ++i) {
    char c = absl::ascii_tolower(s[i]);
    if (!(c == 'x' || (c >= '0' && c <= '9'))) return false;
    out->digits[i] = c;
  }
  return true;
}

bool ParseEnhancedPart(std::string_view s, int max_digits, int* out) {
  if (s == "*" || s == "x" || s == "X") {
    *out = -1;
    return true;
  }
  if (s.empty() || static_cast<int>(s.size()) > max_digits) return false;
  int v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

bool ParseEnhancedPattern(std::string_view s, EnhancedPattern* out) {
  size_t a = s.find('.');
  if (a == std::string_view::npos) return false;
  size_t b = s.find('.', a + 1);
  if (b == std::string_view::npos || s.find('.', b + 1) != std::string_view::npos) return false;
  std::string_view cls = s.substr(0, a);
  if (!(cls == "2" || cls == "4" || cls == "5")) return false;
  out->cls = cls[0] - '0';
  return ParseEnhancedPart(s.substr(a + 1, b - a - 1), 3, &out->subject) &&
         ParseEnhancedPart(s.substr(b + 1), 3, &out->detail);
}

void ParseRule(Reporter& r, const toml::table& t, RuleTier tier, Provider provider, int default_priority,
               std::vector<Rule>* rules) {
  Rule rule;
  rule.file = r.file();
  rule.line = static_cast<int>(t.source().begin.line);
  rule.tier = tier;
  rule.provider = provider;
  rule.priority = default_priority;
  bool ok = true;
  bool has_category = false, has_action = false, has_scope = false, has_bounce = false;
  for (const auto& [key, node] : t) {
    std::string_view k = key.str();
    auto fail = [&](std::string_view msg) {
      r.Error(node, msg);
      ok = false;
    };
    if (k == "id") {
      auto s = GetString(r, node, k);
      if (!s) { ok = false; continue; }
      rule.id = *s;
      if (rule.id.empty()) fail("'id' must not be empty");
      for (char c : rule.id) {
        if (!(absl::ascii_isalnum(c) || c == '.' || c == '_' || c == '-')) {
          fail(absl::StrCat("id '", rule.id, "': only letters, digits, '.', '_' and '-' are allowed"));
          break;
        }
      }
    } else if (k == "priority") {
      const auto* i = node.as_integer();
      if (i == nullptr || i->get() < 0 || i->get() > 1000000) {
        fail("'priority' must be an integer in [0, 1000000]");
        continue;
      }
      rule.priority = static_cast<int>(i->get());
    } else if (k == "codes") {
      auto list = GetStringList(r, node, k);
      if (!list) { ok = false; continue; }
      for (const auto& s : *list) {
        CodePattern p;
        if (!ParseCodePattern(s, &p)) {
          fail(absl::StrCat("bad code pattern '", s, "' (want three characters, digits or x: \"550\", \"45x\")"));
        } else {
          rule.codes.push_back(p);
        }
      }
    } else if (k == "enhanced") {
      auto list = GetStringList(r, node, k);
      if (!list) { ok = false; continue; }
      for (const auto& s : *list) {
        EnhancedPattern p;
        if (!ParseEnhancedPattern(s, &p)) {
          fail(absl::StrCat("bad enhanced-code pattern '", s, "' (want \"5.7.26\", \"5.1.*\")"));
        } else {
          rule.enhanced.push_back(p);
        }
      }
    } else if (k == "stages") {
      auto list = GetStringList(r, node, k);
      if (!list) { ok = false; continue; }
      for (const auto& s : *list) {
        bool found = false;
        for (SmtpStage st : kStages) {
          if (SmtpStageName(st) == s) {
            rule.stage_mask |= 1u << static_cast<int>(st);
            found = true;
          }
        }
        if (!found) fail(absl::StrCat("unknown stage '", s, "' (connect, helo, mail, rcpt, data)"));
      }
    } else if (k == "outcomes") {
      auto list = GetStringList(r, node, k);
      if (!list) { ok = false; continue; }
      for (const auto& s : *list) {
        bool found = false;
        for (Outcome o : kOutcomes) {
          if (OutcomeName(o) == s) {
            rule.outcome_mask |= 1u << static_cast<int>(o);
            found = true;
          }
        }
        if (!found) fail(absl::StrCat("unknown outcome '", s, "'"));
      }
    } else if (k == "text") {
      auto s = GetString(r, node, k);
      if (!s) { ok = false; continue; }
      rule.text = *s;
      if (rule.text.empty()) {
        fail("'text' must not be empty (leave it out for a code-only rule)");
        continue;
      }
      RE2 re(rule.text, RE2::Quiet);
      if (!re.ok()) fail(absl::StrCat("bad regex: ", re.error()));
    } else if (k == "local") {
      const auto* b = node.as_boolean();
      if (b == nullptr) { fail("'local' must be true or false"); continue; }
      rule.local = b->get();
    } else if (k == "category") {
      auto s = GetString(r, node, k);
      if (!s) { ok = false; continue; }
      auto v = CategoryFromName(*s);
      if (!v) { fail(absl::StrCat("unknown category '", *s, "'")); continue; }
      rule.category = *v;
      has_category = true;
    } else if (k == "action") {
      auto s = GetString(r, node, k);
      if (!s) { ok = false; continue; }
      auto v = ActionFromName(*s);
      if (!v) { fail(absl::StrCat("unknown action '", *s, "'")); continue; }
      rule.action = *v;
      has_action = true;
    } else if (k == "scope") {
      auto s = GetString(r, node, k);
      if (!s) { ok = false; continue; }
      auto v = ScopeFromName(*s);
      if (!v) { fail(absl::StrCat("unknown scope '", *s, "'")); continue; }
      rule.scope = *v;
      has_scope = true;
    } else if (k == "bounce_type") {
      auto s = GetString(r, node, k);
      if (!s) { ok = false; continue; }
      auto v = BounceTypeFromName(*s);
      if (!v) { fail(absl::StrCat("unknown bounce_type '", *s, "'")); continue; }
      rule.bounce_type = *v;
      has_bounce = true;
    } else if (k == "blocklist") {
      auto s = GetString(r, node, k);
      if (!s) { ok = false; continue; }
      rule.blocklist = *s;
    } else if (k == "description") {
      auto s = GetString(r, node, k);
      if (!s) { ok = false; continue; }
      rule.description = *s;
    } else {
      fail(absl::StrCat("unknown key '", AV(k), "' in [[rule]]"));
    }
  }
  auto missing = [&](bool has, std::string_view what) {
    if (!has) {
      r.Error(static_cast<uint32_t>(rule.line), absl::StrCat("rule '", rule.id, "': missing '", AV(what), "'"));
      ok = false;
    }
  };
  missing(!rule.id.empty(), "id");
  missing(has_category, "category");
  missing(has_action, "action");
  missing(has_scope, "scope");
  rule.bounce_from_code = !has_bounce;
  if (ok) {
    std::string semantic = ValidateRuleSemantics(rule);
    if (!semantic.empty()) {
      r.Error(static_cast<uint32_t>(rule.line), semantic);
      ok = false;
    }
  }
  if (ok) rules->push_back(std::move(rule));
}

}  // namespace

std::string ValidateRuleSemantics(const Rule& rule) {
  const bool suppresses = rule.action == Action::kSuppressAddress || rule.action == Action::kSuppressDomain;
  if (suppresses && !IsRecipientScope(rule.scope)) {
    return absl::StrCat("rule '", rule.id, "': action ", AV(ActionName(rule.action)), " with scope ",
                        AV(ScopeName(rule.scope)),
                        ": only recipient failures (scope address or domain) may suppress");
  }
  if (rule.action == Action::kSuppressDomain && rule.scope != Scope::kDomain) {
    return absl::StrCat("rule '", rule.id, "': suppress_domain needs scope domain");
  }
  if (rule.local && (suppresses || IsRecipientScope(rule.scope))) {
    return absl::StrCat("rule '", rule.id,
                        "': a local rule (our own MTA's reply) must not suppress or blame the recipient");
  }
  return "";
}

void ParseRuleFile(std::string_view file_name, std::string_view content, std::vector<Rule>* rules,
                   std::vector<std::string>* errors) {
  Reporter r(file_name, errors);
  toml::parse_result parsed = toml::parse(content, file_name);
  if (!parsed) {
    r.Error(parsed.error().source().begin.line, parsed.error().description());
    return;
  }
  const toml::table& root = parsed.table();
  RuleTier tier = RuleTier::kGeneric;
  Provider provider = Provider::kOther;
  int default_priority = 10;
  const toml::table* header = nullptr;
  if (const auto* n = root.get("ruleset")) {
    header = n->as_table();
    if (header == nullptr) r.Error(*n, "[ruleset] must be a table");
  }
  if (header == nullptr) {
    r.Error(1, "missing [ruleset] with provider = \"...\"");
    return;
  }
  bool have_provider = false;
  for (const auto& [key, node] : *header) {
    if (key.str() == "provider") {
      auto s = GetString(r, node, "provider");
      if (!s) continue;
      if (*s == "generic") {
        tier = RuleTier::kGeneric;
        default_priority = 10;
      } else if (*s == "blocklists") {
        tier = RuleTier::kBlocklists;
        default_priority = 200;
      } else if (auto p = ProviderFromName(*s); p && *p != Provider::kOther) {
        tier = RuleTier::kProvider;
        provider = *p;
        default_priority = 100;
      } else {
        r.Error(node, absl::StrCat("unknown provider '", *s, "' (a provider name, \"generic\" or \"blocklists\")"));
        continue;
      }
      have_provider = true;
    } else if (key.str() == "description") {
      GetString(r, node, "description");
    } else {
      r.Error(node, absl::StrCat("unknown key '", AV(key.str()), "' in [ruleset]"));
    }
  }
  if (!have_provider) {
    r.Error(*header, "[ruleset] needs provider = \"...\"");
    return;
  }
  for (const auto& [key, node] : root) {
    if (key.str() == "ruleset") continue;
    if (key.str() != "rule") {
      r.Error(node, absl::StrCat("unknown top-level key '", AV(key.str()), "' (want [ruleset] and [[rule]])"));
      continue;
    }
    const auto* arr = node.as_array();
    if (arr == nullptr || !arr->is_array_of_tables()) {
      r.Error(node, "'rule' must be written as [[rule]] tables");
      continue;
    }
    for (const auto& el : *arr) ParseRule(r, *el.as_table(), tier, provider, default_priority, rules);
  }
}

void ParseProvidersFile(std::string_view file_name, std::string_view content, ProvidersFile* out,
                        std::vector<std::string>* errors) {
  Reporter r(file_name, errors);
  toml::parse_result parsed = toml::parse(content, file_name);
  if (!parsed) {
    r.Error(parsed.error().source().begin.line, parsed.error().description());
    return;
  }
  for (const auto& [key, node] : parsed.table()) {
    if (key.str() == "local_prefixes") {
      auto list = GetStringList(r, node, "local_prefixes");
      if (list) out->local_prefixes.insert(out->local_prefixes.end(), list->begin(), list->end());
      continue;
    }
    if (key.str() != "provider") {
      r.Error(node, absl::StrCat("unknown top-level key '", AV(key.str()), "' (want [[provider]], local_prefixes)"));
      continue;
    }
    const auto* arr = node.as_array();
    if (arr == nullptr || !arr->is_array_of_tables()) {
      r.Error(node, "'provider' must be written as [[provider]] tables");
      continue;
    }
    for (const auto& el : *arr) {
      const toml::table& t = *el.as_table();
      ProviderEntry e;
      e.file = std::string(file_name);
      e.line = static_cast<int>(t.source().begin.line);
      bool ok = true, has_name = false;
      for (const auto& [k, n] : t) {
        std::string_view ks = k.str();
        if (ks == "name") {
          auto s = GetString(r, n, ks);
          if (!s) { ok = false; continue; }
          auto p = ProviderFromName(*s);
          if (!p || *p == Provider::kOther) {
            r.Error(n, absl::StrCat("unknown provider '", *s, "'"));
            ok = false;
            continue;
          }
          e.provider = *p;
          has_name = true;
        } else if (ks == "variant") {
          auto s = GetString(r, n, ks);
          if (!s) { ok = false; continue; }
          e.variant = *s;
        } else if (ks == "mx_suffixes" || ks == "domains") {
          auto list = GetStringList(r, n, ks);
          if (!list) { ok = false; continue; }
          for (auto& s : *list) {
            std::string v = absl::AsciiStrToLower(s);
            while (!v.empty() && (v.front() == '.' || v.front() == '*')) v.erase(v.begin());
            while (!v.empty() && v.back() == '.') v.pop_back();
            if (v.empty()) {
              r.Error(n, absl::StrCat("empty entry in '", AV(ks), "'"));
              ok = false;
              continue;
            }
            (ks == "domains" ? e.domains : e.mx_suffixes).push_back(std::move(v));
          }
        } else if (ks == "reply_patterns") {
          auto list = GetStringList(r, n, ks);
          if (!list) { ok = false; continue; }
          for (auto& s : *list) {
            RE2 re(s, RE2::Quiet);
            if (!re.ok()) {
              r.Error(n, absl::StrCat("bad regex '", s, "': ", re.error()));
              ok = false;
              continue;
            }
            e.reply_patterns.push_back(std::move(s));
          }
        } else if (ks == "description") {
          GetString(r, n, ks);
        } else {
          r.Error(n, absl::StrCat("unknown key '", AV(ks), "' in [[provider]]"));
          ok = false;
        }
      }
      if (!has_name) {
        r.Error(static_cast<uint32_t>(e.line), "[[provider]] needs name = \"...\"");
        ok = false;
      }
      if (ok) out->providers.push_back(std::move(e));
    }
  }
}

}  // namespace bs
