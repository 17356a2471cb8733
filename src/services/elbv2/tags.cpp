// ELBv2 tag handlers: AddTags, RemoveTags, DescribeTags, for load balancers, target groups,
// listeners and rules (tags live in the shared `tags` table, keyed by ARN).
#include "ecsd/common/api_error.hpp"
#include "ecsd/common/arn.hpp"
#include "ecsd/services/elbv2/elbv2.hpp"

namespace ecsd::services::elbv2 {

namespace {

constexpr std::size_t kMaxResourcesPerCall = 20;

// Checks that the resource exists. @throws its kind's not-found error, or ValidationError.
void require_resource(store::Db& db, const RequestContext& ctx, const std::string& arn_s) {
  auto a = arn::parse(arn_s);
  std::string r = a ? a->resource : "";
  if (r.rfind("loadbalancer/", 0) == 0) require_load_balancer(db, ctx, arn_s);
  else if (r.rfind("targetgroup/", 0) == 0) require_target_group(db, ctx, arn_s);
  else if (r.rfind("listener/", 0) == 0) require_listener(db, ctx, arn_s);
  else if (r.rfind("listener-rule/", 0) == 0) require_rule(db, ctx, arn_s);
  else
    throw ApiError("ValidationError",
                   "'" + arn_s + "' is not the ARN of a load balancer, target group, listener or rule");
}

std::vector<std::string> resource_arns(const json& in) {
  auto arns = in.at("ResourceArns").get<std::vector<std::string>>();
  if (arns.size() > kMaxResourcesPerCall)
    throw ApiError("ValidationError", "At most " + std::to_string(kMaxResourcesPerCall) +
                                          " resource ARNs can be specified in one call");
  return arns;
}

}  // namespace

json add_tags(RequestContext& ctx, const json& in) {
  auto arns = resource_arns(in);
  store::Tags tags = tags_from(in.at("Tags"));
  ctx.store.write([&](store::Db& db) {
    for (const auto& a : arns) {
      require_resource(db, ctx, a);
      put_tags(db, a, tags);
    }
  });
  return json::object();
}

json remove_tags(RequestContext& ctx, const json& in) {
  auto arns = resource_arns(in);
  auto keys = in.at("TagKeys").get<std::vector<std::string>>();
  ctx.store.write([&](store::Db& db) {
    store::TagRepo repo(db);
    for (const auto& a : arns) {
      require_resource(db, ctx, a);
      repo.remove(a, keys);
    }
  });
  return json::object();
}

json describe_tags(RequestContext& ctx, const json& in) {
  auto arns = resource_arns(in);
  return ctx.store.read([&](store::Db& db) {
    json out = json::array();
    store::TagRepo repo(db);
    for (const auto& a : arns) {
      require_resource(db, ctx, a);
      out.push_back({{"ResourceArn", a}, {"Tags", tags_json(repo.get(a))}});
    }
    return json{{"TagDescriptions", out}};
  });
}

}  // namespace ecsd::services::elbv2
