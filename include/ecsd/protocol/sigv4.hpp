// Reads the SigV4 credential scope (access key, date, region, service) from a request.
// Signatures are not verified: ecsd accepts any credentials, as the local sandbox it is.
#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace ecsd::protocol {

struct CredentialScope {
  std::string access_key, date, region, service;
};

/// Parses "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/ecs/aws4_request, SignedHeaders=..., Signature=...".
/// @return nullopt when the header is absent or not SigV4.
std::optional<CredentialScope> parse_authorization(std::string_view header);

/// Parses a bare credential value "AKID/20260101/us-east-1/ecs/aws4_request" (X-Amz-Credential).
std::optional<CredentialScope> parse_credential(std::string_view credential);

}  // namespace ecsd::protocol
