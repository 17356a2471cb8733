// ECS task set handlers for services with the EXTERNAL deployment controller: CreateTaskSet,
// UpdateTaskSet, UpdateServicePrimaryTaskSet, DeleteTaskSet, DescribeTaskSets. Task sets live in
// the service's taskSets[]; the scheduler runs ceil(desiredCount x scale%) tasks for each.
#include <cmath>

#include "ecsd/common/api_error.hpp"
#include "ecsd/common/arn.hpp"
#include "ecsd/common/ids.hpp"
#include "ecsd/domain/networking.hpp"
#include "ecsd/services/ecs/ecs.hpp"
#include "ecsd/store/service_repo.hpp"

namespace ecsd::services::ecs {

namespace {

[[noreturn]] void invalid(const std::string& msg) { throw ApiError("InvalidParameterException", msg); }

std::string last_segment(const std::string& ref) {
  if (auto a = arn::parse(ref)) return a->resource.substr(a->resource.rfind('/') + 1);
  return ref;
}

// The ACTIVE EXTERNAL service named by the request's cluster and service.
store::Record require_external_service(store::Db& db, const RequestContext& ctx, const json& in) {
  store::Record cluster = require_cluster(db, ctx, in.value("cluster", ""));
  auto svc = store::ServiceRepo(db).find(cluster.id, last_segment(in.at("service").get<std::string>()));
  if (!svc) throw ApiError("ServiceNotFoundException", "Service not found.");
  if (svc->status != "ACTIVE") throw ApiError("ServiceNotActiveException", "Service was not ACTIVE.");
  if (svc->doc.value("deploymentController", json::object()).value("type", "ECS") != "EXTERNAL")
    invalid("Amazon ECS only supports task set management on services configured to use external deployment "
            "controllers.");
  if (!svc->doc["taskSets"].is_array()) svc->doc["taskSets"] = json::array();
  return *svc;
}

// A task set id ("ecs-svc/123...") or ARN ("arn:...:task-set/cluster/service/ecs-svc/123...") to its id.
std::string task_set_id(const std::string& ref) {
  auto pos = ref.find("ecs-svc/");
  return pos == std::string::npos ? ref : ref.substr(pos);
}

json* find_set(store::Record& svc, const std::string& ref) {
  const std::string id = task_set_id(ref);
  for (auto& ts : svc.doc["taskSets"])
    if (ts.value("id", "") == id) return &ts;
  return nullptr;
}

json* require_set(store::Record& svc, const std::string& ref) {
  json* ts = find_set(svc, ref);
  if (!ts) throw ApiError("TaskSetNotFoundException", "The specified task set does not exist.");
  return ts;
}

json check_scale(const json& scale) {
  json out = {{"unit", scale.value("unit", "PERCENT")}, {"value", scale.value("value", 100.0)}};
  double v = out["value"];
  if (v < 0 || v > 100) invalid("scale.value must be between 0 and 100.");
  return out;
}

int computed(const store::Record& svc, const json& scale) {
  return static_cast<int>(std::ceil(svc.doc.value("desiredCount", 0) * scale.value("value", 100.0) / 100.0 - 1e-9));
}

}  // namespace

json create_task_set(RequestContext& ctx, const json& in) {
  store::Tags tags = tags_from(in.value("tags", json::array()));
  if (in.contains("launchType") && in.contains("capacityProviderStrategy"))
    invalid("Specifying both a launch type and capacity provider strategy is not supported. Remove one and try again.");
  json result = ctx.store.write([&](store::Db& db) {
    store::Record svc = require_external_service(db, ctx, in);
    auto td = find_task_definition(db, ctx, in.at("taskDefinition").get<std::string>());
    if (!td) throw ApiError("ClientException", "TaskDefinition not found.");
    if (td->status != "ACTIVE") throw ApiError("ClientException", "TaskDefinition is inactive.");
    bool awsvpc = td->doc.value("networkMode", "") == "awsvpc";
    if (awsvpc && !in.contains("networkConfiguration"))
      invalid("Network Configuration must be provided when networkMode 'awsvpc' is specified.");
    if (in.contains("networkConfiguration")) {
      const json vpc = in["networkConfiguration"].value("awsvpcConfiguration", json::object());
      if (auto problem = domain::check_awsvpc_configuration(db, ctx.scope, vpc); !problem.empty()) invalid(problem);
    }
    const std::string id = "ecs-svc/" + ids::digits(19);
    auto sa = arn::parse(svc.arn);
    const std::string path = sa->resource.substr(sa->resource.find('/') + 1);  // cluster/service
    json ts = {{"id", id},
               {"taskSetArn", arn::make("ecs", ctx.scope.region, ctx.scope.account, "task-set/" + path + "/" + id)},
               {"serviceArn", svc.arn},
               {"clusterArn", svc.doc.value("clusterArn", "")},
               {"status", "ACTIVE"},
               {"taskDefinition", td->arn},
               {"pendingCount", 0},
               {"runningCount", 0},
               {"createdAt", ctx.now},
               {"updatedAt", ctx.now},
               {"loadBalancers", in.value("loadBalancers", json::array())},
               {"serviceRegistries", in.value("serviceRegistries", json::array())},
               {"stabilityStatus", "STABILIZING"},
               {"stabilityStatusAt", ctx.now}};
    for (const char* k : {"externalId", "networkConfiguration", "capacityProviderStrategy", "platformVersion"})
      if (in.contains(k)) ts[k] = in[k];
    if (in.contains("launchType") || !in.contains("capacityProviderStrategy"))
      ts["launchType"] = in.value("launchType", svc.doc.value("launchType", "EC2"));
    if (ts.value("launchType", "") == "FARGATE") {
      if (!ts.contains("platformVersion")) ts["platformVersion"] = "LATEST";
      ts["platformFamily"] = "Linux";
    }
    if (ts.contains("networkConfiguration")) {
      json& vpc = ts["networkConfiguration"]["awsvpcConfiguration"];
      if (vpc.is_object() && !vpc.contains("assignPublicIp")) vpc["assignPublicIp"] = "DISABLED";
    }
    ts["scale"] = check_scale(in.value("scale", json::object()));
    ts["computedDesiredCount"] = computed(svc, ts["scale"]);
    svc.doc["taskSets"].push_back(ts);
    store::ServiceRepo(db).update(svc, ctx.now);
    store::TagRepo(db).put(ts["taskSetArn"].get<std::string>(), tags);
    json out = ts;
    out["tags"] = tags_json(tags);
    return json{{"taskSet", out}, {"serviceArn", svc.arn}};
  });
  ctx.changed("service:" + result["serviceArn"].get<std::string>());
  return {{"taskSet", result["taskSet"]}};
}

namespace {

// Changes one task set of an EXTERNAL service in one transaction and answers with it.
template <typename Change>
json change_task_set(RequestContext& ctx, const json& in, const char* member, Change change) {
  json result = ctx.store.write([&](store::Db& db) {
    store::Record svc = require_external_service(db, ctx, in);
    json* ts = require_set(svc, in.at(member).get<std::string>());
    change(svc, *ts);
    (*ts)["updatedAt"] = ctx.now;
    json out = *ts;
    store::ServiceRepo(db).update(svc, ctx.now);
    return json{{"taskSet", out}, {"serviceArn", svc.arn}};
  });
  ctx.changed("service:" + result["serviceArn"].get<std::string>());
  return {{"taskSet", result["taskSet"]}};
}

}  // namespace

json update_task_set(RequestContext& ctx, const json& in) {
  return change_task_set(ctx, in, "taskSet", [&](store::Record& svc, json& ts) {
    ts["scale"] = check_scale(in.at("scale"));
    ts["computedDesiredCount"] = computed(svc, ts["scale"]);
  });
}

json update_service_primary_task_set(RequestContext& ctx, const json& in) {
  return change_task_set(ctx, in, "primaryTaskSet", [&](store::Record& svc, json& ts) {
    if (ts.value("status", "") == "DRAINING") invalid("The specified task set is DRAINING and cannot be made primary.");
    for (auto& other : svc.doc["taskSets"])
      if (other.value("status", "") == "PRIMARY") {
        other["status"] = "ACTIVE";
        other["updatedAt"] = ctx.now;
      }
    ts["status"] = "PRIMARY";
    // The service reports the primary task set's configuration.
    for (const char* k : {"taskDefinition", "launchType", "capacityProviderStrategy", "platformVersion",
                          "platformFamily", "networkConfiguration", "loadBalancers", "serviceRegistries"})
      if (ts.contains(k)) svc.doc[k] = ts[k];
  });
}

json delete_task_set(RequestContext& ctx, const json& in) {
  return change_task_set(ctx, in, "taskSet", [&](store::Record&, json& ts) {
    if (ts.value("status", "") == "PRIMARY" && !in.value("force", false))
      invalid("Cannot delete the primary task set of a service unless force is set.");
    ts["status"] = "DRAINING";
  });
}

json describe_task_sets(RequestContext& ctx, const json& in) {
  bool include_tags = false;
  for (const auto& i : in.value("include", json::array())) include_tags |= i == "TAGS";
  return ctx.store.read([&](store::Db& db) {
    store::Record svc = require_external_service(db, ctx, in);
    json out = {{"taskSets", json::array()}, {"failures", json::array()}};
    auto add = [&](const json& ts) {
      json v = ts;
      if (include_tags) v["tags"] = tags_json(store::TagRepo(db).get(ts.value("taskSetArn", "")));
      out["taskSets"].push_back(v);
    };
    if (!in.contains("taskSets")) {
      for (const auto& ts : svc.doc["taskSets"]) add(ts);
      return out;
    }
    for (const auto& ref : in["taskSets"]) {
      if (const json* ts = find_set(svc, ref.get<std::string>())) add(*ts);
      else out["failures"].push_back({{"arn", ref}, {"reason", "MISSING"}});
    }
    return out;
  });
}

}  // namespace ecsd::services::ecs
