// Reply-line parsing (raw or JSON) and Classification JSON output; see classify_io.h.
#include "rules/classify_io.h"

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "parsers/smtp_reply.h"
#include "pipeline/base/json_writer.h"

namespace bs {
namespace {

constexpr Outcome kOutcomes[] = {Outcome::kDelivered, Outcome::kDeferred, Outcome::kBounced,
                                 Outcome::kExpired,   Outcome::kRejected, Outcome::kOutOfBand,
                                 Outcome::kComplaint};
constexpr SmtpStage kStages[] = {SmtpStage::kUnknown, SmtpStage::kConnect, SmtpStage::kHelo,
                                 SmtpStage::kMail,    SmtpStage::kRcpt,    SmtpStage::kData};

std::string_view TrimLine(std::string_view s) {
  while (!s.empty() && (s.back() == '\r' || s.back() == '\n' || s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  return s;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace

ReplyInput ReplyLine::Input() const {
  ReplyInput in;
  in.outcome = outcome;
  in.text = reply;  // codes are taken from the text by normalisation
  in.mx_host = mx;
  in.recipient_domain = recipient_domain;
  in.stage = stage;
  in.locally_generated = local;
  return in;
}

bool ReplyLineReader::Parse(std::string_view line, ReplyLine* out, std::string* error) {
  error->clear();
  line = TrimLine(line);
  if (line.empty() || line.front() == '#') return false;
  *out = ReplyLine();
  if (line.front() != '{') {
    out->reply = std::string(line);
    return true;
  }
  buf_ = simdjson::padded_string(line);
  simdjson::ondemand::document doc;
  if (parser_.iterate(buf_).get(doc) != simdjson::SUCCESS) {
    *error = "not valid JSON";
    return false;
  }
  simdjson::ondemand::object obj;
  if (doc.get_object().get(obj) != simdjson::SUCCESS) {
    *error = "not a JSON object";
    return false;
  }
  bool have_reply = false;
  for (auto field : obj) {
    std::string_view key;
    if (field.unescaped_key().get(key) != simdjson::SUCCESS) {
      *error = "bad JSON key";
      return false;
    }
    simdjson::ondemand::value v;
    if (field.value().get(v) != simdjson::SUCCESS) {
      *error = "bad JSON value";
      return false;
    }
    if (key == "local") {
      bool b = false;
      if (v.get_bool().get(b) != simdjson::SUCCESS) {
        *error = "\"local\" must be true or false";
        return false;
      }
      out->local = b;
      continue;
    }
    std::string_view sv;
    simdjson::ondemand::json_type type;
    if (v.type().get(type) != simdjson::SUCCESS) {
      *error = "bad JSON value";
      return false;
    }
    if (type == simdjson::ondemand::json_type::null) continue;
    if (type != simdjson::ondemand::json_type::string || v.get_string().get(sv) != simdjson::SUCCESS) {
      *error = "\"" + std::string(key) + "\" must be a string";
      return false;
    }
    if (key == "reply") {
      out->reply = std::string(sv);
      have_reply = true;
    } else if (key == "mx") {
      out->mx = std::string(sv);
    } else if (key == "recipient") {
      std::string_view d = DomainOf(sv);
      out->recipient_domain = Lower(d.empty() ? sv : d);
    } else if (key == "outcome") {
      bool found = false;
      for (Outcome o : kOutcomes) {
        if (OutcomeName(o) == sv) {
          out->outcome = o;
          found = true;
        }
      }
      if (!found) {
        *error = "unknown outcome \"" + std::string(sv) + "\"";
        return false;
      }
    } else if (key == "stage") {
      bool found = false;
      for (SmtpStage s : kStages) {
        if (SmtpStageName(s) == sv) {
          out->stage = s;
          found = true;
        }
      }
      if (!found) {
        *error = "unknown stage \"" + std::string(sv) + "\"";
        return false;
      }
    } else if (key == "category") {
      out->expect_category = std::string(sv);
    } else if (key == "action") {
      out->expect_action = std::string(sv);
    } else if (key == "rule") {
      out->expect_rule = std::string(sv);
    } else if (key == "scope") {
      out->expect_scope = std::string(sv);
    } else if (key == "provider") {
      out->expect_provider = std::string(sv);
    } else if (key == "blocklist") {
      out->expect_blocklist = std::string(sv);
    } else if (key == "not_category") {
      out->expect_not_category = std::string(sv);
    } else if (key == "not_rule") {
      out->expect_not_rule = std::string(sv);
    }
    // Other keys (comments, "why", "note") are allowed and ignored.
  }
  if (!have_reply) {
    *error = "JSON line without \"reply\"";
    return false;
  }
  return true;
}

int RunGoldenCases(const RuleSetImpl& rules, const std::string& dir, std::vector<std::string>* failures) {
  namespace fs = std::filesystem;
  std::error_code ec;
  std::vector<fs::path> files;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.size() > 13 && name.compare(name.size() - 13, 13, ".golden.jsonl") == 0) files.push_back(it->path());
  }
  if (ec) {
    failures->push_back(dir + ": " + ec.message());
    return -1;
  }
  std::sort(files.begin(), files.end());
  ReplyLineReader reader;
  ClassifyScratch scratch;
  int cases = 0;
  for (const auto& path : files) {
    std::ifstream in(path, std::ios::binary);
    std::string line;
    int line_no = 0;
    const std::string where = path.filename().string();
    while (std::getline(in, line)) {
      ++line_no;
      ReplyLine c;
      std::string error;
      auto fail = [&](const std::string& msg) {
        failures->push_back(where + ":" + std::to_string(line_no) + ": " + msg);
      };
      if (!reader.Parse(line, &c, &error)) {
        if (!error.empty()) fail(error);
        continue;
      }
      ++cases;
      if (c.expect_category.empty() && c.expect_not_category.empty() && c.expect_rule.empty() &&
          c.expect_not_rule.empty()) {
        fail("golden case without \"category\", \"rule\", \"not_category\" or \"not_rule\"");
        continue;
      }
      Classification got = rules.Classify(c.Input(), scratch);
      Classification ref = rules.ClassifyReference(c.Input(), scratch);
      std::string diffs;
      auto check = [&](std::string_view what, const std::string& want, std::string_view have) {
        if (!want.empty() && want != have) {
          diffs += std::string(diffs.empty() ? "" : ", ") + std::string(what) + " " + std::string(have) +
                   " (want " + want + ")";
        }
      };
      check("category", c.expect_category, CategoryName(got.category));
      check("action", c.expect_action, ActionName(got.action));
      check("scope", c.expect_scope, ScopeName(got.scope));
      check("rule", c.expect_rule, got.rule);
      check("provider", c.expect_provider, ProviderName(got.provider));
      check("blocklist", c.expect_blocklist, got.blocklist);
      if (!c.expect_not_category.empty() && c.expect_not_category == CategoryName(got.category)) {
        diffs += std::string(diffs.empty() ? "" : ", ") + "category is " + c.expect_not_category + " (must not be)";
      }
      if (!c.expect_not_rule.empty() && c.expect_not_rule == got.rule) {
        diffs += std::string(diffs.empty() ? "" : ", ") + "rule is " + c.expect_not_rule + " (must not be)";
      }
      if (got.rule != ref.rule) {
        diffs += std::string(diffs.empty() ? "" : ", ") + "RE2::Set and per-regex answers differ (" +
                 std::string(got.rule) + " vs " + std::string(ref.rule) + ")";
      }
      if (!diffs.empty()) fail(diffs + " [rule " + std::string(got.rule) + "] for: " + c.reply);
    }
  }
  return cases;
}

void WriteClassificationJson(const Classification& c, std::string_view ruleset_version,
                             const Explanation* explain, std::string& out) {
  JsonWriter w(out);
  w.BeginObject();
  w.KV("provider", ProviderName(c.provider));
  w.KV("bounce_type", BounceTypeName(c.bounce_type));
  w.KV("category", CategoryName(c.category));
  w.KV("action", ActionName(c.action));
  w.KV("scope", ScopeName(c.scope));
  w.KV("rule", c.rule);
  w.KVInt("code", c.code);
  char buf[16];
  w.KV("enhanced", FormatEnhancedCode(c.enhanced, buf));
  if (!c.blocklist.empty()) w.KV("blocklist", c.blocklist);
  w.KV("ruleset_version", ruleset_version);
  if (explain != nullptr) {
    w.Key("explain");
    w.BeginObject();
    w.KV("normalized_text", explain->normalized_text);
    w.Key("matched");
    w.BeginObject();
    w.KV("rule", c.rule);
    w.KV("set", explain->matched_set);
    if (!explain->on_text.empty()) w.KV("on_text", explain->on_text);
    if (!explain->description.empty()) w.KV("description", explain->description);
    w.EndObject();
    w.Key("also_matched");
    w.BeginArray();
    for (const auto& id : explain->also_matched) w.String(id);
    w.EndArray();
    w.KV("provider_detected_by", DetectedByName(explain->detected_by));
    if (!explain->provider_variant.empty()) w.KV("provider_variant", explain->provider_variant);
    if (explain->local) {
      w.Key("local_reply");
      w.Bool(true);
    }
    w.EndObject();
  }
  w.EndObject();
}

}  // namespace bs
