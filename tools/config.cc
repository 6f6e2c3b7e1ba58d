// `bouncestream config check FILE`: loads a service configuration exactly as `run` would (file, then the
// BOUNCESTREAM_* environment overrides), validates every key and the librdkafka properties, and reports
// all problems as file:line messages. With --print, shows the effective configuration (secrets redacted).
#include <cstdio>
#include <string>

#include "pipeline/config/config.h"
#include "pipeline/source/kafka_consumer.h"
#include "tools/flags.h"

namespace bs::tools {
namespace {

constexpr char kHelp[] = R"(usage: bouncestream config check [--print] [--no-env] FILE

Validates a service configuration (TOML) as `bouncestream run --config FILE` would load it: unknown
sections and keys, wrong types and values, missing required keys, and librdkafka properties unknown to
librdkafka are reported as FILE:LINE messages. Environment overrides (BOUNCESTREAM_<SECTION>_<KEY>,
BOUNCESTREAM_KAFKA_PROPERTIES_<PROPERTY>) are applied first, as in `run`.
The example config with every key and its default: docs/bouncestream.example.toml.

options:
  --print     print the effective configuration (defaults filled in, secrets redacted)
  --no-env    ignore the environment (check the file alone)
  --help      this text

exit codes: 0 valid, 1 invalid or unreadable, 2 usage error)";

}  // namespace

int RunConfig(const Args& args) {
  Flags flags;
  if (absl::Status s = flags.Parse(args, {}, {"help", "print", "no-env"}); !s.ok()) return UsageError("config", s);
  if (flags.Has("help")) {
    std::printf("%s\n", kHelp);
    return 0;
  }
  const auto& pos = flags.positional();
  if (pos.empty() || pos[0] != "check") return UsageError("config", "expected 'config check FILE'");
  if (pos.size() != 2) return UsageError("config", "config check takes exactly one FILE");
  const std::string& path = pos[1];
  Environment env = flags.Has("no-env") ? Environment() : ProcessEnvironment();
  absl::StatusOr<Config> config = LoadConfigFile(path, env);
  if (!config.ok()) {
    std::fprintf(stderr, "%s\n", std::string(config.status().message()).c_str());
    return 1;
  }
  if (absl::Status s = CheckKafkaProperties(config->kafka); !s.ok()) {
    std::fprintf(stderr, "%s\n", std::string(s.message()).c_str());
    return 1;
  }
  for (const std::string& w : config->warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
  if (flags.Has("print")) {
    std::printf("%s", DescribeConfig(*config).c_str());
  } else {
    std::printf("%s: ok\n", path.c_str());
  }
  return 0;
}

}  // namespace bs::tools
