// Building and taking apart ARNs (arn:partition:service:region:account:resource).
#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace ecsd::arn {

struct Arn {
  std::string partition, service, region, account, resource;
};

/// @return "arn:aws:<service>:<region>:<account>:<resource>".
std::string make(std::string_view service, std::string_view region, std::string_view account,
                 std::string_view resource);
/// @return the parsed ARN, or nullopt when `s` is not of the arn:...:...:...:...:... form.
std::optional<Arn> parse(std::string_view s);
/// @return true when `s` starts with "arn:".
inline bool is_arn(std::string_view s) { return s.substr(0, 4) == "arn:"; }

}  // namespace ecsd::arn
