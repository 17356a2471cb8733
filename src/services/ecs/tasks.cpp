// ECS task handlers: RunTask, StopTask, DescribeTasks, ListTasks. They write desired state;
// the reconciler starts and stops the containers.
#include "ecsd/common/api_error.hpp"
#include "ecsd/common/arn.hpp"
#include "ecsd/domain/networking.hpp"
#include "ecsd/domain/tasks.hpp"
#include "ecsd/services/ecs/ecs.hpp"
#include "ecsd/store/task_repo.hpp"

namespace ecsd::services::ecs {

namespace {

[[noreturn]] void invalid(const std::string& msg) { throw ApiError("InvalidParameterException", msg); }

bool is_fargate(const std::string& launch_type, const json& strategy) {
  if (launch_type == "FARGATE") return true;
  if (strategy.is_array())
    for (const auto& s : strategy)
      if (s.value("capacityProvider", "").rfind("FARGATE", 0) == 0) return true;
  return false;
}

json view(store::Db& db, const store::TaskRow& t, bool include_tags) {
  json out = t.doc;
  out.erase("_ecsd");
  out["tags"] = include_tags ? tags_json(store::TagRepo(db).get(t.arn)) : out.value("tags", json::array());
  return out;
}

}  // namespace

json run_task(RequestContext& ctx, const json& in) {
  int count = in.value("count", 1);
  if (count < 1 || count > 10) invalid("count must be between 1 and 10.");
  if (in.contains("launchType") && in.contains("capacityProviderStrategy"))
    invalid("Specifying both a launch type and capacity provider strategy is not supported. Remove one and try again.");
  store::Tags tags = tags_from(in.value("tags", json::array()));
  std::vector<std::string> changed;
  json out = ctx.store.write([&](store::Db& db) {
    store::Record cluster = require_cluster(db, ctx, in.value("cluster", ""));
    auto td = find_task_definition(db, ctx, in.at("taskDefinition").get<std::string>());
    if (!td) throw ApiError("ClientException", "TaskDefinition not found.");
    if (td->status != "ACTIVE") throw ApiError("ClientException", "TaskDefinition is inactive.");
    std::string launch_type = launch_type_of(in, cluster);
    json strategy = in.value("capacityProviderStrategy", json());
    if (launch_type.empty() && strategy.is_null()) strategy = cluster.doc["defaultCapacityProviderStrategy"];
    bool fargate = is_fargate(launch_type, strategy);
    bool awsvpc = td->doc.value("networkMode", "") == "awsvpc";
    bool compatible = false;
    for (const auto& c : td->doc.value("compatibilities", json::array()))
      compatible |= c == (fargate ? "FARGATE" : (launch_type == "EXTERNAL" ? "EXTERNAL" : "EC2"));
    if (!compatible)
      throw ApiError("ClientException", std::string("Task definition does not support launch_type ") +
                                            (fargate ? "FARGATE" : launch_type) + ".");
    if (awsvpc && !in.contains("networkConfiguration"))
      invalid("Network Configuration must be provided when networkMode 'awsvpc' is specified.");
    if (!awsvpc && in.contains("networkConfiguration"))
      invalid("Network Configuration is not valid for the given networkMode of this task definition.");
    json network = in.value("networkConfiguration", json());
    if (network.is_object()) {
      json& vpc = network["awsvpcConfiguration"];
      if (vpc.value("subnets", json::array()).empty()) invalid("subnets can not be empty.");
      if (!vpc.contains("assignPublicIp")) vpc["assignPublicIp"] = "DISABLED";
      if (auto problem = domain::check_awsvpc_configuration(db, ctx.scope, vpc); !problem.empty()) invalid(problem);
    }
    json result = {{"tasks", json::array()}, {"failures", json::array()}};
    json constraints = in.value("placementConstraints", json::array());
    for (const auto& c : td->doc.value("placementConstraints", json::array())) constraints.push_back(c);
    if (auto problem = domain::check_constraints(constraints); !problem.empty()) invalid(problem);
    std::string group = in.value("group", "family:" + td->name);
    domain::Resources need = domain::task_resources(td->doc, in.value("overrides", json::object()));
    store::TaskRepo repo(db);
    for (int i = 0; i < count; ++i) {
      std::optional<store::Record> instance;
      if (!fargate) {
        auto placed = domain::place(db, ctx.scope, cluster, need, group, constraints,
                                    in.value("placementStrategy", json::array()), ctx.now);
        if (!placed.instance) {
          result["failures"].push_back({{"arn", placed.closest}, {"reason", placed.failure}});
          continue;
        }
        instance = placed.instance;
      }
      domain::TaskParams p;
      p.scope = ctx.scope;
      p.cluster = &cluster;
      p.task_definition = &*td;
      p.launch_type = launch_type;
      p.capacity_provider_strategy = strategy;
      p.network_configuration = network;
      p.overrides = in.value("overrides", json());
      p.started_by = in.value("startedBy", "");
      p.group = group;
      p.platform_version = in.value("platformVersion", "");
      p.container_instance_arn = instance ? instance->arn : "";
      p.tags = tags_json(tags);
      p.enable_execute_command = in.value("enableExecuteCommand", false);
      p.now = ctx.now;
      store::TaskRow t = domain::make_task(p);
      repo.insert(ctx.scope, t, ctx.now);
      store::TagRepo(db).put(t.arn, tags);
      changed.push_back("task:" + t.arn);
      result["tasks"].push_back(view(db, t, false));
    }
    return result;
  });
  for (const auto& key : changed) ctx.changed(key);
  return out;
}

json stop_task(RequestContext& ctx, const json& in) {
  std::string arn_s;
  json out = ctx.store.write([&](store::Db& db) {
    store::Record cluster = require_cluster(db, ctx, in.value("cluster", ""));
    store::TaskRepo repo(db);
    auto t = repo.find_by_arn(task_arn(ctx, cluster.name, in.at("task").get<std::string>()));
    if (!t || t->cluster_id != cluster.id) invalid("The referenced task was not found.");
    if (t->desired_status != "STOPPED") {
      t->desired_status = "STOPPED";
      t->doc["desiredStatus"] = "STOPPED";
      t->doc["stopCode"] = "UserInitiated";
      t->doc["stoppedReason"] = in.value("reason", "Task stopped by user");
      t->doc["stoppingAt"] = ctx.now;
      t->doc["version"] = t->doc.value("version", 1) + 1;
      repo.update(*t, ctx.now);
    }
    arn_s = t->arn;
    return json{{"task", view(db, *t, false)}};
  });
  ctx.changed("task:" + arn_s);
  return out;
}

json describe_tasks(RequestContext& ctx, const json& in) {
  const json& refs = in.at("tasks");
  if (refs.size() > 100) invalid("The maximum number of tasks that can be described at once is 100.");
  bool include_tags = false;
  for (const auto& i : in.value("include", json::array())) include_tags |= i == "TAGS";
  return ctx.store.read([&](store::Db& db) {
    store::Record cluster = require_cluster_key(db, ctx, in.value("cluster", ""));
    store::TaskRepo repo(db);
    json out = {{"tasks", json::array()}, {"failures", json::array()}};
    for (const auto& ref : refs) {
      std::string a = task_arn(ctx, cluster.name, ref.get<std::string>());
      auto t = repo.find_by_arn(a);
      if (t && t->cluster_id == cluster.id) out["tasks"].push_back(view(db, *t, include_tags));
      else out["failures"].push_back({{"arn", a}, {"reason", "MISSING"}});
    }
    return out;
  });
}

json list_tasks(RequestContext& ctx, const json& in) {
  int limit = in.value("maxResults", 100);
  if (limit < 1 || limit > 100) invalid("maxResults must be between 1 and 100.");
  return ctx.store.read([&](store::Db& db) {
    store::Record cluster = require_cluster_key(db, ctx, in.value("cluster", ""));
    store::TaskQuery q;
    q.cluster_id = cluster.id;
    q.family = in.value("family", "");
    q.started_by = in.value("startedBy", "");
    q.desired_status = in.value("desiredStatus", "RUNNING");
    if (in.contains("serviceName")) {
      std::string svc = in["serviceName"];
      q.service_arn = arn::is_arn(svc) ? svc
                                       : arn::make("ecs", ctx.scope.region, ctx.scope.account,
                                                   "service/" + cluster.name + "/" + svc);
    }
    if (in.contains("containerInstance")) {
      std::string ci = in["containerInstance"];
      q.container_instance_arn = arn::is_arn(ci) ? ci
                                                 : arn::make("ecs", ctx.scope.region, ctx.scope.account,
                                                             "container-instance/" + cluster.name + "/" + ci);
    }
    q.after_id = in.contains("nextToken") ? decode_token(in["nextToken"]) : 0;
    q.limit = 100;
    std::string launch_type = in.value("launchType", "");
    json out = {{"taskArns", json::array()}};
    store::TaskRepo repo(db);
    std::int64_t last = q.after_id;
    while (true) {
      auto rows = repo.list(q);
      for (const auto& t : rows) {
        q.after_id = t.id;
        if (!launch_type.empty() && t.doc.value("launchType", "") != launch_type) continue;
        if (static_cast<int>(out["taskArns"].size()) == limit) {
          out["nextToken"] = encode_token(last);
          return out;
        }
        out["taskArns"].push_back(t.arn);
        last = t.id;
      }
      if (rows.size() < 100) break;
    }
    return out;
  });
}

}  // namespace ecsd::services::ecs
