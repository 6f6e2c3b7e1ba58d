// ESP verdicts as classifications (see esp_class.h). The tables follow each ESP's documentation as
// summarised in LOG_FORMATS.md §5–8; classes not listed keep the reply's classification.
#include "pipeline/worker/esp_class.h"

#include <string_view>

#include "absl/strings/str_cat.h"
#include "pipeline/base/strings.h"

namespace bs {
namespace {

struct Verdict {
  std::string_view rule;
  BounceType bounce_type;
  Category category;
  Action action;
  Scope scope;
};

// A class table row: `type` and `subtype` compared ignoring case; an empty `subtype` matches any.
struct Row {
  std::string_view type;
  std::string_view subtype;
  Verdict verdict;
};

using B = BounceType;
using C = Category;
using A = Action;
using S = Scope;

// Amazon SES: bounce.bounceType / bounceSubType, and deliveryDelay.delayType.
constexpr Row kSes[] = {
    {"Permanent", "NoEmail", {"esp.ses.permanent_noemail", B::kHard, C::kUserUnknown, A::kSuppressAddress, S::kAddress}},
    // SES's own lists: the address bounced (or was listed) before; SES refuses to send to it.
    {"Permanent", "Suppressed", {"esp.ses.suppressed", B::kHard, C::kMailboxUnavailable, A::kSuppressAddress, S::kAddress}},
    {"Permanent", "OnAccountSuppressionList",
     {"esp.ses.account_suppression_list", B::kHard, C::kMailboxUnavailable, A::kSuppressAddress, S::kAddress}},
    {"Permanent", "OnTenantSuppressionList",
     {"esp.ses.tenant_suppression_list", B::kHard, C::kMailboxUnavailable, A::kSuppressAddress, S::kAddress}},
    // "General" may be a block as well as a bad address: a hard bounce, but not a recipient verdict.
    {"Permanent", "General", {"esp.ses.permanent_general", B::kHard, C::kUnknown, A::kMonitor, S::kNone}},
    {"Transient", "MailboxFull", {"esp.ses.mailbox_full", B::kSoft, C::kMailboxFull, A::kRetry, S::kAddress}},
    {"Transient", "MessageTooLarge",
     {"esp.ses.message_too_large", B::kSoft, C::kMessageTooLarge, A::kReviewContent, S::kContent}},
    {"Transient", "ContentRejected",
     {"esp.ses.content_rejected", B::kSoft, C::kSpamContent, A::kReviewContent, S::kContent}},
    {"Transient", "AttachmentRejected",
     {"esp.ses.attachment_rejected", B::kSoft, C::kPolicy, A::kReviewContent, S::kContent}},
    {"Transient", "General", {"esp.ses.transient_general", B::kSoft, C::kUnknown, A::kRetry, S::kNone}},
    {"DeliveryDelay", "MailboxFull", {"esp.ses.delay.mailbox_full", B::kSoft, C::kMailboxFull, A::kRetry, S::kAddress}},
    {"DeliveryDelay", "SpamDetected",
     {"esp.ses.delay.spam_detected", B::kSoft, C::kSpamContent, A::kReviewContent, S::kContent}},
    {"DeliveryDelay", "IPFailure",
     {"esp.ses.delay.ip_failure", B::kSoft, C::kReputation, A::kRetrySlower, S::kSendingIp}},
    {"DeliveryDelay", "SendingDeferral",
     {"esp.ses.delay.sending_deferral", B::kSoft, C::kRateLimited, A::kRetrySlower, S::kSendingIp}},
    {"DeliveryDelay", "TransientCommunicationFailure",
     {"esp.ses.delay.communication_failure", B::kSoft, C::kNetworkError, A::kRetry, S::kNone}},
    {"DeliveryDelay", "RecipientServerError",
     {"esp.ses.delay.recipient_server_error", B::kSoft, C::kServerError, A::kRetry, S::kNone}},
    {"DeliveryDelay", "InternalFailure",
     {"esp.ses.delay.internal_failure", B::kSoft, C::kServerError, A::kRetry, S::kNone}},
};

// SparkPost bounce_class (support-docs bounce-classification-codes): 10 is the only recipient verdict;
// 50–54 are blocks of us; 60/80/90/100 never reach here (the parser skips them as answers).
constexpr Row kSparkPost[] = {
    {"10", "", {"esp.sparkpost.10_invalid_recipient", B::kHard, C::kUserUnknown, A::kSuppressAddress, S::kAddress}},
    {"20", "", {"esp.sparkpost.20_soft", B::kSoft, C::kUnknown, A::kRetry, S::kNone}},
    {"21", "", {"esp.sparkpost.21_dns_failure", B::kSoft, C::kNetworkError, A::kRetry, S::kNone}},
    {"22", "", {"esp.sparkpost.22_mailbox_full", B::kSoft, C::kMailboxFull, A::kRetry, S::kAddress}},
    {"23", "", {"esp.sparkpost.23_too_large", B::kSoft, C::kMessageTooLarge, A::kReviewContent, S::kContent}},
    {"24", "", {"esp.sparkpost.24_timeout", B::kSoft, C::kNetworkError, A::kRetry, S::kNone}},
    {"25", "", {"esp.sparkpost.25_admin_failure", B::kTechnical, C::kPolicy, A::kInvestigate, S::kSenderConfig}},
    // 30 "No RCPT": no recipient could be determined for the message: hard, but not this address's fault.
    {"30", "", {"esp.sparkpost.30_no_rcpt", B::kHard, C::kUnknown, A::kInvestigate, S::kNone}},
    {"50", "", {"esp.sparkpost.50_mail_block", B::kHard, C::kPolicy, A::kInvestigate, S::kSendingIp}},
    {"51", "", {"esp.sparkpost.51_spam_block", B::kHard, C::kReputation, A::kInvestigate, S::kSendingIp}},
    {"52", "", {"esp.sparkpost.52_spam_content", B::kHard, C::kSpamContent, A::kReviewContent, S::kContent}},
    {"53", "", {"esp.sparkpost.53_prohibited_attachment", B::kHard, C::kPolicy, A::kReviewContent, S::kContent}},
    {"54", "", {"esp.sparkpost.54_relaying_denied", B::kTechnical, C::kRelayDenied, A::kFixSenderConfig,
                S::kSenderConfig}},
    {"70", "", {"esp.sparkpost.70_transient", B::kSoft, C::kUnknown, A::kRetry, S::kNone}},
};

// SendGrid: bounce_classification (Twilio's enum) under type "bounce"; drop reasons under "dropped".
// "blocked" rows come first: a block never suppresses, whatever its classification says.
constexpr Row kSendGrid[] = {
    {"blocked", "Content", {"esp.sendgrid.blocked.content", B::kSoft, C::kSpamContent, A::kReviewContent, S::kContent}},
    {"blocked", "Frequency or Volume Too High",
     {"esp.sendgrid.blocked.volume", B::kSoft, C::kRateLimited, A::kRetrySlower, S::kSendingIp}},
    {"blocked", "Technical Failure",
     {"esp.sendgrid.blocked.technical", B::kSoft, C::kServerError, A::kInvestigate, S::kNone}},
    {"blocked", "", {"esp.sendgrid.blocked", B::kSoft, C::kReputation, A::kInvestigate, S::kSendingIp}},
    {"bounce", "Invalid Address",
     {"esp.sendgrid.invalid_address", B::kHard, C::kUserUnknown, A::kSuppressAddress, S::kAddress}},
    {"bounce", "Mailbox Unavailable",
     {"esp.sendgrid.mailbox_unavailable", B::kHard, C::kMailboxUnavailable, A::kVerify, S::kAddress}},
    {"", "Technical Failure", {"esp.sendgrid.technical", B::kTechnical, C::kServerError, A::kInvestigate, S::kNone}},
    {"", "Content", {"esp.sendgrid.content", B::kHard, C::kSpamContent, A::kReviewContent, S::kContent}},
    {"", "Reputation", {"esp.sendgrid.reputation", B::kHard, C::kReputation, A::kInvestigate, S::kSendingIp}},
    {"", "Frequency or Volume Too High",
     {"esp.sendgrid.volume", B::kSoft, C::kRateLimited, A::kRetrySlower, S::kSendingIp}},
    // SendGrid's own lists: the address bounced before, or is not an address.
    {"dropped", "Bounced Address",
     {"esp.sendgrid.dropped.bounced_address", B::kHard, C::kMailboxUnavailable, A::kSuppressAddress, S::kAddress}},
    {"dropped", "Invalid", {"esp.sendgrid.dropped.invalid", B::kHard, C::kBadAddress, A::kSuppressAddress, S::kAddress}},
};

// Mailgun: severity / reason.
constexpr Row kMailgun[] = {
    {"permanent", "suppress-bounce",
     {"esp.mailgun.suppress_bounce", B::kHard, C::kMailboxUnavailable, A::kSuppressAddress, S::kAddress}},
    {"", "espblock", {"esp.mailgun.espblock", B::kTechnical, C::kPolicy, A::kInvestigate, S::kSenderConfig}},
    {"", "greylisted", {"esp.mailgun.greylisted", B::kSoft, C::kGreylisted, A::kRetry, S::kNone}},
    {"", "old", {"esp.mailgun.old", B::kSoft, C::kExpired, A::kMonitor, S::kNone}},
};

template <size_t N>
const Verdict* Find(const Row (&rows)[N], const EspClass& c) {
  for (const Row& r : rows) {
    if (!r.type.empty() && !EqualsIgnoreCase(r.type, c.type)) continue;
    if (!r.subtype.empty() && !EqualsIgnoreCase(r.subtype, c.subtype)) continue;
    return &r.verdict;
  }
  return nullptr;
}

bool Suppresses(Action a) { return a == Action::kSuppressAddress || a == Action::kSuppressDomain; }

}  // namespace

std::string EspClassText(const EspClass& c) {
  if (!c.present()) return "";
  if (c.subtype.empty()) return absl::StrCat(Av(EspName(c.esp)), ":", Av(c.type));
  return absl::StrCat(Av(EspName(c.esp)), ":", Av(c.type), "/", Av(c.subtype));
}

std::optional<Classification> EspClassification(const EspClass& c) {
  const Verdict* v = nullptr;
  switch (c.esp) {
    case Esp::kNone: return std::nullopt;
    case Esp::kSes: v = Find(kSes, c); break;
    case Esp::kSparkPost: v = Find(kSparkPost, c); break;
    case Esp::kSendGrid: v = Find(kSendGrid, c); break;
    case Esp::kMailgun: v = Find(kMailgun, c); break;
  }
  if (v == nullptr) return std::nullopt;
  Classification cls;
  cls.rule = v->rule;
  cls.bounce_type = v->bounce_type;
  cls.category = v->category;
  cls.action = v->action;
  cls.scope = v->scope;
  return cls;
}

bool IsWeakClassification(const Classification& cls) {
  return cls.category == Category::kUnknown || cls.rule == "unknown" || cls.rule == "generic.local.other";
}

bool ApplyEspClass(const DeliveryEvent& e, Classification& cls) {
  if (!e.esp_class.present() || !IsWeakClassification(cls)) return false;
  switch (e.outcome) {
    case Outcome::kBounced:
    case Outcome::kRejected:
    case Outcome::kOutOfBand:
    case Outcome::kDeferred:
    case Outcome::kExpired:
      break;
    default:
      return false;  // deliveries and complaints have their own meaning; envelopes are not classified
  }
  std::optional<Classification> esp = EspClassification(e.esp_class);
  if (!esp) return false;
  // A deferral is not a final verdict on the address, whatever the ESP's class says.
  if (Suppresses(esp->action) && (e.outcome == Outcome::kDeferred || e.outcome == Outcome::kExpired)) return false;
  esp->provider = cls.provider;
  esp->code = cls.code;
  esp->enhanced = cls.enhanced;
  esp->blocklist = cls.blocklist;
  cls = *esp;
  return true;
}

}  // namespace bs
