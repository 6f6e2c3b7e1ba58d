// Postfix delivery log lines (LOG_FORMATS.md §3): classic syslog (`Mmm dd HH:MM:SS host prog[pid]: msg`,
// no year), RFC 3339-prefixed lines (rsyslog/journald), Postfix's own maillog_file lines, and bare
// message parts (`QID: to=<…>, …`, no time: event time 0). Stateless per line: the qmgr `from=` line
// becomes an Outcome::kEnvelope event that the pipeline's join stage pairs with later lines, and the qmgr
// `removed` line one with envelope_removed set, so the join forgets the queue id.
#include "parsers/postfix.h"

#include <algorithm>
#include <optional>

#include "absl/strings/ascii.h"
#include "pipeline/base/strings.h"
#include "pipeline/base/event_time.h"

namespace bs {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Reads "Mmm dd HH:MM:SS " (day space- or zero-padded) and returns ms since epoch of that wall time,
// UTC, in the year inferred from `reference_ms`. Advances `s` past the stamp.
std::optional<int64_t> ParseSyslogStamp(std::string_view& s, int64_t reference_ms) {
  // "Mmm dd HH:MM:SS " with the day space- or zero-padded, or (seen in exporters' fixtures) unpadded.
  if (s.size() < 15 || s[3] != ' ') return std::nullopt;
  unsigned month = MonthFromAbbrev(s.substr(0, 3));
  if (month == 0) return std::nullopt;
  size_t i = 4;
  if (s[i] == ' ') ++i;
  unsigned day = 0;
  size_t day_start = i;
  while (i < s.size() && IsDigit(s[i]) && i - day_start < 2) day = day * 10 + (s[i++] - '0');
  if (i == day_start || i + 9 > s.size() || s[i] != ' ') return std::nullopt;
  std::string_view hms = s.substr(i + 1, 8);
  if (hms[2] != ':' || hms[5] != ':' || !IsDigit(hms[0]) || !IsDigit(hms[1]) || !IsDigit(hms[3]) ||
      !IsDigit(hms[4]) || !IsDigit(hms[6]) || !IsDigit(hms[7])) {
    return std::nullopt;
  }
  if (i + 9 < s.size() && s[i + 9] != ' ') return std::nullopt;
  int h = (hms[0] - '0') * 10 + (hms[1] - '0');
  int mi = (hms[3] - '0') * 10 + (hms[4] - '0');
  int sec = (hms[6] - '0') * 10 + (hms[7] - '0');
  if (day < 1 || day > 31 || h > 23 || mi > 59 || sec > 60) return std::nullopt;
  s.remove_prefix(std::min(s.size(), i + 10));
  // The year that puts the stamp at or before the reference (+1 day of skew).
  int64_t ref_days = reference_ms / 86400000;
  int64_t year = 1970 + ref_days / 366;  // a lower bound, then step up
  while (DaysFromCivil(year + 1, 1, 1) <= ref_days) ++year;
  int64_t days = DaysFromCivil(year, month, day);
  if (days > ref_days + 1) days = DaysFromCivil(year - 1, month, day);
  return (days * 86400 + h * 3600 + mi * 60 + sec) * 1000;
}

// "host prog[pid]: " → prog; advances `s` past it. Empty on failure.
std::string_view ParseHostProg(std::string_view& s, std::string_view& host) {
  size_t sp = s.find(' ');
  if (sp == std::string_view::npos) return {};
  host = s.substr(0, sp);
  std::string_view rest = s.substr(sp + 1);
  size_t colon = rest.find(": ");
  if (colon == std::string_view::npos) return {};
  std::string_view prog = rest.substr(0, colon);
  if (size_t br = prog.find('['); br != std::string_view::npos) prog = prog.substr(0, br);
  s = rest.substr(colon + 2);
  return prog;
}

// Value of "name=" in a ", "-separated field list, up to the next ", " (or end).
std::string_view FieldValue(std::string_view fields, std::string_view name) {
  size_t pos = 0;
  while (true) {
    size_t found = fields.find(name, pos);
    if (found == std::string_view::npos) return {};
    if (found == 0 || fields[found - 1] == ' ') {
      std::string_view v = fields.substr(found + name.size());
      size_t end = v.find(", ");
      return v.substr(0, end);
    }
    pos = found + 1;
  }
}

std::string_view StripAngles(std::string_view v) {
  if (v.size() >= 2 && v.front() == '<' && v.back() == '>') return v.substr(1, v.size() - 2);
  return v;
}

bool ParseDsn(std::string_view v, EnhancedCode& out) {
  if (v.size() < 5 || !IsDigit(v[0]) || v[1] != '.') return false;
  unsigned subject = 0, detail = 0;
  size_t i = 2;
  size_t start = i;
  while (i < v.size() && IsDigit(v[i]) && i - start < 3) subject = subject * 10 + (v[i++] - '0');
  if (i == start || i >= v.size() || v[i] != '.') return false;
  start = ++i;
  while (i < v.size() && IsDigit(v[i]) && i - start < 3) detail = detail * 10 + (v[i++] - '0');
  if (i == start || i != v.size()) return false;
  uint8_t cls = static_cast<uint8_t>(v[0] - '0');
  if (cls < 2 || cls > 5) return false;
  out = {cls, static_cast<uint16_t>(subject), static_cast<uint16_t>(detail)};
  return true;
}

// "host[ip]:port" → host, ip.
void SplitRelay(std::string_view relay, std::string_view& host, std::string_view& ip) {
  size_t br = relay.find('[');
  if (br == std::string_view::npos) {
    host = relay;
    return;
  }
  host = relay.substr(0, br);
  size_t close = relay.find(']', br);
  if (close != std::string_view::npos) ip = relay.substr(br + 1, close - br - 1);
}

SmtpStage StageFromInReplyTo(std::string_view cmd) {
  if (StartsWith(cmd, "RCPT")) return SmtpStage::kRcpt;
  if (StartsWith(cmd, "MAIL")) return SmtpStage::kMail;
  if (StartsWith(cmd, "end of DATA") || StartsWith(cmd, "DATA")) return SmtpStage::kData;
  if (StartsWith(cmd, "EHLO") || StartsWith(cmd, "HELO") || StartsWith(cmd, "STARTTLS")) {
    return SmtpStage::kHelo;
  }
  return SmtpStage::kUnknown;
}

// Fills code, stage and text from the parenthesised status text.
void ParseStatusText(std::string_view text, DeliveryEvent& e) {
  constexpr std::string_view kSaid = " said: ";
  size_t said = text.find(kSaid);
  std::string_view reply = text;
  if (said != std::string_view::npos) {
    reply = text.substr(said + kSaid.size());
    if (e.mx_host.empty()) {
      std::string_view who = text.substr(0, said);
      if (StartsWith(who, "host ")) SplitRelay(who.substr(5), e.mx_host, e.mx_ip);
    }
  } else if (StartsWith(text, "connect to ")) {
    e.stage = SmtpStage::kConnect;
  }
  constexpr std::string_view kInReplyTo = " (in reply to ";
  if (size_t irt = reply.rfind(kInReplyTo); irt != std::string_view::npos && EndsWith(reply, ")")) {
    e.stage = StageFromInReplyTo(reply.substr(irt + kInReplyTo.size()));
    reply = reply.substr(0, irt);
  }
  if (reply.size() >= 4 && IsDigit(reply[0]) && IsDigit(reply[1]) && IsDigit(reply[2]) &&
      (reply[3] == ' ' || reply[3] == '-')) {
    e.reply.code = static_cast<uint16_t>((reply[0] - '0') * 100 + (reply[1] - '0') * 10 + (reply[2] - '0'));
  }
  e.reply.text = reply;
}

class PostfixParser final : public Parser {
 public:
  explicit PostfixParser(const ParserOptions& options) : reference_ms_(options.reference_time_ms) {}

