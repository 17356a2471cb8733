// De-duplicating work queue with delayed adds.
#include "ecsd/reconciler/work_queue.hpp"

#include <chrono>

#include "ecsd/common/clock.hpp"

namespace ecsd::reconciler {

void WorkQueue::add(const std::string& key, double delay_seconds) {
  std::lock_guard lock(mu_);
  if (shutdown_) return;
  if (delay_seconds > 0) {
    if (queued_.count(key) || dirty_.count(key)) return;
    double due = clock().monotonic() + delay_seconds;
    auto it = delayed_.find(key);
    if (it == delayed_.end() || due < it->second) delayed_[key] = due;
    cv_.notify_one();
    return;
  }
  delayed_.erase(key);
  if (processing_.count(key)) {
    dirty_.insert(key);
    return;
  }
  if (queued_.insert(key).second) {
    ready_.push_back(key);
    cv_.notify_one();
  }
}

void WorkQueue::promote_due_locked() {
  double now = clock().monotonic();
  for (auto it = delayed_.begin(); it != delayed_.end();) {
    if (it->second <= now) {
      const std::string key = it->first;
      it = delayed_.erase(it);
      if (processing_.count(key)) dirty_.insert(key);
      else if (queued_.insert(key).second) ready_.push_back(key);
    } else {
      ++it;
    }
  }
}

std::optional<std::string> WorkQueue::get() {
  std::unique_lock lock(mu_);
  while (true) {
    if (shutdown_) return std::nullopt;
    promote_due_locked();
    if (!ready_.empty()) {
      std::string key = std::move(ready_.front());
      ready_.pop_front();
      queued_.erase(key);
      processing_.insert(key);
      return key;
    }
    // Delayed keys are checked at least every 100 ms (the clock may be a fake one).
    cv_.wait_for(lock, std::chrono::milliseconds(100));
  }
}

void WorkQueue::done(const std::string& key) {
  std::lock_guard lock(mu_);
  processing_.erase(key);
  if (dirty_.erase(key) && queued_.insert(key).second) {
    ready_.push_back(key);
    cv_.notify_one();
  }
}

void WorkQueue::shutdown() {
  std::lock_guard lock(mu_);
  shutdown_ = true;
  cv_.notify_all();
}

std::size_t WorkQueue::size() {
  std::lock_guard lock(mu_);
  return ready_.size() + delayed_.size() + dirty_.size();
}

}  // namespace ecsd::reconciler
