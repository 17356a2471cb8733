// The HTTP/1.1 listener: accepts connections and runs each as a coroutine on its own strand (or on
// one of a set of single-threaded loops, see run_connections_on),
// with header/body limits and timeouts on every read and write. Requests are handed to a
// synchronous handler as protocol-neutral WireRequests.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "ecsd/protocol/wire.hpp"

namespace ecsd::http {

using RequestHandler = std::function<protocol::WireResponse(const protocol::WireRequest&)>;

struct Limits {
  std::size_t header_bytes = 16 * 1024;
  std::size_t body_bytes = 32 * 1024 * 1024;
  int read_timeout_seconds = 60;   // per request, including an idle keep-alive wait
  int write_timeout_seconds = 60;
};

class Server {
 public:
  /// Binds host:port (port 0 picks a free one). @throws boost::system::system_error on bind failure.
  Server(boost::asio::io_context& io, const std::string& host, unsigned short port, RequestHandler handler,
         Limits limits = {});
  /// Serves on `listening_fd`, an IPv4 TCP socket already bound and listening (the server owns it).
  Server(boost::asio::io_context& io, int listening_fd, RequestHandler handler, Limits limits = {});
  ~Server();
  /// @return the bound port.
  unsigned short port() const;
  /// Before start(): runs each accepted connection on one of `loops` (round robin) instead of a strand
  /// of the server's io_context. Each loop must be run by exactly one thread and outlive the server's
  /// connections.
  void run_connections_on(std::vector<boost::asio::io_context*> loops);
  /// Starts accepting.
  void start();
  /// Stops accepting; idle connections close now, busy ones after their current response.
  void stop();
  /// @return true when no connection is open.
  bool idle() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace ecsd::http
