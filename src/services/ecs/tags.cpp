// ECS tagging handlers: TagResource, UntagResource, ListTagsForResource.
#include "ecsd/common/api_error.hpp"
#include "ecsd/common/arn.hpp"
#include "ecsd/services/ecs/ecs.hpp"
#include "ecsd/store/cluster_repo.hpp"
#include "ecsd/store/service_repo.hpp"

namespace ecsd::services::ecs {

namespace {

// Checks that the tagged resource exists in the caller's scope.
void require_resource(store::Db& db, const RequestContext& ctx, const std::string& resource_arn) {
  auto a = arn::parse(resource_arn);
  if (!a || a->service != "ecs") throw ApiError("InvalidParameterException", "The ARN provided is invalid.");
  auto not_found = [] { throw ApiError("ResourceNotFoundException", "The specified resource is not found."); };
  if (a->account != ctx.scope.account || a->region != ctx.scope.region) not_found();
  const std::string& res = a->resource;
  auto slash = res.find('/');
  if (slash == std::string::npos) throw ApiError("InvalidParameterException", "The ARN provided is invalid.");
  std::string type = res.substr(0, slash), rest = res.substr(slash + 1);
  if (type == "cluster") {
    auto c = store::ClusterRepo(db).find(ctx.scope, rest);
    if (!c || c->status != "ACTIVE") throw ApiError("ClusterNotFoundException", "Cluster not found.");
  } else if (type == "service") {
    auto s = store::ServiceRepo(db).find_by_arn(resource_arn);
    if (!s || s->status == "INACTIVE") {
      if (rest.find('/') != std::string::npos) {
        auto c = store::ClusterRepo(db).find(ctx.scope, rest.substr(0, rest.find('/')));
        if (!c || c->status != "ACTIVE") throw ApiError("ClusterNotFoundException", "Cluster not found.");
      }
      throw ApiError("ServiceNotFoundException", "Service not found.");
    }
  } else if (type == "task-definition") {
    if (!find_task_definition(db, ctx, resource_arn)) not_found();
  } else {
    not_found();
  }
}

}  // namespace

json tag_resource(RequestContext& ctx, const json& in) {
  store::Tags tags = tags_from(in.at("tags"));
  return ctx.store.write([&](store::Db& db) {
    std::string arn_s = in.at("resourceArn");
    require_resource(db, ctx, arn_s);
    store::TagRepo repo(db);
    repo.put(arn_s, tags);
    if (repo.get(arn_s).size() > 50) throw ApiError("InvalidParameterException", "The number of tags exceeds the maximum of 50.");
    return json::object();
  });
}

json untag_resource(RequestContext& ctx, const json& in) {
  return ctx.store.write([&](store::Db& db) {
    std::string arn_s = in.at("resourceArn");
    require_resource(db, ctx, arn_s);
    store::TagRepo(db).remove(arn_s, in.at("tagKeys").get<std::vector<std::string>>());
    return json::object();
  });
}

json list_tags_for_resource(RequestContext& ctx, const json& in) {
  return ctx.store.read([&](store::Db& db) {
    std::string arn_s = in.at("resourceArn");
    require_resource(db, ctx, arn_s);
    return json{{"tags", tags_json(store::TagRepo(db).get(arn_s))}};
  });
}

}  // namespace ecsd::services::ecs
