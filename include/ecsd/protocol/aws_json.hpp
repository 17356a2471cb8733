// The awsJson 1.0/1.1 codec: decode and validate a request body against the operation's
// input shape; encode output and errors from the model.
#pragma once
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "ecsd/model/model.hpp"

namespace ecsd::protocol {

/// Parses and type-checks `body` against `op`'s input shape.
/// @return the input as JSON keyed by model member names (timestamps as epoch seconds).
/// @throws ApiError SerializationException for malformed JSON or a wrong type; `validation_code`
///         (e.g. InvalidParameterException) listing every constraint violation.
nlohmann::json decode_json(const model::Service& svc, const model::Operation& op, std::string_view body,
                           const std::string& validation_code);

/// @return `output` serialized through `op`'s output shape: members not in the shape dropped,
///         nulls omitted, timestamps as epoch seconds.
std::string encode_json(const model::Service& svc, const model::Operation& op, const nlohmann::json& output);

/// @return the error body botocore parses: {"__type": code, "message": message}.
std::string encode_json_error(const std::string& code, const std::string& message);

}  // namespace ecsd::protocol
