#include "parsers/format.h"

#include <algorithm>

#include "pipeline/base/strings.h"
#include "absl/strings/str_cat.h"
#include "pipeline/base/event_time.h"
#include "parsers/exim.h"
#include "parsers/json_mapping.h"
#include "parsers/kumomta.h"
#include "parsers/mailgun.h"
#include "parsers/postfix.h"
#include "parsers/powermta.h"
#include "parsers/sendgrid.h"
#include "parsers/ses.h"
#include "parsers/sparkpost.h"

namespace bs {
namespace {

struct FormatEntry {
  Format format;
  std::string_view name;
};
constexpr FormatEntry kFormats[] = {
    {Format::kAuto, "auto"},         {Format::kKumoMta, "kumomta"},   {Format::kPostfix, "postfix"},
    {Format::kPowerMta, "powermta"}, {Format::kExim, "exim"},         {Format::kSendGrid, "sendgrid"},
    {Format::kMailgun, "mailgun"},   {Format::kSes, "ses"},           {Format::kSparkPost, "sparkpost"},
    {Format::kJsonMapping, "json"},
};

}  // namespace

std::string_view FormatName(Format f) {
  for (const auto& e : kFormats) {
    if (e.format == f) return e.name;
  }
  return "unknown";
}

std::optional<Format> FormatFromName(std::string_view name) {
  for (const auto& e : kFormats) {
    if (e.name == name) return e.format;
  }
  return std::nullopt;
}

namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// `"key"` followed by optional spaces and a colon: a key, not a value that happens to spell it.
bool HasKey(std::string_view text, std::string_view key) {
  size_t pos = 0;
  while (true) {
    size_t q = text.find(key, pos);
    if (q == std::string_view::npos) return false;
    pos = q + 1;
    if (q == 0 || text[q - 1] != '"' || q + key.size() >= text.size() || text[q + key.size()] != '"') continue;
    size_t i = q + key.size() + 1;
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r' || text[i] == '\n')) ++i;
    if (i < text.size() && text[i] == ':') return true;
  }
}

// JSON records: the ESPs by keys only they use, then KumoMTA, then SendGrid's plainer events.
Format DetectJson(std::string_view text) {
  if (HasKey(text, "msys") || HasKey(text, "raw_rcpt_to")) return Format::kSparkPost;
  if (HasKey(text, "notificationType") || HasKey(text, "TopicArn") ||
      (HasKey(text, "eventType") && HasKey(text, "mail"))) {
    return Format::kSes;
  }
  if (HasKey(text, "event-data") || HasKey(text, "delivery-status") || HasKey(text, "log-level") ||
      HasKey(text, "recipient-domain")) {
    return Format::kMailgun;
  }
  if (HasKey(text, "sg_event_id") || HasKey(text, "sg_message_id") || HasKey(text, "smtp-id")) {
    return Format::kSendGrid;
  }
  if (HasKey(text, "type") && (HasKey(text, "queue") || HasKey(text, "response") || HasKey(text, "peer_address") ||
                               HasKey(text, "egress_pool") || HasKey(text, "feedback_report"))) {
    return Format::kKumoMta;
  }
  if (HasKey(text, "email") && HasKey(text, "event")) return Format::kSendGrid;
  return Format::kAuto;
}

// "d,2014-08-24 …" / "b,1178807903,…" (a record) or "type,timeLogged,…" (the header).
bool LooksLikePowerMta(std::string_view line) {
  if (StartsWith(line, "type,")) {
    return Contains(line, ",rcpt") || Contains(line, ",orig") || Contains(line, ",timeLogged") ||
           Contains(line, ",dsnStatus");
  }
  size_t comma = line.find(',');
  if (comma == std::string_view::npos || comma > 2) return false;
  std::string_view type = line.substr(0, comma);
  if (type != "d" && type != "b" && type != "t" && type != "tq" && type != "f" && type != "r" && type != "rb" &&
      type != "rs") {
    return false;
  }
  std::string_view rest = line.substr(comma + 1);
  // A time cell: time_t digits, or an ISO-ish date.
  return rest.size() > 10 && IsDigit(rest[0]) && IsDigit(rest[1]) && IsDigit(rest[2]) && IsDigit(rest[3]) &&
         (rest[4] == '-' || IsDigit(rest[4])) && std::count(line.begin(), line.end(), ',') >= 3;
}

std::string_view NextToken(std::string_view& s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  size_t sp = s.find(' ');
  std::string_view tok = s.substr(0, sp);
  s = sp == std::string_view::npos ? std::string_view() : s.substr(sp + 1);
  return tok;
}

// After any syslog prefix: Exim's "YYYY-MM-DD HH:MM:SS" stamp (space, not 'T'), or a message id.
bool LooksLikeExim(std::string_view line) {
  std::string_view s = line;
  if (s.size() > 4 && s[3] == ' ' && MonthFromAbbrev(s.substr(0, 3)) != 0) {
    // "Mmm d HH:MM:SS host tag: …"
    NextToken(s);
    NextToken(s);
    NextToken(s);
    NextToken(s);
    std::string_view tag = NextToken(s);
    if (tag.empty() || tag.back() != ':') return false;
    if (StartsWith(tag, "exim")) return true;
  } else if (s.size() > 20 && IsDigit(s[0]) && s[4] == '-' && s[10] == 'T') {
    NextToken(s);  // RFC 3339 stamp
    NextToken(s);  // host
    std::string_view tag = NextToken(s);
    if (tag.empty() || tag.back() != ':') return false;
    if (StartsWith(tag, "exim")) return true;
  } else if (StartsWith(s, "exim") && s.find("]: ") != std::string_view::npos && s.find("]: ") < 24) {
    return true;
  }
  if (s.size() > 1 && s[0] == '[' && IsDigit(s[1])) NextToken(s);  // "[1/2]" split marker
  if (s.size() >= 19 && IsDigit(s[0]) && s[4] == '-' && s[7] == '-' && s[10] == ' ' && s[13] == ':' &&
      s[16] == ':') {
    return true;
  }
  std::string_view first = NextToken(s);
  return IsEximMessageId(first);
}

// Syslog lines of a postfix program, and bare message parts ("7EE668039: to=<…>", "NOQUEUE: reject: …").
bool LooksLikePostfix(std::string_view line) {
  if (Contains(line, "postfix") || Contains(line, "/smtp[") || Contains(line, "/qmgr[") ||
      Contains(line, "/lmtp[") || Contains(line, "/bounce[") || Contains(line, "/cleanup[")) {
    return true;
  }
  if (StartsWith(line, "NOQUEUE: ")) return true;
  size_t colon = line.find(": ");
  if (colon < 5 || colon > 20 || colon == std::string_view::npos) return false;
  for (char c : line.substr(0, colon)) {
    if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))) return false;
  }
  std::string_view rest = line.substr(colon + 2);
  return StartsWith(rest, "to=") || StartsWith(rest, "from=") || StartsWith(rest, "message-id=") ||
         StartsWith(rest, "client=") || StartsWith(rest, "host ") || StartsWith(rest, "removed") ||
         StartsWith(rest, "sender ") || StartsWith(rest, "postmaster ") || StartsWith(rest, "uid=");
}

}  // namespace

