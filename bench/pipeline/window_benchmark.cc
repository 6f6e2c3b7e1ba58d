// AlertAggregator (window update) throughput on realistic classified events, checked before timing.
//
// Events: a generated 6-hour KumoMTA log of 250 000 records (the extra incidents on), parsed and
// classified once by the real pipeline stage and copied into compact owned storage. The stream is that
// block replayed 8 times, each pass 6 hours later (the times are shifted in place between passes): 2 M
// events, 48 hours. Replaying one block keeps the events warm in cache as they are in the pipeline, where
// the decide stage reads a chunk's results right after a worker produced them; streaming 2 M fat events
// from memory would measure memory bandwidth instead. The timed loop is what the decide stage does: Add
// every event, Drain after every chunk-sized batch (closing windows, evaluating keys, emitting alerts),
// Flush at the end.
//
// The check: every alert record's count, soft/hard split and attempts are recounted by a straightforward
// reference (std::map keyed by strings, per window, the key and kind rules written out again), the alert
// stream is the same whether Drain runs every 512 or every 65536 events, and the run has alerts at all.
//   BM_WindowUpdate/0  5-minute windows every minute (hopping, the default)
//   BM_WindowUpdate/1  5-minute tumbling windows
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <tuple>
#include <unordered_set>
#include <vector>

#include "bench/loadgen/generator.h"
#include "pipeline/source/file_source.h"
#include "pipeline/window/alert_aggregator.h"
#include "pipeline/worker/chunk_processor.h"

namespace bs {
namespace {

constexpr uint64_t kRecords = 250000;
constexpr int kPasses = 8;
constexpr int64_t kPassMs = 6LL * 3600 * 1000;

// Owned copies of the strings the window stage reads, interned (a few thousand distinct values).
class Strings {
 public:
  std::string_view Keep(std::string_view s) {
    if (s.empty()) return {};
    return *set_.emplace(s).first;
  }

