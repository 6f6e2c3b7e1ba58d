// KumoMTA JSON parsing throughput, fast scanner (with its On-Demand fallback) against the On-Demand walk
// alone, on two record sets: the generator's records (about 870 bytes, every field KumoMTA writes) and the
// same records without site, size, created, bounce_classification, feedback_report, headers, the protocols
// and nodeid (about 610 bytes, the size issue 4 targets). Before timing, every record is checked against a
// slow reference (simdjson's DOM API reading the same fields) through both paths, and the two paths must
// give identical events.
#include <benchmark/benchmark.h>

#include <simdjson.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "bench/loadgen/record_set.h"
#include "parsers/kumomta.h"
#include "parsers/kumomta_fast.h"
#include "parsers/parser.h"

namespace bs {
namespace {

struct Records {
  std::string bytes;
  std::vector<std::string_view> records;
};

const loadgen::RecordSet& Generated() {
  static const loadgen::RecordSet* set = [] {
    loadgen::GeneratorOptions o;
    o.records = 20000;
    o.malformed = false;
    return loadgen::GenerateRecordSet(o);
  }();
  return *set;
}

// Removes `,"key":value` (value a plain string, null, {} or a number) from `rec`; aborts if it is absent.
void Drop(std::string& rec, std::string_view key) {
  const std::string needle = ",\"" + std::string(key) + "\":";
  size_t at = rec.find(needle);
  if (at == std::string::npos) {
    std::fprintf(stderr, "kumomta benchmark: no %.*s in %s\n", static_cast<int>(key.size()), key.data(), rec.c_str());
    std::abort();
  }
  size_t v = at + needle.size();
  size_t end = rec[v] == '"' ? rec.find('"', v + 1) + 1 : rec.find_first_of(",}", v) + (rec[v] == '{' ? 1 : 0);
  rec.erase(at, end - at);
}

// Builds a padded record set from `lines`.
Records* MakeSet(const std::vector<std::string>& lines) {
  auto* set = new Records;
  for (const std::string& l : lines) set->bytes += l + "\n";
  set->bytes.append(kRecordPadding, '\0');
  size_t start = 0;
  for (const std::string& l : lines) {
    set->records.emplace_back(set->bytes.data() + start, l.size());
    start += l.size() + 1;
  }
  return set;
}

const Records& Set(int which) {
  static const Records* full = [] {
    std::vector<std::string> lines;
    for (std::string_view r : Generated().records) lines.emplace_back(r);
    return MakeSet(lines);
  }();
  static const Records* small = [] {
    std::vector<std::string> lines;
    for (std::string_view r : Generated().records) {
      std::string rec(r);
      for (std::string_view k : {"site", "size", "created", "bounce_classification", "feedback_report",
                                 "headers", "delivery_protocol", "reception_protocol", "nodeid"}) {
        Drop(rec, k);
      }
      lines.push_back(std::move(rec));
    }
    return MakeSet(lines);
  }();
  return which == 0 ? *full : *small;
}

bool SameEvent(const DeliveryEvent& a, const DeliveryEvent& b) {
  return a.event_time_ms == b.event_time_ms && a.outcome == b.outcome && a.recipient == b.recipient &&
         a.recipient_domain == b.recipient_domain && a.sender == b.sender && a.sender_domain == b.sender_domain &&
         a.message_id == b.message_id && a.campaign == b.campaign && a.tenant == b.tenant &&
         a.sending_ip == b.sending_ip && a.egress_source == b.egress_source && a.egress_pool == b.egress_pool &&
         a.mta_host == b.mta_host && a.mx_host == b.mx_host && a.mx_ip == b.mx_ip && a.stage == b.stage &&
         a.reply.code == b.reply.code && a.reply.enhanced == b.reply.enhanced && a.reply.text == b.reply.text &&
         a.attempt == b.attempt && a.locally_generated == b.locally_generated;
}

[[noreturn]] void Mismatch(const char* what, std::string_view rec) {
  std::fprintf(stderr, "kumomta benchmark: %s on %.*s\n", what, static_cast<int>(rec.size()), rec.data());
  std::abort();
}

// The reference: DOM parse, then the fields it compares; and the fast path's events equal the slow one's.
void CheckAgainstReference(int which) {
  auto fast = NewKumoMtaParser({}, KumoMtaPath::kFastWithFallback);
  auto slow = NewKumoMtaParser({}, KumoMtaPath::kOnDemandOnly);
  kumomta::FastScanner scanner;
  simdjson::dom::parser dom;
  std::vector<DeliveryEvent> fast_events, slow_events;
  size_t checked = 0, scanned = 0, bytes = 0;
  for (std::string_view rec : Set(which).records) {
    fast_events.clear();
    slow_events.clear();
    ParseResult rf = fast->Parse(rec, Position{}, fast_events);
    ParseResult rs = slow->Parse(rec, Position{}, slow_events);
    if (!rf.ok() || !rs.ok() || fast_events.size() != 1 || slow_events.size() != 1) Mismatch("parse", rec);
    if (!SameEvent(fast_events[0], slow_events[0])) Mismatch("fast/slow difference", rec);
    simdjson::dom::element doc;
    if (dom.parse(rec.data(), rec.size()).get(doc)) Mismatch("DOM parse", rec);
    std::string_view recipient = doc["recipient"].get_string().value();
    uint64_t code = doc["response"]["code"].get_uint64().value();
    std::string_view content = doc["response"]["content"].get_string().value();
    int64_t ts = doc["timestamp"].get_int64().value();
    std::string_view ip = doc["source_address"]["address"].get_string().value();
    for (const DeliveryEvent& e : {fast_events[0], slow_events[0]}) {
      if (e.recipient != recipient || e.reply.code != code || e.reply.text != content ||
          e.event_time_ms / 1000 != ts || ip.substr(0, e.sending_ip.size()) != e.sending_ip) {
        Mismatch("reference mismatch (fields)", rec);
      }
    }
    kumomta::FastScanner::Scan scan;
    DeliveryEvent e;
    scanned += scanner.Run(rec, scan, e) ? 1 : 0;
    bytes += rec.size();
    ++checked;
  }
  std::fprintf(stderr,
               "kumomta set %d (%.0f bytes/record): %zu records checked against the DOM reference through both "
               "paths; fast scanner took %zu (%.2f %%)\n",
               which, static_cast<double>(bytes) / static_cast<double>(checked), checked, scanned,
               100.0 * static_cast<double>(scanned) / static_cast<double>(checked));
}

// Args: record set (0: ~870 bytes, 1: ~600 bytes), path (0: fast with fallback, 1: On-Demand only).
void BM_KumoMtaParse(benchmark::State& state) {
  const int which = static_cast<int>(state.range(0));
  static bool checked[2] = {false, false};
  if (!checked[which]) {
    CheckAgainstReference(which);
    checked[which] = true;
  }
  const KumoMtaPath path = state.range(1) == 0 ? KumoMtaPath::kFastWithFallback : KumoMtaPath::kOnDemandOnly;
  auto parser = NewKumoMtaParser({}, path);
  std::vector<DeliveryEvent> events;
  events.reserve(8);
  const auto& recs = Set(which).records;
  size_t bytes = 0;
  for (auto _ : state) {
    for (std::string_view rec : recs) {
      events.clear();
      benchmark::DoNotOptimize(parser->Parse(rec, Position{}, events));
      bytes += rec.size();
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * recs.size()));
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.counters["record_bytes"] = static_cast<double>(bytes) / static_cast<double>(state.iterations() * recs.size());
  state.SetLabel(std::string(which == 0 ? "870B" : "600B") + (state.range(1) == 0 ? " fast" : " on-demand"));
}
BENCHMARK(BM_KumoMtaParse)->ArgsProduct({{0, 1}, {0, 1}})->Unit(benchmark::kMillisecond);

// Where the time goes: the fast scanner alone (no event, no finishing step), and simdjson's stage 1 alone
// (the structural index every On-Demand parse starts with) on the same records.
// Second argument 1: only the first 1000 records (0.9 MB, cache-resident), to tell the scan's own cost from
// the cost of bringing 17 MB of records in from memory.
void BM_ScanOnly(benchmark::State& state) {
  kumomta::FastScanner scanner;
  const auto& all = Set(static_cast<int>(state.range(0))).records;
  const std::vector<std::string_view> recs(all.begin(), state.range(1) == 0 ? all.end() : all.begin() + 1000);
  for (auto _ : state) {
    for (std::string_view rec : recs) {
      kumomta::FastScanner::Scan scan;
      DeliveryEvent e;
      benchmark::DoNotOptimize(scanner.Run(rec, scan, e));
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * recs.size()));
}
BENCHMARK(BM_ScanOnly)->ArgsProduct({{0, 1}, {0, 1}})->Unit(benchmark::kMillisecond);

void BM_SimdjsonStage1Only(benchmark::State& state) {
  simdjson::ondemand::parser parser;
  const auto& recs = Set(static_cast<int>(state.range(0))).records;
  for (auto _ : state) {
    for (std::string_view rec : recs) {
      simdjson::ondemand::document doc;
      benchmark::DoNotOptimize(parser.iterate(rec.data(), rec.size(), rec.size() + kRecordPadding).get(doc));
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * recs.size()));
}
BENCHMARK(BM_SimdjsonStage1Only)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace bs

BENCHMARK_MAIN();
