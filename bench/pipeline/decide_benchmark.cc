// SuppressionDecider (decide + state update) throughput and memory per tracked address, checked before
// timing.
//
// Events: a mailing list of 1 M distinct addresses (16 first names × numbers, at 10 big providers and
// 20 000 smaller domains, two tenants) mailed in 8 weekly campaigns: mostly delivered; 1 % unknown users
// (suppressed once, bouncing again each week), full mailboxes (re-engage, then the recurring-full
// suppression), 552s (suppressed at the second), never-accepted addresses (re-engage, verify), recovered
// addresses (suppressed, then unsuppressed), greylisting followed by delivery at the small domains, and 3 %
// refusals of our sending (which must not touch state). Events are 16-byte records expanded into a reused
// ClassifiedEvent from per-kind templates inside the timed loop (that expansion is a few stores).
//
// The check: the whole stream through the slow reference model (pipeline/state/reference_decider.h:
// std::map of strings, no sweeps) must give byte-identical outputs, with every kind of decision present.
//   BM_Decide/0   a fresh state: 1 M addresses inserted along the way, then looked up 7 more times
//   BM_Decide/1   a warm state (the list already known from 8 earlier weeks): lookups and updates only
//   BM_MemoryPerAddress/10000000   10 M distinct addresses, one event each (2 % with a failure history):
//                                  RSS delta / addresses, and the store's own accounting
#include <benchmark/benchmark.h>
#include <malloc.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "pipeline/sink/encoders.h"
#include "pipeline/state/reference_decider.h"
#include "pipeline/state/suppression_decider.h"

