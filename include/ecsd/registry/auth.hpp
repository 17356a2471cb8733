// Registry credentials and addresses.
//
// Tokens: GetAuthorizationToken hands out "AWS:<password>" (base64); the password names the
// account, region and expiry and carries an HMAC-SHA256 of them under a secret kept in the
// store, so the registry checks it without a table of issued tokens, and a restarted daemon
// still accepts the tokens it issued.
//
// Addresses: Docker speaks plain HTTP only to registries on localhost or 127.0.0.0/8, and ECR
// has one registry per (account, region). ecsd serves one account, so each AWS region gets its
// own loopback address on the registry port: region number i (kRegions order, from 1) is
// 127.0.<i>.1, so us-east-1 is 127.0.1.1:<port>. The address a connection arrived at tells
// the registry which region's repositories it serves.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ecsd::registry {

class TokenAuthority {
 public:
  explicit TokenAuthority(std::string secret) : secret_(std::move(secret)) {}
  /// @return the password for (account, region) valid until `expires_at` (epoch seconds).
  std::string issue(std::string_view account, std::string_view region, double expires_at) const;
  /// @return true when `password` was issued by us for (account, region) and has not expired.
  bool verify(std::string_view password, std::string_view account, std::string_view region, double now) const;

 private:
  std::string mac(std::string_view payload) const;
  std::string secret_;
};

/// @return the regions that have a registry address, in address order.
const std::vector<std::string>& regions();
/// @return "127.0.<i>.1" for a known region, "" otherwise.
std::string region_address(std::string_view region);
/// @return the region served on a loopback address, nullopt for other addresses.
std::optional<std::string> address_region(std::string_view address);

/// @return base64 of `in` (standard alphabet, padded).
std::string base64_encode(std::string_view in);
/// @return the decoded bytes, or nullopt when `in` is not base64.
std::optional<std::string> base64_decode(std::string_view in);

}  // namespace ecsd::registry
