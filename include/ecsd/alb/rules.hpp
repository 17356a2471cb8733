// ALB rule evaluation: does a request match a rule's conditions, which target gets it, and
// what a redirect's Location is. Pure functions over the ELBv2 shapes, shared by the data plane
// and its tests.
#pragma once
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace ecsd::alb {

/// What rule conditions look at in a request.
struct RequestFacts {
  std::string method, host, path, query, source_ip;
  std::map<std::string, std::string> headers;  // lower-cased names
};

/// ELB's wildcards: `*` any run of characters, `?` one character.
bool wildcard_match(std::string_view pattern, std::string_view s, bool case_insensitive);

/// @return true when every condition ([RuleCondition] with *Config members) holds for `r`.
bool matches(const nlohmann::json& conditions, const RequestFacts& r);

/// @return whether a status code satisfies a Matcher.HttpCode ("200", "200-299", "200,202").
bool status_matches(const std::string& http_code, int status);

/// @return the Location of a RedirectConfig for `r` arriving on `port` over `protocol`
///         (#{protocol}, #{host}, #{port}, #{path}, #{query} are replaced as ELB does).
std::string redirect_location(const nlohmann::json& redirect, const RequestFacts& r, const std::string& protocol,
                              int port);

}  // namespace ecsd::alb
