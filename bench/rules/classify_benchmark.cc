// RuleSet::Classify throughput on a realistic reply mix, checked against the reference implementation
// (every regex run on its own, same precedence) before anything is timed.
//
// The mix is built from the golden cases beside the rules (rules/data/*.golden.jsonl, every provider's)
// plus synthetic variants of them (other IPs, addresses, message ids, whitespace), as the parsers would
// hand them over: code and enhanced code split off, the MX host set for most records. Nothing from the
// shared corpus is read here.
//   BM_Classify/failures   only non-2xx replies (the work the rules really do)
//   BM_Classify/realistic  85 % accepted (250) records, 15 % failures, as in a bulk sender's log
//   BM_Reference/failures  the per-regex loop, for comparison
//   BM_Classify/delivered  the accepted records alone (the fast path)
//   BM_Normalize           NormalizeReply alone on the failure replies
//   BM_Scan/re2_set        the scan step alone: which of the snapshot's patterns (rule texts and reply
//   BM_Scan/hyperscan      identifiers) match each normalised failure text, by the RE2::Set Classify
//                          uses and by one Hyperscan database of the same patterns (built only when
//                          libhs is installed; both answers are compared first). The measurement that
//                          decided against a Hyperscan prefilter: see bench/README.md.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#ifdef BS_HAVE_HYPERSCAN
#include <hs/hs.h>
#endif

#include "parsers/smtp_reply.h"
#include "rules/classify_io.h"
#include "rules/rule_set_impl.h"
#include "rules/scan_dfa.h"
#include "rules/scan_program.h"

namespace bs {
namespace {

struct Record {
  std::string text, mx, domain;
  uint16_t code = 0;
  EnhancedCode enhanced;
  Outcome outcome = Outcome::kBounced;

