// The service's log: one line per message on stderr, as text ("2026-11-30T06:10:44.123Z info message")
// or JSON ({"ts":…,"level":…,"msg":…}), filtered by level. With hash_addresses, anything that looks like
// an e-mail address is replaced by its keyed hash ("addr:" + HMAC-SHA256(hash_key, lower-cased address) in
// hex, pipeline/base/address_hash.h), so logs carry no raw addresses yet the same address always gives the
// same token, the one hashed outputs carry when both use the same key. Thread-safe (librdkafka logs from
// its own threads).
#ifndef BOUNCESTREAM_TOOLS_RUN_LOG_H_
#define BOUNCESTREAM_TOOLS_RUN_LOG_H_

#include <mutex>
#include <string>
#include <string_view>

#include "pipeline/base/address_hash.h"
#include "pipeline/config/config.h"

namespace bs::tools {

class RunLog {
 public:
  explicit RunLog(LogOptions options)
      : options_(std::move(options)),
        hasher_(options_.hash_addresses ? AddressHasher(options_.hash_key) : AddressHasher()) {}
  // level: 0 debug, 1 info, 2 warn, 3 error.
  void Write(int level, std::string_view message);
  // The message as it would be logged (addresses hashed when enabled), without time and level.
  std::string Redact(std::string_view message) const;

 private:
  LogOptions options_;
  AddressHasher hasher_;
  std::mutex mu_;
};

}  // namespace bs::tools

#endif  // BOUNCESTREAM_TOOLS_RUN_LOG_H_
