// ECR layer handlers: GetDownloadUrlForLayer, BatchCheckLayerAvailability, and the layer upload
// API (InitiateLayerUpload, UploadLayerPart, CompleteLayerUpload) over the registry's uploads.
#include "ecsd/common/api_error.hpp"
#include "ecsd/registry/reference.hpp"
#include "ecsd/services/ecr/ecr.hpp"
#include "ecsd/store/ecr_repo.hpp"

namespace ecsd::services::ecr {

namespace {
constexpr std::int64_t kPartSize = 10 * 1024 * 1024;

std::string upload_not_found(const RequestContext& ctx, const std::string& id, const std::string& repo) {
  return "The upload with id '" + id + "' does not exist in the repository with name '" + repo +
         "' in the registry with id '" + ctx.scope.account + "'";
}
}  // namespace

json get_download_url_for_layer(registry::Registry& reg, RequestContext& ctx, const json& in) {
  std::string digest = in["layerDigest"];
  std::string name = in["repositoryName"];
  if (!registry::valid_digest(digest))
    throw ApiError("InvalidParameterException", "Invalid parameter at 'layerDigest': '" + digest + "' is not a valid digest.");
  ctx.store.read([&](store::Db& db) {
    auto repo = require_repository(db, ctx, in);
    if (!store::EcrRepo(db).linked_blob(repo.id, digest))
      throw ApiError("LayersNotFoundException", "The layer with digest '" + digest +
                                                    "' does not exist in the repository with name '" + name + "'");
  });
  std::string password = reg.tokens().issue(ctx.scope.account, ctx.scope.region, std::floor(ctx.now) + 3600);
  return {{"downloadUrl", "http://" + reg.registry_host(ctx.scope.region) + "/v2/" + name + "/blobs/" + digest +
                              "?X-Ecsd-Token=" + password},
          {"layerDigest", digest}};
}

json batch_check_layer_availability(registry::Registry&, RequestContext& ctx, const json& in) {
  json layers = json::array(), failures = json::array();
  ctx.store.read([&](store::Db& db) {
    auto repo = require_repository(db, ctx, in);
    store::EcrRepo ecr(db);
    for (const auto& d : in["layerDigests"]) {
      std::string digest = d;
      if (!registry::valid_digest(digest)) {
        failures.push_back({{"layerDigest", digest}, {"failureCode", "InvalidLayerDigest"},
                            {"failureReason", "Invalid layer digest"}});
        continue;
      }
      auto size = ecr.linked_blob(repo.id, digest);
      if (!size) {
        failures.push_back({{"layerDigest", digest}, {"failureCode", "MissingLayerDigest"},
                            {"failureReason", "Could not find layer"}});
        continue;
      }
      layers.push_back({{"layerDigest", digest}, {"layerAvailability", "AVAILABLE"}, {"layerSize", *size},
                        {"mediaType", "application/vnd.docker.container.image.rootfs.diff+x-gzip"}});
    }
  });
  return {{"layers", layers}, {"failures", failures}};
}

json initiate_layer_upload(registry::Registry& reg, RequestContext& ctx, const json& in) {
  auto repo = ctx.store.read([&](store::Db& db) { return require_repository(db, ctx, in); });
  return {{"uploadId", reg.blobs().start_upload(repo.id)}, {"partSize", kPartSize}};
}

json upload_layer_part(registry::Registry& reg, RequestContext& ctx, const json& in) {
  std::string id = in["uploadId"], name = in["repositoryName"];
  auto repo = ctx.store.read([&](store::Db& db) { return require_repository(db, ctx, in); });
  std::int64_t first = in["partFirstByte"], last = in["partLastByte"];
  auto data = registry::base64_decode(in["layerPartBlob"].get<std::string>());
  if (!data) throw ApiError("InvalidParameterException", "Invalid parameter: layerPartBlob is not valid base64.");
  if (!registry::valid_upload_id(id)) throw ApiError("UploadNotFoundException", upload_not_found(ctx, id, name));
  if (last < first || static_cast<std::int64_t>(data->size()) != last - first + 1)
    throw ApiError("InvalidLayerPartException",
                   "The layer part size is not valid, or the first byte specified is not consecutive to the last byte "
                   "of a previous layer part upload.");
  auto [writer, status] = reg.blobs().append(id, repo.id, static_cast<std::uint64_t>(first));
  if (status == registry::BlobStore::Status::UnknownUpload)
    throw ApiError("UploadNotFoundException", upload_not_found(ctx, id, name));
  if (!writer)
    throw ApiError("InvalidLayerPartException",
                   "The layer part size is not valid, or the first byte specified is not consecutive to the last byte "
                   "of a previous layer part upload.");
  if (!writer->write(data->data(), data->size())) throw std::runtime_error("cannot write the layer part");
  return {{"registryId", ctx.scope.account}, {"repositoryName", name}, {"uploadId", id}, {"lastByteReceived", last}};
}

json complete_layer_upload(registry::Registry& reg, RequestContext& ctx, const json& in) {
  std::string id = in["uploadId"], name = in["repositoryName"];
  auto repo = ctx.store.read([&](store::Db& db) { return require_repository(db, ctx, in); });
  if (in["layerDigests"].empty()) throw ApiError("InvalidParameterException", "Invalid parameter: layerDigests is empty.");
  std::string digest = in["layerDigests"][0];
  if (!registry::valid_upload_id(id)) throw ApiError("UploadNotFoundException", upload_not_found(ctx, id, name));
  auto size = reg.blobs().upload_size(id, repo.id);
  if (!size) throw ApiError("UploadNotFoundException", upload_not_found(ctx, id, name));
  if (*size == 0) throw ApiError("EmptyUploadException", "The specified layer upload does not contain any layer parts.");
  if (!registry::valid_digest(digest))
    throw ApiError("InvalidLayerException", "The layer digest '" + digest + "' is not a valid sha256 digest.");
  bool exists = ctx.store.read([&](store::Db& db) { return store::EcrRepo(db).linked_blob(repo.id, digest).has_value(); });
  if (exists) {
    reg.blobs().cancel(id, repo.id);
    throw ApiError("LayerAlreadyExistsException", "The image layer '" + digest +
                                                      "' already exists in the repository with name '" + name + "'");
  }
  auto [status, n] = reg.commit_upload(id, repo.id, digest, ctx.now);
  if (status == registry::BlobStore::Status::DigestMismatch)
    throw ApiError("InvalidLayerException", "The layer digest calculation performed by Amazon ECR does not match the "
                                            "digest specified: " + digest);
  if (status != registry::BlobStore::Status::Ok) throw ApiError("UploadNotFoundException", upload_not_found(ctx, id, name));
  return {{"registryId", ctx.scope.account}, {"repositoryName", name}, {"uploadId", id}, {"layerDigest", digest}};
}

}  // namespace ecsd::services::ecr
