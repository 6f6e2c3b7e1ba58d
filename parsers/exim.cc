// Exim main log lines (see exim.h for the contract). A single left-to-right scan per line; no regex.
#include "parsers/exim.h"

#include <simdjson.h>

#include <array>
#include <optional>
#include <string>
#include <vector>

#include "parsers/text_fields.h"
#include "pipeline/base/event_time.h"
#include "pipeline/base/strings.h"

namespace bs {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsBase62(char c) { return IsDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

bool AllBase62(std::string_view s) {
  for (char c : s) {
    if (!IsBase62(c)) return false;
  }
  return true;
}

std::string_view FirstToken(std::string_view s) { return s.substr(0, s.find(' ')); }

std::string_view AfterToken(std::string_view s) {
  size_t sp = s.find(' ');
  if (sp == std::string_view::npos) return {};
  s.remove_prefix(sp);
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  return s;
}

// Exim's own stamp "YYYY-MM-DD HH:MM:SS[.mmm][ ±ZZZZ]" at the start of `s`; advances past it.
std::optional<int64_t> ReadEximStamp(std::string_view& s) {
  if (s.size() < 19 || s[4] != '-' || s[7] != '-' || s[10] != ' ' || s[13] != ':' || s[16] != ':') {
    return std::nullopt;
  }
  size_t end = 19;
  if (s.size() >= 23 && s[19] == '.' && IsDigit(s[20]) && IsDigit(s[21]) && IsDigit(s[22])) end = 23;
  if (end < s.size() && s[end] != ' ') return std::nullopt;
  std::optional<int64_t> ms = ParseIsoTime(s.substr(0, end));
  if (!ms) return std::nullopt;
  // log_timezone: " +0100".
  if (end + 6 <= s.size() && s[end] == ' ' && (s[end + 1] == '+' || s[end + 1] == '-') && IsDigit(s[end + 2]) &&
      IsDigit(s[end + 3]) && IsDigit(s[end + 4]) && IsDigit(s[end + 5]) && (end + 6 == s.size() || s[end + 6] == ' ')) {
    int64_t minutes = ((s[end + 2] - '0') * 10 + (s[end + 3] - '0')) * 60 + (s[end + 4] - '0') * 10 + (s[end + 5] - '0');
    *ms -= (s[end + 1] == '-' ? -1 : 1) * minutes * 60000;
    end += 6;
  }
  s.remove_prefix(end);
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  return ms;
}

// "exim[14706]:" / "splogger[32130]:" / "exim:" → the tag without the colon; empty if `tok` is not one.
std::string_view SyslogTag(std::string_view tok) {
  if (tok.size() < 2 || tok.back() != ':') return {};
  tok.remove_suffix(1);
  for (char c : tok) {
    if (!(IsBase62(c) || c == '-' || c == '_' || c == '/' || c == '.' || c == '[' || c == ']')) return {};
  }
  return tok;
}

// What precedes Exim's own text on a line.
struct Prefix {
  std::optional<int64_t> syslog_time;
  std::string_view host;
  std::string_view tag;   // "exim[123]": groups split parts
  int part = 0;           // "[part/parts]" split marker; 0 when absent
  int parts = 0;
  std::string_view body;  // the rest
};

ParseResult ReadPrefix(std::string_view line, int64_t reference_ms, Prefix& p) {
  std::string_view s = line;
  const bool rfc3339 = s.size() > 20 && IsDigit(s[0]) && s[4] == '-' && (s[10] == 'T' || s[10] == 't');
  std::optional<int64_t> t;
  if (rfc3339) {
    t = ParseIsoTime(FirstToken(s));
    if (!t) return ParseResult::Error(ParseError::kBadTimestamp, "syslog timestamp");
    s = AfterToken(s);
  } else if (s.size() > 4 && s[3] == ' ' && MonthFromAbbrev(s.substr(0, 3)) != 0) {
    t = ReadSyslogStamp(s, reference_ms);
    if (!t) return ParseResult::Error(ParseError::kBadTimestamp, "syslog timestamp");
  }
  if (t) {
    p.syslog_time = t;
    p.host = FirstToken(s);
    s = AfterToken(s);
    p.tag = SyslogTag(FirstToken(s));
    if (p.tag.empty()) return ParseResult::Error(ParseError::kUnrecognizedLine, "syslog program");
    s = AfterToken(s);
  } else if (std::string_view tag = SyslogTag(FirstToken(s)); !tag.empty() && tag.back() == ']') {
    p.tag = tag;  // "exim[pid]: " with no stamp (some log shippers)
    s = AfterToken(s);
  }
  // "[n/m] " or "[n\m] ".
  if (s.size() > 5 && s[0] == '[' && IsDigit(s[1])) {
    size_t i = 1;
    int n = 0, m = 0;
    while (i < s.size() && IsDigit(s[i]) && n < 10000) n = n * 10 + (s[i++] - '0');
    if (i < s.size() && (s[i] == '/' || s[i] == '\\')) {
      size_t j = i + 1;
      while (j < s.size() && IsDigit(s[j]) && m < 10000) m = m * 10 + (s[j++] - '0');
      if (j > i + 1 && j < s.size() && s[j] == ']' && n >= 1 && m >= n && (j + 1 == s.size() || s[j + 1] == ' ')) {
        p.part = n;
        p.parts = m;
        s = s.substr(j + 1 < s.size() ? j + 2 : j + 1);
      }
    }
  }
  p.body = s;
  return {};
}

SmtpStage StageFromCommand(std::string_view c) {
  if (StartsWith(c, "pipelined ")) c.remove_prefix(10);
  if (StartsWithIgnoreCase(c, "RCPT")) return SmtpStage::kRcpt;
  if (StartsWithIgnoreCase(c, "MAIL")) return SmtpStage::kMail;
  if (StartsWithIgnoreCase(c, "DATA") || StartsWith(c, "end of data") || StartsWith(c, "BDAT")) {
    return SmtpStage::kData;
  }
  if (StartsWith(c, "initial connection")) return SmtpStage::kConnect;
  if (StartsWithIgnoreCase(c, "HELO") || StartsWithIgnoreCase(c, "EHLO") || StartsWithIgnoreCase(c, "LHLO") ||
      StartsWithIgnoreCase(c, "STARTTLS")) {
    return SmtpStage::kHelo;
  }
  return SmtpStage::kUnknown;
}

// "host mx0.gmx.com [74.208.5.90]: 450 …" (older layout) → host, ip and the reply after it.
bool ReadHostPrefix(std::string_view& reply, std::string_view& host, std::string_view& ip) {
  if (!StartsWith(reply, "host ")) return false;
  size_t close = reply.find("]: ");
  if (close == std::string_view::npos) return false;
  std::string_view who = reply.substr(5, close - 4);  // "name [ip]"
  size_t open = who.rfind('[');
  if (open == std::string_view::npos) return false;
  host = TrimSpaces(who.substr(0, open));
  ip = who.substr(open + 1, who.size() - open - 2);
  reply.remove_prefix(close + 3);
  return true;
}

// The text after the fields of a `**` / `==` line.
void ParseErrorText(std::string_view msg, DeliveryEvent& e) {
  static constexpr std::string_view kMarkers[] = {
      "SMTP error from remote mail server after ",
      "SMTP error from remote mailer after ",
      "LMTP error after ",
  };
  for (std::string_view marker : kMarkers) {
    size_t at = msg.find(marker);
    if (at == std::string_view::npos) continue;
    std::string_view rest = msg.substr(at + marker.size());
    SmtpStage stage = StageFromCommand(rest);
    if (stage != SmtpStage::kUnknown) e.stage = stage;
    size_t colon = rest.find(": ");
    std::string_view reply = colon == std::string_view::npos ? std::string_view() : rest.substr(colon + 2);
    std::string_view host, ip;
    if (ReadHostPrefix(reply, host, ip) && e.mx_host.empty()) {
      e.mx_host = host;
      e.mx_ip = ip;
    }
    SmtpReply r = ReplyFromText(reply);
    e.reply = r;
    return;
  }
  // Exim's own words: routing, retry and connection failures, local transports.
  e.reply = ReplyFromText(msg);
  e.locally_generated = true;
  if (e.stage == SmtpStage::kUnknown &&
      (Contains(msg, "Connection refused") || Contains(msg, "Connection timed out") ||
       Contains(msg, "Operation timed out") || Contains(msg, "No route to host") ||
       Contains(msg, "Network is unreachable") || Contains(msg, "Connection reset"))) {
    e.stage = SmtpStage::kConnect;
  }
}

// The fields between the address and the error text of a delivery line.
struct DeliveryFields {
  std::string_view address;
  std::string_view orig;
  std::string_view host;
  std::string_view host_ip;
  std::string_view interface_ip;
  std::string_view sender;
  std::string_view confirmation;
  std::string_view message;
  bool has_message = false;
  bool has_errno = false;
  int errno_value = 0;
};

// "[1.2.3.4]:25*" → "1.2.3.4".
std::string_view BracketedIp(std::string_view tok) {
  if (tok.empty() || tok.front() != '[') return {};
  size_t close = tok.find(']');
  if (close == std::string_view::npos) return {};
  return tok.substr(1, close - 1);
}

DeliveryFields ScanDeliveryFields(std::string_view s) {
  DeliveryFields f;
  const size_t n = s.size();
  size_t i = s.find(' ');
  if (i == std::string_view::npos) i = n;
  f.address = s.substr(0, i);
  if (f.address != ":blackhole:" && f.address.size() > 1 && f.address.back() == ':') {
    f.address.remove_suffix(1);
    f.has_message = true;
    f.message = i < n ? TrimSpaces(s.substr(i + 1)) : std::string_view();
    return f;
  }
  bool first = true;
  bool expect_ip = false;
  bool expect_errno = false;
  while (i < n) {
    while (i < n && s[i] == ' ') ++i;
    if (i >= n) break;
    if (s[i] == ':' && (i + 1 == n || s[i + 1] == ' ')) {
      f.has_message = true;
      f.message = i + 2 <= n ? TrimSpaces(s.substr(i + 1)) : std::string_view();
      break;
    }
    size_t end;
    bool quoted = false;
    if (s.compare(i, 3, "C=\"") == 0) {
      size_t j = i + 3;
      while (j < n && s[j] != '"') j += (s[j] == '\\') ? 2 : 1;
      f.confirmation = s.substr(i + 3, (j < n ? j : n) - (i + 3));
      end = j < n ? j + 1 : n;
      quoted = true;
    } else {
      end = s.find(' ', i);
      if (end == std::string_view::npos) end = n;
    }
    std::string_view tok = s.substr(i, end - i);
    bool ends_colon = !quoted && tok.size() > 1 && tok.back() == ':';
    if (quoted && end < n && s[end] == ':') {
      ends_colon = true;
      ++end;
    }
    if (ends_colon && !quoted) tok.remove_suffix(1);
    if (first && tok.size() > 2 && tok.front() == '<' && tok.back() == '>') {
      f.orig = tok.substr(1, tok.size() - 2);
    } else if (expect_ip && !BracketedIp(tok).empty()) {
      f.host_ip = BracketedIp(tok);
    } else if (expect_errno && tok.size() > 2 && tok.front() == '(' && tok.back() == ')') {
      std::string_view num = tok.substr(1, tok.size() - 2);
      bool neg = !num.empty() && num.front() == '-';
      if (neg) num.remove_prefix(1);
      std::optional<uint64_t> v = ParseDecimal(num);
      f.has_errno = true;
      f.errno_value = v && *v < 100000 ? static_cast<int>(*v) * (neg ? -1 : 1) : 0;
    } else if (StartsWith(tok, "H=")) {
      f.host = tok.substr(2);
      if (!BracketedIp(f.host).empty()) {
        f.host_ip = BracketedIp(f.host);
        f.host = {};
      }
    } else if (StartsWith(tok, "I=")) {
      f.interface_ip = BracketedIp(tok.substr(2));
    } else if (StartsWith(tok, "F=")) {
      f.sender = AddressInAngles(tok.substr(2));
    }
    expect_ip = StartsWith(tok, "H=");
    expect_errno = tok == "defer";
    first = false;
    i = end;
    if (ends_colon) {
      f.has_message = true;
      f.message = i < n ? TrimSpaces(s.substr(i)) : std::string_view();
      break;
    }
  }
  return f;
}

bool IsLocalAddress(std::string_view a) {
  return a == ":blackhole:" || (!a.empty() && (a.front() == '|' || a.front() == '/'));
}

// One joined group of syslog split parts.
struct SplitGroup {
  bool active = false;
  std::string tag;
  int next = 0;
  int parts = 0;
  Position position;
  std::string text;
  uint64_t started = 0;
};

class EximParser final : public Parser {
 public:
  explicit EximParser(const ParserOptions& options) : reference_ms_(options.reference_time_ms) {}