namespace bs {
namespace {

constexpr int64_t kT0 = 1793606400000;
constexpr int64_t kMinute = 60 * 1000;
constexpr int64_t kDay = 24 * 60 * kMinute;
constexpr uint32_t kAddresses = 1000000;
constexpr int kCampaigns = 8;

enum Kind : uint8_t { kDelivered, kUserUnknown, kMailboxFull, kStorage, kUnavailable, kGreylisted, kRateLimited, kKinds };

struct CompactEvent {
  int64_t time_ms;
  uint32_t address;
  uint8_t kind;
  uint8_t campaign;
  uint8_t tenant;
};

uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

constexpr const char* kFirst[] = {"anna", "ben", "chloe", "david", "emma", "felix", "grace", "hugo",
                                  "ines", "jonas", "kim", "lea", "marc", "nina", "omar", "paula"};
constexpr const char* kBig[] = {"gmail.com", "outlook.com", "yahoo.com", "icloud.com", "hotmail.com",
                                "gmx.de", "web.de", "orange.fr", "aol.com", "mail.ru"};
constexpr const char* kCampaignNames[] = {"w0", "w1", "w2", "w3", "w4", "w5", "w6", "w7", "w8", "w9", "w10",
                                          "w11", "w12", "w13", "w14", "w15"};
constexpr const char* kTenants[] = {"acme", "globex"};

// Address number → "name.N@domain" (written into `out`), and whether its domain greylists.
bool AddressOf(uint64_t i, std::string& out) {
  const uint64_t h = Mix(i);
  out.assign(kFirst[i % 16]);
  out += '.';
  out += std::to_string(i);
  out += '@';
  if (h % 10 < 6) {
    out += kBig[(h >> 8) % 10];
    return false;
  }
  out += "corp";
  out += std::to_string((h >> 8) % 20000);
  out += ".example";
  return true;
}

// What happens to address i in campaign c.
Kind KindOf(uint64_t i, int c, uint64_t roll) {
  const uint64_t cls = Mix(i ^ 0xabcdef) % 1000;
  if (cls < 10) return kUserUnknown;
  if (cls < 13) return kMailboxFull;
  if (cls < 14) return kStorage;
  if (cls < 19) return kUnavailable;
  if (cls < 20) return c == 0 ? kUserUnknown : kDelivered;  // recovered
  if (roll % 100 < 3) return kRateLimited;
  return kDelivered;
}

// Per-kind classified-event templates; the loop fills in recipient, time, campaign, tenant, position.
class Templates {
 public:
  Templates() {
    Set(kDelivered, Outcome::kDelivered, 250, {2, 0, 0}, "2.0.0 OK", Category::kDelivered, Action::kNone, Scope::kNone,
        "generic.delivered");
    Set(kUserUnknown, Outcome::kBounced, 550, {5, 1, 1}, "5.1.1 The email account that you tried to reach does not exist",
        Category::kUserUnknown, Action::kSuppressAddress, Scope::kAddress, "gmail.user_unknown.5_1_1");
    Set(kMailboxFull, Outcome::kDeferred, 452, {4, 2, 2}, "4.2.2 The recipient's inbox is out of storage space",
        Category::kMailboxFull, Action::kRetry, Scope::kAddress, "gmail.mailbox_full.4_2_2");
    Set(kStorage, Outcome::kBounced, 552, {5, 2, 2}, "5.2.2 Mailbox full", Category::kMailboxFull, Action::kRetryOnce,
        Scope::kAddress, "generic.mailbox_full.552");
    Set(kUnavailable, Outcome::kDeferred, 450, {4, 2, 1}, "4.2.1 Mailbox temporarily unavailable",
        Category::kMailboxUnavailable, Action::kRetry, Scope::kAddress, "generic.mailbox_unavailable.450");
    Set(kGreylisted, Outcome::kDeferred, 451, {4, 7, 1}, "4.7.1 Greylisted, try again later", Category::kGreylisted,
        Action::kRetry, Scope::kNone, "generic.greylisted");
    Set(kRateLimited, Outcome::kDeferred, 421, {4, 7, 28}, "4.7.28 rate limited", Category::kRateLimited,
        Action::kRetrySlower, Scope::kSendingIp, "gmail.rate_limit.4_7_28");
  }
  ClassifiedEvent& Fill(const CompactEvent& e, std::string_view recipient) {
    ClassifiedEvent& ce = t_[e.kind];
    ce.event.recipient = recipient;
    ce.event.recipient_domain = DomainOf(recipient);
    ce.event.event_time_ms = e.time_ms;
    ce.event.campaign = kCampaignNames[e.campaign];
    ce.event.tenant = kTenants[e.tenant];
    ce.event.position.offset = ++line_;
    return ce;
  }
  void Rewind() { line_ = 0; }

 private:
  void Set(Kind k, Outcome o, uint16_t code, EnhancedCode enh, std::string_view text, Category cat, Action a, Scope s,
           std::string_view rule) {
    ClassifiedEvent& ce = t_[k];
    ce.event.outcome = o;
    ce.event.reply = {code, enh, text};
    ce.event.sender = "bounces@news.example.com";
    ce.event.position = Position{"bench.log", -1, 0};
    ce.cls.provider = Provider::kGmail;
    ce.cls.category = cat;
    ce.cls.action = a;
    ce.cls.scope = s;
    ce.cls.rule = rule;
    ce.cls.code = code;
    ce.cls.enhanced = enh;
  }
  ClassifiedEvent t_[kKinds];
  int64_t line_ = 0;
};

struct Stream {
  std::string pool;               // every address, back to back
  std::vector<uint32_t> offsets;  // address i is pool[offsets[i], offsets[i + 1])
  std::vector<CompactEvent> events;
  std::vector<CompactEvent> later;  // the same list, 8 weeks later (the warm run's timed stream)

