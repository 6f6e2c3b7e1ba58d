#include "pipeline/metrics/http_endpoint.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "pipeline/base/strings.h"

namespace bs {

absl::StatusOr<std::unique_ptr<HttpEndpoint>> HttpEndpoint::Start(const std::string& listen, Handlers handlers) {
  size_t colon = listen.rfind(':');
  int port = 0;
  if (colon == std::string::npos || !absl::SimpleAtoi(Av(std::string_view(listen).substr(colon + 1)), &port) ||
      port < 0 || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("metrics listen address '", listen, "' is not host:port"));
  }
  std::string host = listen.substr(0, colon);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (host.empty() || host == "*") host = "0.0.0.0";
  if (inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) {
    addrinfo hints{}, *res = nullptr;
    hints.ai_family = AF_INET;
    if (getaddrinfo(host.c_str(), nullptr, &hints, &res) != 0 || res == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("metrics listen host '", host, "' does not resolve"));
    }
    addr.sin_addr = reinterpret_cast<sockaddr_in*>(res->ai_addr)->sin_addr;
    freeaddrinfo(res);
  }
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError(absl::StrCat("socket: ", std::strerror(errno)));
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || ::listen(fd, 16) != 0) {
    std::string err = std::strerror(errno);
    close(fd);
    return absl::UnavailableError(absl::StrCat("cannot listen on ", listen, ": ", err));
  }
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  char ip[INET_ADDRSTRLEN] = {};
  inet_ntop(AF_INET, &addr.sin_addr, ip, sizeof(ip));
  std::unique_ptr<HttpEndpoint> ep(new HttpEndpoint(fd, absl::StrCat(ip, ":", ntohs(addr.sin_port)), std::move(handlers)));
  ep->thread_ = std::thread([raw = ep.get()] { raw->Loop(); });
  return ep;
}

HttpEndpoint::~HttpEndpoint() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
  close(fd_);
}

void HttpEndpoint::Loop() {
  while (!stop_.load()) {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, 200) <= 0) continue;
    int client = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    Serve(client);
    close(client);
  }
}

void HttpEndpoint::Serve(int client) {
  std::string req;
  char buf[2048];
  while (req.size() < 8192 && req.find("\r\n\r\n") == std::string::npos && req.find("\n\n") == std::string::npos) {
    pollfd p{client, POLLIN, 0};
    if (poll(&p, 1, 2000) <= 0) return;
    ssize_t n = recv(client, buf, sizeof(buf), 0);
    if (n <= 0) break;
    req.append(buf, static_cast<size_t>(n));
  }
  std::string_view line(req);
  line = line.substr(0, line.find('\n'));
  std::string_view path;
  if (StartsWith(line, "GET ") || StartsWith(line, "HEAD ")) {
    line.remove_prefix(line.find(' ') + 1);
    path = line.substr(0, line.find(' '));
    path = path.substr(0, path.find('?'));
  }
  int code = 200;
  std::string body, type = "text/plain; charset=utf-8";
  if (path == "/metrics") {
    body = handlers_.metrics ? handlers_.metrics() : "";
    type = "text/plain; version=0.0.4; charset=utf-8";
  } else if (path == "/healthz") {
    body = "ok\n";
  } else if (path == "/readyz") {
    bool ready = handlers_.ready && handlers_.ready();
    code = ready ? 200 : 503;
    body = ready ? "ready\n" : "not ready\n";
  } else {
    code = 404;
    body = "not found\n";
  }
  const char* reason = code == 200 ? "OK" : code == 503 ? "Service Unavailable" : "Not Found";
  std::string resp = absl::StrCat("HTTP/1.1 ", code, " ", reason, "\r\nContent-Type: ", type,
                                  "\r\nContent-Length: ", body.size(), "\r\nConnection: close\r\n\r\n", body);
  size_t off = 0;
  while (off < resp.size()) {
    ssize_t n = send(client, resp.data() + off, resp.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return;
    off += static_cast<size_t>(n);
  }
}

}  // namespace bs
