// The ALB data plane: every HTTP listener of every load balancer really listens, evaluates its
// rules by priority and forwards to routable targets (round robin, weighted across target
// groups), and every target group in use is health-checked over HTTP, with the results written
// to the store (DescribeTargetHealth shows them; the ECS scheduler reads them).
//
// Port rule: a listener listens on its own port on 127.0.0.1 when it can bind it; when that port
// is taken (another load balancer's listener, another program) or not permitted, it listens on
// port + 10000 instead (80 -> 10080), or the next free port above that. GET /_ecsd/listeners on
// the API port lists where each listener is served.
#pragma once
#include <map>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>

#include "ecsd/store/store.hpp"

namespace ecsd {
class LoopThread;
}

namespace ecsd::alb {

struct Options {
  std::string host = "127.0.0.1";
  int fallback_offset = 10000;
  double sync_seconds = 1.0;  // how often listeners, rules and targets are reloaded from the store
                             // (at once, too, whenever domain::elb::generation() moves)
  std::string data_dir;      // where the HTTPS listeners' self-signed certificate is kept ("" = memory only)
};

class DataPlane {
 public:
  DataPlane(boost::asio::io_context& io, store::Store& store, Options options = {});
  ~DataPlane();
  /// Starts the sync and health-check loops on `io`. Listeners and proxied connections run on a
  /// thread of the data plane's own.
  void start();
  /// Closes every listener; in-flight requests finish.
  void stop();
  /// @return listener ARN -> the port it is served on.
  std::map<std::string, int> ports() const;

 private:
  struct Impl;
  std::unique_ptr<LoopThread> worker_;  // the loop and thread that listeners and proxied connections run on
  std::shared_ptr<Impl> impl_;
};

}  // namespace ecsd::alb
