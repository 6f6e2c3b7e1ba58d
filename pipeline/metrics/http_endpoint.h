// HttpEndpoint: the service's tiny HTTP server for Prometheus and Kubernetes probes, on plain sockets
// (no HTTP library): GET /metrics (Prometheus text format), /healthz (200 while the process runs) and
// /readyz (200 when the runtime says ready, else 503). One thread; one short request per connection;
// anything else is 404. Not a general web server: requests are read up to 8 KiB with a 2 s timeout.
#ifndef BOUNCESTREAM_PIPELINE_METRICS_HTTP_ENDPOINT_H_
#define BOUNCESTREAM_PIPELINE_METRICS_HTTP_ENDPOINT_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"

namespace bs {

class HttpEndpoint {
 public:
  struct Handlers {
    std::function<std::string()> metrics;
    std::function<bool()> ready;
  };

  // `listen` is "host:port" (IPv4 address or a name; port 0 picks a free one).
  static absl::StatusOr<std::unique_ptr<HttpEndpoint>> Start(const std::string& listen, Handlers handlers);
  ~HttpEndpoint();  // stops the thread and closes the socket

  // "host:port" actually bound.
  const std::string& address() const { return address_; }

 private:
  HttpEndpoint(int fd, std::string address, Handlers handlers)
      : fd_(fd), address_(std::move(address)), handlers_(std::move(handlers)) {}
  void Loop();
  void Serve(int client);

  int fd_;
  std::string address_;
  Handlers handlers_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace bs

#endif  // BOUNCESTREAM_PIPELINE_METRICS_HTTP_ENDPOINT_H_
