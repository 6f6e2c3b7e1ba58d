#include "parsers/delivery_event.h"

namespace bs {

std::string_view OutcomeName(Outcome o) {
  switch (o) {
    case Outcome::kDelivered: return "delivered";
    case Outcome::kDeferred: return "deferred";
    case Outcome::kBounced: return "bounced";
    case Outcome::kExpired: return "expired";
    case Outcome::kRejected: return "rejected";
    case Outcome::kOutOfBand: return "out_of_band";
    case Outcome::kComplaint: return "complaint";
    case Outcome::kEnvelope: return "envelope";
  }
  return "unknown";
}

std::string_view SmtpStageName(SmtpStage s) {
  switch (s) {
    case SmtpStage::kUnknown: return "unknown";
    case SmtpStage::kConnect: return "connect";
    case SmtpStage::kHelo: return "helo";
    case SmtpStage::kMail: return "mail";
    case SmtpStage::kRcpt: return "rcpt";
    case SmtpStage::kData: return "data";
  }
  return "unknown";
}

std::string_view EspName(Esp e) {
  switch (e) {
    case Esp::kNone: return "";
    case Esp::kSendGrid: return "sendgrid";
    case Esp::kMailgun: return "mailgun";
    case Esp::kSes: return "ses";
    case Esp::kSparkPost: return "sparkpost";
  }
  return "";
}

std::string_view DomainOf(std::string_view address) {
  size_t at = address.rfind('@');
  if (at == std::string_view::npos) return {};
  return address.substr(at + 1);
}

}  // namespace bs
