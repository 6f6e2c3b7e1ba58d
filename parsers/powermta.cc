// PowerMTA accounting CSV (see powermta.h for the contract). One pass over the line: cells are split by
// RFC 4180 rules and only the columns the event needs are kept, as views into the line.
#include "parsers/powermta.h"

#include <simdjson.h>

#include <array>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "pipeline/base/strings.h"
#include "parsers/json_fields.h"
#include "parsers/smtp_reply.h"
#include "parsers/text_fields.h"
#include "pipeline/base/event_time.h"

namespace bs {
namespace {

// The columns the parser reads; everything else is kIgnore.
enum Col : uint8_t {
  kIgnore,
  kType,
  kTimeLogged,
  kTimeQueued,
  kOrig,
  kRcpt,
  kDsnAction,
  kDsnStatus,
  kDsnDiag,
  kDsnMta,
  kBounceCat,
  kDlvSourceIp,
  kDlvDestinationIp,
  kVmta,
  kVmtaPool,
  kJobId,
  kHeaderXJob,
  kQueue,
  kColCount,
};

struct ColName {
  std::string_view name;
  Col col;
};
constexpr ColName kColNames[] = {
    {"type", kType},
    {"timeLogged", kTimeLogged},
    {"timeQueued", kTimeQueued},
    {"orig", kOrig},
    {"rcpt", kRcpt},
    {"dsnAction", kDsnAction},
    {"dsnStatus", kDsnStatus},
    {"dsnDiag", kDsnDiag},
    {"dsnMta", kDsnMta},
    {"bounceCat", kBounceCat},
    {"dlvSourceIp", kDlvSourceIp},
    {"dlvDestinationIp", kDlvDestinationIp},
    {"dlvDesintationIp", kDlvDestinationIp},  // so spelled in a published column list (mailrelay appendix)
    {"vmta", kVmta},
    {"vmtaPool", kVmtaPool},
    {"jobId", kJobId},
    {"header_X-Job", kHeaderXJob},
    {"queue", kQueue},
};

Col ColFromName(std::string_view name) {
  name = TrimSpaces(name);
  for (const ColName& c : kColNames) {
    if (EqualsIgnoreCase(c.name, name)) return c.col;
  }
  return kIgnore;
}

enum class RecordType { kDelivered, kBounced, kTransient, kTransientQueue, kRemoteBounce, kRemoteStatus,
                        kFeedback, kReceived, kHeader, kUnknown };

RecordType TypeFromCell(std::string_view t) {
  switch (t.size()) {
    case 1:
      switch (t[0]) {
        case 'd': return RecordType::kDelivered;
        case 'b': return RecordType::kBounced;
        case 't': return RecordType::kTransient;
        case 'f': return RecordType::kFeedback;
        case 'r': return RecordType::kReceived;
        default: return RecordType::kUnknown;
      }
    case 2:
      if (t == "tq") return RecordType::kTransientQueue;
      if (t == "rb") return RecordType::kRemoteBounce;
      if (t == "rs") return RecordType::kRemoteStatus;
      return RecordType::kUnknown;
    default:
      // PowerMTA 5 documents the long names as an alternative spelling of the type cell.
      if (t == "type") return RecordType::kHeader;
      if (t == "delivery") return RecordType::kDelivered;
      if (t == "bounce") return RecordType::kBounced;
      if (t == "transient") return RecordType::kTransient;
      if (t == "transient-queue") return RecordType::kTransientQueue;
      if (t == "remote-bounce") return RecordType::kRemoteBounce;
      if (t == "remote-status") return RecordType::kRemoteStatus;
      if (t == "feedback" || t == "feedback-loop") return RecordType::kFeedback;
      if (t == "receipt" || t == "received") return RecordType::kReceived;
      return RecordType::kUnknown;
  }
}

// timeLogged: "2014-08-24 16:00:14+0530" (what real files hold), "… +0530", or UNIX time_t (the v4.0 guide).
std::optional<int64_t> ParsePmtaTime(std::string_view s) {
  s = TrimSpaces(s);
  if (s.empty()) return std::nullopt;
  if (std::optional<uint64_t> secs = ParseDecimal(s)) {
    if (*secs > 100000000000ULL) return std::nullopt;
    return static_cast<int64_t>(*secs) * 1000;
  }
  if (s.size() > 20 && s.size() < 40 && s[19] == ' ' && (s[20] == '+' || s[20] == '-')) {
    char buf[40];
    std::memcpy(buf, s.data(), 19);
    std::memcpy(buf + 19, s.data() + 20, s.size() - 20);
    return ParseIsoTime(std::string_view(buf, s.size() - 1));
  }
  return ParseIsoTime(s);
}

// The part of `queue` ("gmail.com/vmta-name") before the slash.
std::string_view QueueDomain(std::string_view queue) { return queue.substr(0, queue.find('/')); }

class PowerMtaParser final : public Parser {
 public:
  explicit PowerMtaParser(const ParserOptions& options) {
    if (!options.powermta_header.empty()) {
      SetHeader(StripLineEnd(options.powermta_header));
    }
  }

