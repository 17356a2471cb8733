// ECS container instance handlers. Each cluster has one container instance: the local Docker
// engine, registered on first use with the machine's CPUs and memory.
#include "ecsd/common/api_error.hpp"
#include "ecsd/common/arn.hpp"
#include "ecsd/domain/tasks.hpp"
#include "ecsd/services/ecs/ecs.hpp"
#include "ecsd/store/task_repo.hpp"

namespace ecsd::services::ecs {

namespace {
std::string instance_arn(const RequestContext& ctx, const std::string& cluster, const std::string& ref) {
  if (arn::is_arn(ref)) return ref;
  return arn::make("ecs", ctx.scope.region, ctx.scope.account, "container-instance/" + cluster + "/" + ref);
}
}  // namespace

json list_container_instances(RequestContext& ctx, const json& in) {
  std::string status = in.value("status", "");
  return ctx.store.write([&](store::Db& db) {
    store::Record cluster = require_cluster(db, ctx, in.value("cluster", ""));
    domain::ensure_local_instance(db, ctx.scope, cluster, ctx.now);
    json out = {{"containerInstanceArns", json::array()}};
    for (const auto& r : store::ContainerInstanceRepo(db).list(cluster.id))
      if (status.empty() || r.status == status) out["containerInstanceArns"].push_back(r.arn);
    return out;
  });
}

json describe_container_instances(RequestContext& ctx, const json& in) {
  return ctx.store.write([&](store::Db& db) {
    store::Record cluster = require_cluster(db, ctx, in.value("cluster", ""));
    domain::ensure_local_instance(db, ctx.scope, cluster, ctx.now);
    store::ContainerInstanceRepo repo(db);
    json out = {{"containerInstances", json::array()}, {"failures", json::array()}};
    for (const auto& ref : in.at("containerInstances")) {
      std::string a = instance_arn(ctx, cluster.name, ref.get<std::string>());
      auto r = repo.find_by_arn(a);
      if (r) out["containerInstances"].push_back(domain::container_instance_view(db, *r));
      else out["failures"].push_back({{"arn", a}, {"reason", "MISSING"}});
    }
    return out;
  });
}

json update_container_instances_state(RequestContext& ctx, const json& in) {
  std::string status = in.at("status");
  std::vector<std::string> changed;
  json out = ctx.store.write([&](store::Db& db) {
    store::Record cluster = require_cluster(db, ctx, in.value("cluster", ""));
    store::ContainerInstanceRepo repo(db);
    json result = {{"containerInstances", json::array()}, {"failures", json::array()}};
    for (const auto& ref : in.at("containerInstances")) {
      std::string a = instance_arn(ctx, cluster.name, ref.get<std::string>());
      auto r = repo.find_by_arn(a);
      if (!r) {
        result["failures"].push_back({{"arn", a}, {"reason", "MISSING"}});
        continue;
      }
      r->status = status;
      r->doc["status"] = status;
      repo.update(*r);
      result["containerInstances"].push_back(domain::container_instance_view(db, *r));
      changed.push_back("cluster:" + cluster.arn);
    }
    return result;
  });
  for (const auto& key : changed) ctx.changed(key);
  return out;
}

}  // namespace ecsd::services::ecs
