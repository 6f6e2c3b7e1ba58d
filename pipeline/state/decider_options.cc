#include "pipeline/state/decider_options.h"

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "pipeline/base/strings.h"

namespace bs {

absl::Status DecisionPolicy::Validate() const {
  auto range = [](std::string_view name, int64_t v, int64_t lo, int64_t hi) -> absl::Status {
    if (v < lo || v > hi) {
      return absl::InvalidArgumentError(absl::StrCat(Av(name), " = ", v, ": must be in ", lo, "..", hi));
    }
    return absl::OkStatus();
  };
  if (auto s = range("reengage_campaigns", reengage_campaigns, 1, kMaxStreakCampaigns); !s.ok()) return s;
  if (auto s = range("verify_attempts", verify_attempts, 1, 255); !s.ok()) return s;
  if (auto s = range("verify_min_campaigns", verify_min_campaigns, 1, kMaxStreakCampaigns); !s.ok()) return s;
  if (auto s = range("mailbox_full_campaigns", mailbox_full_campaigns, 0, kMaxStreakCampaigns); !s.ok()) return s;
  if (auto s = range("mailbox_full_min_span_ms", mailbox_full_min_span_ms, 0, 3650 * kDayMs); !s.ok()) return s;
  return absl::OkStatus();
}

absl::Status DeciderOptions::Validate() const {
  if (auto s = policy.Validate(); !s.ok()) return s;
  for (const auto& [tenant, p] : tenant_policies) {
    if (auto s = p.Validate(); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("tenant ", tenant, ": ", s.message()));
    }
  }
  if (ttl.history_ms <= 0 || ttl.suppression_ms <= 0 || ttl.sweep_interval_ms <= 0) {
    return absl::InvalidArgumentError("state TTLs and the sweep interval must be positive");
  }
  // Last-seen times are kept in seconds in 32 bits.
  if (ttl.history_ms > 3650 * kDayMs || ttl.suppression_ms > 3650 * kDayMs) {
    return absl::InvalidArgumentError("state TTLs must be at most 10 years");
  }
  if (sender_tag_separator == '@' || sender_tag_separator == '\0') {
    return absl::InvalidArgumentError("sender_tag_separator must not be '@' or NUL");
  }
  return absl::OkStatus();
}

const DecisionPolicy& DeciderOptions::PolicyFor(std::string_view tenant) const {
  if (tenant.empty() || tenant_policies.empty()) return policy;
  auto it = tenant_policies.find(Av(tenant));
  return it == tenant_policies.end() ? policy : it->second;
}

namespace {

// "bounces+spring-sale@news.example.com" → "spring-sale"; "" when the local part has no tag.
std::string_view SenderTag(std::string_view sender, char separator) {
  const size_t at = sender.rfind('@');
  std::string_view local = at == std::string_view::npos ? sender : sender.substr(0, at);
  const size_t sep = local.find(separator);
  if (sep == std::string_view::npos) return {};
  std::string_view tag = local.substr(sep + 1);
  // VERP-style senders append the recipient after '=' ("bounces+tag=anna=example.com@…"): not part of
  // the campaign.
  const size_t eq = tag.find('=');
  if (eq != std::string_view::npos) tag = tag.substr(0, eq);
  return tag;
}

std::string_view Day(int64_t event_time_ms, std::string& scratch) {
  // Civil date from days since the epoch (H. Hinnant's algorithm), UTC.
  int64_t z = (event_time_ms >= 0 ? event_time_ms : event_time_ms - (kDayMs - 1)) / kDayMs + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t d = doy - (153 * mp + 2) / 5 + 1;
  const int64_t m = mp < 10 ? mp + 3 : mp - 9;
  const int64_t y = yoe + era * 400 + (m <= 2);
  char buf[32];
  const int n = std::snprintf(buf, sizeof buf, "%04lld-%02lld-%02lld", static_cast<long long>(y),
                              static_cast<long long>(m), static_cast<long long>(d));
  scratch.assign(buf, static_cast<size_t>(n));
  return scratch;
}

}  // namespace

std::string_view CampaignOf(const DeliveryEvent& e, CampaignFallback fallback, char separator, std::string& scratch) {
  if (!e.campaign.empty()) return e.campaign;
  switch (fallback) {
    case CampaignFallback::kNone:
      return {};
    case CampaignFallback::kSenderTag:
      return SenderTag(e.sender, separator);
    case CampaignFallback::kDay:
      return Day(e.event_time_ms, scratch);
    case CampaignFallback::kSenderTagOrDay: {
      std::string_view tag = SenderTag(e.sender, separator);
      return tag.empty() ? Day(e.event_time_ms, scratch) : tag;
    }
  }
  return {};
}

}  // namespace bs