 private:
  std::unordered_set<std::string> set_;
};

struct Events {
  Strings strings;
  std::vector<ClassifiedEvent> events;
};

Events& LoadEvents() {
  static Events* ev = [] {
    auto* out = new Events();
    auto rules = RuleSet::Load({});
    if (!rules.ok()) {
      std::fprintf(stderr, "rules do not load\n");
      std::abort();
    }
    const std::string path = "/tmp/bouncestream_window_benchmark.jsonl";
    loadgen::GeneratorOptions o;
    o.records = kRecords;
    o.seed = 100;
    o.duration_ms = kPassMs;
    o.malformed = false;
    o.extra_incidents = true;
    std::string data;
    loadgen::Generate(o, data);
    std::ofstream(path, std::ios::binary | std::ios::trunc) << data;
    auto src = FileSource::Open(path);
    if (!src.ok()) std::abort();
    ChunkProcessor proc(*rules, ParserOptions{});
    Chunk chunk;
    ChunkResult result;
    while (true) {
      auto more = (*src)->Next(chunk);
      if (!more.ok()) std::abort();
      if (!*more) break;
      if (!proc.Process(chunk, 0, "bench", Format::kKumoMta, result).ok()) std::abort();
      for (const ClassifiedEvent& in : result.events) {
        ClassifiedEvent ce = in;
        DeliveryEvent& e = ce.event;
        Strings& s = out->strings;
        for (std::string_view* f : {&e.recipient, &e.recipient_domain, &e.sender, &e.sender_domain, &e.message_id,
                                    &e.campaign, &e.tenant, &e.sending_ip, &e.egress_source, &e.egress_pool,
                                    &e.mta_host, &e.mx_host, &e.mx_ip, &e.reply.text, &e.position.source}) {
          *f = f == &e.recipient || f == &e.message_id ? std::string_view() : s.Keep(*f);
        }
        ce.cls.rule = s.Keep(ce.cls.rule);
        ce.cls.blocklist = s.Keep(ce.cls.blocklist);
        out->events.push_back(ce);
      }
    }
    std::remove(path.c_str());
    return out;
  }();
  return *ev;
}

void Shift(std::vector<ClassifiedEvent>& events, int64_t ms) {
  for (ClassifiedEvent& ce : events) ce.event.event_time_ms += ms;
}

// The 2 M-event stream through one aggregator; the block's times are back where they were afterwards.
// `between` runs between passes (to pause the timer).
template <typename Between>
std::vector<AlertRecord> RunWindows(const AlertPolicy& policy, std::vector<ClassifiedEvent>& events, size_t drain_every,
                                    Between between) {
  AlertAggregator agg(policy, 1);
  std::vector<AlertRecord> out;
  size_t n = 0;
  for (int pass = 0; pass < kPasses; ++pass) {
    for (size_t i = 0; i < events.size(); ++i) {
      // In the pipeline the decide stage has just copied the event (it is in L1); here the block is in
      // L3 at best, so fetch the event a few ahead, all of its lines, as the copy would have.
      if (i + 8 < events.size()) {
        const char* next = reinterpret_cast<const char*>(&events[i + 8]);
        for (size_t off = 0; off < sizeof(ClassifiedEvent); off += 64) __builtin_prefetch(next + off);
      }
      agg.Add(0, events[i]);
      if (++n % drain_every == 0) agg.Drain(out);
    }
    between([&] { Shift(events, kPassMs); });
  }
  agg.FinishPartition(0);
  agg.Drain(out);
  agg.Flush(out);
  between([&] { Shift(events, -kPasses * kPassMs); });
  return out;
}
std::vector<AlertRecord> RunWindows(const AlertPolicy& policy, std::vector<ClassifiedEvent>& events, size_t drain_every) {
  return RunWindows(policy, events, drain_every, [](auto&& f) { f(); });
}

// ---- the reference: the key and kind rules written out again, counted in std::maps per window ----

std::string RefKey(const AlertRecord& r) {
  std::string k(ProviderName(r.key.provider));
  return k + "|" + r.key.sending_ip + "|" + r.key.mta + "|" + r.key.sender_domain + "|" + r.key.domain;
}

struct RefCounts {
  uint64_t attempts = 0;
  std::map<AlertKind, std::pair<uint64_t, uint64_t>> kinds;  // kind → (count, hard)
};

// (window start, key) → counts, for the windows the records name.
std::map<std::pair<int64_t, std::string>, RefCounts> Recount(const AlertPolicy& p, const std::vector<ClassifiedEvent>& block,
                                                            const std::set<int64_t>& starts) {
  std::map<std::pair<int64_t, std::string>, RefCounts> m;
  for (int pass = 0; pass < kPasses; ++pass) {
    for (ClassifiedEvent ce : block) {
      ce.event.event_time_ms += pass * kPassMs;
      const DeliveryEvent& e = ce.event;
      if (e.outcome != Outcome::kDelivered && e.outcome != Outcome::kDeferred && e.outcome != Outcome::kBounced &&
          e.outcome != Outcome::kOutOfBand) {
        continue;
      }
      if (e.locally_generated && e.outcome != Outcome::kDeferred) continue;
      auto first = starts.lower_bound(e.event_time_ms - p.window_ms + 1);
      if (first == starts.end() || *first > e.event_time_ms) continue;  // in no window a record names
      AlertKind kind = AlertKind::kRateLimit;
      const bool feeds = AlertKindForCategory(ce.cls.category, kind);
      const uint16_t code = ce.cls.code ? ce.cls.code : e.reply.code;
      const bool hard = code ? code >= 500 : e.outcome == Outcome::kBounced || e.outcome == Outcome::kOutOfBand;
      const std::string provider(ProviderName(ce.cls.provider));
      std::string egress(!e.sending_ip.empty() ? e.sending_ip : e.egress_source);
      std::string mta(egress.empty() ? e.mta_host : std::string_view());
      struct Target {
        std::string key;
        bool counts;
        AlertKind kind;
      };
      std::vector<Target> targets;
      if (!e.locally_generated) {
        targets.push_back({provider + "|" + egress + "|" + mta + "||", feeds && FamilyOf(kind) == KeyFamily::kEgress, kind});
        targets.push_back({provider + "|||" + std::string(e.sender_domain) + "|",
                           feeds && FamilyOf(kind) == KeyFamily::kSenderDomain, kind});
      }
      if (!e.recipient_domain.empty()) {
        const bool deferral = e.outcome == Outcome::kDeferred && !feeds && ce.cls.category != Category::kGreylisted && !hard;
        targets.push_back({provider + "||||" + std::string(e.recipient_domain), deferral, AlertKind::kDomainDeferrals});
      }
      for (auto it = first; it != starts.end() && *it <= e.event_time_ms; ++it) {
        for (const Target& t : targets) {
          RefCounts& c = m[{*it, t.key}];
          ++c.attempts;
          if (t.counts) {
            ++c.kinds[t.kind].first;
            c.kinds[t.kind].second += hard;
          }
        }
      }
    }
  }
  return m;
}

void CheckOrDie(const AlertPolicy& policy, const char* name) {
  auto& events = LoadEvents().events;
  std::vector<AlertRecord> a = RunWindows(policy, events, 4096);
  std::vector<AlertRecord> b = RunWindows(policy, events, 512);
  std::vector<AlertRecord> c = RunWindows(policy, events, 65536);
  auto same = [](const std::vector<AlertRecord>& x, const std::vector<AlertRecord>& y) {
    if (x.size() != y.size()) return false;
    for (size_t i = 0; i < x.size(); ++i) {
      if (x[i].id != y[i].id || x[i].state != y[i].state || x[i].count != y[i].count ||
          x[i].window_start_ms != y[i].window_start_ms || x[i].samples != y[i].samples) {
        return false;
      }
    }
    return true;
  };
  int firing = 0;
  std::set<int64_t> starts;
  for (const auto& r : a) {
    firing += r.state == AlertState::kFiring;
    starts.insert(r.window_start_ms);
  }
  if (firing == 0 || !same(a, b) || !same(a, c)) {
    std::fprintf(stderr, "%s: %d firing alerts; drain cadence changes the answer: %d %d\n", name, firing, same(a, b), same(a, c));
    std::abort();
  }
  auto ref = Recount(policy, events, starts);
  for (const auto& r : a) {
    const RefCounts& rc = ref[{r.window_start_ms, RefKey(r)}];
    auto k = rc.kinds.count(r.kind) ? rc.kinds.at(r.kind) : std::pair<uint64_t, uint64_t>{0, 0};
    if (rc.attempts != r.attempts || k.first != r.count || k.second != r.hard || r.soft + r.hard != r.count) {
      std::fprintf(stderr, "%s: %s %s at %lld: count %llu/%llu hard %llu, reference %llu/%llu hard %llu\n", name,
                   std::string(AlertKindName(r.kind)).c_str(), RefKey(r).c_str(), static_cast<long long>(r.window_start_ms),
                   static_cast<unsigned long long>(r.count), static_cast<unsigned long long>(r.attempts),
                   static_cast<unsigned long long>(r.hard), static_cast<unsigned long long>(k.first),
                   static_cast<unsigned long long>(rc.attempts), static_cast<unsigned long long>(k.second));
      std::abort();
    }
  }
  std::fprintf(stderr, "%s: %zu events, %zu alert records (%d incidents), every count = the reference recount\n", name,
               events.size() * kPasses, a.size(), firing);
}

AlertPolicy PolicyFor(int64_t arg) {
  AlertPolicy p;
  if (arg == 1) p.advance_ms = p.window_ms;
  return p;
}

void BM_WindowUpdate(benchmark::State& state) {
  const AlertPolicy policy = PolicyFor(state.range(0));
  static bool checked[2] = {};
  if (!checked[state.range(0)]) {
    CheckOrDie(policy, state.range(0) ? "tumbling" : "hopping");
    checked[state.range(0)] = true;
  }
  auto& events = LoadEvents().events;
  size_t alerts = 0;
  for (auto _ : state) {
    auto out = RunWindows(policy, events, 4096, [&](auto&& shift) {
      state.PauseTiming();
      shift();
      state.ResumeTiming();
    });
    alerts = out.size();
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * events.size() * kPasses));
  state.counters["alerts"] = static_cast<double>(alerts);
  state.SetLabel(state.range(0) ? "tumbling" : "hopping");
}
BENCHMARK(BM_WindowUpdate)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace bs

BENCHMARK_MAIN();
