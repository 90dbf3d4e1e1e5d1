#pragma once
// A tiny HTTP/1.1 server for download tests: one thread on 127.0.0.1 at an ephemeral port,
// serving canned responses by path, one request per connection (Connection: close). It can
// misbehave on purpose — declare a longer Content-Length than it sends, then hang up — to test
// truncation handling.
//
//   LocalHttpServer server;
//   server.add("/data/x.tgz", {.body = bytes});
//   server.add("/short.tgz", {.body = bytes, .send_bytes = 100});   // truncated
//   download_url(server.url("/data/x.tgz"), dest);
//   EXPECT_EQ(server.requests("/data/x.tgz"), 1);
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace strata::testing {

struct HttpResponse {
  int status = 200;
  std::string body;
  std::optional<size_t> send_bytes;  // send only this many body bytes (Content-Length stays full)
};

class LocalHttpServer {
 public:
  LocalHttpServer();   // binds and starts serving; throws std::runtime_error on socket failure
  ~LocalHttpServer();  // stops the thread and closes the socket
  LocalHttpServer(const LocalHttpServer&) = delete;
  LocalHttpServer& operator=(const LocalHttpServer&) = delete;

  int port() const { return port_; }
  std::string url(const std::string& path) const;  // "http://127.0.0.1:<port><path>"
  void add(const std::string& path, HttpResponse response);
  int requests(const std::string& path) const;  // how many times `path` was asked for

 private:
  void serve();
  void handle(int fd);
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::map<std::string, HttpResponse> routes_;
  std::map<std::string, int> counts_;
  std::thread thread_;
};

}  // namespace strata::testing