  std::string_view Address(uint32_t i) const { return std::string_view(pool).substr(offsets[i], offsets[i + 1] - offsets[i]); }
};

void Campaigns(const Stream& s, const std::vector<bool>& greylists, int first, std::vector<CompactEvent>& out) {
  for (int c = first; c < first + kCampaigns; ++c) {
    const int64_t start = kT0 + c * 7 * kDay;
    for (uint32_t i = 0; i < kAddresses; ++i) {
      const uint64_t roll = Mix((static_cast<uint64_t>(c) << 32) | i);
      const int64_t t = start + static_cast<int64_t>(i) * (2 * kDay / kAddresses);
      const uint8_t tenant = static_cast<uint8_t>(i & 1);
      Kind k = KindOf(i, c - first, roll);
      if (k == kDelivered && greylists[i] && (roll >> 20) % 5 == 0) {
        out.push_back({t, i, kGreylisted, static_cast<uint8_t>(c), tenant});
        out.push_back({t + 7 * kMinute, i, kDelivered, static_cast<uint8_t>(c), tenant});
        continue;
      }
      out.push_back({t, i, static_cast<uint8_t>(k), static_cast<uint8_t>(c), tenant});
    }
  }
  (void)s;
}

const Stream& GetStream() {
  static Stream* s = [] {
    auto* st = new Stream();
    std::vector<bool> greylists(kAddresses);
    std::string a;
    st->offsets.reserve(kAddresses + 1);
    for (uint32_t i = 0; i < kAddresses; ++i) {
      st->offsets.push_back(static_cast<uint32_t>(st->pool.size()));
      greylists[i] = AddressOf(i, a);
      st->pool += a;
    }
    st->offsets.push_back(static_cast<uint32_t>(st->pool.size()));
    Campaigns(*st, greylists, 0, st->events);
    Campaigns(*st, greylists, kCampaigns, st->later);
    return st;
  }();
  return *s;
}

template <typename Decider>
void RunInto(Decider& d, const Stream& s, const std::vector<CompactEvent>& events, std::vector<std::string>* lines,
             size_t* decisions) {
  Templates templates;
  std::vector<SuppressionRecord> out;
  for (const CompactEvent& e : events) {
    out.clear();
    d.Decide(templates.Fill(e, s.Address(e.address)), out);
    *decisions += out.size();
    if (lines) {
      for (const SuppressionRecord& r : out) {
        std::string line;
        EncodeSuppression(r, line);
        lines->push_back(std::move(line));
      }
    }
  }
}

void CheckOrDie() {
  const Stream& s = GetStream();
  std::vector<std::string> fast_lines, ref_lines;
  size_t n = 0;
  {
    SuppressionDecider fast("bench");
    RunInto(fast, s, s.events, &fast_lines, &n);
  }
  {
    ReferenceDecider ref("bench");
    RunInto(ref, s, s.events, &ref_lines, &n);
  }
  if (fast_lines != ref_lines) {
    size_t i = 0;
    while (i < fast_lines.size() && i < ref_lines.size() && fast_lines[i] == ref_lines[i]) ++i;
    std::fprintf(stderr, "decide: output differs from the reference at record %zu of %zu/%zu\n  fast: %s\n  ref:  %s\n", i,
                 fast_lines.size(), ref_lines.size(), i < fast_lines.size() ? fast_lines[i].c_str() : "(end)",
                 i < ref_lines.size() ? ref_lines[i].c_str() : "(end)");
    std::abort();
  }
  std::map<std::string, size_t> by;
  for (const std::string& l : fast_lines) {
    const size_t p = l.find("\"decision\":\"") + 12;
    ++by[l.substr(p, l.find('"', p) - p)];
  }
  if (by.size() != 6) {
    std::fprintf(stderr, "decide: only %zu kinds of decision in the stream\n", by.size());
    std::abort();
  }
  std::fprintf(stderr, "decide check: %zu events, %zu decisions byte-identical to the reference model:", s.events.size(),
               fast_lines.size());
  for (const auto& [k, v] : by) std::fprintf(stderr, " %s %zu", k.c_str(), v);
  std::fprintf(stderr, "\n");
}

void BM_Decide(benchmark::State& state) {
  static bool checked = false;
  if (!checked) {
    CheckOrDie();
    checked = true;
  }
  const Stream& s = GetStream();
  const bool warm = state.range(0) == 1;
  const std::vector<CompactEvent>& timed = warm ? s.later : s.events;
  size_t decisions = 0, addresses = 0, memory = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto d = std::make_unique<SuppressionDecider>("bench");
    size_t ignored = 0;
    if (warm) RunInto(*d, s, s.events, nullptr, &ignored);
    decisions = 0;
    state.ResumeTiming();
    RunInto(*d, s, timed, nullptr, &decisions);
    state.PauseTiming();
    addresses = d->store().addresses();
    memory = d->store().memory().total();
    d.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * timed.size()));
  state.counters["events"] = static_cast<double>(timed.size());
  state.counters["decisions"] = static_cast<double>(decisions);
  state.counters["addresses"] = static_cast<double>(addresses);
  state.counters["store_B_per_addr"] = static_cast<double>(memory) / static_cast<double>(addresses);
  state.SetLabel(warm ? "warm state" : "fresh state");
}

