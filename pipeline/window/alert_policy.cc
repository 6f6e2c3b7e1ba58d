#include "pipeline/window/alert_policy.h"

#include "absl/strings/str_cat.h"

namespace bs {

std::array<KindThreshold, kAlertKindCount> AlertPolicy::DefaultThresholds() {
  std::array<KindThreshold, kAlertKindCount> t{};
  auto set = [&](AlertKind k, uint64_t attempts, uint64_t count, double rate) {
    t[static_cast<size_t>(k)] = KindThreshold{attempts, count, rate, 3.0};
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
  set(AlertKind::kDomainDeferrals, 50, 25, 0.3);  // a large share of one recipient domain deferred
  // kSilence is not a failure rate: SilencePolicy below sets its thresholds (this entry is unused).
  return t;
}

std::map<std::pair<Provider, AlertKind>, KindThreshold> AlertPolicy::DefaultProviderThresholds() {
  std::map<std::pair<Provider, AlertKind>, KindThreshold> m;
  // Domains without a provider of their own are small corporate and regional domains: far fewer attempts
  // per window than gmail.com, so a lower volume floor, but most of their traffic must be deferred.
  m[{Provider::kOther, AlertKind::kDomainDeferrals}] = KindThreshold{20, 10, 0.5, 3.0};
  return m;
}

const KindThreshold& AlertPolicy::Threshold(Provider provider, AlertKind kind) const {
  if (!provider_thresholds.empty()) {
    auto it = provider_thresholds.find({provider, kind});
    if (it != provider_thresholds.end()) return it->second;
  }
  return thresholds[static_cast<size_t>(kind)];
}

absl::Status ValidateAlertPolicy(const AlertPolicy& p) {
  if (p.window_ms <= 0 || p.advance_ms <= 0) return absl::InvalidArgumentError("alerts: window and advance must be positive");
  if (p.advance_ms > p.window_ms || p.window_ms % p.advance_ms != 0) {
    return absl::InvalidArgumentError(absl::StrCat("alerts: the window (", p.window_ms,
                                                   " ms) must be a multiple of the advance (", p.advance_ms, " ms)"));
  }
  if (p.out_of_orderness_ms < 0 || p.grace_ms < 0 || p.idle_timeout_ms < 0 || p.resolve_after_ms < 0 ||
      p.stale_after_ms < 0 || p.update_cooldown_ms < 0 || p.escalation_run_ms < 0 || p.ageing_after_ms < 0 ||
      p.key_ttl_ms < 0) {
    return absl::InvalidArgumentError("alerts: times must not be negative");
  }
  if (!(p.baseline_alpha > 0 && p.baseline_alpha <= 1)) return absl::InvalidArgumentError("alerts: baseline_alpha must be in (0, 1]");
  if (!(p.update_factor >= 1)) return absl::InvalidArgumentError("alerts: update_factor must be at least 1");
  const SilencePolicy& s = p.silence;
  if (s.window_ms <= 0 || s.quiet_windows < 1 || s.warmup_windows < 0 || s.quiet_percent < 0 ||
      s.quiet_percent >= 100 || s.rest_min_percent < 0 || s.rest_min_percent > 100 ||
      !(s.baseline_alpha > 0 && s.baseline_alpha <= 1)) {
    return absl::InvalidArgumentError(
        "alerts.silence: window must be positive, quiet_windows at least 1, quiet_percent in [0, 100), "
        "rest_min_percent in [0, 100], baseline_alpha in (0, 1]");
  }
  auto check = [](const KindThreshold& t, std::string_view what) -> absl::Status {
    if (!(t.min_rate >= 0 && t.min_rate <= 1) || !(t.baseline_factor >= 0)) {
      return absl::InvalidArgumentError(absl::StrCat("alerts: ", absl::string_view(what.data(), what.size()),
                                                     ": min_rate must be in [0, 1] and baseline_factor >= 0"));
    }
    return absl::OkStatus();
  };
  for (int k = 0; k < kAlertKindCount; ++k) {
    absl::Status s = check(p.thresholds[k], AlertKindName(static_cast<AlertKind>(k)));
    if (!s.ok()) return s;
  }
  for (const auto& [pk, t] : p.provider_thresholds) {
    absl::Status s = check(t, AlertKindName(pk.second));
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
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
    case AlertKind::kSilence: return Action::kInvestigate;
  }
  return Action::kInvestigate;
}

}  // namespace bs