  ParseResult Parse(std::string_view line, const Position& pos, std::vector<DeliveryEvent>& out) override {
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
    if (line.empty()) return ParseResult::Error(ParseError::kEmpty);
    if (line.size() > kMaxRecordBytes) return ParseResult::Error(ParseError::kTooLarge);
    DeliveryEvent e;
    e.position = pos;
    std::string_view msg = line;
    std::string_view prog;
    if (!line.empty() && IsDigit(line[0]) && line.size() > 20 && line[4] == '-') {
      size_t sp = line.find(' ');
      std::optional<int64_t> t = ParseIsoTime(line.substr(0, sp));
      if (!t || sp == std::string_view::npos) return ParseResult::Error(ParseError::kBadTimestamp, "rfc3339 prefix");
      e.event_time_ms = *t;
      msg = line.substr(sp + 1);
      prog = ParseHostProg(msg, e.mta_host);
      if (prog.empty()) return ParseResult::Error(ParseError::kUnrecognizedLine, "syslog program");
    } else if (std::optional<int64_t> t = ParseSyslogStamp(msg, reference_ms_)) {
      e.event_time_ms = *t;
      prog = ParseHostProg(msg, e.mta_host);
      if (prog.empty()) return ParseResult::Error(ParseError::kUnrecognizedLine, "syslog program");
    } else if (MonthFromAbbrev(line.substr(0, 3)) != 0 && line.size() > 3 && line[3] == ' ') {
      return ParseResult::Error(ParseError::kBadTimestamp, "syslog timestamp");
    } else if (IsBareInformational(line)) {
      return ParseResult::Skip(SkipReason::kInformational);
    }
    // prog is empty for bare message parts.
    if (!prog.empty() && !IsPostfixProgram(prog)) return ParseResult::Error(ParseError::kUnrecognizedLine, "not postfix");
    std::string_view service = prog.substr(prog.rfind('/') + 1);
    return ParseMessage(msg, service, e, out);
  }

