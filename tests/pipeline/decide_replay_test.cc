// `replay` end to end on multi-campaign logs: a KumoMTA log (campaign ids in the queue names) and a
// Postfix log (campaigns only in the VERP-style envelope sender), four weekly campaigns, parsed,
// classified by the real rules and decided by the stateful decider. The suppressions output must hold
// exactly the expected suppressions and hygiene events, with evidence pointing at the right lines, and
// the same bytes for 1 and 2 worker threads.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "gtest/gtest.h"
#include "pipeline/base/event_time.h"
#include "pipeline/replay.h"
#include "rules/rule_set.h"
#include "simdjson.h"

namespace bs {
namespace {

constexpr int64_t kT0 = 1793606400000;  // 2026-11-02T08:00:00Z
constexpr int64_t kMin = 60 * 1000;
constexpr int64_t kDay = 24 * 60 * kMin;

class CapturingSink final : public Sink {
 public:
  absl::Status Write(OutputKind kind, std::string_view, std::string_view json) override {
    if (kind == OutputKind::kSuppressions) lines.emplace_back(json);
    return absl::OkStatus();
  }
  absl::Status Flush() override { return absl::OkStatus(); }
  std::vector<std::string> lines;
};

const char* kGmailFull =
    "452 4.2.2 The recipient's inbox is out of storage space. Please direct the recipient to "
    "https://support.google.com/mail/?p=OverQuotaTemp - gsmtp";
const char* kGmailUnknown =
    "550 5.1.1 The email account that you tried to reach does not exist. Please try double-checking the "
    "recipient's email address for typos or unnecessary spaces. - gsmtp";
const char* kStorage = "552 5.2.2 <c@smallbiz.example>: Mailbox full: storage allocation exceeded";
const char* kGreylist =
    "451 4.7.1 <d@corp.example>: Recipient address rejected: Greylisted, see "
    "https://postgrey.schweikert.ch/help/corp.example.html";
const char* kRateLimit =
    "421 4.7.0 [203.0.113.7] Our system has detected an unusual rate of unsolicited mail originating from your "
    "IP address. - gsmtp";
const char* kUnavailable = "450 4.2.1 <e@smallbiz.example>: Recipient address rejected: Mailbox temporarily unavailable";

// One KumoMTA log record (the fields the parser reads, as KumoMTA writes them).
std::string Kumo(const char* type, const std::string& rcpt, const std::string& campaign, int64_t t, const char* reply) {
  int code = 250, c = 2, s = 0, d = 0;
  std::string text = "2.0.0 OK - gsmtp";
  if (reply) {
    std::sscanf(reply, "%d %d.%d.%d", &code, &c, &s, &d);
    text = std::string(reply).substr(4);  // after the code; then after the enhanced code
    if (text.size() > 1 && text[1] == '.') text = text.substr(text.find(' ') + 1);
  }
  std::string escaped;
  for (char ch : text) {
    if (ch == '"' || ch == '\\') escaped += '\\';
    escaped += ch;
  }
  const std::string domain = rcpt.substr(rcpt.find('@') + 1);
  const std::string mx = domain == "gmail.com" ? "gmail-smtp-in.l.google.com" : "mx." + domain;
  char buf[2048];
  std::snprintf(buf, sizeof buf,
                "{\"type\":\"%s\",\"id\":\"%08llx\",\"sender\":\"bounces+%s@news.example.com\",\"recipient\":\"%s\","
                "\"queue\":\"%s:acme@%s\",\"site\":\"ip-1->%s\",\"size\":2000,\"response\":{\"code\":%d,"
                "\"enhanced_code\":{\"class\":%d,\"subject\":%d,\"detail\":%d},\"content\":\"%s\",\"command\":\"RCPT TO\"},"
                "\"peer_address\":{\"name\":\"%s\",\"addr\":\"192.0.2.10\"},\"timestamp\":%lld,\"created\":%lld,"
                "\"num_attempts\":1,\"egress_pool\":\"pool-a\",\"egress_source\":\"ip-1\","
                "\"source_address\":{\"address\":\"203.0.113.7:40000\"}}\n",
                type, static_cast<unsigned long long>(t), campaign.c_str(), rcpt.c_str(), campaign.c_str(),
                domain.c_str(), mx.c_str(), code, c, s, d, escaped.c_str(), mx.c_str(),
                static_cast<long long>(t / 1000), static_cast<long long>(t / 1000 - 5));
  return buf;
}

// One Postfix delivery attempt: the qmgr line with the envelope sender, then the smtp line.
std::string Postfix(const std::string& rcpt, const std::string& campaign, int64_t t, const char* reply, int qid) {
  const std::string stamp = FormatIsoTimeMs(t).substr(0, 23) + "000+00:00";
  const std::string domain = rcpt.substr(rcpt.find('@') + 1);
  char id[16];
  std::snprintf(id, sizeof id, "4A%08X", qid);
  std::string out = stamp + " mta1 postfix/qmgr[1187]: " + id + ": from=<bounces+" + campaign +
                    "@news.example.com>, size=2000, nrcpt=1 (queue active)\n";
  out += stamp + " mta1 postfix/smtp[2100]: " + id + ": to=<" + rcpt + ">, relay=mx." + domain +
         "[192.0.2.20]:25, delay=0.5, delays=0.01/0.01/0.2/0.3, ";
  if (reply == nullptr) {
    out += "dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 3F2A81C0B2)\n";
  } else {
    char dsn[16];
    int code, c, s, d;
    std::sscanf(reply, "%d %d.%d.%d", &code, &c, &s, &d);
    std::snprintf(dsn, sizeof dsn, "%d.%d.%d", c, s, d);
    out += std::string("dsn=") + dsn + ", status=" + (code >= 500 ? "bounced" : "deferred") + " (host mx." + domain +
           "[192.0.2.20] said: " + reply + " (in reply to RCPT TO command))\n";
  }
  return out;
}

class DecideReplayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("bs_decide_replay_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    std::string kumo, postfix;
    int qid = 1;
    for (int w = 0; w < 4; ++w) {
      const std::string c = "w" + std::to_string(w);
      const int64_t t = kT0 + w * 7 * kDay;
      kumo += Kumo("Delivery", "g@gmail.com", c, t, nullptr);
      kumo += w < 3 ? Kumo("TransientFailure", "a@gmail.com", c, t + kMin, kGmailFull)
                    : Kumo("Delivery", "a@gmail.com", c, t + kMin, nullptr);
      if (w == 0) kumo += Kumo("Bounce", "b@gmail.com", c, t + 2 * kMin, kGmailUnknown);
      if (w == 2) kumo += Kumo("Delivery", "b@gmail.com", c, t + 2 * kMin, nullptr);
      if (w < 2) kumo += Kumo("Bounce", "c@smallbiz.example", c, t + 3 * kMin, kStorage);
      kumo += Kumo("TransientFailure", "d@corp.example", c, t + 4 * kMin, kGreylist);
      kumo += Kumo("TransientFailure", "f@gmail.com", c, t + 5 * kMin, kRateLimit);
      kumo += Kumo("Delivery", "d@corp.example", c, t + 11 * kMin, nullptr);
      if (w < 3) {
        postfix += Postfix("e@smallbiz.example", c, t + 6 * kMin, kUnavailable, qid++);
        if (w == 2) {
          postfix += Postfix("e@smallbiz.example", c, t + 66 * kMin, kUnavailable, qid++);
          postfix += Postfix("e@smallbiz.example", c, t + 126 * kMin, kUnavailable, qid++);
        }
      }
      postfix += Postfix("h@corp.example", c, t + 7 * kMin, nullptr, qid++);
    }
    std::ofstream(dir_ / "k.jsonl") << kumo;
    std::ofstream(dir_ / "p.log") << postfix;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::vector<std::string> Replay(int threads) {
    auto rules = RuleSet::Load({});
    EXPECT_TRUE(rules.ok());
    ReplayOptions o;
    o.inputs = {{(dir_ / "k.jsonl").string(), "k.jsonl"}, {(dir_ / "p.log").string(), "p.log"}};
    o.threads = threads;
    CapturingSink sink;
    auto stats = RunReplay(o, *rules, sink);
    EXPECT_TRUE(stats.ok()) << stats.status();
    if (stats.ok()) {
      EXPECT_EQ(stats->inputs[0].dead_letters + stats->inputs[1].dead_letters, 0u) << "the test logs must parse";
      hygiene_ = stats->hygiene_events;
    }
    return sink.lines;
  }

  std::filesystem::path dir_;
  uint64_t hygiene_ = 0;
};

TEST_F(DecideReplayTest, MultiCampaignLogsGiveTheExpectedSuppressionsAndHygieneEvents) {
  const std::vector<std::string> lines = Replay(1);
  simdjson::dom::parser parser;
  std::set<std::tuple<std::string, std::string, std::string, std::string>> got;
  std::map<std::string, std::vector<std::string>> evidence;  // "key action" → positions
  std::map<std::string, std::string> campaign;
  for (const std::string& l : lines) {
    simdjson::dom::element r;
    ASSERT_EQ(parser.parse(l).get(r), simdjson::SUCCESS) << l;
    const std::string key(r["key"].get_string().value());
    const std::string type(r["type"].get_string().value());
    const std::string action(r["action"].get_string().value());
    got.emplace(key, type, action, std::string(r["decision"].get_string().value()));
    EXPECT_FALSE(r["rule"].get_string().value().empty()) << l;
    EXPECT_GT(r["decided_at"].get_int64().value(), 0) << l;
    EXPECT_LE(r["first_seen"].get_int64().value(), r["decided_at"].get_int64().value()) << l;
    for (auto e : r["evidence"].get_array()) evidence[key + " " + action].emplace_back(e["position"].get_string().value());
    campaign[key + " " + action] = std::string(r["campaign"].get_string().value());
  }
  const std::set<std::tuple<std::string, std::string, std::string, std::string>> want = {
      {"a@gmail.com", "hygiene", "reengage", "deferred_in_campaigns"},
      {"b@gmail.com", "suppression", "suppress_address", "permanent_failure"},
      {"b@gmail.com", "hygiene", "unsuppress", "delivered_after_suppression"},
      {"c@smallbiz.example", "suppression", "suppress_address", "storage_exceeded_twice"},
      {"e@smallbiz.example", "hygiene", "reengage", "deferred_in_campaigns"},
      {"e@smallbiz.example", "hygiene", "verify", "never_accepted"},
  };
  EXPECT_EQ(got, want);
  EXPECT_EQ(lines.size(), want.size()) << "each exactly once";
  EXPECT_EQ(hygiene_, 4u);
  // Evidence: the deciding records, by file and line (KumoMTA: one line per record; Postfix: the smtp line).
  EXPECT_EQ(evidence["a@gmail.com reengage"].size(), 3u);
  for (const auto& p : evidence["a@gmail.com reengage"]) EXPECT_EQ(p.rfind("k.jsonl:", 0), 0u) << p;
  ASSERT_EQ(evidence["b@gmail.com unsuppress"].size(), 2u);
  EXPECT_EQ(evidence["b@gmail.com unsuppress"][0], evidence["b@gmail.com suppress_address"][0]);
  EXPECT_EQ(evidence["c@smallbiz.example suppress_address"].size(), 2u);
  EXPECT_EQ(evidence["e@smallbiz.example reengage"].size(), 3u);
  for (const auto& p : evidence["e@smallbiz.example verify"]) EXPECT_EQ(p.rfind("p.log:", 0), 0u) << p;
  // Campaigns: from the KumoMTA queue, and from the Postfix sender's tag.
  EXPECT_EQ(campaign["a@gmail.com reengage"], "w2");
  EXPECT_EQ(campaign["e@smallbiz.example reengage"], "w2");
  // Same bytes with two worker threads.
  EXPECT_EQ(Replay(2), lines);
}

}  // namespace
}  // namespace bs
