// ECR policy and tag handlers: Put/Get/DeleteLifecyclePolicy, Set/Get/DeleteRepositoryPolicy,
// TagResource, UntagResource, ListTagsForResource.
#include "ecsd/common/api_error.hpp"
#include "ecsd/common/arn.hpp"
#include "ecsd/services/ecr/ecr.hpp"
#include "ecsd/store/ecr_repo.hpp"
#include "ecsd/store/tag_repo.hpp"

namespace ecsd::services::ecr {

namespace {
std::string lifecycle_not_found(const RequestContext& ctx, const std::string& name) {
  return "Lifecycle policy does not exist for the repository with name '" + name + "' in the registry with id '" +
         ctx.scope.account + "'";
}

std::string policy_not_found(const RequestContext& ctx, const std::string& name) {
  return "Repository policy does not exist for the repository with name '" + name + "' in the registry with id '" +
         ctx.scope.account + "'";
}

// The repository a resource ARN names. @throws InvalidParameterException / RepositoryNotFoundException.
store::Record repository_by_arn(store::Db& db, const RequestContext& ctx, const std::string& resource_arn) {
  auto a = arn::parse(resource_arn);
  if (!a || a->service != "ecr" || a->resource.rfind("repository/", 0) != 0)
    throw ApiError("InvalidParameterException",
                   "Invalid parameter at 'resourceArn' failed to satisfy constraint: 'Invalid ARN'");
  std::string name = a->resource.substr(11);
  if (a->account != ctx.scope.account || a->region != ctx.scope.region)
    throw ApiError("RepositoryNotFoundException", repository_not_found(ctx, name));
  auto r = store::EcrRepo(db).find_repository(ctx.scope, name);
  if (!r) throw ApiError("RepositoryNotFoundException", repository_not_found(ctx, name));
  return *r;
}
}  // namespace

json put_lifecycle_policy(registry::Registry&, RequestContext& ctx, const json& in) {
  std::string text = in["lifecyclePolicyText"];
  try {
    registry::lifecycle_expired(text, {}, ctx.now);
  } catch (const std::exception& e) {
    throw ApiError("InvalidParameterException", std::string("Invalid parameter at 'LifecyclePolicyText' failed to "
                                                            "satisfy constraint: 'Lifecycle policy validation failure: ") +
                                                    e.what() + "'");
  }
  ctx.store.write([&](store::Db& db) {
    auto r = require_repository(db, ctx, in);
    r.doc["lifecyclePolicyText"] = text;
    store::EcrRepo(db).update_repository(r);
  });
  return {{"registryId", ctx.scope.account}, {"repositoryName", in["repositoryName"]}, {"lifecyclePolicyText", text}};
}

json get_lifecycle_policy(registry::Registry&, RequestContext& ctx, const json& in) {
  auto r = ctx.store.read([&](store::Db& db) { return require_repository(db, ctx, in); });
  if (!r.doc.contains("lifecyclePolicyText"))
    throw ApiError("LifecyclePolicyNotFoundException", lifecycle_not_found(ctx, r.name));
  json out = {{"registryId", ctx.scope.account}, {"repositoryName", r.name}, {"lifecyclePolicyText", r.doc["lifecyclePolicyText"]}};
  if (r.doc.contains("lifecyclePolicyLastEvaluatedAt")) out["lastEvaluatedAt"] = r.doc["lifecyclePolicyLastEvaluatedAt"];
  return out;
}

json delete_lifecycle_policy(registry::Registry&, RequestContext& ctx, const json& in) {
  auto r = ctx.store.write([&](store::Db& db) {
    auto r = require_repository(db, ctx, in);
    if (!r.doc.contains("lifecyclePolicyText"))
      throw ApiError("LifecyclePolicyNotFoundException", lifecycle_not_found(ctx, r.name));
    auto old = r;
    r.doc.erase("lifecyclePolicyText");
    r.doc.erase("lifecyclePolicyLastEvaluatedAt");
    store::EcrRepo(db).update_repository(r);
    return old;
  });
  json out = {{"registryId", ctx.scope.account}, {"repositoryName", r.name}, {"lifecyclePolicyText", r.doc["lifecyclePolicyText"]}};
  if (r.doc.contains("lifecyclePolicyLastEvaluatedAt")) out["lastEvaluatedAt"] = r.doc["lifecyclePolicyLastEvaluatedAt"];
  return out;
}

json set_repository_policy(registry::Registry&, RequestContext& ctx, const json& in) {
  std::string text = in["policyText"];
  json policy = json::parse(text, nullptr, false);
  if (policy.is_discarded() || !policy.is_object() || !policy.contains("Statement"))
    throw ApiError("InvalidParameterException",
                   "Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Invalid repository policy provided'");
  ctx.store.write([&](store::Db& db) {
    auto r = require_repository(db, ctx, in);
    r.doc["policyText"] = text;
    store::EcrRepo(db).update_repository(r);
  });
  return {{"registryId", ctx.scope.account}, {"repositoryName", in["repositoryName"]}, {"policyText", text}};
}

json get_repository_policy(registry::Registry&, RequestContext& ctx, const json& in) {
  auto r = ctx.store.read([&](store::Db& db) { return require_repository(db, ctx, in); });
  if (!r.doc.contains("policyText")) throw ApiError("RepositoryPolicyNotFoundException", policy_not_found(ctx, r.name));
  return {{"registryId", ctx.scope.account}, {"repositoryName", r.name}, {"policyText", r.doc["policyText"]}};
}

json delete_repository_policy(registry::Registry&, RequestContext& ctx, const json& in) {
  auto text = ctx.store.write([&](store::Db& db) {
    auto r = require_repository(db, ctx, in);
    if (!r.doc.contains("policyText")) throw ApiError("RepositoryPolicyNotFoundException", policy_not_found(ctx, r.name));
    std::string t = r.doc["policyText"];
    r.doc.erase("policyText");
    store::EcrRepo(db).update_repository(r);
    return t;
  });
  return {{"registryId", ctx.scope.account}, {"repositoryName", in["repositoryName"]}, {"policyText", text}};
}

json tag_resource(registry::Registry&, RequestContext& ctx, const json& in) {
  store::Tags tags;
  for (const auto& t : in["tags"]) tags.emplace_back(t.value("Key", ""), t.value("Value", ""));
  ctx.store.write([&](store::Db& db) {
    auto r = repository_by_arn(db, ctx, in["resourceArn"]);
    store::TagRepo repo(db);
    auto current = repo.get(r.arn);
    std::size_t total = current.size();
    for (const auto& [k, v] : tags)
      if (std::none_of(current.begin(), current.end(), [&](const auto& c) { return c.first == k; })) ++total;
    if (total > 50) throw ApiError("TooManyTagsException", "A repository can have at most 50 tags.");
    repo.put(r.arn, tags);
  });
  return json::object();
}

json untag_resource(registry::Registry&, RequestContext& ctx, const json& in) {
  std::vector<std::string> keys = in["tagKeys"];
  ctx.store.write([&](store::Db& db) {
    auto r = repository_by_arn(db, ctx, in["resourceArn"]);
    store::TagRepo(db).remove(r.arn, keys);
  });
  return json::object();
}

json list_tags_for_resource(registry::Registry&, RequestContext& ctx, const json& in) {
  auto tags = ctx.store.read([&](store::Db& db) {
    auto r = repository_by_arn(db, ctx, in["resourceArn"]);
    return store::TagRepo(db).get(r.arn);
  });
  json out = json::array();
  for (const auto& [k, v] : tags) out.push_back({{"Key", k}, {"Value", v}});
  return {{"tags", out}};
}

}  // namespace ecsd::services::ecr