  ParseResult Parse(std::string_view record, const Position& pos, std::vector<DeliveryEvent>& out) override {
    std::string_view line = StripLineEnd(record);
    if (line.empty()) return ParseResult::Error(ParseError::kEmpty);
    if (line.size() > kMaxRecordBytes) return ParseResult::Error(ParseError::kTooLarge);
    if (!simdjson::validate_utf8(line.data(), line.size())) return ParseResult::Error(ParseError::kInvalidUtf8);
    Prefix p;
    if (ParseResult r = ReadPrefix(line, reference_ms_, p); !r.ok()) return r;
    if (p.part > 0 && p.parts > 1) return OnPart(p, pos, out);
    return ParseBody(p.body, p, pos, out);
  }

 private:
  ParseResult OnPart(const Prefix& p, const Position& pos, std::vector<DeliveryEvent>& out) {
    ++clock_;
    SplitGroup* group = nullptr;
    for (SplitGroup& g : groups_) {
      if (g.active && g.tag == p.tag) group = &g;
    }
    if (p.part == 1) {
      if (group == nullptr) {
        // A free slot, else the oldest group gives way (its line is lost: syslog dropped its other parts).
        group = &groups_[0];
        for (SplitGroup& g : groups_) {
          if (!g.active) {
            group = &g;
            break;
          }
          if (g.started < group->started) group = &g;
        }
      }
      group->active = true;
      group->tag.assign(p.tag);
      group->next = 2;
      group->parts = p.parts;
      group->position = pos;
      group->text.assign(p.body);
      group->started = clock_;
      return ParseResult::Skip(SkipReason::kContinued);
    }
    if (group == nullptr || group->next != p.part || group->parts != p.parts) {
      if (group != nullptr) group->active = false;
      return ParseResult::Error(ParseError::kTruncated, "split part without its first part");
    }
    if (group->text.size() + p.body.size() > kMaxRecordBytes) {
      group->active = false;
      return ParseResult::Error(ParseError::kTooLarge, "joined split parts");
    }
    group->text.append(p.body);
    if (p.part < p.parts) {
      ++group->next;
      return ParseResult::Skip(SkipReason::kContinued);
    }
    group->active = false;
    joined_.swap(group->text);  // events point into joined_ until the next Parse
    Prefix whole = p;
    return ParseBody(joined_, whole, group->position, out);
  }

