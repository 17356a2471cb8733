// Random identifiers from a per-thread generator seeded by the OS.
#include "ecsd/common/ids.hpp"

#include <random>

namespace ecsd::ids {
namespace {
std::mt19937_64& rng() {
  thread_local std::mt19937_64 gen{std::random_device{}()};
  return gen;
}
}  // namespace

std::string hex(std::size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s(n, '0');
  std::uint64_t bits = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (i % 16 == 0) bits = rng()();
    s[i] = kHex[bits & 0xf];
    bits >>= 4;
  }
  return s;
}

std::string digits(std::size_t n) {
  std::uniform_int_distribution<int> d(0, 9), first(1, 9);
  std::string s;
  for (std::size_t i = 0; i < n; ++i) s.push_back(static_cast<char>('0' + (i == 0 ? first(rng()) : d(rng()))));
  return s;
}

std::string uuid() {
  std::string h = hex(32);
  h[12] = '4';
  h[16] = "89ab"[h[16] % 4];
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) + "-" + h.substr(20);
}

}  // namespace ecsd::ids