 private:
  static bool IsPostfixProgram(std::string_view prog) {
    // postfix/smtp, postfix/relay/smtp, mail_batch-yahoo/smtp, plain "postfix".
    return Contains(prog, "postfix") || prog.find('/') != std::string_view::npos;
  }

  ParseResult ParseMessage(std::string_view msg, std::string_view service, DeliveryEvent& e,
                           std::vector<DeliveryEvent>& out) {
    if (StartsWith(msg, "NOQUEUE: reject: ")) return ParseNoqueue(msg, e, out);
    // A message part cut after the queue id (seen in pasted logs): a delivery line without a join key.
    if (StartsWith(msg, "to=<")) return ParseDelivery(msg, service, e, out);
    // "QID: rest"
    size_t colon = msg.find(": ");
    if (colon == std::string_view::npos || colon == 0 || !IsQueueId(msg.substr(0, colon))) {
      if (service.empty()) return ParseResult::Error(ParseError::kUnrecognizedLine, "queue id");
      return ParseResult::Skip(SkipReason::kInformational);
    }
    e.message_id = msg.substr(0, colon);
    std::string_view rest = msg.substr(colon + 2);
    if (StartsWith(rest, "to=")) return ParseDelivery(rest, service, e, out);
    if (StartsWith(rest, "from=")) {
      e.sender = StripAngles(FieldValue(rest, "from="));
      e.sender_domain = DomainOf(e.sender);
      std::string_view status = FieldValue(rest, "status=");
      if (status == "expired" || status == "force-expired") {
        e.outcome = Outcome::kExpired;  // message-level: no recipient on this line
        e.locally_generated = true;
        e.reply.text = rest.substr(rest.find("status="));
        out.push_back(e);
        return {};
      }
      if (service == "qmgr" || service.empty()) {
        e.outcome = Outcome::kEnvelope;
        out.push_back(e);
        return {};
      }
      return ParseResult::Skip(SkipReason::kInformational);
    }
    if (rest == "removed" && (service == "qmgr" || service.empty())) {
      // The message left the queue: the join may forget its sender. Bookkeeping, not an outcome (the
      // pipeline counts the line as informational).
      e.outcome = Outcome::kEnvelope;
      e.envelope_removed = true;
      out.push_back(e);
      return {};
    }
    return ParseResult::Skip(SkipReason::kInformational);
  }

  // Message parts without a queue id that smtp(8) logs about connections, not deliveries.
  static bool IsBareInformational(std::string_view m) {
    for (std::string_view p : {"connect to ", "Untrusted TLS ", "Trusted TLS ", "Verified TLS ", "Anonymous TLS ",
                               "certificate verification failed", "warning: ", "lost connection with ",
                               "SSL_connect error", "server certificate verification failed"}) {
      if (StartsWith(m, p)) return true;
    }
    return false;
  }

  static bool IsQueueId(std::string_view id) {
    if (id.size() < 5 || id.size() > 32) return false;
    for (char c : id) {
      if (!absl::ascii_isalnum(static_cast<unsigned char>(c))) return false;
    }
    return true;
  }

