// `bouncestream run --config FILE`: the Kafka consumer-group service. Loads the configuration (file plus
// BOUNCESTREAM_* environment overrides), starts the metrics endpoint, runs the runtime until SIGTERM or
// SIGINT (graceful: finish in-flight records, commit, leave the group) and reloads rules on SIGHUP.
#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "pipeline/base/json_writer.h"
#include "pipeline/config/config.h"
#include "pipeline/metrics/http_endpoint.h"
#include "pipeline/runtime.h"
#include "pipeline/source/kafka_consumer.h"
#include "tools/flags.h"
#include "tools/run_log.h"

namespace bs::tools {
namespace {

constexpr char kHelp[] = R"(usage: bouncestream run --config FILE

Runs the Kafka consumer-group service: reads MTA log records from [kafka] input_topics, writes alerts,
suppressions, dead letters (and optionally classified events) to the [topics], keeps per-partition
state in the compacted changelog topic, and serves /metrics, /healthz and /readyz on [metrics] listen.
Every key and its default: docs/bouncestream.example.toml; check a file with `bouncestream config check`.
Environment variables override keys: BOUNCESTREAM_<SECTION>_<KEY>, and librdkafka properties
BOUNCESTREAM_KAFKA_PROPERTIES_<PROPERTY> (dots as underscores).

signals: SIGTERM/SIGINT stop gracefully (finish in-flight records, commit, leave the group; a second
one exits at once); SIGHUP reloads the rule files (kept only if they validate).

options:
  --config FILE   the service configuration (TOML); required
  --help          this text

exit codes: 0 stopped cleanly, 1 runtime error (unreachable brokers, missing topic, authorisation), 2 usage
or configuration error)";

}  // namespace

int RunRun(const Args& args) {
  Flags flags;
  if (absl::Status s = flags.Parse(args, {"config"}, {"help"}); !s.ok()) return UsageError("run", s);
  if (flags.Has("help")) {
    std::printf("%s\n", kHelp);
    return 0;
  }
  if (!flags.Has("config")) return UsageError("run", "--config FILE is required");
  if (!flags.positional().empty()) return UsageError("run", "unexpected argument");
  absl::StatusOr<Config> config = LoadConfigFile(flags.Get("config"), ProcessEnvironment());
  if (!config.ok()) {
    std::fprintf(stderr, "bouncestream run: %s\n", std::string(config.status().message()).c_str());
    return 2;
  }
  if (absl::Status s = CheckKafkaProperties(config->kafka); !s.ok()) {
    std::fprintf(stderr, "bouncestream run: %s\n", std::string(s.message()).c_str());
    return 2;
  }
  RunLog log(config->log);
  for (const std::string& w : config->warnings) log.Write(2, w);

  // Signals go to one thread that waits for them; every other thread (the runtime's, librdkafka's)
  // inherits this mask, so a handler never runs in the middle of their work.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  sigaddset(&signals, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  Runtime::Options options;
  options.config = *config;
  options.log = [&log](int level, std::string_view msg) { log.Write(level, msg); };
  absl::StatusOr<std::unique_ptr<Runtime>> runtime = Runtime::Create(options);
  if (!runtime.ok()) {
    log.Write(3, absl::StrCat("startup failed: ", runtime.status().message()));
    return 1;
  }
  Runtime& rt = **runtime;

  std::unique_ptr<HttpEndpoint> http;
  if (!config->metrics.listen.empty()) {
    HttpEndpoint::Handlers h;
    h.metrics = [&rt] { return rt.MetricsText(); };
    h.ready = [&rt] { return rt.Ready(); };
    absl::StatusOr<std::unique_ptr<HttpEndpoint>> ep = HttpEndpoint::Start(config->metrics.listen, std::move(h));
    if (!ep.ok()) {
      log.Write(3, absl::StrCat("metrics endpoint: ", ep.status().message()));
      return 1;
    }
    http = std::move(*ep);
    log.Write(1, absl::StrCat("serving /metrics, /healthz, /readyz on ", http->address()));
  }

  std::atomic<bool> finished{false};
  std::thread signal_thread([&] {
    // timeout(1) and some supervisors signal the process and its group: the same stop may arrive twice
    // at once. Only a second stop request a while after the first means "exit now".
    std::chrono::steady_clock::time_point first_stop{};
    int stops = 0;
    while (true) {
      int sig = 0;
      if (sigwait(&signals, &sig) != 0) continue;
      if (sig == SIGUSR1 && finished.load()) return;
      if (sig == SIGHUP) {
        log.Write(1, "SIGHUP: reloading rules");
        rt.RequestReload();
      } else if (sig == SIGTERM || sig == SIGINT) {
        const auto now = std::chrono::steady_clock::now();
        if (stops > 0 && now - first_stop > std::chrono::seconds(2)) {
          log.Write(3, "second stop signal: exiting without finishing");
          std::_Exit(1);
        }
        if (stops++ > 0) continue;
        first_stop = now;
        log.Write(1, sig == SIGTERM ? "SIGTERM: stopping" : "SIGINT: stopping");
        rt.Stop();
      }
    }
  });

  absl::Status st = rt.Run();
  finished.store(true);
  pthread_kill(signal_thread.native_handle(), SIGUSR1);
  signal_thread.join();
  http.reset();
  if (!st.ok()) {
    log.Write(3, absl::StrCat("stopped: ", st.message()));
    return 1;
  }
  log.Write(1, "stopped cleanly");
  return 0;
}

}  // namespace bs::tools
