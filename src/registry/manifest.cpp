// Manifest parsing: Docker v2 schema 2 and manifest lists, OCI image manifests and indexes.
#include "ecsd/registry/manifest.hpp"

#include <nlohmann/json.hpp>

#include "ecsd/registry/reference.hpp"

namespace ecsd::registry {

using nlohmann::json;

namespace {
bool supported(std::string_view t) {
  return t == kDockerManifest || t == kDockerManifestList || t == kOciManifest || t == kOciIndex;
}

std::string strip_params(std::string_view t) {
  auto semi = t.find(';');
  std::string s(t.substr(0, semi));
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

// A descriptor's digest and size; false (with `error`) when malformed.
bool descriptor(const json& d, std::string& digest, std::int64_t& size, std::string& error) {
  if (!d.is_object() || !d.contains("digest") || !d["digest"].is_string()) {
    error = "descriptor without a digest";
    return false;
  }
  digest = d["digest"].get<std::string>();
  if (!valid_digest(digest)) {
    error = "unsupported or invalid digest " + digest;
    return false;
  }
  size = d.contains("size") && d["size"].is_number_integer() ? d["size"].get<std::int64_t>() : 0;
  if (size < 0) {
    error = "negative descriptor size";
    return false;
  }
  return true;
}
}  // namespace

std::optional<ManifestInfo> parse_manifest(std::string_view body, std::string_view content_type, std::string& error) {
  json doc = json::parse(body.begin(), body.end(), nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    error = "manifest is not a JSON object";
    return std::nullopt;
  }
  ManifestInfo info;
  if (doc.contains("mediaType") && doc["mediaType"].is_string()) info.media_type = doc["mediaType"];
  std::string declared = strip_params(content_type);
  if (info.media_type.empty() && supported(declared)) info.media_type = declared;
  if (info.media_type.empty()) {
    if (doc.value("schemaVersion", 0) == 1) {
      error = "Docker image manifest v2 schema 1 is not supported";
      return std::nullopt;
    }
    if (doc.contains("manifests")) info.media_type = kOciIndex;
    else if (doc.contains("config")) info.media_type = kOciManifest;
  }
  if (!supported(info.media_type)) {
    error = "unsupported manifest media type '" + info.media_type + "'";
    return std::nullopt;
  }
  if (doc.value("schemaVersion", 0) != 2) {
    error = "schemaVersion must be 2";
    return std::nullopt;
  }
  std::string digest;
  std::int64_t size = 0;
  if (info.is_index()) {
    if (!doc.contains("manifests") || !doc["manifests"].is_array()) {
      error = "an index needs a manifests array";
      return std::nullopt;
    }
    for (const auto& m : doc["manifests"]) {
      if (!descriptor(m, digest, size, error)) return std::nullopt;
      info.children.push_back(digest);
    }
    return info;
  }
  if (!doc.contains("config") || !descriptor(doc["config"], digest, size, error)) {
    if (error.empty()) error = "an image manifest needs a config descriptor";
    return std::nullopt;
  }
  info.artifact_media_type = doc["config"].value("mediaType", "");
  info.blobs.push_back(digest);
  info.size += size;
  if (doc.contains("layers")) {
    if (!doc["layers"].is_array()) {
      error = "layers must be an array";
      return std::nullopt;
    }
    for (const auto& l : doc["layers"]) {
      if (!descriptor(l, digest, size, error)) return std::nullopt;
      info.size += size;
      // Foreign layers (with urls) are fetched from elsewhere and not stored here.
      if (l.contains("urls") && l["urls"].is_array() && !l["urls"].empty()) continue;
      if (std::find(info.blobs.begin(), info.blobs.end(), digest) == info.blobs.end()) info.blobs.push_back(digest);
    }
  }
  return info;
}

}  // namespace ecsd::registry
