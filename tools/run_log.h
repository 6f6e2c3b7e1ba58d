// The service's log: one line per message on stderr, as text ("2026-11-30T06:10:44.123Z info message")
// or JSON ({"ts":…,"level":…,"msg":…}), filtered by level. With hash_addresses, anything that looks like
// an e-mail address is replaced by a keyed hash ("addr:1f0c…"), so logs carry no raw addresses yet the
// same address always gives the same token. Thread-safe (librdkafka logs from its own threads).
#ifndef BOUNCESTREAM_TOOLS_RUN_LOG_H_
#define BOUNCESTREAM_TOOLS_RUN_LOG_H_

#include <mutex>
#include <string>
#include <string_view>

#include "pipeline/config/config.h"

namespace bs::tools {

class RunLog {
 public:
  explicit RunLog(LogOptions options) : options_(std::move(options)) {}
  // level: 0 debug, 1 info, 2 warn, 3 error.
  void Write(int level, std::string_view message);
  // The message as it would be logged (addresses hashed when enabled), without time and level.
  std::string Redact(std::string_view message) const;

 private:
  LogOptions options_;
  std::mutex mu_;
};

}  // namespace bs::tools

#endif  // BOUNCESTREAM_TOOLS_RUN_LOG_H_
