// ECR repository handlers: CreateRepository, DescribeRepositories, DeleteRepository,
// PutImageTagMutability, PutImageScanningConfiguration; GetAuthorizationToken, DescribeRegistry.
#include "ecsd/common/api_error.hpp"
#include "ecsd/common/arn.hpp"
#include "ecsd/registry/reference.hpp"
#include "ecsd/services/ecr/ecr.hpp"
#include "ecsd/store/ecr_repo.hpp"
#include "ecsd/store/tag_repo.hpp"

namespace ecsd::services::ecr {

namespace {
void require_region(const registry::Registry& reg, const RequestContext& ctx) {
  if (reg.registry_host(ctx.scope.region).empty())
    throw ApiError("InvalidParameterException", "ecsd's registry has no address for region '" + ctx.scope.region + "'.");
}

store::Tags tags_from(const json& tags) {
  store::Tags out;
  for (const auto& t : tags) out.emplace_back(t.value("Key", ""), t.value("Value", ""));
  return out;
}
}  // namespace

json create_repository(registry::Registry& reg, RequestContext& ctx, const json& in) {
  registry_id(ctx, in);
  require_region(reg, ctx);
  std::string name = in["repositoryName"];
  if (!registry::valid_repository_name(name))
    throw ApiError("InvalidParameterException",
                   "Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must satisfy regular expression "
                   "'(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*''");
  store::Record r;
  r.name = name;
  r.arn = arn::make("ecr", ctx.scope.region, ctx.scope.account, "repository/" + name);
  r.created_at = ctx.now;
  r.doc = {{"imageTagMutability", in.value("imageTagMutability", "MUTABLE")},
           {"imageScanningConfiguration", in.value("imageScanningConfiguration", json{{"scanOnPush", false}})},
           {"encryptionConfiguration", in.value("encryptionConfiguration", json{{"encryptionType", "AES256"}})}};
  if (!r.doc["imageScanningConfiguration"].contains("scanOnPush")) r.doc["imageScanningConfiguration"]["scanOnPush"] = false;
  if (r.doc["encryptionConfiguration"].value("encryptionType", "") == "KMS" &&
      !r.doc["encryptionConfiguration"].contains("kmsKey"))
    r.doc["encryptionConfiguration"]["kmsKey"] =
        arn::make("kms", ctx.scope.region, ctx.scope.account, "alias/aws/ecr");
  if (r.doc["encryptionConfiguration"].value("encryptionType", "") == "AES256" &&
      r.doc["encryptionConfiguration"].contains("kmsKey"))
    throw ApiError("InvalidParameterException", "Invalid parameter: kmsKey can only be used with KMS encryption.");
  auto tags = tags_from(in.value("tags", json::array()));
  if (tags.size() > 50) throw ApiError("TooManyTagsException", "A repository can have at most 50 tags.");
  ctx.store.write([&](store::Db& db) {
    store::EcrRepo ecr(db);
    if (ecr.find_repository(ctx.scope, name))
      throw ApiError("RepositoryAlreadyExistsException", "The repository with name '" + name +
                                                             "' already exists in the registry with id '" +
                                                             ctx.scope.account + "'");
    ecr.insert_repository(ctx.scope, r);
    store::TagRepo(db).remove_all(r.arn);
    store::TagRepo(db).put(r.arn, tags);
  });
  return {{"repository", repository_json(reg, ctx, r)}};
}

json describe_repositories(registry::Registry& reg, RequestContext& ctx, const json& in) {
  registry_id(ctx, in);
  auto repos = ctx.store.read([&](store::Db& db) {
    store::EcrRepo ecr(db);
    std::vector<store::Record> out;
    if (in.contains("repositoryNames")) {
      for (const auto& n : in["repositoryNames"]) {
        auto r = ecr.find_repository(ctx.scope, n.get<std::string>());
        if (!r) throw ApiError("RepositoryNotFoundException", repository_not_found(ctx, n));
        out.push_back(*r);
      }
      return out;
    }
    return ecr.list_repositories(ctx.scope);
  });
  if (in.contains("repositoryNames") && (in.contains("maxResults") || in.contains("nextToken")))
    throw ApiError("InvalidParameterException",
                   "Invalid parameter: maxResults and nextToken cannot be used together with repositoryNames.");
  std::size_t start = in.contains("nextToken") ? static_cast<std::size_t>(decode_token(in["nextToken"])) : 0;
  std::size_t limit = in.value("maxResults", 1000);
  json list = json::array();
  for (std::size_t i = start; i < repos.size() && i < start + limit; ++i) list.push_back(repository_json(reg, ctx, repos[i]));
  json out = {{"repositories", list}};
  if (start + limit < repos.size()) out["nextToken"] = encode_token(static_cast<std::int64_t>(start + limit));
  return out;
}

json delete_repository(registry::Registry& reg, RequestContext& ctx, const json& in) {
  bool force = in.value("force", false);
  auto repo = ctx.store.write([&](store::Db& db) {
    auto r = require_repository(db, ctx, in);
    store::EcrRepo ecr(db);
    if (!force && ecr.count_images(r.id) > 0)
      throw ApiError("RepositoryNotEmptyException", "The repository with name '" + r.name + "' in registry with id '" +
                                                        ctx.scope.account +
                                                        "' cannot be deleted because it still contains images");
    ecr.delete_repository(r.id);
    store::TagRepo(db).remove_all(r.arn);
    return r;
  });
  return {{"repository", repository_json(reg, ctx, repo)}};
}

json put_image_tag_mutability(registry::Registry&, RequestContext& ctx, const json& in) {
  std::string m = in["imageTagMutability"];
  ctx.store.write([&](store::Db& db) {
    auto r = require_repository(db, ctx, in);
    r.doc["imageTagMutability"] = m;
    store::EcrRepo(db).update_repository(r);
  });
  return {{"registryId", ctx.scope.account}, {"repositoryName", in["repositoryName"]}, {"imageTagMutability", m}};
}

json put_image_scanning_configuration(registry::Registry&, RequestContext& ctx, const json& in) {
  json conf = in["imageScanningConfiguration"];
  if (!conf.contains("scanOnPush")) conf["scanOnPush"] = false;
  ctx.store.write([&](store::Db& db) {
    auto r = require_repository(db, ctx, in);
    r.doc["imageScanningConfiguration"] = conf;
    store::EcrRepo(db).update_repository(r);
  });
  return {{"registryId", ctx.scope.account},
          {"repositoryName", in["repositoryName"]},
          {"imageScanningConfiguration", conf}};
}

json get_authorization_token(registry::Registry& reg, RequestContext& ctx, const json& in) {
  require_region(reg, ctx);
  if (in.contains("registryIds"))
    for (const auto& id : in["registryIds"])
      if (id != ctx.scope.account)
        throw ApiError("InvalidParameterException", "Invalid parameter: registry id '" + id.get<std::string>() +
                                                        "' is not the registry of this account.");
  double expires = std::floor(ctx.now) + 12 * 3600;
  std::string password = reg.tokens().issue(ctx.scope.account, ctx.scope.region, expires);
  json data = {{"authorizationToken", registry::base64_encode("AWS:" + password)},
               {"expiresAt", expires},
               {"proxyEndpoint", "http://" + reg.registry_host(ctx.scope.region)}};
  return {{"authorizationData", json::array({data})}};
}

json describe_registry(registry::Registry&, RequestContext& ctx, const json&) {
  return {{"registryId", ctx.scope.account}, {"replicationConfiguration", {{"rules", json::array()}}}};
}

}  // namespace ecsd::services::ecr