  ParseResult ParseBody(std::string_view s, const Prefix& p, const Position& pos, std::vector<DeliveryEvent>& out) {
    DeliveryEvent e;
    e.position = pos;
    e.mta_host = p.host;
    if (std::optional<int64_t> t = ReadEximStamp(s)) {
      e.event_time_ms = *t;
    } else if (p.syslog_time) {
      e.event_time_ms = *p.syslog_time;  // syslog_timestamp=false removes Exim's own stamp
    } else {
      return ParseResult::Error(ParseError::kBadTimestamp, "timestamp");
    }
    // The pid selector: "[1234] ".
    if (s.size() > 2 && s[0] == '[' && IsDigit(s[1])) {
      size_t close = s.find("] ");
      if (close != std::string_view::npos) s.remove_prefix(close + 2);
    }
    std::string_view id = FirstToken(s);
    if (!IsEximMessageId(id)) {
      if (size_t at = s.find(" rejected RCPT "); at != std::string_view::npos) return ParseRejectedRcpt(s, at, e, out);
      return ParseResult::Skip(SkipReason::kInformational);
    }
    e.message_id = id;
    std::string_view rest = AfterToken(s);
    if (rest.empty()) return ParseResult::Error(ParseError::kTruncated, "flag");
    std::string_view flag = FirstToken(rest);
    std::string_view after = AfterToken(rest);
    if (flag == "<=") return ParseArrival(after, e, out);
    if (flag == "=>" || flag == "->" || flag == ">>") return ParseDelivery(Outcome::kDelivered, after, e, out);
    if (flag == "**") return ParseDelivery(Outcome::kBounced, after, e, out);
    if (flag == "==") return ParseDelivery(Outcome::kDeferred, after, e, out);
    // "*>" (suppressed by -N), "(=" (fakereject), Completed, Frozen, SMTP connection…, retry notes.
    return ParseResult::Skip(SkipReason::kInformational);
  }

