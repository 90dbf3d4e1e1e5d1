// LocalHttpServer: POSIX sockets, poll() with a short timeout so the destructor can stop the
// accept loop, and a deliberately minimal request parser (request line + headers, no body).
#include "support/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>

namespace strata::testing {

namespace {
void send_all(int fd, const char* p, size_t n) {
  while (n > 0) {
    const ssize_t k = ::send(fd, p, n, MSG_NOSIGNAL);
    if (k <= 0) return;
    p += k;
    n -= size_t(k);
  }
}
const char* reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 404: return "Not Found";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Status";
  }
}
}  // namespace

LocalHttpServer::LocalHttpServer() {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) throw std::runtime_error("LocalHttpServer: socket() failed");
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;  // ephemeral
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listen_fd_, 16) != 0) {
    ::close(listen_fd_);
    throw std::runtime_error("LocalHttpServer: bind/listen on 127.0.0.1 failed");
  }
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] { serve(); });
}

LocalHttpServer::~LocalHttpServer() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  ::close(listen_fd_);
}

std::string LocalHttpServer::url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + path;
}

void LocalHttpServer::add(const std::string& path, HttpResponse response) {
  std::lock_guard<std::mutex> lock(mu_);
  routes_[path] = std::move(response);
}

int LocalHttpServer::requests(const std::string& path) const {
  std::lock_guard<std::mutex> lock(mu_);
  const auto it = counts_.find(path);
  return it == counts_.end() ? 0 : it->second;
}

void LocalHttpServer::serve() {
  while (!stop_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    handle(fd);
    ::close(fd);
  }
}

void LocalHttpServer::handle(int fd) {
  std::string req;
  char buf[4096];
  while (req.find("\r\n\r\n") == std::string::npos && req.size() < 65536) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 2000) <= 0) return;
    const ssize_t k = ::recv(fd, buf, sizeof buf, 0);
    if (k <= 0) return;
    req.append(buf, size_t(k));
  }
  // "GET /path HTTP/1.1"
  const size_t sp1 = req.find(' '), sp2 = req.find(' ', sp1 + 1);
  if (sp1 == std::string::npos || sp2 == std::string::npos) return;
  const std::string path = req.substr(sp1 + 1, sp2 - sp1 - 1);
  HttpResponse r;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++counts_[path];
    const auto it = routes_.find(path);
    if (it == routes_.end()) r = {404, "not found\n", std::nullopt};
    else r = it->second;
  }
  const std::string head = "HTTP/1.1 " + std::to_string(r.status) + " " + reason(r.status) +
                           "\r\nContent-Type: application/octet-stream\r\nContent-Length: " +
                           std::to_string(r.body.size()) + "\r\nConnection: close\r\n\r\n";
  send_all(fd, head.data(), head.size());
  send_all(fd, r.body.data(), std::min(r.body.size(), r.send_bytes.value_or(r.body.size())));
}

}  // namespace strata::testing
