// Tests of the service log (tools/run_log.cc): text and JSON line formats, level filtering, and keyed
// redaction of addresses (the same token the hashed outputs carry). stderr is redirected to a file.
#include "tools/run_log.h"

#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "pipeline/base/address_hash.h"
#include "simdjson.h"

namespace bs::tools {
namespace {

// Runs `fn` with stderr going to a temporary file; returns the lines written.
template <typename Fn>
std::vector<std::string> CaptureStderr(Fn fn) {
  std::fflush(stderr);
  FILE* tmp = std::tmpfile();
  const int saved = dup(2);
  dup2(fileno(tmp), 2);
  fn();
  std::fflush(stderr);
  dup2(saved, 2);
  close(saved);
  std::vector<std::string> lines;
  std::rewind(tmp);
  std::string cur;
  for (int c = std::fgetc(tmp); c != EOF; c = std::fgetc(tmp)) {
    if (c == '\n') {
      lines.push_back(cur);
      cur.clear();
    } else {
      cur += static_cast<char>(c);
    }
  }
  std::fclose(tmp);
  EXPECT_TRUE(cur.empty()) << "every line ends in a newline";
  return lines;
}

LogOptions Options(LogOptions::Format f, LogOptions::Level level, bool hash = false, std::string key = "") {
  LogOptions o;
  o.format = f;
  o.level = level;
  o.hash_addresses = hash;
  o.hash_key = std::move(key);
  return o;
}

TEST(RunLogTest, JsonLinesHaveTimeLevelAndMessage) {
  RunLog log(Options(LogOptions::Format::kJson, LogOptions::Level::kDebug));
  auto lines = CaptureStderr([&] {
    log.Write(0, "starting");
    log.Write(3, "broker \"down\"\nretrying");
  });
  ASSERT_EQ(lines.size(), 2u);
  simdjson::dom::parser parser;
  const char* levels[] = {"debug", "error"};
  const char* msgs[] = {"starting", "broker \"down\"\nretrying"};
  for (int i = 0; i < 2; ++i) {
    simdjson::dom::object obj;
    ASSERT_EQ(parser.parse(lines[i]).get(obj), simdjson::SUCCESS) << lines[i];
    std::string_view ts, level, msg;
    ASSERT_EQ(obj["ts"].get(ts), simdjson::SUCCESS);
    ASSERT_EQ(obj["level"].get(level), simdjson::SUCCESS);
    ASSERT_EQ(obj["msg"].get(msg), simdjson::SUCCESS);
    EXPECT_EQ(level, levels[i]);
    EXPECT_EQ(msg, msgs[i]) << "escaped in JSON, intact after parsing";
    // 2026-11-30T06:10:44.123Z
    ASSERT_EQ(ts.size(), 24u) << ts;
    EXPECT_EQ(ts[4], '-');
    EXPECT_EQ(ts[10], 'T');
    EXPECT_EQ(ts[19], '.');
    EXPECT_EQ(ts.back(), 'Z');
    size_t n = 0;
    for (auto f : obj) {
      (void)f;
      ++n;
    }
    EXPECT_EQ(n, 3u) << "ts, level, msg and nothing else";
  }
}

TEST(RunLogTest, TextLinesAndLevelFilter) {
  RunLog log(Options(LogOptions::Format::kText, LogOptions::Level::kWarn));
  auto lines = CaptureStderr([&] {
    log.Write(0, "debug line");
    log.Write(1, "info line");
    log.Write(2, "warn line");
    log.Write(3, "error line");
    log.Write(9, "clamped");
  });
  ASSERT_EQ(lines.size(), 3u) << "debug and info are below warn";
  EXPECT_EQ(lines[0].substr(24), " warn warn line");
  EXPECT_EQ(lines[1].substr(24), " error error line");
  EXPECT_EQ(lines[2].substr(24), " error clamped");
  EXPECT_EQ(lines[0][23], 'Z');
}

TEST(RunLogTest, AddressesAreReplacedByTheKeyedHash) {
  const std::string msg = "suppressed Anna.2320@Gmail.com (550 5.1.1 <anna.2320@gmail.com>), domain @oldbrand.example";
  RunLog log(Options(LogOptions::Format::kJson, LogOptions::Level::kInfo, true, "k1"));
  const std::string token = "addr:" + AddressHasher("k1").Hash("anna.2320@gmail.com");
  const std::string want = "suppressed " + token + " (550 5.1.1 <" + token + ">), domain @oldbrand.example";
  EXPECT_EQ(log.Redact(msg), want) << "case-insensitive, every occurrence, domains alone stay";
  auto lines = CaptureStderr([&] { log.Write(1, msg); });
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].find("anna"), std::string::npos) << lines[0];
  EXPECT_EQ(lines[0].find("Anna"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find(token), std::string::npos);
  // Another key, another token; off, the message is unchanged.
  RunLog other(Options(LogOptions::Format::kJson, LogOptions::Level::kInfo, true, "k2"));
  EXPECT_EQ(other.Redact(msg).find(token), std::string::npos);
  RunLog plain(Options(LogOptions::Format::kText, LogOptions::Level::kInfo));
  EXPECT_EQ(plain.Redact(msg), msg);
}

}  // namespace
}  // namespace bs::tools
