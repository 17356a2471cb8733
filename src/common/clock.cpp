// System clock, the process clock switch, and ISO 8601 conversions.
#include "ecsd/common/clock.hpp"

#include <atomic>
#include <cmath>
#include <cstdio>
#include <ctime>

namespace ecsd {

double SystemClock::now() const {
  using namespace std::chrono;
  auto ms = duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
  return static_cast<double>(ms) / 1000.0;
}

double SystemClock::monotonic() const {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

namespace {
SystemClock g_system_clock;
std::atomic<Clock*> g_clock{&g_system_clock};
}  // namespace

bool Clock::set_scale(double s) {
  if (!(s > 0 && s <= 10000)) return false;
  scale_.store(s, std::memory_order_relaxed);
  return true;
}

double scaled(double aws_seconds) { return aws_seconds / clock().scale(); }

Clock& clock() { return *g_clock.load(std::memory_order_acquire); }
void set_clock(Clock* c) { g_clock.store(c ? c : &g_system_clock, std::memory_order_release); }

std::string iso8601(double t) {
  auto whole = static_cast<std::time_t>(std::floor(t));
  int ms = static_cast<int>(std::llround((t - static_cast<double>(whole)) * 1000.0));
  if (ms >= 1000) { whole += 1; ms -= 1000; }
  std::tm tm{};
  gmtime_r(&whole, &tm);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
  return buf;
}

bool parse_iso8601(const std::string& s, double& out) {
  int y, mo, d, h = 0, mi = 0, sec = 0, n = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) < 6) {
    n = 0;
    if (std::sscanf(s.c_str(), "%4d-%2d-%2d%n", &y, &mo, &d, &n) < 3 || static_cast<size_t>(n) != s.size())
      return false;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return false;
  double frac = 0;
  size_t i = static_cast<size_t>(n);
  if (i < s.size() && s[i] == '.') {
    double scale = 0.1;
    ++i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
      frac += (s[i] - '0') * scale;
      scale /= 10;
      ++i;
    }
  }
  long offset = 0;
  if (i < s.size()) {
    if (s[i] == 'Z' || s[i] == 'z') {
      ++i;
    } else if (s[i] == '+' || s[i] == '-') {
      int oh = 0, om = 0;
      if (std::sscanf(s.c_str() + i + 1, "%2d:%2d", &oh, &om) < 1) return false;
      offset = (s[i] == '+' ? 1 : -1) * (oh * 3600L + om * 60L);
      i = s.size();
    }
  }
  if (i != s.size()) return false;
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  out = static_cast<double>(timegm(&tm) - offset) + frac;
  return true;
}

}  // namespace ecsd
