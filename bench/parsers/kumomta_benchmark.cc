// KumoMTA JSON parsing throughput (On-Demand, one pass over the fields) on generated records of about
// 900 bytes, checked first against a slow reference: simdjson's DOM API reading the same fields.
#include <benchmark/benchmark.h>

#include <simdjson.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "bench/loadgen/record_set.h"
#include "parsers/kumomta.h"
#include "parsers/parser.h"

namespace bs {
namespace {

const loadgen::RecordSet& Records() {
  static const loadgen::RecordSet* set = [] {
    loadgen::GeneratorOptions o;
    o.records = 20000;
    o.malformed = false;
    return loadgen::GenerateRecordSet(o);
  }();
  return *set;
}

// The reference: DOM parse, then the fields the benchmark compares.
void CheckAgainstReference() {
  auto parser = NewKumoMtaParser({});
  simdjson::dom::parser dom;
  std::vector<DeliveryEvent> events;
  size_t checked = 0;
  for (std::string_view rec : Records().records) {
    events.clear();
    ParseResult r = parser->Parse(rec, Position{}, events);
    simdjson::dom::element doc;
    if (dom.parse(rec.data(), rec.size()).get(doc) || !r.ok() || events.size() != 1) {
      std::fprintf(stderr, "reference mismatch (parse) on %.*s\n", static_cast<int>(rec.size()), rec.data());
      std::abort();
    }
    std::string_view recipient = doc["recipient"].get_string().value();
    uint64_t code = doc["response"]["code"].get_uint64().value();
    std::string_view content = doc["response"]["content"].get_string().value();
    int64_t ts = doc["timestamp"].get_int64().value();
    std::string_view ip = doc["source_address"]["address"].get_string().value();
    const DeliveryEvent& e = events[0];
    if (e.recipient != recipient || e.reply.code != code || e.reply.text != content || e.event_time_ms / 1000 != ts ||
        ip.substr(0, e.sending_ip.size()) != e.sending_ip) {
      std::fprintf(stderr, "reference mismatch (fields) on %.*s\n", static_cast<int>(rec.size()), rec.data());
      std::abort();
    }
    ++checked;
  }
  std::fprintf(stderr, "kumomta: %zu records checked against the DOM reference\n", checked);
}

void BM_KumoMtaParse(benchmark::State& state) {
  static bool checked = (CheckAgainstReference(), true);
  (void)checked;
  auto parser = NewKumoMtaParser({});
  std::vector<DeliveryEvent> events;
  events.reserve(8);
  const auto& recs = Records().records;
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
}
BENCHMARK(BM_KumoMtaParse)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace bs

BENCHMARK_MAIN();
