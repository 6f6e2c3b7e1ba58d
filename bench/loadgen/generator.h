// LoadGenerator: deterministic, realistic delivery logs for the bundled samples, tests and benchmarks.
//
// A seeded PRNG of our own (splitmix64; std:: distributions differ between standard libraries) drives a
// provider mix, reply mix, campaigns, sending IPs and distinct addresses, and injects incidents at fixed
// times: a Gmail rate-limit burst on one IP, a DMARC-failure burst at Microsoft for one sender domain,
// user-unknown bounces at several providers, a null-MX (556) domain, greylisting that later succeeds,
// a Spamhaus listing, and a few malformed records. Same options → same bytes.
#ifndef BOUNCESTREAM_BENCH_LOADGEN_GENERATOR_H_
#define BOUNCESTREAM_BENCH_LOADGEN_GENERATOR_H_

#include <cstdint>
#include <string>

namespace bs::loadgen {

enum class LogFormat { kKumoMta, kPostfix };

struct GeneratorOptions {
  LogFormat format = LogFormat::kKumoMta;
  uint64_t records = 10000;
  uint64_t seed = 1;
  int64_t start_ms = 1793606400000;  // 2026-11-02T08:00:00Z
  int64_t duration_ms = 6LL * 3600 * 1000;
  uint64_t distinct_addresses = 0;   // 0: about records / 3
  bool incidents = true;
  bool malformed = true;             // a few bad records, to exercise the dead-letter output
  // Two more incidents (off by default, so the default output and the bundled samples do not change):
  // Gmail SPF failures for shop.example.net, first deferred (421 4.7.27) for 30 minutes, then refused
  // (550 5.7.27) for 30 minutes, from 4 h 20 min; and domain-wide deferrals at smallbiz.example (451 4.3.0,
  // retried every 40 minutes until delivered) from 30 min to 5 h.
  bool extra_incidents = false;
  // Postfix only: qmgr's "removed" line after a message's final attempt (sent or bounced), as real
  // Postfix logs have. Off by default so the bundled samples do not change; the benchmarks turn it on
  // (without it the sender join keeps every message id until its capacity evicts the oldest).
  bool queue_removed = false;
};

// Appends the generated log (one record per line) to `out`.
void Generate(const GeneratorOptions& options, std::string& out);

}  // namespace bs::loadgen

#endif  // BOUNCESTREAM_BENCH_LOADGEN_GENERATOR_H_
