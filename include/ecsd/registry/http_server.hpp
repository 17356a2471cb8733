// The registry's HTTP/1.1 listener: one acceptor per region address (auth.hpp) on the registry
// port, connections as coroutines on their own strands. Unlike the API server it streams:
// upload bodies go to the blob store as they arrive and blobs are sent from their files, so a
// large layer is never held in memory.
#pragma once
#include <memory>

#include <boost/asio/io_context.hpp>

#include "ecsd/registry/registry.hpp"

namespace ecsd::registry {

class HttpServer {
 public:
  /// Binds every region address on `port`. @throws boost::system::system_error when the first
  /// (us-east-1) address cannot be bound; other addresses that fail are logged and skipped.
  HttpServer(boost::asio::io_context& io, Registry& registry, unsigned short port);
  ~HttpServer();
  void start();
  /// Stops accepting; idle connections close now, busy ones after their current response.
  void stop();
  bool idle() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace ecsd::registry
