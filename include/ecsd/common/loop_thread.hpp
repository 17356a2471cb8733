// An io_context run by one thread of its own until stop(): the ALB data plane's loop and the API
// server's connection loops. One thread per loop, so what runs on it never hops threads.
#pragma once
#include <thread>

#include "ecsd/common/asio.hpp"

namespace ecsd {

class LoopThread {
 public:
  LoopThread() : thread_([this] { io_.run(); }) {}
  ~LoopThread() { stop(); }
  LoopThread(const LoopThread&) = delete;
  LoopThread& operator=(const LoopThread&) = delete;

  asio::io_context& io() { return io_; }
  std::thread::id id() const { return thread_.get_id(); }
  /// Stops the loop and joins its thread; pending handlers stay until the loop is destroyed.
  void stop() {
    guard_.reset();
    io_.stop();
    if (thread_.joinable()) thread_.join();
  }

 private:
  asio::io_context io_{1};
  asio::executor_work_guard<asio::io_context::executor_type> guard_{io_.get_executor()};
  std::thread thread_;  // last: starts once the loop and its guard exist
};

}  // namespace ecsd
