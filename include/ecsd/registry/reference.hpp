// Names the registry accepts: repository names (OCI distribution grammar), tags, digests and
// upload ids. Everything that becomes part of a file path passes through here first, so no
// request can name a file outside the blob store.
#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace ecsd::registry {

/// @return true for an OCI repository name: path components of [a-z0-9]+ joined by ".", "_",
///         "__" or "-"+, separated by "/", 2..256 characters (ECR's limits).
bool valid_repository_name(std::string_view name);
/// @return true for a tag: [A-Za-z0-9_][A-Za-z0-9._-]{0,127}.
bool valid_tag(std::string_view tag);
/// @return true for "sha256:" followed by 64 lower-case hex digits (the only algorithm stored).
bool valid_digest(std::string_view digest);
/// @return true for a lower-case RFC 4122 UUID as ids::uuid() makes them.
bool valid_upload_id(std::string_view id);

/// A registry request path split into its parts; nullopt when it is not a /v2/ API path.
struct Route {
  enum class Kind { Base, Catalog, Tags, Manifest, Blob, UploadStart, Upload } kind = Kind::Base;
  std::string name;       // repository (validated)
  std::string reference;  // tag or digest (Manifest), digest (Blob), upload id (Upload)
};
/// Parses a path (without query). Names and references are validated; a path with a bad one
/// yields a Route with an empty name and kind set, so the caller can answer NAME_INVALID etc.
std::optional<Route> parse_route(std::string_view path);

}  // namespace ecsd::registry
