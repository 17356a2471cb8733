// Image manifests as the registry and ECR need them: media type, the blobs an image manifest
// refers to (config and layers), the manifests an index refers to, and the image size.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ecsd::registry {

inline constexpr const char* kDockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr const char* kDockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr const char* kOciManifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr const char* kOciIndex = "application/vnd.oci.image.index.v1+json";

struct ManifestInfo {
  std::string media_type;           // one of the four above
  std::string artifact_media_type;  // the config's media type (image manifests)
  std::vector<std::string> blobs;   // config and layer digests (image manifests; no foreign layers)
  std::vector<std::string> children;  // manifest digests (lists and indexes)
  std::int64_t size = 0;            // config + layer bytes (image manifests)
  bool is_index() const { return media_type == kDockerManifestList || media_type == kOciIndex; }
};

/// Parses a manifest. The media type comes from the document's "mediaType", else from
/// `content_type`, else from its shape (OCI). @return nullopt with `error` set when it is not
/// a JSON manifest of a supported type, or a referenced digest is invalid.
std::optional<ManifestInfo> parse_manifest(std::string_view body, std::string_view content_type, std::string& error);

}  // namespace ecsd::registry
