// RuleRegistry: snapshot ownership and hot reload (see registry.h).
#include "rules/registry.h"

#include <vector>

#include "rules/rule_set_impl.h"

namespace bs {

absl::StatusOr<RuleRegistry::Snapshots> RuleRegistry::LoadAll() const {
  Snapshots s;
  std::vector<std::string> overrides;
  if (!options_.base.override_dir.empty()) overrides.push_back(options_.base.override_dir);
  auto base = LoadRuleSet(options_.base.dir, overrides);
  if (!base.ok()) return base.status();
  s.base = *std::move(base);
  for (const auto& [tenant, dir] : options_.tenant_override_dirs) {
    std::vector<std::string> layers = overrides;
    layers.push_back(dir);
    auto t = LoadRuleSet(options_.base.dir, layers);
    if (!t.ok()) {
      return absl::Status(t.status().code(),
                          std::string("tenant ") + tenant + ": " + std::string(t.status().message()));
    }
    s.tenants.emplace(tenant, *std::move(t));
  }
  return s;
}

absl::StatusOr<std::unique_ptr<RuleRegistry>> RuleRegistry::Create(const Options& options) {
  std::unique_ptr<RuleRegistry> r(new RuleRegistry(options));
  auto s = r->LoadAll();
  if (!s.ok()) return s.status();
  absl::MutexLock lock(&r->mu_);
  r->current_ = *std::move(s);
  r->generation_ = 1;
  return r;
}

std::shared_ptr<const RuleSet> RuleRegistry::Current() const {
  absl::MutexLock lock(&mu_);
  return current_.base;
}

std::shared_ptr<const RuleSet> RuleRegistry::ForTenant(std::string_view tenant) const {
  absl::MutexLock lock(&mu_);
  if (!current_.tenants.empty()) {
    auto it = current_.tenants.find(std::string(tenant));
    if (it != current_.tenants.end()) return it->second;
  }
  return current_.base;
}

absl::Status RuleRegistry::Reload() {
  // Load outside the lock: compiling takes milliseconds and readers must not wait for it.
  auto s = LoadAll();
  absl::MutexLock lock(&mu_);
  if (!s.ok()) {
    last_error_ = s.status();
    return s.status();
  }
  // The old snapshots are released here (or later, by the last batch still holding them).
  current_ = *std::move(s);
  ++generation_;
  last_error_ = absl::OkStatus();
  return absl::OkStatus();
}

uint64_t RuleRegistry::generation() const {
  absl::MutexLock lock(&mu_);
  return generation_;
}

absl::Status RuleRegistry::last_error() const {
  absl::MutexLock lock(&mu_);
  return last_error_;
}

}  // namespace bs
