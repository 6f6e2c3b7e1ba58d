// Shared field readers (see text_fields.h). Hand-written scanning: these run per record on hot paths.
#include "parsers/text_fields.h"

#include "pipeline/base/strings.h"
#include "parsers/smtp_reply.h"
#include "pipeline/base/event_time.h"

namespace bs {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsSpace(char c) { return c == ' ' || c == '\t'; }
bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

}  // namespace

std::string_view TrimSpaces(std::string_view s) {
  while (!s.empty() && (IsSpace(s.front()) || s.front() == '\r' || s.front() == '\n')) s.remove_prefix(1);
  while (!s.empty() && (IsSpace(s.back()) || s.back() == '\r' || s.back() == '\n')) s.remove_suffix(1);
  return s;
}

std::string_view StripLineEnd(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::string_view StripDiagnosticType(std::string_view s, bool* had_prefix) {
  s = TrimSpaces(s);
  if (had_prefix != nullptr) *had_prefix = false;
  // A diagnostic type is a short token: letters, digits and '-', starting with a letter.
  size_t i = 0;
  if (s.empty() || !IsAlpha(s[0])) return s;
  while (i < s.size() && i < 32 && (IsAlpha(s[i]) || IsDigit(s[i]) || s[i] == '-')) ++i;
  if (i < s.size() && s[i] == ';') {
    if (had_prefix != nullptr) *had_prefix = true;
    return TrimSpaces(s.substr(i + 1));
  }
  return s;
}

void SplitHostParenIp(std::string_view s, std::string_view& host, std::string_view& ip) {
  s = TrimSpaces(s);
  if (StartsWithIgnoreCase(s, "dns;") || StartsWithIgnoreCase(s, "dsn;")) s = TrimSpaces(s.substr(4));
  size_t open = s.rfind(" (");
  if (open != std::string_view::npos && s.back() == ')') {
    host = TrimSpaces(s.substr(0, open));
    ip = TrimSpaces(s.substr(open + 2, s.size() - open - 3));
    return;
  }
  host = s;
  ip = {};
}

std::string_view AddressInAngles(std::string_view s) {
  s = TrimSpaces(s);
  size_t close = s.rfind('>');
  if (close != std::string_view::npos) {
    size_t open = s.rfind('<', close);
    if (open != std::string_view::npos) return TrimSpaces(s.substr(open + 1, close - open - 1));
  }
  return s;
}

bool IsPlausibleAddress(std::string_view a) {
  size_t at = a.rfind('@');
  if (at == std::string_view::npos || at == 0 || at + 1 >= a.size()) return false;
  std::string_view local = a.substr(0, at);
  std::string_view domain = a.substr(at + 1);
  const bool quoted = local.size() >= 2 && local.front() == '"' && local.back() == '"';
  for (char ch : local) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7f) return false;
    if (!quoted && (c == ' ' || c == '<' || c == '>')) return false;
  }
  if (domain.front() == '[') return domain.back() == ']' && domain.size() > 2;
  for (char ch : domain) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (!(IsAlpha(ch) || IsDigit(ch) || ch == '-' || ch == '.' || ch == '_' || c >= 0x80)) return false;
  }
  return true;
}

SmtpReply ReplyFromText(std::string_view text) {
  SmtpReply r = ParseSmtpReply(text);
  if (r.code == 0 && !r.text.empty()) {
    size_t sp = r.text.find(' ');
    EnhancedCode e;
    if (ParseEnhancedCode(r.text.substr(0, sp), &e)) {
      r.enhanced = e;
      r.text = sp == std::string_view::npos ? std::string_view() : TrimSpaces(r.text.substr(sp + 1));
    }
  }
  return r;
}

std::optional<uint64_t> ParseDecimal(std::string_view s) {
  if (s.empty() || s.size() > 18) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (!IsDigit(c)) return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v;
}

std::optional<int64_t> EpochTextToMs(std::string_view s) {
  size_t dot = s.find('.');
  std::string_view whole = s.substr(0, dot);
  std::optional<uint64_t> secs = ParseDecimal(whole);
  if (!secs) return std::nullopt;
  int64_t ms = 0;
  if (dot != std::string_view::npos) {
    std::string_view frac = s.substr(dot + 1);
    if (frac.empty()) return std::nullopt;
    int n = 0;
    for (char c : frac) {
      if (!IsDigit(c)) return std::nullopt;
      if (n < 3) ms = ms * 10 + (c - '0');
      ++n;
    }
    for (; n < 3; ++n) ms *= 10;
  }
  // 13 digits and more are milliseconds (SendGrid's send_at, some pipelines); 1e11 s is year 5138.
  if (*secs >= 100000000000ULL) {
    if (dot != std::string_view::npos) return std::nullopt;
    return static_cast<int64_t>(*secs);
  }
  return static_cast<int64_t>(*secs) * 1000 + ms;
}

std::optional<int64_t> EpochOrIsoToMs(std::string_view s) {
  if (std::optional<int64_t> ms = EpochTextToMs(s)) return ms;
  return ParseIsoTime(s);
}

std::optional<int64_t> ReadSyslogStamp(std::string_view& s, int64_t reference_ms) {
  if (s.size() < 14 || s[3] != ' ') return std::nullopt;
  unsigned month = MonthFromAbbrev(s.substr(0, 3));
  if (month == 0) return std::nullopt;
  size_t i = 4;
  while (i < s.size() && s[i] == ' ') ++i;
  unsigned day = 0;
  size_t day_start = i;
  while (i < s.size() && IsDigit(s[i]) && i - day_start < 2) day = day * 10 + (s[i++] - '0');
  if (i == day_start || i >= s.size() || s[i] != ' ') return std::nullopt;
  ++i;
  if (i + 8 > s.size() || s[i + 2] != ':' || s[i + 5] != ':') return std::nullopt;
  for (size_t k : {0, 1, 3, 4, 6, 7}) {
    if (!IsDigit(s[i + k])) return std::nullopt;
  }
  int h = (s[i] - '0') * 10 + (s[i + 1] - '0');
  int mi = (s[i + 3] - '0') * 10 + (s[i + 4] - '0');
  int sec = (s[i + 6] - '0') * 10 + (s[i + 7] - '0');
  if (day < 1 || day > 31 || h > 23 || mi > 59 || sec > 60) return std::nullopt;
  i += 8;
  if (i < s.size() && s[i] != ' ') return std::nullopt;
  while (i < s.size() && s[i] == ' ') ++i;
  s.remove_prefix(i);
  // Civil year of the reference day (days → year by stepping from a lower bound), then one year back if
  // the stamp would lie more than a day after the reference.
  const int64_t ref_days = reference_ms >= 0 ? reference_ms / 86400000 : (reference_ms - 86399999) / 86400000;
  int64_t year = 1970 + ref_days / 366 - (ref_days < 0 ? 1 : 0);
  while (DaysFromCivil(year + 1, 1, 1) <= ref_days) ++year;
  int64_t days = DaysFromCivil(year, month, day);
  if (days > ref_days + 1) days = DaysFromCivil(year - 1, month, day);
  return (days * 86400 + h * 3600 + mi * 60 + sec) * 1000;
}

}  // namespace bs
