// ECR image handlers: ListImages, DescribeImages, BatchGetImage, BatchDeleteImage, PutImage.
#include "ecsd/common/api_error.hpp"
#include "ecsd/registry/reference.hpp"
#include "ecsd/services/ecr/ecr.hpp"
#include "ecsd/store/ecr_repo.hpp"

namespace ecsd::services::ecr {

namespace {
std::string tag_status(const json& in) {
  if (in.contains("filter") && in["filter"].contains("tagStatus")) return in["filter"]["tagStatus"];
  return "ANY";
}

bool status_matches(const std::string& status, const store::EcrImage& i) {
  if (status == "TAGGED") return !i.tags.empty();
  if (status == "UNTAGGED") return i.tags.empty();
  return true;
}

json image_id_json(const json& id) {
  json out = json::object();
  if (id.contains("imageDigest")) out["imageDigest"] = id["imageDigest"];
  if (id.contains("imageTag")) out["imageTag"] = id["imageTag"];
  return out;
}

// Resolves an ImageIdentifier. @return the image, or the failure code and reason.
std::optional<store::EcrImage> resolve(store::EcrRepo& ecr, std::int64_t repo_id, const json& id, std::string& code,
                                       std::string& reason) {
  std::string digest = id.value("imageDigest", ""), tag = id.value("imageTag", "");
  if (digest.empty() && tag.empty()) {
    code = "MissingDigestAndTag";
    reason = "Invalid request parameters: both tag and digest cannot be null";
    return std::nullopt;
  }
  if (!digest.empty() && !registry::valid_digest(digest)) {
    code = "InvalidImageDigest";
    reason = "Invalid request parameters: image digest should satisfy the regex '[a-zA-Z0-9-_+.]+:[a-fA-F0-9]+'";
    return std::nullopt;
  }
  std::optional<store::EcrImage> image = digest.empty() ? ecr.find_image_by_tag(repo_id, tag) : ecr.find_image(repo_id, digest);
  if (image && !tag.empty() && std::find(image->tags.begin(), image->tags.end(), tag) == image->tags.end()) {
    code = "ImageTagDoesNotMatchDigest";
    reason = "Invalid request parameters: given tag and digest do not point to the same image";
    return std::nullopt;
  }
  if (!image) {
    code = "ImageNotFound";
    reason = "Requested image not found";
  }
  return image;
}

json image_detail(const RequestContext& ctx, const std::string& repo, const store::EcrImage& i) {
  json d = {{"registryId", ctx.scope.account},
            {"repositoryName", repo},
            {"imageDigest", i.digest},
            {"imageSizeInBytes", i.size},
            {"imagePushedAt", i.pushed_at},
            {"imageManifestMediaType", i.media_type}};
  if (!i.tags.empty()) d["imageTags"] = i.tags;
  if (!i.artifact_media_type.empty()) d["artifactMediaType"] = i.artifact_media_type;
  if (i.last_pull > 0) d["lastRecordedPullTime"] = i.last_pull;
  return d;
}

json image_not_found(const RequestContext& ctx, const std::string& repo, const json& id) {
  throw ApiError("ImageNotFoundException", "The image with imageId {imageDigest:'" + id.value("imageDigest", "null") +
                                               "', imageTag:'" + id.value("imageTag", "null") +
                                               "'} does not exist within the repository with name '" + repo +
                                               "' in the registry with id '" + ctx.scope.account + "'");
}

std::pair<std::size_t, std::size_t> page(const json& in, std::size_t def) {
  std::size_t start = in.contains("nextToken") ? static_cast<std::size_t>(decode_token(in["nextToken"])) : 0;
  return {start, static_cast<std::size_t>(in.value("maxResults", static_cast<int>(def)))};
}
}  // namespace

json list_images(registry::Registry&, RequestContext& ctx, const json& in) {
  std::string status = tag_status(in);
  auto images = ctx.store.read([&](store::Db& db) {
    auto repo = require_repository(db, ctx, in);
    return store::EcrRepo(db).list_images(repo.id);
  });
  json ids = json::array();
  for (const auto& i : images) {
    if (!status_matches(status, i)) continue;
    if (i.tags.empty()) ids.push_back({{"imageDigest", i.digest}});
    for (const auto& t : i.tags) ids.push_back({{"imageDigest", i.digest}, {"imageTag", t}});
  }
  auto [start, limit] = page(in, 1000);
  json out = {{"imageIds", json::array()}};
  for (std::size_t k = start; k < ids.size() && k < start + limit; ++k) out["imageIds"].push_back(ids[k]);
  if (start + limit < ids.size()) out["nextToken"] = encode_token(static_cast<std::int64_t>(start + limit));
  return out;
}

json describe_images(registry::Registry&, RequestContext& ctx, const json& in) {
  std::string status = tag_status(in);
  std::string name = in["repositoryName"];
  auto images = ctx.store.read([&](store::Db& db) {
    auto repo = require_repository(db, ctx, in);
    store::EcrRepo ecr(db);
    if (!in.contains("imageIds")) return ecr.list_images(repo.id);
    std::vector<store::EcrImage> out;
    for (const auto& id : in["imageIds"]) {
      std::string code, reason;
      auto i = resolve(ecr, repo.id, id, code, reason);
      if (!i) {
        if (code == "ImageNotFound") image_not_found(ctx, name, id);
        throw ApiError("InvalidParameterException", reason);
      }
      if (std::none_of(out.begin(), out.end(), [&](const auto& o) { return o.id == i->id; })) out.push_back(*i);
    }
    return out;
  });
  json details = json::array();
  for (const auto& i : images)
    if (status_matches(status, i)) details.push_back(image_detail(ctx, name, i));
  auto [start, limit] = page(in, 100);
  json out = {{"imageDetails", json::array()}};
  for (std::size_t k = start; k < details.size() && k < start + limit; ++k) out["imageDetails"].push_back(details[k]);
  if (start + limit < details.size()) out["nextToken"] = encode_token(static_cast<std::int64_t>(start + limit));
  return out;
}

json batch_get_image(registry::Registry&, RequestContext& ctx, const json& in) {
  std::string name = in["repositoryName"];
  std::vector<std::string> accepted;
  for (const auto& t : in.value("acceptedMediaTypes", json::array())) accepted.push_back(t);
  json images = json::array(), failures = json::array();
  ctx.store.read([&](store::Db& db) {
    auto repo = require_repository(db, ctx, in);
    store::EcrRepo ecr(db);
    for (const auto& id : in["imageIds"]) {
      std::string code, reason;
      auto i = resolve(ecr, repo.id, id, code, reason);
      if (i && !accepted.empty() && std::find(accepted.begin(), accepted.end(), i->media_type) == accepted.end()) {
        i.reset();
        code = "ImageNotFound";
        reason = "Requested image not found in acceptedMediaTypes";
      }
      if (!i) {
        failures.push_back({{"imageId", image_id_json(id)}, {"failureCode", code},
                            {"failureReason", reason}});
        continue;
      }
      json image_id = {{"imageDigest", i->digest}};
      if (id.contains("imageTag")) image_id["imageTag"] = id["imageTag"];
      else if (!i->tags.empty()) image_id["imageTag"] = i->tags.front();
      images.push_back({{"registryId", ctx.scope.account},
                        {"repositoryName", name},
                        {"imageId", image_id},
                        {"imageManifest", i->manifest},
                        {"imageManifestMediaType", i->media_type}});
    }
  });
  return {{"images", images}, {"failures", failures}};
}

json batch_delete_image(registry::Registry&, RequestContext& ctx, const json& in) {
  json deleted = json::array(), failures = json::array();
  ctx.store.write([&](store::Db& db) {
    auto repo = require_repository(db, ctx, in);
    store::EcrRepo ecr(db);
    for (const auto& id : in["imageIds"]) {
      std::string code, reason;
      auto i = resolve(ecr, repo.id, id, code, reason);
      if (!i) {
        failures.push_back({{"imageId", image_id_json(id)}, {"failureCode", code}, {"failureReason", reason}});
        continue;
      }
      bool by_tag_only = id.contains("imageTag") && !id.contains("imageDigest");
      if (by_tag_only && i->tags.size() > 1) {
        ecr.delete_tag(repo.id, id["imageTag"].get<std::string>());
        deleted.push_back({{"imageDigest", i->digest}, {"imageTag", id["imageTag"]}});
        continue;
      }
      if (ecr.referenced_as_child(repo.id, i->digest)) {
        failures.push_back({{"imageId", image_id_json(id)},
                            {"failureCode", "ImageReferencedByManifestList"},
                            {"failureReason", "Requested image is referenced by a manifest list"}});
        continue;
      }
      ecr.delete_image(i->id);
      if (i->tags.empty()) deleted.push_back({{"imageDigest", i->digest}});
      for (const auto& t : i->tags) deleted.push_back({{"imageDigest", i->digest}, {"imageTag", t}});
    }
  });
  return {{"imageIds", deleted}, {"failures", failures}};
}

json put_image(registry::Registry& reg, RequestContext& ctx, const json& in) {
  std::string manifest = in["imageManifest"];
  std::string tag = in.value("imageTag", ""), digest = in.value("imageDigest", "");
  if (!tag.empty() && !registry::valid_tag(tag))
    throw ApiError("InvalidParameterException", "Invalid parameter at 'imageTag': '" + tag + "' is not a valid tag.");
  if (!digest.empty() && !registry::valid_digest(digest))
    throw ApiError("InvalidParameterException", "Invalid parameter at 'imageDigest': '" + digest + "' is not a valid digest.");
  std::string name = in["repositoryName"];
  auto image = ctx.store.write([&](store::Db& db) {
    auto repo = require_repository(db, ctx, in);
    store::EcrRepo ecr(db);
    std::string actual = registry::sha256_digest(manifest);
    if (auto existing = ecr.find_image(repo.id, actual)) {
      bool has_tag = tag.empty() || std::find(existing->tags.begin(), existing->tags.end(), tag) != existing->tags.end();
      if (has_tag)
        throw ApiError("ImageAlreadyExistsException",
                       "Image with digest '" + actual + "'" + (tag.empty() ? "" : " and tag '" + tag + "'") +
                           " already exists in the repository with name '" + name + "' in registry with id '" +
                           ctx.scope.account + "'");
    }
    try {
      return reg.put_manifest(db, repo, manifest, in.value("imageManifestMediaType", ""), tag, digest, ctx.now);
    } catch (const registry::ImageError& e) {
      throw ApiError(e.ecr_code, e.what());
    }
  });
  json id = {{"imageDigest", image.digest}};
  if (!tag.empty()) id["imageTag"] = tag;
  return {{"image",
           {{"registryId", ctx.scope.account},
            {"repositoryName", name},
            {"imageId", id},
            {"imageManifest", image.manifest},
            {"imageManifestMediaType", image.media_type}}}};
}

}  // namespace ecsd::services::ecr