size_t ResidentBytes() {
  std::ifstream f("/proc/self/statm");
  size_t pages = 0, resident = 0;
  f >> pages >> resident;
  return resident * static_cast<size_t>(sysconf(_SC_PAGESIZE));
}

// 10 M distinct addresses, one event each, generated on the fly (no event vector to inflate RSS).
void BM_MemoryPerAddress(benchmark::State& state) {
  const uint64_t n = static_cast<uint64_t>(state.range(0));
  double rss_per = 0, store_per = 0, histories = 0;
  for (auto _ : state) {
    // Give freed memory of earlier runs back first, or the new state would reuse resident pages.
    malloc_trim(0);
    const size_t before = ResidentBytes();
    auto d = std::make_unique<SuppressionDecider>("bench");
    Templates templates;
    std::string address;
    std::vector<SuppressionRecord> out;
    for (uint64_t i = 0; i < n; ++i) {
      AddressOf(i, address);
      // roll 50: no refusal of our sending, so every address is tracked.
      CompactEvent e{kT0 + static_cast<int64_t>(i) * 10, 0, static_cast<uint8_t>(KindOf(i, 1, 50)), 0,
                     static_cast<uint8_t>(i & 1)};
      out.clear();
      d->Decide(templates.Fill(e, address), out);
    }
    const size_t after = ResidentBytes();
    malloc_trim(0);
    const size_t after_trim = ResidentBytes();
    rss_per = static_cast<double>(after - before) / static_cast<double>(d->store().addresses());
    store_per = static_cast<double>(d->store().memory().total()) / static_cast<double>(d->store().addresses());
    histories = static_cast<double>(d->store().histories_in_use());
    const auto m = d->store().memory();
    std::fprintf(stderr,
                 "memory: %zu addresses, RSS +%.1f MB = %.1f B/address (%.1f after malloc_trim); store: index %.1f, "
                 "records %.1f, keys %.1f, histories %.1f (%.0f in use), domains %.1f B/address\n",
                 d->store().addresses(), static_cast<double>(after - before) / 1e6, rss_per,
                 static_cast<double>(after_trim - before) / static_cast<double>(n),
                 static_cast<double>(m.index) / static_cast<double>(n), static_cast<double>(m.records) / static_cast<double>(n),
                 static_cast<double>(m.keys) / static_cast<double>(n), static_cast<double>(m.histories) / static_cast<double>(n),
                 histories, static_cast<double>(m.domains) / static_cast<double>(n));
    state.PauseTiming();
    d.reset();
    state.ResumeTiming();
  }
  state.counters["rss_B_per_addr"] = rss_per;
  state.counters["store_B_per_addr"] = store_per;
  state.counters["histories"] = histories;
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * n));
}
// Memory first, in a process whose heap has not yet held another run's state.
BENCHMARK(BM_MemoryPerAddress)->Arg(10000000)->Iterations(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Decide)->Arg(0)->Arg(1)->Iterations(3)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace bs

BENCHMARK_MAIN();
