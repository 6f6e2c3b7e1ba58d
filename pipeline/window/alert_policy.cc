#include "pipeline/window/alert_policy.h"

namespace bs {

std::array<KindThreshold, kAlertKindCount> AlertPolicy::DefaultThresholds() {
  std::array<KindThreshold, kAlertKindCount> t{};
  auto set = [&](AlertKind k, uint64_t attempts, uint64_t count, double rate) {
    t[static_cast<size_t>(k)] = KindThreshold{attempts, count, rate};
  };
  set(AlertKind::kRateLimit, 20, 10, 0.05);
  set(AlertKind::kDmarcFailure, 10, 5, 0.02);
  set(AlertKind::kSpfFailure, 10, 5, 0.02);
  set(AlertKind::kDkimFailure, 10, 5, 0.02);
  set(AlertKind::kAuthFailure, 10, 5, 0.02);
  set(AlertKind::kBlocklist, 1, 1, 0.0);      // a single listing is worth an alert
  set(AlertKind::kReputation, 20, 5, 0.05);
  set(AlertKind::kSpamContent, 20, 5, 0.05);
  set(AlertKind::kSenderConfig, 1, 1, 0.0);   // our own configuration error: alert at once
  set(AlertKind::kTlsFailure, 10, 5, 0.05);
  set(AlertKind::kDomainDeferrals, 50, 25, 0.3);
  return t;
}

bool AlertKindForCategory(Category c, AlertKind& kind) {
  switch (c) {
    case Category::kRateLimited: kind = AlertKind::kRateLimit; return true;
    case Category::kDmarcFailure: kind = AlertKind::kDmarcFailure; return true;
    case Category::kSpfFailure: kind = AlertKind::kSpfFailure; return true;
    case Category::kDkimFailure: kind = AlertKind::kDkimFailure; return true;
    case Category::kAuthFailure: kind = AlertKind::kAuthFailure; return true;
    case Category::kIpBlocklisted:
    case Category::kDomainBlocklisted: kind = AlertKind::kBlocklist; return true;
    case Category::kReputation: kind = AlertKind::kReputation; return true;
    case Category::kSpamContent: kind = AlertKind::kSpamContent; return true;
    case Category::kSenderConfig: kind = AlertKind::kSenderConfig; return true;
    case Category::kTlsFailure: kind = AlertKind::kTlsFailure; return true;
    default: return false;
  }
}

Action ActionForAlertKind(AlertKind k) {
  switch (k) {
    case AlertKind::kRateLimit: return Action::kRetrySlower;
    case AlertKind::kDmarcFailure:
    case AlertKind::kSpfFailure:
    case AlertKind::kDkimFailure:
    case AlertKind::kAuthFailure: return Action::kFixAuthentication;
    case AlertKind::kBlocklist: return Action::kRequestDelisting;
    case AlertKind::kReputation: return Action::kInvestigate;
    case AlertKind::kSpamContent: return Action::kReviewContent;
    case AlertKind::kSenderConfig:
    case AlertKind::kTlsFailure: return Action::kFixSenderConfig;
    case AlertKind::kDomainDeferrals: return Action::kRetrySlower;
  }
  return Action::kInvestigate;
}

}  // namespace bs
