// Classification (contract, see README "Outputs"): what a reply means and what to do about it.
// The enums are closed sets; their snake_case names are the wire format and the rule-file vocabulary.
#ifndef BOUNCESTREAM_RULES_CLASSIFICATION_H_
#define BOUNCESTREAM_RULES_CLASSIFICATION_H_

#include <cstdint>
#include <optional>
#include <string_view>

#include "parsers/delivery_event.h"

namespace bs {

enum class Provider : uint8_t {
  kOther, kGmail, kMicrosoft, kYahoo, kApple, kComcast, kGmx, kOrange, kZoho, kYandex, kMailru, kQq,
  kNetease, kMimecast, kProofpoint, kBarracuda, kCisco,
};
inline constexpr int kProviderCount = 17;

enum class BounceType : uint8_t { kNone, kSoft, kHard, kTechnical };

enum class Category : uint8_t {
  kUnknown, kDelivered, kForwarded, kCatchAll, kGreylisted, kRateLimited, kMailboxFull,
  kMailboxUnavailable, kUserUnknown, kMailboxDisabled, kBadAddress, kDomainNotFound, kDomainNoMail,
  kRelayDenied, kDmarcFailure, kSpfFailure, kDkimFailure, kAuthFailure, kIpBlocklisted,
  kDomainBlocklisted, kReputation, kSpamContent, kVirus, kPolicy, kTlsFailure, kMessageTooLarge,
  kSenderConfig, kServerError, kNetworkError, kExpired, kForwarding, kAutoReply, kComplaint,
};
inline constexpr int kCategoryCount = 33;

enum class Action : uint8_t {
  kNone, kMonitor, kRetry, kRetrySlower, kRetryOnce, kSuppressAddress, kSuppressDomain, kReengage,
  kVerify, kFixSenderConfig, kFixAuthentication, kRequestDelisting, kReviewContent, kInvestigate,
};
inline constexpr int kActionCount = 14;

enum class Scope : uint8_t { kNone, kAddress, kDomain, kSendingIp, kSenderDomain, kContent, kSenderConfig };
inline constexpr int kScopeCount = 7;

std::string_view ProviderName(Provider v);
std::string_view BounceTypeName(BounceType v);
std::string_view CategoryName(Category v);
std::string_view ActionName(Action v);
std::string_view ScopeName(Scope v);
std::optional<Provider> ProviderFromName(std::string_view s);
std::optional<BounceType> BounceTypeFromName(std::string_view s);
std::optional<Category> CategoryFromName(std::string_view s);
std::optional<Action> ActionFromName(std::string_view s);
std::optional<Scope> ScopeFromName(std::string_view s);

// True only for recipient-scope failures: the one kind of classification allowed to suppress.
// (DECISIONS.md "the first rule": a refusal of *us* never suppresses.)
constexpr bool IsRecipientScope(Scope s) { return s == Scope::kAddress || s == Scope::kDomain; }

struct Classification {
  Provider provider = Provider::kOther;
  BounceType bounce_type = BounceType::kNone;
  Category category = Category::kUnknown;
  Action action = Action::kNone;
  Scope scope = Scope::kNone;
  // Stable rule id ("gmail.rate_limit.4_7_28"); points into the RuleSet snapshot that classified it,
  // valid while that snapshot is alive.
  std::string_view rule;
  // Blocklist named by the reply ("spamhaus"), empty otherwise; same lifetime as `rule`.
  std::string_view blocklist;
  uint16_t code = 0;      // basic code after normalisation (from the text when the record had none)
  EnhancedCode enhanced;  // enhanced code after normalisation
};

}  // namespace bs

#endif  // BOUNCESTREAM_RULES_CLASSIFICATION_H_
