// RuleRegistry: owns the current rule-set snapshot(s) and hot reload.
//
// Readers (pipeline workers) call Current() / ForTenant() between batches and keep the returned
// shared_ptr for the batch: a snapshot is immutable, so classification needs no lock and a reload never
// changes rules under a batch. The mutex is held only to copy or swap the pointers. Reload() builds
// complete new snapshots first and swaps only when all of them load; on any error the old snapshots stay
// and the error is returned (and kept in last_error()).
//
// Per-tenant overrides: `tenant_override_dirs` maps a tenant id to a directory of rules layered over
// the base (and the global override, if any): same id replaces, new ids add. Each tenant gets its own
// compiled snapshot; tenants without an entry share the base snapshot. Simple by design: meant for a
// handful of tenants with special needs, not thousands.
#ifndef BOUNCESTREAM_RULES_REGISTRY_H_
#define BOUNCESTREAM_RULES_REGISTRY_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "rules/rule_set.h"

namespace bs {

class RuleRegistry {
 public:
  struct Options {
    RuleSet::Options base;  // dir (empty = embedded) and the global override_dir
    std::map<std::string, std::string> tenant_override_dirs;
  };

  // Loads every snapshot; fails (with file:line errors) if any does not load.
  static absl::StatusOr<std::unique_ptr<RuleRegistry>> Create(const Options& options);

  // The base snapshot. Cheap (a mutex-guarded shared_ptr copy); call once per batch, not per record.
  std::shared_ptr<const RuleSet> Current() const;
  // The tenant's snapshot, or the base one when the tenant has no overrides.
  std::shared_ptr<const RuleSet> ForTenant(std::string_view tenant) const;

  // Re-reads the files. On success swaps every snapshot and bumps generation(); on failure keeps the
  // old snapshots, records the error and returns it.
  absl::Status Reload();

  uint64_t generation() const;
  absl::Status last_error() const;

 private:
  struct Snapshots {
    std::shared_ptr<const RuleSet> base;
    absl::flat_hash_map<std::string, std::shared_ptr<const RuleSet>> tenants;
  };
  explicit RuleRegistry(Options options) : options_(std::move(options)) {}
  absl::StatusOr<Snapshots> LoadAll() const;

  const Options options_;
  mutable absl::Mutex mu_;
  Snapshots current_ ABSL_GUARDED_BY(mu_);
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Status last_error_ ABSL_GUARDED_BY(mu_);
};

}  // namespace bs

#endif  // BOUNCESTREAM_RULES_REGISTRY_H_