  ParseResult Parse(std::string_view record, const Position& pos, std::vector<DeliveryEvent>& out) override {
    std::string_view line = StripLineEnd(record);
    if (line.empty()) return ParseResult::Error(ParseError::kEmpty);
    if (line.size() > kMaxRecordBytes) return ParseResult::Error(ParseError::kTooLarge);
    if (!simdjson::validate_utf8(line.data(), line.size())) return ParseResult::Error(ParseError::kInvalidUtf8);

    std::string_view type_cell = line.substr(0, line.find(','));
    if (type_cell.size() >= 2 && type_cell.front() == '"' && type_cell.back() == '"') {
      type_cell = type_cell.substr(1, type_cell.size() - 2);
    }
    RecordType type = TypeFromCell(type_cell);
    if (type == RecordType::kHeader) {
      SetHeader(line);
      return ParseResult::Skip(SkipReason::kInformational);
    }
    if (type == RecordType::kUnknown) return ParseResult::Error(ParseError::kUnknownRecordType, "type");
    if (type == RecordType::kReceived) return ParseResult::Skip(SkipReason::kNotDelivery);
    if (columns_.empty()) return ParseResult::Error(ParseError::kMissingField, "header");

    ParseResult split = SplitCells(line);
    if (!split.ok()) return split;
    return BuildEvent(type, pos, out);
  }

 private:
  void SetHeader(std::string_view line) {
    columns_.clear();
    size_t start = 0;
    while (true) {
      size_t comma = line.find(',', start);
      std::string_view name = line.substr(start, comma == std::string_view::npos ? comma : comma - start);
      if (name.size() >= 2 && name.front() == '"' && name.back() == '"') name = name.substr(1, name.size() - 2);
      columns_.push_back(ColFromName(name));
      if (comma == std::string_view::npos) break;
      start = comma + 1;
    }
  }

  // Splits `line` into cells and keeps the mapped ones in cells_.
  ParseResult SplitCells(std::string_view line) {
    cells_.fill({});
    arena_.Reset(line.size());
    const size_t n = line.size();
    const size_t ncols = columns_.size();
    size_t col = 0;
    size_t i = 0;
    while (true) {
      std::string_view cell;
      bool escaped = false;
      if (i < n && line[i] == '"') {
        size_t j = i + 1;
        while (true) {
          const void* q = std::memchr(line.data() + j, '"', n - j);
          if (q == nullptr) return ParseResult::Error(ParseError::kTruncated, "quoted cell");
          size_t qi = static_cast<const char*>(q) - line.data();
          if (qi + 1 < n && line[qi + 1] == '"') {
            escaped = true;
            j = qi + 2;
            continue;
          }
          cell = line.substr(i + 1, qi - i - 1);
          i = qi + 1;
          break;
        }
        if (i < n && line[i] != ',') return ParseResult::Error(ParseError::kUnrecognizedLine, "text after a quoted cell");
      } else {
        const void* c = std::memchr(line.data() + i, ',', n - i);
        size_t ci = c == nullptr ? n : static_cast<const char*>(c) - line.data();
        cell = line.substr(i, ci - i);
        i = ci;
      }
      if (col < ncols && columns_[col] != kIgnore) {
        cells_[columns_[col]] = escaped ? Unescape(cell) : cell;
      }
      ++col;
      if (i >= n) break;
      ++i;  // the comma
      if (i == n) {
        ++col;  // a trailing comma ends with one empty cell
        break;
      }
    }
    if (col < ncols) return ParseResult::Error(ParseError::kTruncated, "fewer cells than the header");
    if (col > ncols) return ParseResult::Error(ParseError::kUnrecognizedLine, "more cells than the header");
    return {};
  }

  // `cell` with each doubled quote made single, in the arena (which holds a line's worth of bytes).
  std::string_view Unescape(std::string_view cell) {
    char* dst = arena_.Allocate(cell.size());
    if (dst == nullptr) return cell;
    size_t w = 0;
    for (size_t k = 0; k < cell.size(); ++k) {
      dst[w++] = cell[k];
      if (cell[k] == '"' && k + 1 < cell.size() && cell[k + 1] == '"') ++k;
    }
    return std::string_view(dst, w);
  }

