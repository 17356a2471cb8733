// A de-duplicating work queue of resource keys ("task:<arn>", "service:<arn>"), in the style of
// controller-runtime: a key is queued at most once, processed by one worker at a time, and a
// key added while it is being processed is queued again when that pass is done.
#pragma once
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>

namespace ecsd::reconciler {

class WorkQueue {
 public:
  /// Queues `key` now, or after `delay_seconds` (an earlier request wins).
  void add(const std::string& key, double delay_seconds = 0);
  /// Blocks until a key is ready. @return nullopt after shutdown().
  std::optional<std::string> get();
  /// Marks the pass over `key` finished.
  void done(const std::string& key);
  void shutdown();
  /// @return keys ready or delayed (for tests and metrics).
  std::size_t size();

 private:
  void promote_due_locked();

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> ready_;
  std::set<std::string> queued_, processing_, dirty_;
  std::map<std::string, double> delayed_;  // key -> due time (monotonic seconds)
  bool shutdown_ = false;
};

}  // namespace ecsd::reconciler
