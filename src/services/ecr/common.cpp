// Lookups shared by the ECR handlers, ECR's dispatch table, and pull credentials for tasks.
#include "ecsd/common/api_error.hpp"
#include "ecsd/common/arn.hpp"
#include "ecsd/common/clock.hpp"
#include "ecsd/services/ecr/ecr.hpp"
#include "ecsd/store/ecr_repo.hpp"

namespace ecsd::services::ecr {

std::string repository_not_found(const RequestContext& ctx, const std::string& name) {
  return "The repository with name '" + name + "' does not exist in the registry with id '" + ctx.scope.account + "'";
}

std::string registry_id(const RequestContext& ctx, const json& in) {
  std::string id = in.value("registryId", ctx.scope.account);
  if (id != ctx.scope.account)
    throw ApiError("RepositoryNotFoundException",
                   "The repository with name '" + in.value("repositoryName", std::string()) +
                       "' does not exist in the registry with id '" + id + "'");
  return id;
}

store::Record require_repository(store::Db& db, const RequestContext& ctx, const json& in) {
  registry_id(ctx, in);
  std::string name = in.value("repositoryName", "");
  auto r = store::EcrRepo(db).find_repository(ctx.scope, name);
  if (!r) throw ApiError("RepositoryNotFoundException", repository_not_found(ctx, name));
  return *r;
}

std::string repository_uri(const registry::Registry& reg, const RequestContext& ctx, const std::string& name) {
  return reg.registry_host(ctx.scope.region) + "/" + name;
}

json repository_json(const registry::Registry& reg, const RequestContext& ctx, const store::Record& repo) {
  json out = {{"repositoryArn", repo.arn},
              {"registryId", ctx.scope.account},
              {"repositoryName", repo.name},
              {"repositoryUri", repository_uri(reg, ctx, repo.name)},
              {"createdAt", repo.created_at}};
  for (const char* k : {"imageTagMutability", "imageScanningConfiguration", "encryptionConfiguration"})
    if (repo.doc.contains(k)) out[k] = repo.doc[k];
  return out;
}

std::optional<runtime::RegistryAuth> pull_auth(const registry::Registry& reg, const std::string& image) {
  auto slash = image.find('/');
  if (slash == std::string::npos) return std::nullopt;
  std::string host = image.substr(0, slash);
  for (const auto& region : registry::regions()) {
    if (reg.registry_host(region) != host) continue;
    runtime::RegistryAuth auth;
    auth.username = "AWS";
    auth.password = reg.tokens().issue(reg.options().account_id, region, clock().now() + 3600);
    auth.server = host;
    return auth;
  }
  return std::nullopt;
}

ServiceApi make_api(registry::Registry& registry) {
  ServiceApi api;
  api.model = &model::get("ecr");
  api.validation_code = "InvalidParameterException";
  using Fn = json (*)(registry::Registry&, RequestContext&, const json&);
  auto bind = [&registry](Fn fn) -> Handler {
    return [&registry, fn](RequestContext& ctx, const json& in) { return fn(registry, ctx, in); };
  };
  const std::pair<const char*, Fn> table[] = {
      {"CreateRepository", create_repository},
      {"DescribeRepositories", describe_repositories},
      {"DeleteRepository", delete_repository},
      {"PutImageTagMutability", put_image_tag_mutability},
      {"PutImageScanningConfiguration", put_image_scanning_configuration},
      {"GetAuthorizationToken", get_authorization_token},
      {"DescribeRegistry", describe_registry},
      {"ListImages", list_images},
      {"DescribeImages", describe_images},
      {"BatchGetImage", batch_get_image},
      {"BatchDeleteImage", batch_delete_image},
      {"PutImage", put_image},
      {"GetDownloadUrlForLayer", get_download_url_for_layer},
      {"BatchCheckLayerAvailability", batch_check_layer_availability},
      {"InitiateLayerUpload", initiate_layer_upload},
      {"UploadLayerPart", upload_layer_part},
      {"CompleteLayerUpload", complete_layer_upload},
      {"PutLifecyclePolicy", put_lifecycle_policy},
      {"GetLifecyclePolicy", get_lifecycle_policy},
      {"DeleteLifecyclePolicy", delete_lifecycle_policy},
      {"SetRepositoryPolicy", set_repository_policy},
      {"GetRepositoryPolicy", get_repository_policy},
      {"DeleteRepositoryPolicy", delete_repository_policy},
      {"TagResource", tag_resource},
      {"UntagResource", untag_resource},
      {"ListTagsForResource", list_tags_for_resource},
  };
  for (const auto& [name, fn] : table) api.handlers.emplace(name, bind(fn));
  return api;
}

}  // namespace ecsd::services::ecr
