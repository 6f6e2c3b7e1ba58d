// Postfix line parsing throughput on generated RFC 3339-stamped lines (qmgr from= lines and smtp
// deliveries), checked first against a slow reference: RE2 extraction of to=, dsn= and status=.
#include <benchmark/benchmark.h>
#include <re2/re2.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "bench/loadgen/record_set.h"
#include "parsers/parser.h"
#include "parsers/postfix.h"

namespace bs {
namespace {

const loadgen::RecordSet& Lines() {
  static const loadgen::RecordSet* set = [] {
    loadgen::GeneratorOptions o;
    o.format = loadgen::LogFormat::kPostfix;
    o.records = 20000;
    o.malformed = false;
    return loadgen::GenerateRecordSet(o);
  }();
  return *set;
}

void CheckAgainstReference() {
  auto parser = NewPostfixParser({});
  RE2 delivery(R"(: ([0-9A-F]+): to=<([^>]*)>, relay=([^\[]+)\[([^\]]+)\].*, dsn=(\d)\.(\d+)\.(\d+), status=(\w+) \()");
  RE2 envelope(R"(: ([0-9A-F]+): from=<([^>]*)>)");
  std::vector<DeliveryEvent> events;
  size_t deliveries = 0;
  for (std::string_view line : Lines().records) {
    events.clear();
    ParseResult r = parser->Parse(line, Position{}, events);
    std::string qid, to, relay, ip, status;
    int cls, subj, det;
    re2::StringPiece in(line.data(), line.size());
    bool ok = r.ok() && events.size() == 1;
    if (RE2::PartialMatch(in, delivery, &qid, &to, &relay, &ip, &cls, &subj, &det, &status)) {
      const DeliveryEvent& e = events[0];
      Outcome want = status == "sent" ? Outcome::kDelivered : status == "deferred" ? Outcome::kDeferred : Outcome::kBounced;
      ok = ok && e.message_id == qid && e.recipient == to && e.mx_host == relay && e.mx_ip == ip &&
           e.reply.enhanced == (EnhancedCode{static_cast<uint8_t>(cls), static_cast<uint16_t>(subj), static_cast<uint16_t>(det)}) &&
           e.outcome == want;
      ++deliveries;
    } else if (RE2::PartialMatch(in, envelope, &qid, &to)) {
      ok = ok && events[0].outcome == Outcome::kEnvelope && events[0].sender == to && events[0].message_id == qid;
    } else {
      ok = false;
    }
    if (!ok) {
      std::fprintf(stderr, "reference mismatch on %.*s\n", static_cast<int>(line.size()), line.data());
      std::abort();
    }
  }
  std::fprintf(stderr, "postfix: %zu lines (%zu deliveries) checked against the RE2 reference\n", Lines().records.size(),
               deliveries);
}

void BM_PostfixParse(benchmark::State& state) {
  static bool checked = (CheckAgainstReference(), true);
  (void)checked;
  auto parser = NewPostfixParser({});
  std::vector<DeliveryEvent> events;
  events.reserve(8);
  const auto& lines = Lines().records;
  size_t bytes = 0;
  for (auto _ : state) {
    for (std::string_view line : lines) {
      events.clear();
      benchmark::DoNotOptimize(parser->Parse(line, Position{}, events));
      bytes += line.size();
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * lines.size()));
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}
BENCHMARK(BM_PostfixParse)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace bs

BENCHMARK_MAIN();
