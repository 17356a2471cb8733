// ECS container instance handlers. Each cluster has one container instance: the local Docker
// engine, registered on first use with the machine's CPUs and memory.
#include "ecsd/common/api_error.hpp"
#include "ecsd/common/arn.hpp"
#include "ecsd/common/ids.hpp"
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

json register_container_instance(RequestContext& ctx, const json& in) {
  return ctx.store.write([&](store::Db& db) {
    store::Record cluster = require_cluster(db, ctx, in.value("cluster", ""));
    // Every registered instance is backed by the local engine; it partitions its capacity for placement.
    store::Record local = domain::ensure_local_instance(db, ctx.scope, cluster, ctx.now);
    store::Record r;
    std::string id = ids::hex(32);
    r.arn = arn::make("ecs", ctx.scope.region, ctx.scope.account, "container-instance/" + cluster.name + "/" + id);
    r.name = r.arn;
    r.status = "ACTIVE";
    r.created_at = ctx.now;
    r.doc = local.doc;
    r.doc["containerInstanceArn"] = r.arn;
    r.doc["ec2InstanceId"] = "i-" + ids::hex(17);
    r.doc["registeredAt"] = ctx.now;
    r.doc["status"] = "ACTIVE";
    if (in.contains("totalResources")) {
      json resources = in["totalResources"];
      for (auto& res : resources) {
        if (!res.contains("type")) res["type"] = "INTEGER";
        for (const char* k : {"doubleValue", "longValue", "integerValue"})
          if (!res.contains(k)) res[k] = 0;
      }
      r.doc["registeredResources"] = resources;
    }
    if (in.contains("attributes"))
      for (const auto& a : in["attributes"]) r.doc["attributes"].push_back(a);
    if (in.contains("versionInfo")) r.doc["versionInfo"] = in["versionInfo"];
    store::ContainerInstanceRepo(db).insert(ctx.scope, cluster.id, r);
    store::Tags tags = tags_from(in.value("tags", json::array()));
    store::TagRepo(db).put(r.arn, tags);
    json view = domain::container_instance_view(db, r);
    view["tags"] = tags_json(tags);
    return json{{"containerInstance", view}};
  });
}

json deregister_container_instance(RequestContext& ctx, const json& in) {
  std::vector<std::string> changed;
  json out = ctx.store.write([&](store::Db& db) {
    store::Record cluster = require_cluster(db, ctx, in.value("cluster", ""));
    store::ContainerInstanceRepo repo(db);
    auto r = repo.find_by_arn(instance_arn(ctx, cluster.name, in.at("containerInstance").get<std::string>()));
    if (!r || r->status == "INACTIVE")
      throw ApiError("InvalidParameterException", "The referenced container instance was not found.");
    json view = domain::container_instance_view(db, *r);
    if (view.value("runningTasksCount", 0) + view.value("pendingTasksCount", 0) > 0 && !in.value("force", false))
      throw ApiError("InvalidParameterException",
                     "Found running tasks on the instance. Stop the tasks or use force to deregister the instance.");
    r->status = "INACTIVE";
    r->doc["status"] = "INACTIVE";
    r->doc["agentConnected"] = false;
    repo.update(*r);
    changed.push_back("cluster:" + cluster.arn);
    view = domain::container_instance_view(db, *r);
    return json{{"containerInstance", view}};
  });
  for (const auto& key : changed) ctx.changed(key);
  return out;
}

}  // namespace ecsd::services::ecs
