// SigV4 credential scope parsing.
#include "ecsd/protocol/sigv4.hpp"

#include <vector>

namespace ecsd::protocol {

std::optional<CredentialScope> parse_credential(std::string_view c) {
  std::vector<std::string_view> parts;
  while (true) {
    auto slash = c.find('/');
    parts.push_back(c.substr(0, slash));
    if (slash == std::string_view::npos) break;
    c = c.substr(slash + 1);
  }
  if (parts.size() != 5 || parts[0].empty() || parts[2].empty() || parts[4] != "aws4_request") return std::nullopt;
  return CredentialScope{std::string(parts[0]), std::string(parts[1]), std::string(parts[2]), std::string(parts[3])};
}

std::optional<CredentialScope> parse_authorization(std::string_view h) {
  constexpr std::string_view kAlg = "AWS4-HMAC-SHA256";
  if (h.substr(0, kAlg.size()) != kAlg) return std::nullopt;
  auto pos = h.find("Credential=");
  if (pos == std::string_view::npos) return std::nullopt;
  auto value = h.substr(pos + 11);
  auto end = value.find_first_of(", ");
  return parse_credential(value.substr(0, end));
}

}  // namespace ecsd::protocol