Format DetectFormat(std::string_view head) {
  if (StartsWith(head, "\xEF\xBB\xBF")) head.remove_prefix(3);  // UTF-8 byte order mark
  size_t i = 0;
  while (i < head.size() && (head[i] == ' ' || head[i] == '\t' || head[i] == '\r' || head[i] == '\n')) ++i;
  std::string_view rest = head.substr(i);
  if (StartsWith(rest, "{") || StartsWith(rest, "[")) return DetectJson(rest.substr(0, 64 * 1024));
  // Text: the first lines that decide; '#' annotation lines and blank lines are passed over.
  int looked = 0;
  for (size_t start = 0; start < rest.size() && looked < 16;) {
    size_t nl = rest.find('\n', start);
    std::string_view line = rest.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
    start = nl == std::string_view::npos ? rest.size() : nl + 1;
    // The head may end mid-line: once a whole line has been judged, an unterminated last one is not.
    if (nl == std::string_view::npos && looked > 0) break;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    ++looked;
    if (LooksLikePowerMta(line)) return Format::kPowerMta;
    if (LooksLikeExim(line)) return Format::kExim;
    if (LooksLikePostfix(line)) return Format::kPostfix;
  }
  return Format::kAuto;
}

absl::StatusOr<std::unique_ptr<Parser>> CreateParser(Format format, const ParserOptions& options) {
  switch (format) {
    case Format::kKumoMta: return NewKumoMtaParser(options);
    case Format::kPostfix: return NewPostfixParser(options);
    case Format::kPowerMta: return NewPowerMtaParser(options);
    case Format::kExim: return NewEximParser(options);
    case Format::kSendGrid: return NewSendGridParser(options);
    case Format::kSes: return NewSesParser(options);
    case Format::kMailgun: return NewMailgunParser(options);
    case Format::kSparkPost: return NewSparkPostParser(options);
    case Format::kJsonMapping: {
      absl::Status valid = ValidateJsonFieldMap(options.json);
      if (!valid.ok()) return valid;
      return NewJsonMappingParser(options);
    }
    case Format::kAuto: return absl::InvalidArgumentError("format 'auto' must be resolved before parsing");
    default: break;
  }
  return absl::UnimplementedError(absl::StrCat("the ", Av(FormatName(format)), " parser is not built yet"));
}

}  // namespace bs