  ParseResult BuildEvent(RecordType type, const Position& pos, std::vector<DeliveryEvent>& out) {
    DeliveryEvent e;
    e.position = pos;
    switch (type) {
      case RecordType::kDelivered: e.outcome = Outcome::kDelivered; break;
      case RecordType::kBounced:
        e.outcome = EqualsIgnoreCase(cells_[kBounceCat], "message-expired") ? Outcome::kExpired
                                                                                  : Outcome::kBounced;
        break;
      case RecordType::kTransient:
      case RecordType::kTransientQueue: e.outcome = Outcome::kDeferred; break;
      case RecordType::kRemoteBounce: e.outcome = Outcome::kOutOfBand; break;
      case RecordType::kRemoteStatus:
        if (!EqualsIgnoreCase(TrimSpaces(cells_[kDsnAction]), "failed")) {
          return ParseResult::Skip(SkipReason::kNotDelivery);
        }
        e.outcome = Outcome::kOutOfBand;
        break;
      case RecordType::kFeedback: e.outcome = Outcome::kComplaint; break;
      default: return ParseResult::Error(ParseError::kUnknownRecordType, "type");
    }

    std::string_view time_cell = !cells_[kTimeLogged].empty() ? cells_[kTimeLogged] : cells_[kTimeQueued];
    if (time_cell.empty()) return ParseResult::Error(ParseError::kMissingField, "timeLogged");
    std::optional<int64_t> t = ParsePmtaTime(time_cell);
    if (!t) return ParseResult::Error(ParseError::kBadTimestamp, "timeLogged");
    e.event_time_ms = *t;

    e.recipient = TrimSpaces(cells_[kRcpt]);
    if (e.recipient.empty()) {
      // A transient-queue record describes a queue (domain/vmta), not one recipient.
      if (type != RecordType::kTransientQueue) return ParseResult::Error(ParseError::kMissingField, "rcpt");
      e.recipient_domain = QueueDomain(cells_[kQueue]);
      if (e.recipient_domain.empty()) return ParseResult::Error(ParseError::kMissingField, "rcpt");
    } else {
      if (!IsPlausibleAddress(e.recipient)) return ParseResult::Error(ParseError::kBadRecipient, "rcpt");
      e.recipient_domain = DomainOf(e.recipient);
    }
    e.sender = TrimSpaces(cells_[kOrig]);
    e.sender_domain = DomainOf(e.sender);
    e.campaign = !cells_[kJobId].empty() ? cells_[kJobId] : cells_[kHeaderXJob];
    e.sending_ip = cells_[kDlvSourceIp];
    e.egress_source = cells_[kVmta];
    e.egress_pool = cells_[kVmtaPool];
    SplitHostParenIp(cells_[kDsnMta], e.mx_host, e.mx_ip);
    if (e.mx_ip.empty()) e.mx_ip = cells_[kDlvDestinationIp];

    // dsnStatus: "5.1.1 (bad destination mailbox address)" — the code, then PowerMTA's description.
    std::string_view status = TrimSpaces(cells_[kDsnStatus]);
    std::string_view status_text;
    if (!status.empty()) {
      size_t sp = status.find(' ');
      EnhancedCode enh;
      if (ParseEnhancedCode(status.substr(0, sp), &enh)) e.reply.enhanced = enh;
      if (sp != std::string_view::npos) {
        status_text = TrimSpaces(status.substr(sp + 1));
        if (status_text.size() >= 2 && status_text.front() == '(' && status_text.back() == ')') {
          status_text = status_text.substr(1, status_text.size() - 2);
        }
      }
    }
    // dsnDiag: "smtp;550 5.7.1 …" (prefix case varies, sometimes absent).
    bool typed = false;
    std::string_view diag = StripDiagnosticType(cells_[kDsnDiag], &typed);
    if (!diag.empty()) {
      SmtpReply r = ReplyFromText(diag);
      e.reply.code = r.code;
      if (r.enhanced.present()) e.reply.enhanced = r.enhanced;
      e.reply.text = r.text;
      // No diagnostic type and no remote MTA: PowerMTA's own words (timeouts, expiry, DNS).
      e.locally_generated = !typed && e.mx_host.empty() && r.code == 0;
    } else {
      // Layouts without dsnDiag still say what happened in dsnStatus's description.
      e.reply.text = status_text;
      e.locally_generated = e.mx_host.empty();
    }
    out.push_back(e);
    return {};
  }

  std::vector<Col> columns_;                           // header column → field; empty until a header
  std::array<std::string_view, kColCount> cells_{};    // this record's mapped cells
  ScratchArena arena_;                                 // cells with doubled quotes, unescaped
};

}  // namespace

std::unique_ptr<Parser> NewPowerMtaParser(const ParserOptions& options) {
  return std::make_unique<PowerMtaParser>(options);
}

}  // namespace bs