  ReplyInput Input() const {
    ReplyInput in;
    in.outcome = outcome;
    in.code = code;
    in.enhanced = enhanced;
    in.text = text;
    in.mx_host = mx;
    in.recipient_domain = domain;
    return in;
  }
};

const char* const kMx[] = {"gmail-smtp-in.l.google.com", "contoso-com.mail.protection.outlook.com",
                           "outlook-com.olc.protection.outlook.com", "mta6.am0.yahoodns.net",
                           "mx01.mail.icloud.com", "mx00.emig.gmx.net", "mx.example.net", ""};

std::string Vary(const std::string& s, std::mt19937& rng) {
  std::string out = s;
  // Replace digits of IP-looking runs and add a per-message token, as real replies differ.
  for (size_t i = 0; i + 1 < out.size(); ++i) {
    if (out[i] == '.' && i > 0 && std::isdigit(static_cast<unsigned char>(out[i - 1])) &&
        std::isdigit(static_cast<unsigned char>(out[i + 1])) && rng() % 2) {
      out[i + 1] = static_cast<char>('0' + rng() % 10);
    }
  }
  if (rng() % 3 == 0) out += " id=" + std::to_string(rng() % 1000000);
  if (rng() % 4 == 0) out = "  " + out + "\r\n";
  return out;
}

struct Mix {
  std::shared_ptr<const RuleSetImpl> rules;
  std::vector<Record> failures;
  std::vector<Record> realistic;
};

Mix& GetMix() {
  static Mix* mix = [] {
    auto* m = new Mix;
    auto rs = LoadRuleSet("", {});
    if (!rs.ok()) {
      std::fprintf(stderr, "rules: %s\n", std::string(rs.status().message()).c_str());
      std::exit(1);
    }
    m->rules = *rs;
    std::vector<std::string> replies;
    std::vector<std::string> mxs;
    const std::string dir = std::string(BS_SOURCE_DIR) + "/rules/data";
    ReplyLineReader reader;
    for (const auto& e : std::filesystem::directory_iterator(dir)) {
      const std::string name = e.path().filename().string();
      if (name.size() < 13 || name.compare(name.size() - 13, 13, ".golden.jsonl") != 0) continue;
      std::ifstream in(e.path());
      std::string line, err;
      while (std::getline(in, line)) {
        ReplyLine rl;
        if (!reader.Parse(line, &rl, &err) || rl.local || rl.reply.empty()) continue;
        replies.push_back(rl.reply);
        mxs.push_back(rl.mx);
      }
    }
    std::mt19937 rng(42);
    for (int round = 0; round < 20; ++round) {
      for (size_t i = 0; i < replies.size(); ++i) {
        std::string raw = round == 0 ? replies[i] : Vary(replies[i], rng);
        SmtpReply r = ParseSmtpReply(raw);
        if (r.code / 100 == 2) continue;
        Record rec;
        rec.text = std::string(r.text);
        rec.code = r.code;
        rec.enhanced = r.enhanced;
        rec.mx = !mxs[i].empty() ? mxs[i] : kMx[rng() % (sizeof(kMx) / sizeof(kMx[0]))];
        rec.outcome = r.code / 100 == 4 ? Outcome::kDeferred : Outcome::kBounced;
        m->failures.push_back(std::move(rec));
      }
    }
    std::shuffle(m->failures.begin(), m->failures.end(), rng);
    for (size_t i = 0; i < m->failures.size() * 100 / 15; ++i) {
      if (rng() % 100 < 85) {
        Record rec;
        rec.code = 250;
        rec.enhanced = EnhancedCode{2, 0, 0};
        rec.text = "OK 1732945000 z2si1584129pfn.61 - gsmtp";
        rec.mx = kMx[rng() % (sizeof(kMx) / sizeof(kMx[0]))];
        rec.outcome = Outcome::kDelivered;
        m->realistic.push_back(std::move(rec));
      } else {
        m->realistic.push_back(m->failures[rng() % m->failures.size()]);
      }
    }
    // Check every answer against the reference before timing anything.
    ClassifyScratch s;
    size_t unknown = 0;
    for (const auto* set : {&m->failures, &m->realistic}) {
      for (const Record& rec : *set) {
        Classification a = m->rules->Classify(rec.Input(), s);
        Classification b = m->rules->ClassifyReference(rec.Input(), s);
        if (a.rule != b.rule || a.category != b.category || a.action != b.action || a.scope != b.scope ||
            a.provider != b.provider || a.code != b.code || !(a.enhanced == b.enhanced)) {
          std::fprintf(stderr, "MISMATCH: %s vs %s for: %s\n", std::string(a.rule).c_str(),
                       std::string(b.rule).c_str(), rec.text.c_str());
          std::exit(1);
        }
        if (set == &m->failures && a.category == Category::kUnknown) ++unknown;
      }
    }
    std::fprintf(stderr,
                 "mix: %zu failure replies (%zu distinct golden, %zu unknown), %zu realistic records; %zu rules; "
                 "all answers equal the reference\n",
                 m->failures.size(), replies.size(), unknown, m->realistic.size(), m->rules->rules().size());
    return m;
  }();
  return *mix;
}

void RunClassify(benchmark::State& state, const std::vector<Record>& records, bool reference) {
  const Mix& mix = GetMix();
  std::vector<ReplyInput> inputs;
  inputs.reserve(records.size());
  for (const Record& r : records) inputs.push_back(r.Input());
  ClassifyScratch scratch;
  size_t i = 0;
  uint64_t sink = 0;
  // A worker that has run for a while: its DFA states (ScanDfa, in the scratch) are built, as RE2::Set's
  // are in the shared snapshot after the first benchmark.
  for (const ReplyInput& in : inputs) sink += static_cast<uint64_t>(mix.rules->Classify(in, scratch).category);
  for (auto _ : state) {
    const ReplyInput& in = inputs[i];
    if (++i == inputs.size()) i = 0;
    Classification c = reference ? mix.rules->ClassifyReference(in, scratch) : mix.rules->Classify(in, scratch);
    sink += static_cast<uint64_t>(c.category);
    benchmark::DoNotOptimize(sink);
  }
  state.counters["replies/s"] = benchmark::Counter(static_cast<double>(state.iterations()),
                                                   benchmark::Counter::kIsRate);
}

void BM_Classify_Failures(benchmark::State& state) { RunClassify(state, GetMix().failures, false); }
void BM_Classify_Realistic(benchmark::State& state) { RunClassify(state, GetMix().realistic, false); }
void BM_Reference_Failures(benchmark::State& state) { RunClassify(state, GetMix().failures, true); }
void BM_Classify_Delivered(benchmark::State& state) {
  std::vector<Record> delivered;
  for (const Record& r : GetMix().realistic) {
    if (r.code == 250) delivered.push_back(r);
  }
  RunClassify(state, delivered, false);
}

// The normalisation step alone (codes split off the text, whitespace collapsed, continuation tokens
// dropped), on the failure replies as the parsers hand them over.
void BM_Normalize(benchmark::State& state) {
  const Mix& mix = GetMix();
  std::string buf;
  size_t i = 0, bytes = 0;
  for (auto _ : state) {
    const Record& r = mix.failures[i];
    if (++i == mix.failures.size()) i = 0;
    NormalizedReply n = NormalizeReply(r.code, r.enhanced, r.text, buf);
    bytes += n.text.size();
    benchmark::DoNotOptimize(n);
  }
  benchmark::DoNotOptimize(bytes);
  state.counters["replies/s"] = benchmark::Counter(static_cast<double>(state.iterations()),
                                                   benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Normalize);

// ---- the scan step alone: RE2::Set against Hyperscan ----

struct ScanMix {
  std::vector<std::string> patterns;  // rule texts, then reply identifiers (Classify's scan set)
  std::vector<std::string> texts;     // normalised failure texts, printable ASCII only
  std::unique_ptr<RE2::Set> re2;
};

ScanMix& GetScanMix() {
  static ScanMix* mix = [] {
    auto* m = new ScanMix;
    const Mix& cm = GetMix();
    for (const auto& cr : cm.rules->rules()) {
      if (!cr.rule.text.empty()) m->patterns.push_back(cr.rule.text);
    }
    for (const auto& e : cm.rules->providers().providers) {
      for (const auto& pat : e.reply_patterns) m->patterns.push_back(pat);
    }
    RE2::Options opts;
    opts.set_log_errors(false);
    opts.set_max_mem(64 << 20);  // as rules/rule_set.cc
    m->re2 = std::make_unique<RE2::Set>(opts, RE2::UNANCHORED);
    for (const auto& p : m->patterns) {
      if (m->re2->Add(p, nullptr) < 0) {
        std::fprintf(stderr, "pattern does not compile: %s\n", p.c_str());
        std::exit(1);
      }
    }
    if (!m->re2->Compile()) std::exit(1);
    std::string buf;
    for (const Record& r : cm.failures) {
      NormalizedReply n = NormalizeReply(r.code, r.enhanced, r.text, buf);
      bool printable = !n.text.empty();
      for (unsigned char c : n.text) printable = printable && c >= 0x20 && c < 0x7f;
      if (printable) m->texts.emplace_back(n.text);
    }
    return m;
  }();
  return *mix;
}

void BM_Scan_Re2Set(benchmark::State& state) {
  ScanMix& m = GetScanMix();
  std::vector<int> hits;
  size_t i = 0, found = 0;
  for (auto _ : state) {
    hits.clear();
    m.re2->Match(m.texts[i], &hits);
    found += hits.size();
    if (++i == m.texts.size()) i = 0;
  }
  benchmark::DoNotOptimize(found);
  state.counters["texts/s"] = benchmark::Counter(static_cast<double>(state.iterations()),
                                                 benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Scan_Re2Set);

void BM_Scan_Dfa(benchmark::State& state) {
  ScanMix& m = GetScanMix();
  auto prog = ScanProgram::Compile(m.patterns);
  if (!prog.ok()) {
    state.SkipWithError(std::string(prog.status().message()).c_str());
    return;
  }
  ScanDfa dfa;
  std::vector<int> a, b;
  const auto w0 = std::chrono::steady_clock::now();
  for (const auto& t : m.texts) dfa.Scan(**prog, t, &b);
  state.counters["warmup_ms"] = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - w0).count();
  for (const auto& t : m.texts) {
    a.clear();
    m.re2->Match(t, &a);
    std::sort(a.begin(), a.end());
    if (!dfa.Scan(**prog, t, &b) || a != b) {
      std::fprintf(stderr, "ScanDfa and RE2::Set disagree on: %s\n", t.c_str());
      std::exit(1);
    }
  }
  size_t i = 0, found = 0;
  for (auto _ : state) {
    dfa.Scan(**prog, m.texts[i], &b);
    found += b.size();
    if (++i == m.texts.size()) i = 0;
  }
  benchmark::DoNotOptimize(found);
  state.counters["texts/s"] = benchmark::Counter(static_cast<double>(state.iterations()),
                                                 benchmark::Counter::kIsRate);
  state.counters["states"] = static_cast<double>(dfa.state_count());
  state.counters["MiB"] = static_cast<double>(dfa.memory_bytes()) / (1 << 20);
  state.counters["classes"] = (*prog)->class_count();
}
BENCHMARK(BM_Scan_Dfa);

#ifdef BS_HAVE_HYPERSCAN
int OnHsMatch(unsigned id, unsigned long long, unsigned long long, unsigned, void* ctx) {
  static_cast<std::vector<int>*>(ctx)->push_back(static_cast<int>(id));
  return 0;
}

void BM_Scan_Hyperscan(benchmark::State& state) {
  ScanMix& m = GetScanMix();
  // Same patterns, each reported once wherever it matches (HS_FLAG_SINGLEMATCH): the question
  // RE2::Set::Match answers. On printable ASCII the two engines' semantics agree.
  std::vector<const char*> exprs;
  std::vector<unsigned> flags, ids;
  for (size_t i = 0; i < m.patterns.size(); ++i) {
    exprs.push_back(m.patterns[i].c_str());
    flags.push_back(HS_FLAG_SINGLEMATCH | HS_FLAG_ALLOWEMPTY);
    ids.push_back(static_cast<unsigned>(i));
  }
  hs_database_t* db = nullptr;
  hs_compile_error_t* err = nullptr;
  const auto t0 = std::chrono::steady_clock::now();
  if (hs_compile_multi(exprs.data(), flags.data(), ids.data(), static_cast<unsigned>(exprs.size()), HS_MODE_BLOCK,
                       nullptr, &db, &err) != HS_SUCCESS) {
    state.SkipWithError(err != nullptr ? err->message : "hs_compile_multi failed");
    return;
  }
  const double compile_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  hs_scratch_t* scratch = nullptr;
  if (hs_alloc_scratch(db, &scratch) != HS_SUCCESS) std::exit(1);
  // Both engines must find the same patterns in every text before anything is timed.
  std::vector<int> a, b;
  for (const auto& t : m.texts) {
    a.clear();
    b.clear();
    m.re2->Match(t, &a);
    hs_scan(db, t.data(), static_cast<unsigned>(t.size()), 0, scratch, OnHsMatch, &b);
    std::sort(a.begin(), a.end());
    std::sort(b.begin(), b.end());
    if (a != b) {
      std::fprintf(stderr, "Hyperscan and RE2::Set disagree on: %s\n", t.c_str());
      std::exit(1);
    }
  }
  size_t i = 0, found = 0;
  for (auto _ : state) {
    b.clear();
    hs_scan(db, m.texts[i].data(), static_cast<unsigned>(m.texts[i].size()), 0, scratch, OnHsMatch, &b);
    found += b.size();
    if (++i == m.texts.size()) i = 0;
  }
  benchmark::DoNotOptimize(found);
  size_t bytes = 0;
  hs_database_size(db, &bytes);
  state.counters["texts/s"] = benchmark::Counter(static_cast<double>(state.iterations()),
                                                 benchmark::Counter::kIsRate);
  state.counters["compile_ms"] = compile_ms;
  state.counters["db_KiB"] = static_cast<double>(bytes) / 1024;
  hs_free_scratch(scratch);
  hs_free_database(db);
}
BENCHMARK(BM_Scan_Hyperscan);
#endif  // BS_HAVE_HYPERSCAN

BENCHMARK(BM_Classify_Failures);
BENCHMARK(BM_Classify_Realistic);
BENCHMARK(BM_Reference_Failures);
BENCHMARK(BM_Classify_Delivered);

}  // namespace
}  // namespace bs

BENCHMARK_MAIN();
