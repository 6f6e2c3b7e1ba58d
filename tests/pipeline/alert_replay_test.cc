// Alerts through the whole replay pipeline on generated logs: identical alerts for any thread count, file
// order, or split of one log into files with interleaved time; and a scenario with five injected incidents
// that must come out as exactly five alerts (firing once, updated, resolved) and nothing else.
#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "bench/loadgen/generator.h"
#include "gtest/gtest.h"
#include "pipeline/replay.h"
#include "pipeline/source/file_source.h"
#include "simdjson.h"
#include "tests/testing/paths.h"

namespace bs {
namespace {

constexpr int64_t kT0 = 1793606400000;  // the generator's default start
constexpr int64_t kMin = 60 * 1000;
constexpr int64_t kHour = 60 * kMin;

class CapturingSink final : public Sink {
 public:
  absl::Status Write(OutputKind kind, std::string_view, std::string_view json) override {
    if (kind == OutputKind::kAlerts) alerts.emplace_back(json);
    if (kind == OutputKind::kSuppressions) suppressions.emplace_back(json);
    return absl::OkStatus();
  }
  absl::Status Flush() override { return absl::OkStatus(); }
  std::vector<std::string> alerts;
  std::vector<std::string> suppressions;
};

std::shared_ptr<const RuleSet> Rules() {
  static auto* rules = [] {
    auto r = RuleSet::Load({});
    EXPECT_TRUE(r.ok()) << r.status();
    return new std::shared_ptr<const RuleSet>(r.ok() ? *r : nullptr);
  }();
  return *rules;
}

std::string WriteTemp(const std::string& name, const std::string& data) {
  std::string path = ::testing::TempDir() + "/alert_replay_" + name;
  std::ofstream(path, std::ios::binary) << data;
  return path;
}

struct ReplayRun {
  std::vector<std::string> alerts;
  std::vector<std::string> suppressions;
  PipelineStats stats;
};

ReplayRun Replay(const std::vector<std::string>& paths, int threads) {
  ReplayOptions o;
  for (const auto& p : paths) o.inputs.push_back({p, p.substr(p.rfind('/') + 1)});
  o.threads = threads;
  o.chunk_bytes = 256 << 10;  // several chunks per file, so windows close between chunks
  CapturingSink sink;
  auto st = RunReplay(o, Rules(), sink);
  EXPECT_TRUE(st.ok()) << st.status();
  ReplayRun r;
  r.alerts = std::move(sink.alerts);
  r.suppressions = std::move(sink.suppressions);
  if (st.ok()) r.stats = *st;
  return r;
}

struct Alert {
  std::string id, kind, state, provider, key, severity, action;
  int64_t window_start = 0;
  uint64_t count = 0, attempts = 0;
  double rate = 0;
  size_t samples = 0, rules = 0;
  std::set<std::string> escalation;
};

Alert ParseAlert(const std::string& json) {
  static simdjson::dom::parser parser;
  Alert a;
  simdjson::dom::element doc;
  EXPECT_EQ(parser.parse(json).get(doc), simdjson::SUCCESS) << json;
  auto str = [](simdjson::dom::element e, const char* k) {
    std::string_view v;
    return e[k].get(v) == simdjson::SUCCESS ? std::string(v) : std::string();
  };
  a.id = str(doc, "id");
  a.kind = str(doc, "kind");
  a.state = str(doc, "state");
  a.severity = str(doc, "severity");
  a.action = str(doc, "action");
  simdjson::dom::element key = doc["key"];
  a.provider = str(key, "provider");
  for (const char* f : {"sending_ip", "mta", "sender_domain", "domain"}) {
    if (a.key.empty()) a.key = str(key, f);
  }
  EXPECT_EQ(doc["window"]["start"].get(a.window_start), simdjson::SUCCESS);
  EXPECT_EQ(doc["count"].get(a.count), simdjson::SUCCESS);
  EXPECT_EQ(doc["attempts"].get(a.attempts), simdjson::SUCCESS);
  EXPECT_EQ(doc["rate"].get(a.rate), simdjson::SUCCESS);
  simdjson::dom::array arr;
  if (doc["samples"].get(arr) == simdjson::SUCCESS) a.samples = arr.size();
  if (doc["rules"].get(arr) == simdjson::SUCCESS) a.rules = arr.size();
  if (doc["escalation"].get(arr) == simdjson::SUCCESS) {
    for (auto e : arr) a.escalation.insert(std::string(e.get_string().value()));
  }
  return a;
}

std::string Lines(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& l : v) s += l + "\n";
  return s;
}

TEST(AlertReplayTest, GeneratorDefaultOutputStillMatchesTheBundledSamples) {
  // The extra incidents are opt-in: the default generator must still produce the bundled samples.
  for (auto [file, format, records, seed] :
       {std::tuple{"kumomta.jsonl.zst", loadgen::LogFormat::kKumoMta, 28000, 1},
        std::tuple{"postfix.log.zst", loadgen::LogFormat::kPostfix, 14000, 2}}) {
    auto src = FileSource::Open(bs::testing::SourceDir() + "/tools/samples/" + file);
    ASSERT_TRUE(src.ok()) << src.status();
    std::string bundled;
    Chunk chunk;
    while (true) {
      auto more = (*src)->Next(chunk);
      ASSERT_TRUE(more.ok());
      if (!*more) break;
      bundled.append(chunk.data());
    }
    loadgen::GeneratorOptions o;
    o.format = format;
    o.records = records;
    o.seed = seed;
    std::string generated;
    loadgen::Generate(o, generated);
    EXPECT_TRUE(generated == bundled) << file << ": " << generated.size() << " vs " << bundled.size() << " bytes";
  }
}

TEST(AlertReplayTest, SameAlertsForAnyThreadCountAndFileOrder) {
  // Two logs with their own seeds and formats whose times overlap by two hours.
  loadgen::GeneratorOptions a;
  a.records = 30000;
  a.seed = 11;
  a.duration_ms = 4 * kHour;
  a.malformed = false;
  loadgen::GeneratorOptions b = a;
  b.format = loadgen::LogFormat::kPostfix;
  b.seed = 12;
  b.start_ms = kT0 + 2 * kHour;
  std::string da, db;
  loadgen::Generate(a, da);
  loadgen::Generate(b, db);
  const std::string pa = WriteTemp("a.jsonl", da), pb = WriteTemp("b.log", db);

  ReplayRun base = Replay({pa, pb}, 1);
  ASSERT_FALSE(base.alerts.empty());
  EXPECT_EQ(base.stats.late_events, 0u);
  std::set<std::string> firing;
  for (const auto& j : base.alerts) {
    Alert al = ParseAlert(j);
    if (al.state == "firing") firing.insert(al.kind + " " + al.key);
  }
  EXPECT_TRUE(firing.count("rate_limit 203.0.113.7")) << "file a's rate limit";
  EXPECT_TRUE(firing.count("rate_limit mta1")) << "file b's rate limit";
  for (auto [order, threads] : {std::pair{0, 2}, std::pair{1, 1}, std::pair{1, 2}}) {
    ReplayRun r = Replay(order ? std::vector<std::string>{pb, pa} : std::vector<std::string>{pa, pb}, threads);
    EXPECT_EQ(r.stats.late_events, 0u);
    EXPECT_EQ(Lines(r.alerts), Lines(base.alerts)) << "order " << order << ", threads " << threads;
  }
}

TEST(AlertReplayTest, OneLogSplitIntoInterleavedFilesGivesTheSameAlerts) {
  loadgen::GeneratorOptions o;
  o.records = 40000;
  o.seed = 5;
  o.malformed = false;
  o.extra_incidents = true;
  std::string all;
  loadgen::Generate(o, all);
  // Round-robin by line: three files covering the same six hours, each in time order.
  std::string parts[3];
  size_t pos = 0, line = 0;
  while (pos < all.size()) {
    size_t nl = all.find('\n', pos);
    parts[line++ % 3].append(all, pos, nl - pos + 1);
    pos = nl + 1;
  }
  const std::string whole = WriteTemp("whole.jsonl", all);
  std::vector<std::string> split;
  for (int i = 0; i < 3; ++i) split.push_back(WriteTemp("part" + std::to_string(i) + ".jsonl", parts[i]));

  ReplayRun one = Replay({whole}, 1);
  ASSERT_GE(one.alerts.size(), 5u);
  for (auto order : {std::vector<int>{0, 1, 2}, std::vector<int>{2, 0, 1}}) {
    std::vector<std::string> paths;
    for (int i : order) paths.push_back(split[i]);
    ReplayRun r = Replay(paths, 2);
    EXPECT_EQ(r.stats.late_events, 0u);
    EXPECT_EQ(Lines(r.alerts), Lines(one.alerts)) << "split order " << order[0] << order[1] << order[2];
  }
}

// Postfix's qmgr "removed" lines (the generator's queue_removed) only let the sender join forget message
// ids early: the same log with them gives the same alerts and suppressions (evidence positions aside).
TEST(AlertReplayTest, PostfixQueueRemovedLinesChangeNoDecision) {
  loadgen::GeneratorOptions o;
  o.format = loadgen::LogFormat::kPostfix;
  o.records = 20000;
  o.seed = 9;
  o.malformed = false;
  std::string plain, with_removed;
  loadgen::Generate(o, plain);
  o.queue_removed = true;
  loadgen::Generate(o, with_removed);

  // The only difference is the removed lines, each after its message's final (sent or bounced) attempt,
  // and its queue id is never logged again.
  std::string stripped;
  std::map<std::string, std::string> last_status;  // queue id → status of its latest attempt
  std::set<std::string> gone;
  size_t removed = 0;
  for (size_t pos = 0; pos < with_removed.size();) {
    const size_t nl = with_removed.find('\n', pos);
    const std::string line = with_removed.substr(pos, nl - pos);
    pos = nl + 1;
    const size_t colon = line.find("]: ");
    ASSERT_NE(colon, std::string::npos) << line;
    const std::string qid = line.substr(colon + 3, 10);
    EXPECT_EQ(gone.count(qid), 0u) << "logged after removed: " << line;
    if (line.size() > 9 && line.compare(line.size() - 9, 9, ": removed") == 0) {
      ++removed;
      EXPECT_TRUE(last_status[qid] == "sent" || last_status[qid] == "bounced") << qid << ": " << last_status[qid];
      gone.insert(qid);
      continue;
    }
    if (const size_t st = line.find(", status="); st != std::string::npos) {
      last_status[qid] = line.substr(st + 9, line.find(' ', st + 9) - st - 9);
    }
    stripped += line + "\n";
  }
  EXPECT_EQ(stripped, plain);
  EXPECT_GT(removed, o.records / 2);

  ReplayRun a = Replay({WriteTemp("plain.log", plain)}, 1);
  ReplayRun b = Replay({WriteTemp("removed.log", with_removed)}, 2);
  ASSERT_FALSE(a.suppressions.empty());
  auto without_positions = [](std::vector<std::string> v) {
    for (std::string& j : v) {
      for (size_t at = j.find("\"position\":\""); at != std::string::npos; at = j.find("\"position\":\"", at + 1)) {
        j.erase(at, j.find('"', at + 12) + 1 - at);
      }
    }
    return Lines(v);
  };
  EXPECT_EQ(without_positions(b.suppressions), without_positions(a.suppressions));
  EXPECT_EQ(without_positions(b.alerts), without_positions(a.alerts));
  EXPECT_EQ(b.stats.suppressions, a.stats.suppressions);
}

// A realistic six-hour log of 100 000 records (ten providers, three IPs, three sender domains, 1 % invalid
// addresses, a null-MX domain, greylisting, occasional Gmail throttling and full mailboxes) with five
// injected incidents. Each must be exactly one alert, at the time it was injected, with its evidence.
TEST(AlertReplayTest, ScenarioFiveIncidentsFiveAlertsNothingElse) {
  loadgen::GeneratorOptions o;
  o.records = 100000;
  o.seed = 7;
  o.extra_incidents = true;
  std::string data;
  loadgen::Generate(o, data);
  ReplayRun r = Replay({WriteTemp("scenario.jsonl", data)}, 2);
  EXPECT_EQ(r.stats.late_events, 0u);

  struct Expected {
    std::string action;
    int64_t from, to;  // when the incident was injected
  };
  const std::map<std::string, Expected> expected = {
      {"rate_limit gmail 203.0.113.7", {"retry_slower", kT0 + 2 * kHour, kT0 + 2 * kHour + 40 * kMin}},
      {"dmarc_failure microsoft alerts.example.org", {"fix_authentication", kT0 + 3 * kHour + 30 * kMin, kT0 + 4 * kHour}},
      {"blocklist proofpoint 198.51.100.21", {"request_delisting", kT0 + 1 * kHour, kT0 + 1 * kHour + 15 * kMin}},
      {"spf_failure gmail shop.example.net", {"fix_authentication", kT0 + 4 * kHour + 20 * kMin, kT0 + 5 * kHour + 20 * kMin}},
      {"domain_deferrals other smallbiz.example", {"retry_slower", kT0 + 30 * kMin, kT0 + 5 * kHour}},
  };
  std::map<std::string, std::vector<Alert>> by_id;
  std::map<std::string, std::string> name_of_id;
  for (const auto& j : r.alerts) {
    Alert a = ParseAlert(j);
    by_id[a.id].push_back(a);
    name_of_id[a.id] = a.kind + " " + a.provider + " " + a.key;
  }
  std::set<std::string> names;
  for (const auto& [id, name] : name_of_id) names.insert(name);
  std::set<std::string> want;
  for (const auto& [name, e] : expected) want.insert(name);
  EXPECT_EQ(names, want);
  EXPECT_EQ(by_id.size(), expected.size()) << "one incident id per injected incident";
  std::printf("scenario: %zu alert records, %zu incidents\n", r.alerts.size(), by_id.size());

  for (const auto& [id, recs] : by_id) {
    const std::string& name = name_of_id[id];
    auto it = expected.find(name);
    if (it == expected.end()) continue;
    const Expected& e = it->second;
    std::string states;
    for (const auto& a : recs) states += a.state.substr(0, 1);
    std::printf("  %-45s %s  fired at +%lld min, resolved at +%lld min\n", name.c_str(), states.c_str(),
                static_cast<long long>((recs.front().window_start - kT0) / kMin),
                static_cast<long long>((recs.back().window_start - kT0) / kMin));
    // Lifecycle: firing, then only updates, then resolved.
    ASSERT_GE(recs.size(), 2u) << name;
    EXPECT_EQ(recs.front().state, "firing") << name;
    EXPECT_EQ(recs.back().state, "resolved") << name;
    for (size_t i = 1; i + 1 < recs.size(); ++i) EXPECT_EQ(recs[i].state, "updated") << name << " " << states;
    // Timing: fires within a window of the injection's start, resolves after its end.
    const Alert& f = recs.front();
    EXPECT_GE(f.window_start, e.from - 5 * kMin) << name;
    EXPECT_LE(f.window_start, e.from + 10 * kMin) << name;
    EXPECT_GE(recs.back().window_start, e.to - 5 * kMin) << name;
    EXPECT_LE(recs.back().window_start, e.to + 30 * kMin) << name;
    // Evidence.
    EXPECT_EQ(f.action, e.action) << name;
    EXPECT_GE(f.samples, 1u) << name;
    EXPECT_LE(f.samples, 3u) << name;
    EXPECT_GE(f.rules, 1u) << name;
    EXPECT_GT(f.count, 0u);
    EXPECT_GE(f.attempts, f.count);
  }
  // The escalation warnings the injected incidents call for.
  for (const auto& [id, recs] : by_id) {
    std::set<std::string> esc;
    for (const auto& a : recs) esc.insert(a.escalation.begin(), a.escalation.end());
    if (name_of_id[id] == "spf_failure gmail shop.example.net") {
      EXPECT_TRUE(esc.count("4xx_to_5xx")) << "deferred for SPF, then refused";
    } else if (name_of_id[id] == "domain_deferrals other smallbiz.example") {
      EXPECT_TRUE(esc.count("ageing")) << "deferred for 4.5 hours, retried 7 times";
    } else {
      EXPECT_FALSE(esc.count("4xx_to_5xx")) << name_of_id[id];
    }
  }
}

}  // namespace
}  // namespace bs