  ParseResult ParseArrival(std::string_view s, DeliveryEvent& e, std::vector<DeliveryEvent>& out) {
    std::string_view sender = FirstToken(s);
    if (sender.empty()) return ParseResult::Error(ParseError::kTruncated, "sender");
    if (sender == "<>") return ParseResult::Skip(SkipReason::kInformational);  // a bounce message: no sender
    e.outcome = Outcome::kEnvelope;
    e.sender = sender;
    e.sender_domain = DomainOf(sender);
    out.push_back(e);
    return {};
  }

  ParseResult ParseDelivery(Outcome outcome, std::string_view s, DeliveryEvent& e, std::vector<DeliveryEvent>& out) {
    if (s.empty()) return ParseResult::Error(ParseError::kTruncated, "address");
    DeliveryFields f = ScanDeliveryFields(s);
    if (IsLocalAddress(f.address)) return ParseResult::Skip(SkipReason::kLocalDelivery);
    if (outcome == Outcome::kDelivered && f.host.empty() && f.host_ip.empty()) {
      return ParseResult::Skip(SkipReason::kLocalDelivery);  // no remote host: appendfile, lmtp socket, …
    }
    e.recipient = f.address.find('@') != std::string_view::npos || f.orig.empty() ? f.address : f.orig;
    if (!IsPlausibleAddress(e.recipient)) return ParseResult::Error(ParseError::kBadRecipient, "address");
    e.recipient_domain = DomainOf(e.recipient);
    e.sender = f.sender;
    e.sender_domain = DomainOf(f.sender);
    e.mx_host = f.host;
    e.mx_ip = f.host_ip;
    e.sending_ip = f.interface_ip;
    e.outcome = outcome;
    if (outcome == Outcome::kDelivered) {
      if (!f.confirmation.empty()) e.reply = ReplyFromText(f.confirmation);
      e.stage = SmtpStage::kData;
      out.push_back(e);
      return {};
    }
    if (outcome == Outcome::kDeferred &&
        (Contains(f.message, "retry time not reached") || Contains(f.message, "queue_smtp_domains"))) {
      return ParseResult::Skip(SkipReason::kInformational);  // no attempt was made
    }
    if (f.has_errno) {
      switch (f.errno_value) {
        case -44: e.stage = SmtpStage::kRcpt; break;
        case -45: e.stage = SmtpStage::kMail; break;
        case -46: e.stage = SmtpStage::kData; break;
        default: break;
      }
    }
    ParseErrorText(f.message, e);
    if (outcome == Outcome::kBounced && Contains(f.message, "retry timeout exceeded")) e.outcome = Outcome::kExpired;
    out.push_back(e);
    return {};
  }

