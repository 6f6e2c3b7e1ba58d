// RuleRegistry: hot reload swaps snapshots only when the new files load, keeps the old ones on error,
// leaves snapshots already handed out untouched, and serves per-tenant overrides.
#include "rules/registry.h"

#include <atomic>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "tests/rules/rule_test_util.h"

namespace bs {
namespace {

using ::bs::testing::TempRuleDir;

std::string Rules(const std::string& category_for_421) {
  return "[ruleset]\nprovider = \"generic\"\n[[rule]]\nid = \"generic.421\"\ncodes = [\"421\"]\ncategory = \"" +
         category_for_421 + "\"\naction = \"retry\"\nscope = \"none\"\n";
}

ReplyInput In(std::string_view text) {
  ReplyInput in;
  in.text = text;
  return in;
}

TEST(RuleRegistry, ReloadKeepsOldSnapshotOnError) {
  TempRuleDir dir;
  dir.WithBase("v1").Write("generic.rules", Rules("rate_limited"));
  RuleRegistry::Options opts;
  opts.base.dir = dir.path();
  auto reg = RuleRegistry::Create(opts);
  ASSERT_TRUE(reg.ok()) << reg.status();
  ClassifyScratch s;
  auto before = (*reg)->Current();
  EXPECT_EQ(before->version(), "v1");
  EXPECT_EQ(before->Classify(In("421 x"), s).category, Category::kRateLimited);
  EXPECT_EQ((*reg)->generation(), 1u);

  // A broken edit: reload fails with file:line, the old snapshot stays current.
  dir.Write("generic.rules", Rules("rate_limitted"));
  absl::Status st = (*reg)->Reload();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("generic.rules:6: unknown category 'rate_limitted'"), absl::string_view::npos)
      << st;
  EXPECT_EQ((*reg)->Current(), before);
  EXPECT_EQ((*reg)->generation(), 1u);
  EXPECT_FALSE((*reg)->last_error().ok());
  EXPECT_EQ((*reg)->Current()->Classify(In("421 x"), s).category, Category::kRateLimited);

  // Fixed: the new snapshot replaces it; the old one stays valid for whoever still holds it.
  dir.Write("generic.rules", Rules("greylisted")).Write("VERSION", "v2\n");
  ASSERT_TRUE((*reg)->Reload().ok());
  EXPECT_EQ((*reg)->generation(), 2u);
  EXPECT_TRUE((*reg)->last_error().ok());
  EXPECT_NE((*reg)->Current(), before);
  EXPECT_EQ((*reg)->Current()->version(), "v2");
  EXPECT_EQ((*reg)->Current()->Classify(In("421 x"), s).category, Category::kGreylisted);
  EXPECT_EQ(before->Classify(In("421 x"), s).category, Category::kRateLimited);
}

TEST(RuleRegistry, CreateFailsOnBadRules) {
  TempRuleDir dir;
  dir.WithBase().Write("generic.rules", Rules("nope"));
  RuleRegistry::Options opts;
  opts.base.dir = dir.path();
  EXPECT_FALSE(RuleRegistry::Create(opts).ok());
}

TEST(RuleRegistry, TenantOverrides) {
  TempRuleDir dir, acme;
  dir.WithBase("v1").Write("generic.rules", Rules("rate_limited"));
  acme.Write("acme.rules", Rules("greylisted"));
  RuleRegistry::Options opts;
  opts.base.dir = dir.path();
  opts.tenant_override_dirs["acme"] = acme.path();
  auto reg = RuleRegistry::Create(opts);
  ASSERT_TRUE(reg.ok()) << reg.status();
  ClassifyScratch s;
  EXPECT_EQ((*reg)->ForTenant("acme")->Classify(In("421 x"), s).category, Category::kGreylisted);
  EXPECT_EQ((*reg)->ForTenant("acme")->version(), "v1+local");
  EXPECT_EQ((*reg)->ForTenant("other")->Classify(In("421 x"), s).category, Category::kRateLimited);
  EXPECT_EQ((*reg)->ForTenant("other"), (*reg)->Current());

  // A broken tenant directory blocks the whole reload (all or nothing), naming the tenant.
  acme.Write("acme.rules", Rules("bad"));
  absl::Status st = (*reg)->Reload();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("tenant acme: "), absl::string_view::npos) << st;
  EXPECT_EQ((*reg)->ForTenant("acme")->Classify(In("421 x"), s).category, Category::kGreylisted);
}

TEST(RuleRegistry, ReadersDuringReload) {
  TempRuleDir dir;
  dir.WithBase("v1").Write("generic.rules", Rules("rate_limited"));
  RuleRegistry::Options opts;
  opts.base.dir = dir.path();
  auto reg = RuleRegistry::Create(opts);
  ASSERT_TRUE(reg.ok());
  std::atomic<bool> stop{false};
  std::atomic<int> bad{0};
  std::thread reader([&] {
    ClassifyScratch s;
    while (!stop.load()) {
      auto snap = (*reg)->Current();  // one grab per "batch"
      for (int i = 0; i < 100; ++i) {
        Category c = snap->Classify(In("421 x"), s).category;
        if (c != Category::kRateLimited && c != Category::kGreylisted) bad.fetch_add(1);
      }
    }
  });
  for (int i = 0; i < 20; ++i) {
    dir.Write("generic.rules", Rules(i % 2 ? "rate_limited" : "greylisted"));
    EXPECT_TRUE((*reg)->Reload().ok());
  }
  stop.store(true);
  reader.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ((*reg)->generation(), 21u);
}

}  // namespace
}  // namespace bs
