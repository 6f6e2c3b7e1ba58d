// Test helper: builds classified events for the stateful decider at simulated event times (no clock is
// read anywhere). Events are views, so the builder owns the strings they point to; every event gets its
// own position ("t.log:N"), and feeding the same event again is a replay of that record.
#ifndef BOUNCESTREAM_TESTS_PIPELINE_STATE_EVENTS_H_
#define BOUNCESTREAM_TESTS_PIPELINE_STATE_EVENTS_H_

#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "pipeline/sink/encoders.h"
#include "pipeline/state/suppression_decider.h"

namespace bs::testing {

inline constexpr int64_t kT0 = 1793606400000;  // 2026-11-02T08:00:00Z
inline constexpr int64_t kMinute = 60 * 1000;
inline constexpr int64_t kHour = 60 * kMinute;
inline constexpr int64_t kDay = 24 * kHour;

class StateEvents {
 public:
  explicit StateEvents(std::string_view source = "t.log") : source_(Keep(source)) {}

  ClassifiedEvent Delivered(std::string_view rcpt, int64_t t, std::string_view campaign = "c1") {
    return Make(rcpt, t, campaign, Outcome::kDelivered, 250, {2, 0, 0}, "2.0.0 OK", Category::kDelivered,
                Action::kNone, Scope::kNone, "generic.delivered");
  }
  ClassifiedEvent Greylisted(std::string_view rcpt, int64_t t, std::string_view campaign = "c1") {
    return Make(rcpt, t, campaign, Outcome::kDeferred, 451, {4, 7, 1}, "Greylisted, see postgrey",
                Category::kGreylisted, Action::kRetry, Scope::kNone, "generic.greylisted");
  }
  ClassifiedEvent MailboxFull(std::string_view rcpt, int64_t t, std::string_view campaign = "c1") {
    return Make(rcpt, t, campaign, Outcome::kDeferred, 452, {4, 2, 2}, "The recipient's inbox is out of storage space",
                Category::kMailboxFull, Action::kRetry, Scope::kAddress, "gmail.mailbox_full.4_2_2");
  }
  ClassifiedEvent StorageExceeded(std::string_view rcpt, int64_t t, std::string_view campaign = "c1") {
    return Make(rcpt, t, campaign, Outcome::kBounced, 552, {5, 2, 2}, "Mailbox full: storage allocation exceeded",
                Category::kMailboxFull, Action::kRetryOnce, Scope::kAddress, "generic.mailbox_full.552");
  }
  ClassifiedEvent Unavailable(std::string_view rcpt, int64_t t, std::string_view campaign = "c1") {
    return Make(rcpt, t, campaign, Outcome::kDeferred, 450, {4, 2, 1}, "Mailbox temporarily unavailable",
                Category::kMailboxUnavailable, Action::kRetry, Scope::kAddress, "generic.mailbox_unavailable.450");
  }
  ClassifiedEvent UserUnknown(std::string_view rcpt, int64_t t, std::string_view campaign = "c1") {
    return Make(rcpt, t, campaign, Outcome::kBounced, 550, {5, 1, 1}, "No such user", Category::kUserUnknown,
                Action::kSuppressAddress, Scope::kAddress, "generic.user_unknown.5_1_1");
  }
  ClassifiedEvent NullMx(std::string_view rcpt, int64_t t, std::string_view campaign = "c1") {
    return Make(rcpt, t, campaign, Outcome::kBounced, 556, {5, 1, 10}, "Domain does not accept mail (null MX)",
                Category::kDomainNoMail, Action::kSuppressDomain, Scope::kDomain, "generic.domain_no_mail.556");
  }
  ClassifiedEvent RateLimited(std::string_view rcpt, int64_t t, std::string_view campaign = "c1") {
    return Make(rcpt, t, campaign, Outcome::kDeferred, 421, {4, 7, 0}, "rate limited - gsmtp", Category::kRateLimited,
                Action::kRetrySlower, Scope::kSendingIp, "gmail.rate_limit.unsolicited");
  }
  ClassifiedEvent DmarcFailure(std::string_view rcpt, int64_t t, std::string_view campaign = "c1") {
    return Make(rcpt, t, campaign, Outcome::kBounced, 550, {5, 7, 26}, "DMARC policy of reject",
                Category::kDmarcFailure, Action::kFixAuthentication, Scope::kSenderDomain, "microsoft.dmarc");
  }
  // A Postfix-like event: no campaign id, only the envelope sender.
  ClassifiedEvent WithSender(ClassifiedEvent ce, std::string_view sender) {
    ce.event.campaign = {};
    ce.event.sender = Keep(sender);
    return ce;
  }
  ClassifiedEvent WithTenant(ClassifiedEvent ce, std::string_view tenant) {
    ce.event.tenant = Keep(tenant);
    return ce;
  }

 private:
  ClassifiedEvent Make(std::string_view rcpt, int64_t t, std::string_view campaign, Outcome outcome, uint16_t code,
                       EnhancedCode enhanced, std::string_view text, Category category, Action action, Scope scope,
                       std::string_view rule) {
    ClassifiedEvent ce;
    ce.event.event_time_ms = t;
    ce.event.outcome = outcome;
    ce.event.recipient = Keep(rcpt);
    ce.event.recipient_domain = DomainOf(ce.event.recipient);
    ce.event.campaign = Keep(campaign);
    ce.event.tenant = "acme";
    ce.event.reply = {code, enhanced, Keep(text)};
    ce.event.position = Position{source_, -1, ++line_};
    ce.cls.category = category;
    ce.cls.action = action;
    ce.cls.scope = scope;
    ce.cls.rule = Keep(rule);
    ce.cls.code = code;
    ce.cls.enhanced = enhanced;
    ce.cls.bounce_type = code >= 500 ? BounceType::kHard : code >= 400 ? BounceType::kSoft : BounceType::kNone;
    return ce;
  }
  std::string_view Keep(std::string_view s) { return strings_.emplace_back(s); }

  std::deque<std::string> strings_;
  std::string_view source_;
  int64_t line_ = 0;
};

// Runs events through a decider (or the reference) and returns the encoded outputs.
template <typename Decider>
std::vector<std::string> Run(Decider& d, const std::vector<ClassifiedEvent>& events) {
  std::vector<std::string> lines;
  std::vector<SuppressionRecord> out;
  for (const ClassifiedEvent& ce : events) {
    out.clear();
    d.Decide(ce, out);
    for (const SuppressionRecord& r : out) {
      std::string line;
      EncodeSuppression(r, line);
      lines.push_back(std::move(line));
    }
  }
  return lines;
}

}  // namespace bs::testing

#endif  // BOUNCESTREAM_TESTS_PIPELINE_STATE_EVENTS_H_
