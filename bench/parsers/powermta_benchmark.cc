// PowerMTA accounting CSV parser throughput (target ≥ 1 M lines/s on one core), checked line by line
// against a slow reference before anything is timed.
//
// Input: synthetic accounting lines in PowerMTA's default 23-column layout (the header first), shaped like
// the real records of the shared corpus: d/b/t records, "YYYY-MM-DD HH:MM:SS+ZZZZ" or time_t times,
// dsnStatus with its description, "smtp;" diagnostics (some quoted with commas and doubled quotes), dsnMta
// "host (ip)", the quoted EHLO extension list. About 300 bytes a line. Nothing from the corpus is read.
//   BM_PowerMta/realistic   85 % d, 10 % t, 5 % b
//   BM_PowerMta/bounces     b and t only (longer diagnostics, quoting)
//   BM_Reference/realistic  the reference (std::string cells, a std::map header), for scale
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "parsers/powermta.h"
#include "pipeline/base/event_time.h"

namespace bs {
namespace {

constexpr std::string_view kHeader =
    "type,timeLogged,timeQueued,orig,rcpt,orcpt,dsnAction,dsnStatus,dsnDiag,dsnMta,bounceCat,srcType,srcMta,"
    "dlvType,dlvSourceIp,dlvDestinationIp,dlvEsmtpAvailable,dlvSize,vmta,jobId,envId,queue,vmtaPool";

const char* const kDomains[] = {"gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "aol.com",
                                "icloud.com", "gmx.de", "example.org", "comcast.net", "web.de"};
const char* const kMx[] = {"gmail-smtp-in.l.google.com", "mta7.am0.yahoodns.net",
                           "outlook-com.olc.protection.outlook.com", "mx01.mail.icloud.com", "mx00.emig.gmx.net"};

// Lines in one buffer, each followed by "\r\n" (so at least kRecordPadding readable bytes follow every
// line but the last, which gets explicit padding).
struct Corpus {
  std::string buffer;
  std::vector<std::string_view> lines;
};

std::string MakeLine(std::mt19937& rng, char type) {
  const std::string domain = kDomains[rng() % 10];
  const std::string rcpt = "user" + std::to_string(rng() % 1000000) + "@" + domain;
  const std::string mx = kMx[rng() % 5];
  const std::string ip = std::to_string(rng() % 223 + 1) + "." + std::to_string(rng() % 256) + ".1." +
                         std::to_string(rng() % 256);
  const int sec = static_cast<int>(rng() % 60), min = static_cast<int>(rng() % 60);
  char logged[40];
  if (rng() % 8 == 0) {
    std::snprintf(logged, sizeof logged, "%lld", 1700000000LL + static_cast<long long>(rng() % 10000000));
  } else {
    std::snprintf(logged, sizeof logged, "2026-09-21 12:%02d:%02d+0530", min, sec);
  }
  std::string status, diag, action, cat;
  if (type == 'd') {
    action = "relayed";
    status = "2.0.0 (success)";
    diag = "smtp;250 2.0.0 OK " + std::to_string(1700000000 + rng() % 1000000) + " x" +
           std::to_string(rng() % 100000) + "si.12 - gsmtp";
    cat = "success";
  } else if (type == 't') {
    action = "delayed";
    status = "4.7.0 (other or undefined security status)";
    diag = rng() % 2 ? "smtp;421 4.7.0 [TSS04] Messages from " + ip + " temporarily deferred due to user complaints"
                     : "\"smtp;451 4.7.652 The mail server [" + ip + "] has exceeded the maximum number of "
                       "connections, \"\"retry\"\" later\"";
    cat = "policy-related";
  } else {
    action = "failed";
    status = "5.1.1 (bad destination mailbox address)";
    diag = rng() % 2 ? "\"smtp;550-5.1.1 The email account that you tried to reach does not exist, please try "
                       "double-checking the recipient's email address - gsmtp\""
                     : "Smtp;550 5.1.1 <" + rcpt + ">: Recipient address rejected: User unknown";
    cat = "bad-mailbox";
  }
  std::string line;
  line += type;
  line += ',' + std::string(logged) + ",2026-09-21 11:59:00+0530,bounces@em.example.com," + rcpt + ",," + action +
          ',' + status + ',' + diag + ',' + mx + " (" + ip + ")," + cat +
          ",smtp,app.example.com (10.0.0.5),smtp,203.0.113." + std::to_string(rng() % 256) + ',' + ip +
          ",\"PIPELINING,8BITMIME,SIZE,STARTTLS\"," + std::to_string(rng() % 100000) + ",vmta-" +
          std::to_string(rng() % 8) + ",job-" + std::to_string(rng() % 50) + ",," + domain + "/vmta," + "pool-a";
  return line;
}

Corpus MakeCorpus(size_t n, int d_pct, int t_pct) {
  std::mt19937 rng(7);
  std::vector<std::string> lines;
  lines.emplace_back(kHeader);
  for (size_t i = 0; i < n; ++i) {
    int r = static_cast<int>(rng() % 100);
    lines.push_back(MakeLine(rng, r < d_pct ? 'd' : r < d_pct + t_pct ? 't' : 'b'));
  }
  Corpus c;
  for (const std::string& l : lines) c.buffer += l + "\r\n";
  c.buffer.append(kRecordPadding, '\0');
  size_t pos = 0;
  for (const std::string& l : lines) {
    c.lines.emplace_back(c.buffer.data() + pos, l.size());
    pos += l.size() + 2;
  }
  return c;
}

// The slow reference: cells as std::strings, RFC 4180 by the book, a std::map from header names.
struct RefEvent {
  std::string rcpt, sender, campaign, source_ip, mx_host, mx_ip, vmta;
  int64_t time_ms = 0;
  int code = 0;
  char type = 0;
};

std::vector<std::string> RefCells(std::string_view line) {
  std::vector<std::string> cells(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        cells.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        cells.back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      cells.emplace_back();
    } else if (c != '\r') {
      cells.back() += c;
    }
  }
  return cells;
}

bool Reference(const std::vector<std::string_view>& lines, std::vector<RefEvent>& out) {
  std::map<std::string, size_t> col;
  for (std::string_view line : lines) {
    std::vector<std::string> cells = RefCells(line);
    if (cells[0] == "type") {
      col.clear();
      for (size_t i = 0; i < cells.size(); ++i) col[cells[i]] = i;
      continue;
    }
    auto get = [&](const char* name) { return cells.at(col.at(name)); };
    RefEvent e;
    e.type = cells[0][0];
    e.rcpt = get("rcpt");
    e.sender = get("orig");
    e.campaign = get("jobId");
    e.source_ip = get("dlvSourceIp");
    e.vmta = get("vmta");
    std::string t = get("timeLogged");
    if (t.find('-') == std::string::npos) {
      e.time_ms = std::stoll(t) * 1000;
    } else {
      std::optional<int64_t> ms = ParseIsoTime(t);
      if (!ms) return false;
      e.time_ms = *ms;
    }
    std::string diag = get("dsnDiag");
    size_t semi = diag.find(';');
    std::string reply = diag.substr(semi + 1);
    while (!reply.empty() && reply[0] == ' ') reply.erase(0, 1);
    e.code = std::stoi(reply.substr(0, 3));
    std::string mta = get("dsnMta");
    size_t open = mta.find(" (");
    e.mx_host = mta.substr(0, open);
    e.mx_ip = mta.substr(open + 2, mta.size() - open - 3);
    out.push_back(std::move(e));
  }
  return true;
}

Outcome OutcomeOf(char type) {
  return type == 'd' ? Outcome::kDelivered : type == 't' ? Outcome::kDeferred : Outcome::kBounced;
}

const Corpus& GetCorpus(bool bounces) {
  static const Corpus* realistic = nullptr;
  static const Corpus* failures = nullptr;
  const Corpus*& c = bounces ? failures : realistic;
  if (c != nullptr) return *c;
  auto* made = new Corpus(bounces ? MakeCorpus(100000, 0, 50) : MakeCorpus(100000, 85, 10));
  // Check every line against the reference before timing anything.
  std::vector<RefEvent> want;
  if (!Reference(made->lines, want)) {
    std::fprintf(stderr, "reference failed to read the corpus\n");
    std::exit(1);
  }
  auto parser = NewPowerMtaParser({});
  std::vector<DeliveryEvent> got;
  size_t bytes = 0;
  for (size_t i = 0; i < made->lines.size(); ++i) {
    bytes += made->lines[i].size();
    ParseResult r = parser->Parse(made->lines[i], Position{"bench", -1, static_cast<int64_t>(i + 1)}, got);
    if (!r.ok()) {
      std::fprintf(stderr, "line %zu: %s (%s)\n", i + 1, std::string(ParseErrorName(r.error)).c_str(),
                   std::string(r.detail).c_str());
      std::exit(1);
    }
  }
  if (got.size() != want.size()) {
    std::fprintf(stderr, "MISMATCH: %zu events, reference %zu\n", got.size(), want.size());
    std::exit(1);
  }
  for (size_t i = 0; i < got.size(); ++i) {
    const DeliveryEvent& g = got[i];
    const RefEvent& w = want[i];
    if (g.recipient != w.rcpt || g.sender != w.sender || g.campaign != w.campaign || g.sending_ip != w.source_ip ||
        g.egress_source != w.vmta || g.mx_host != w.mx_host || g.mx_ip != w.mx_ip || g.event_time_ms != w.time_ms ||
        g.reply.code != w.code || g.outcome != OutcomeOf(w.type)) {
      std::fprintf(stderr, "MISMATCH at record %zu (%s)\n", i + 1, w.rcpt.c_str());
      std::exit(1);
    }
  }
  std::fprintf(stderr, "%s: %zu lines, %.0f bytes/line; all %zu events equal the reference\n",
               bounces ? "bounces" : "realistic", made->lines.size(),
               static_cast<double>(bytes) / static_cast<double>(made->lines.size()), got.size());
  c = made;
  return *c;
}

void RunParser(benchmark::State& state, bool bounces) {
  const Corpus& corpus = GetCorpus(bounces);
  auto parser = NewPowerMtaParser({});
  std::vector<DeliveryEvent> events;
  events.reserve(4);
  size_t i = 0;
  size_t bytes = 0;
  uint64_t sink = 0;
  for (auto _ : state) {
    std::string_view line = corpus.lines[i];
    if (++i == corpus.lines.size()) i = 0;  // the header comes round again: a file rotation
    events.clear();
    ParseResult r = parser->Parse(line, Position{"bench", -1, 1}, events);
    sink += static_cast<uint64_t>(r.error) + events.size();
    bytes += line.size();
    benchmark::DoNotOptimize(sink);
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.counters["lines/s"] = benchmark::Counter(static_cast<double>(state.iterations()),
                                                 benchmark::Counter::kIsRate);
}

void RunReference(benchmark::State& state) {
  const Corpus& corpus = GetCorpus(false);
  const size_t batch = 1000;
  size_t start = 1;
  std::vector<RefEvent> out;
  std::vector<std::string_view> lines;
  for (auto _ : state) {
    lines.assign(1, corpus.lines[0]);
    for (size_t k = 0; k < batch; ++k) {
      lines.push_back(corpus.lines[start]);
      if (++start == corpus.lines.size()) start = 1;
    }
    out.clear();
    Reference(lines, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["lines/s"] = benchmark::Counter(static_cast<double>(state.iterations() * batch),
                                                 benchmark::Counter::kIsRate);
}

void BM_PowerMta_Realistic(benchmark::State& state) { RunParser(state, false); }
void BM_PowerMta_Bounces(benchmark::State& state) { RunParser(state, true); }
void BM_Reference_Realistic(benchmark::State& state) { RunReference(state); }

BENCHMARK(BM_PowerMta_Realistic);
BENCHMARK(BM_PowerMta_Bounces);
BENCHMARK(BM_Reference_Realistic);

}  // namespace
}  // namespace bs

BENCHMARK_MAIN();