  // "H=host [ip] F=<sender> rejected RCPT <rcpt>: reason" — our Exim refusing a recipient.
  ParseResult ParseRejectedRcpt(std::string_view s, size_t at, DeliveryEvent& e, std::vector<DeliveryEvent>& out) {
    std::string_view head = s.substr(0, at);
    std::string_view tail = s.substr(at + 15);
    size_t close = tail.find('>');
    if (tail.empty() || tail.front() != '<' || close == std::string_view::npos) {
      return ParseResult::Error(ParseError::kUnrecognizedLine, "rejected RCPT");
    }
    e.recipient = tail.substr(1, close - 1);
    if (!IsPlausibleAddress(e.recipient)) return ParseResult::Error(ParseError::kBadRecipient, "rejected RCPT");
    e.recipient_domain = DomainOf(e.recipient);
    if (size_t fpos = head.find("F=<"); fpos != std::string_view::npos) {
      std::string_view v = head.substr(fpos + 3);
      e.sender = v.substr(0, v.find('>'));
      e.sender_domain = DomainOf(e.sender);
    }
    std::string_view reason = tail.substr(close + 1);
    if (StartsWith(reason, ":")) reason.remove_prefix(1);
    e.reply = ReplyFromText(reason);
    e.outcome = Outcome::kRejected;
    e.stage = SmtpStage::kRcpt;
    e.locally_generated = true;
    out.push_back(e);
    return {};
  }

  int64_t reference_ms_;
  std::array<SplitGroup, 4> groups_;
  std::string joined_;
  uint64_t clock_ = 0;
};

}  // namespace

bool IsEximMessageId(std::string_view s) {
  if (s.size() == 16) {
    return s[6] == '-' && s[13] == '-' && AllBase62(s.substr(0, 6)) && AllBase62(s.substr(7, 6)) &&
           AllBase62(s.substr(14, 2));
  }
  if (s.size() == 23) {
    return s[6] == '-' && s[18] == '-' && AllBase62(s.substr(0, 6)) && AllBase62(s.substr(7, 11)) &&
           AllBase62(s.substr(19, 4));
  }
  return false;
}

std::unique_ptr<Parser> NewEximParser(const ParserOptions& options) { return std::make_unique<EximParser>(options); }

}  // namespace bs
