// Random identifiers: UUIDs (request ids, task ids) and hex/decimal ids in AWS's formats.
#pragma once
#include <string>

namespace ecsd::ids {

/// @return a random RFC 4122 version 4 UUID, lower case.
std::string uuid();
/// @return `n` random lower-case hex digits.
std::string hex(std::size_t n);
/// @return `n` random decimal digits (first one non-zero).
std::string digits(std::size_t n);

}  // namespace ecsd::ids
