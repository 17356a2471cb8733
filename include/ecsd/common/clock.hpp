// The process clock: every timestamp and timer in ecsd reads time through here, so tests
// can use a fake clock and CI can later run time faster.
#pragma once
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

/// @return `t` (epoch seconds) as ISO 8601 UTC with milliseconds, e.g. 2026-01-01T00:00:00.000Z.
std::string iso8601(double t);
/// Parses ISO 8601 (with optional fraction and Z/offset) to epoch seconds. @return false on bad input.
bool parse_iso8601(const std::string& s, double& out);

}  // namespace ecsd
