// The awsQuery codec (ELBv2, STS) and its ec2 variant: form-encoded input rebuilt into JSON
// from the input shape, XML output written from the output shape.
#pragma once
#include <map>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "ecsd/model/model.hpp"

namespace ecsd::protocol {

using FormParams = std::map<std::string, std::string>;

/// Parses an application/x-www-form-urlencoded body (or query string).
FormParams parse_form(std::string_view body);
/// Percent-decodes `s` ('+' becomes a space). Invalid escapes are kept literally.
std::string url_decode(std::string_view s);

/// Rebuilds `op`'s input from flat parameters (`Foo.member.N`, `Foo.entry.N.key`, `A.B`),
/// converts scalars to their shape types and validates.
/// @throws ApiError `validation_code` (ValidationError for query) for bad values or constraints.
nlohmann::json decode_query(const model::Service& svc, const model::Operation& op, const FormParams& params,
                            const std::string& validation_code);

/// @return the XML response document for `output`: <OpResponse><OpResult>..</OpResult>
///         <ResponseMetadata><RequestId>..</RequestId></ResponseMetadata></OpResponse>
///         (ec2: no result wrapper, <requestId> first, lists as <item>).
std::string encode_query(const model::Service& svc, const model::Operation& op, const nlohmann::json& output,
                         const std::string& request_id);

/// @return the awsQuery error document (ec2: <Response><Errors><Error>..</Error></Errors><RequestID>).
std::string encode_query_error(const model::Service& svc, const std::string& code, const std::string& message,
                               bool sender_fault, const std::string& request_id);

}  // namespace ecsd::protocol
