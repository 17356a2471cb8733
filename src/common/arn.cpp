// ARN formatting and parsing.
#include "ecsd/common/arn.hpp"

namespace ecsd::arn {

std::string make(std::string_view service, std::string_view region, std::string_view account,
                 std::string_view resource) {
  std::string s = "arn:aws:";
  s.append(service).append(":").append(region).append(":").append(account).append(":").append(resource);
  return s;
}

std::optional<Arn> parse(std::string_view s) {
  if (!is_arn(s)) return std::nullopt;
  Arn a;
  std::string* parts[] = {&a.partition, &a.service, &a.region, &a.account};
  std::size_t pos = 4;
  for (auto* p : parts) {
    auto colon = s.find(':', pos);
    if (colon == std::string_view::npos) return std::nullopt;
    *p = std::string(s.substr(pos, colon - pos));
    pos = colon + 1;
  }
  a.resource = std::string(s.substr(pos));
  if (a.resource.empty()) return std::nullopt;
  return a;
}

}  // namespace ecsd::arn
