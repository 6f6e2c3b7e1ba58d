#include "rules/classification.h"

namespace bs {
namespace {

template <typename E, size_t N>
std::optional<E> Lookup(const std::string_view (&names)[N], std::string_view s) {
  for (size_t i = 0; i < N; ++i) {
    if (names[i] == s) return static_cast<E>(i);
  }
  return std::nullopt;
}

constexpr std::string_view kProviderNames[] = {
    "other", "gmail", "microsoft", "yahoo", "apple", "comcast", "gmx", "orange", "zoho", "yandex", "mailru",
    "qq", "netease", "mimecast", "proofpoint", "barracuda", "cisco",
};
constexpr std::string_view kBounceTypeNames[] = {
    "none", "soft", "hard", "technical",
};
constexpr std::string_view kCategoryNames[] = {
    "unknown", "delivered", "forwarded", "catch_all", "greylisted", "rate_limited", "mailbox_full",
    "mailbox_unavailable", "user_unknown", "mailbox_disabled", "bad_address", "domain_not_found",
    "domain_no_mail", "relay_denied", "dmarc_failure", "spf_failure", "dkim_failure", "auth_failure",
    "ip_blocklisted", "domain_blocklisted", "reputation", "spam_content", "virus", "policy", "tls_failure",
    "message_too_large", "sender_config", "server_error", "network_error", "expired", "forwarding",
    "auto_reply", "complaint",
};
constexpr std::string_view kActionNames[] = {
    "none", "monitor", "retry", "retry_slower", "retry_once", "suppress_address", "suppress_domain",
    "reengage", "verify", "fix_sender_config", "fix_authentication", "request_delisting", "review_content",
    "investigate",
};
constexpr std::string_view kScopeNames[] = {
    "none", "address", "domain", "sending_ip", "sender_domain", "content", "sender_config",
};

}  // namespace

std::string_view ProviderName(Provider v) { return kProviderNames[static_cast<size_t>(v)]; }
std::optional<Provider> ProviderFromName(std::string_view s) { return Lookup<Provider>(kProviderNames, s); }
std::string_view BounceTypeName(BounceType v) { return kBounceTypeNames[static_cast<size_t>(v)]; }
std::optional<BounceType> BounceTypeFromName(std::string_view s) { return Lookup<BounceType>(kBounceTypeNames, s); }
std::string_view CategoryName(Category v) { return kCategoryNames[static_cast<size_t>(v)]; }
std::optional<Category> CategoryFromName(std::string_view s) { return Lookup<Category>(kCategoryNames, s); }
std::string_view ActionName(Action v) { return kActionNames[static_cast<size_t>(v)]; }
std::optional<Action> ActionFromName(std::string_view s) { return Lookup<Action>(kActionNames, s); }
std::string_view ScopeName(Scope v) { return kScopeNames[static_cast<size_t>(v)]; }
std::optional<Scope> ScopeFromName(std::string_view s) { return Lookup<Scope>(kScopeNames, s); }

}  // namespace bs