  ParseResult ParseDelivery(std::string_view rest, std::string_view service, DeliveryEvent& e,
                            std::vector<DeliveryEvent>& out) {
    size_t status_pos = rest.find(", status=");
    if (status_pos == std::string_view::npos) return ParseResult::Error(ParseError::kMissingField, "status");
    std::string_view fields = rest.substr(0, status_pos);
    std::string_view status_part = rest.substr(status_pos + 9);
    size_t sp = status_part.find(' ');
    std::string_view status = status_part.substr(0, sp);
    std::string_view text;
    if (sp != std::string_view::npos) {
      std::string_view t = status_part.substr(sp + 1);
      if (t.size() < 2 || t.front() != '(') return ParseResult::Error(ParseError::kUnrecognizedLine, "status text");
      // A line cut short (maillog_file truncates at ~2000 bytes; shippers cut too) keeps its outcome:
      // the text is classified as far as it goes.
      text = t.back() == ')' ? t.substr(1, t.size() - 2) : t.substr(1);
    }
    e.recipient = StripAngles(FieldValue(fields, "to="));
    if (e.recipient.empty()) return ParseResult::Error(ParseError::kBadRecipient, "to");
    e.recipient_domain = DomainOf(e.recipient);
    std::string_view relay = FieldValue(fields, "relay=");
    if (relay != "none") SplitRelay(relay, e.mx_host, e.mx_ip);
    std::string_view dsn = FieldValue(fields, "dsn=");
    // An unparsable dsn= (fixtures write "1.2.3") leaves the enhanced code absent; the outcome is status=.
    if (!dsn.empty()) ParseDsn(dsn, e.reply.enhanced);
    if (status == "sent") {
      e.outcome = Outcome::kDelivered;
      if (service == "local" || service == "virtual" || service == "pipe" || relay == "virtual" ||
          relay == "local") {
        return ParseResult::Skip(SkipReason::kLocalDelivery);
      }
    } else if (status == "deferred") {
      e.outcome = Outcome::kDeferred;
    } else if (status == "bounced") {
      e.outcome = Outcome::kBounced;
    } else if (status == "expired") {
      e.outcome = Outcome::kExpired;
    } else if (status == "deliverable" || StartsWith(status, "undeliverable")) {
      // Address-verification probe results (verify(8), sendmail -bv), not deliveries of ours.
      return ParseResult::Skip(SkipReason::kInformational);
    } else {
      return ParseResult::Error(ParseError::kUnknownRecordType, "status");
    }
    ParseStatusText(text, e);
    if (e.reply.code == 0 && SaidAbsent(text) && service == "error") e.locally_generated = true;
    out.push_back(e);
    return {};
  }

  static bool SaidAbsent(std::string_view text) { return !Contains(text, " said: "); }

  // "NOQUEUE: reject: RCPT from H[IP]: 554 5.7.1 <rcpt>: text; from=<s> to=<r> proto=… helo=<…>"
  ParseResult ParseNoqueue(std::string_view msg, DeliveryEvent& e, std::vector<DeliveryEvent>& out) {
    std::string_view rest = msg.substr(17);
    size_t colon = rest.find(": ");
    if (colon == std::string_view::npos) return ParseResult::Error(ParseError::kUnrecognizedLine, "noqueue");
    std::string_view reply = rest.substr(colon + 2);
    size_t semi = reply.rfind("; from=");
    std::string_view envelope;
    if (semi != std::string_view::npos) {
      envelope = reply.substr(semi + 2);
      reply = reply.substr(0, semi);
    }
    e.outcome = Outcome::kRejected;
    e.stage = StartsWith(rest, "RCPT") ? SmtpStage::kRcpt : SmtpStage::kUnknown;
    if (reply.size() >= 4 && IsDigit(reply[0]) && IsDigit(reply[1]) && IsDigit(reply[2])) {
      e.reply.code = static_cast<uint16_t>((reply[0] - '0') * 100 + (reply[1] - '0') * 10 + (reply[2] - '0'));
      std::string_view after = reply.substr(4);
      ParseDsn(after.substr(0, after.find(' ')), e.reply.enhanced);
    }
    e.reply.text = reply;
    if (!envelope.empty()) {
      auto take = [&](std::string_view key) {
        size_t p = envelope.find(key);
        if (p == std::string_view::npos) return std::string_view{};
        std::string_view v = envelope.substr(p + key.size());
        return StripAngles(v.substr(0, v.find(' ')));
      };
      e.sender = take("from=");
      e.sender_domain = DomainOf(e.sender);
      e.recipient = take("to=");
      e.recipient_domain = DomainOf(e.recipient);
    }
    out.push_back(e);
    return {};
  }

  int64_t reference_ms_;
};

}  // namespace

std::unique_ptr<Parser> NewPostfixParser(const ParserOptions& options) {
  return std::make_unique<PostfixParser>(options);
}

}  // namespace bs
