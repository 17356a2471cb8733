// Generic input validation against a model shape, as AWS services apply it server-side:
// type checks first (a wrong JSON type is a serialization error), then constraints
// (required, enum, length/range, pattern), every problem reported at once.
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ecsd/model/model.hpp"

namespace ecsd::protocol {

struct TypeProblem {
  std::string path;
  std::string expected;
};

/// @return the first JSON type mismatch of `v` against shape `shape`, or an empty path when none.
/// Timestamps accept numbers and ISO 8601 strings; they are normalised to epoch seconds in place.
TypeProblem check_json_types(const model::Service& svc, int shape, nlohmann::json& v, const std::string& path = "");

/// Checks required members, enums, min/max and patterns of `v` against shape `shape`.
/// @return one message per violation, in the Coral style
///         "Value 'x' at 'a.b' failed to satisfy constraint: Member must ...".
std::vector<std::string> validate(const model::Service& svc, int shape, const nlohmann::json& v,
                                  const std::string& path = "");

/// @return "1 validation error detected: ..." / "N validation errors detected: a; b".
std::string validation_message(const std::vector<std::string>& problems);

}  // namespace ecsd::protocol
