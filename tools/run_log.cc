#include "tools/run_log.h"

#include <sys/time.h>

#include <cstdio>
#include <ctime>

#include "absl/strings/str_cat.h"
#include "pipeline/base/json_writer.h"
#include "pipeline/base/address_hash.h"

namespace bs::tools {
namespace {

std::string Timestamp() {
  struct timeval tv;
  gettimeofday(&tv, nullptr);
  struct tm tm;
  gmtime_r(&tv.tv_sec, &tm);
  char buf[96];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(tv.tv_usec / 1000));
  return buf;
}

}  // namespace

std::string RunLog::Redact(std::string_view m) const { return hasher_.Redact(m); }

void RunLog::Write(int level, std::string_view message) {
  if (level < static_cast<int>(options_.level)) return;
  static constexpr const char* kNames[] = {"debug", "info", "warn", "error"};
  const char* name = kNames[level < 0 ? 0 : level > 3 ? 3 : level];
  std::string line;
  std::string text = Redact(message);
  if (options_.format == LogOptions::Format::kJson) {
    JsonWriter w(line);
    w.BeginObject();
    w.KV("ts", Timestamp());
    w.KV("level", name);
    w.KV("msg", text);
    w.EndObject();
  } else {
    absl::StrAppend(&line, Timestamp(), " ", name, " ", text);
  }
  line += '\n';
  std::lock_guard<std::mutex> l(mu_);
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace bs::tools
