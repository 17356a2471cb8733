// The process clock: every timestamp and timer in ecsd reads time through here, so tests
// can use a fake clock and CI can run time faster.
//
// Time scaling (--time-scale N, POST /_ecsd/clock {"scale": N}): timestamps stay wall-clock
// (AWS-shaped, comparable with the caller's clock), but every duration AWS lets a user configure
// (bake times, step intervals, health-check intervals and grace periods, deregistration delays,
// stopTimeouts, ECS's 40 s wait for tasks without health checks) lasts `1/N` as long. Code turns
// such a duration into real seconds with scaled(), and nowhere else.
#pragma once
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

namespace ecsd {

class Clock {
 public:
  virtual ~Clock() = default;
  /// @return wall-clock time in seconds since the Unix epoch (millisecond resolution).
  virtual double now() const = 0;
  /// @return a monotonic reading in seconds, for durations and timeouts.
  virtual double monotonic() const = 0;

  /// @return how many times faster configured durations pass (1 = real time).
  double scale() const { return scale_.load(std::memory_order_relaxed); }
  /// Sets the time scale. @return false (and changes nothing) unless 0 < `s` <= 10000.
  bool set_scale(double s);

 private:
  std::atomic<double> scale_{1.0};
};

class SystemClock final : public Clock {
 public:
  double now() const override;
  double monotonic() const override;
};

/// A clock that only moves when told to. Thread-compatible, not thread-safe.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(double start = 1767225600.0) : now_(start) {}
  double now() const override { return now_; }
  double monotonic() const override { return now_; }
  void advance(double seconds) { now_ += seconds; }
  void set(double t) { now_ = t; }

 private:
  double now_;
};

/// @return the process clock (a SystemClock unless set_clock() replaced it).
Clock& clock();
/// Replaces the process clock; the caller keeps ownership. Pass nullptr to restore.
void set_clock(Clock* c);

/// @return the real seconds an AWS-configured duration of `aws_seconds` lasts under the
///         process clock's time scale (aws_seconds / scale).
double scaled(double aws_seconds);

/// @return `t` (epoch seconds) as ISO 8601 UTC with milliseconds, e.g. 2026-01-01T00:00:00.000Z.
std::string iso8601(double t);
/// Parses ISO 8601 (with optional fraction and Z/offset) to epoch seconds. @return false on bad input.
bool parse_iso8601(const std::string& s, double& out);

}  // namespace ecsd
