// ECS service handlers: CreateService, UpdateService, DescribeServices, ListServices, DeleteService.
// They write desired state only; the scheduler (reconciler) converges tasks towards it.
#include <regex>

#include "ecsd/common/api_error.hpp"
#include "ecsd/common/arn.hpp"
#include "ecsd/common/ids.hpp"
#include "ecsd/domain/deployments.hpp"
#include "ecsd/domain/networking.hpp"
#include "ecsd/domain/tasks.hpp"
#include "ecsd/services/ecs/ecs.hpp"
#include "ecsd/store/service_repo.hpp"

namespace ecsd::services::ecs {

namespace {

[[noreturn]] void invalid(const std::string& msg) { throw ApiError("InvalidParameterException", msg); }

std::string service_name(const std::string& name_or_arn) {
  if (auto a = arn::parse(name_or_arn)) {
    auto slash = a->resource.rfind('/');
    return slash == std::string::npos ? a->resource : a->resource.substr(slash + 1);
  }
  return name_or_arn;
}

std::string service_arn(const RequestContext& ctx, const std::string& cluster, const std::string& name) {
  return arn::make("ecs", ctx.scope.region, ctx.scope.account, "service/" + cluster + "/" + name);
}

store::Record require_task_definition(store::Db& db, const RequestContext& ctx, const std::string& ref) {
  auto td = find_task_definition(db, ctx, ref);
  if (!td) throw ApiError("ClientException", "TaskDefinition not found.");
  if (td->status != "ACTIVE") throw ApiError("ClientException", "TaskDefinition is inactive.");
  return *td;
}


// Checks the network configuration against the task definition's network mode and EC2.
void check_network(store::Db& db, const RequestContext& ctx, const json& td_doc, const json& svc) {
  bool awsvpc = td_doc.value("networkMode", "") == "awsvpc";
  bool has = svc.contains("networkConfiguration");
  if (awsvpc && !has) invalid("Network Configuration must be provided when networkMode 'awsvpc' is specified.");
  if (!awsvpc && has) invalid("Network Configuration is not valid for the given networkMode of this task definition.");
  if (has) {
    const json& vpc = svc["networkConfiguration"].value("awsvpcConfiguration", json::object());
    if (vpc.value("subnets", json::array()).empty()) invalid("subnets can not be empty.");
    if (auto problem = domain::check_awsvpc_configuration(db, ctx.scope, vpc); !problem.empty()) invalid(problem);
  }
}

void normalise_network(json& svc) {
  if (!svc.contains("networkConfiguration")) return;
  json& vpc = svc["networkConfiguration"]["awsvpcConfiguration"];
  if (vpc.is_object() && !vpc.contains("assignPublicIp")) vpc["assignPublicIp"] = "DISABLED";
}

// Finds the service named by name or ARN in `cluster`, any status.
std::optional<store::Record> find_service(store::Db& db, const store::Record& cluster, const std::string& ref) {
  return store::ServiceRepo(db).find(cluster.id, service_name(ref));
}

json view(store::Db& db, store::Record&& s, bool include_tags) {
  json out = std::move(s.doc);
  if (include_tags) out["tags"] = tags_json(store::TagRepo(db).get(s.arn));
  return out;
}

}  // namespace

json create_service(RequestContext& ctx, const json& in) {
  std::string name = in.at("serviceName").get<std::string>();
  static const std::regex kName("^[a-zA-Z0-9_-]{1,255}$");
  if (!std::regex_match(name, kName))
    invalid("Service name can have up to 255 characters, which can be letters (uppercase and lowercase), numbers, "
            "underscores and hyphens.");
  std::string scheduling = in.value("schedulingStrategy", "REPLICA");
  std::string controller = in.value("deploymentController", json::object()).value("type", "ECS");
  if (in.contains("launchType") && in.contains("capacityProviderStrategy"))
    invalid("Specifying both a launch type and capacity provider strategy is not supported. Remove one and try again.");
  if (in.contains("healthCheckGracePeriodSeconds") && in.value("loadBalancers", json::array()).empty())
    invalid("Health check grace period is only valid for services configured to use load balancers");
  if (scheduling == "DAEMON" && in.value("launchType", "") == "FARGATE")
    invalid("The daemon scheduling strategy is not supported with the FARGATE launch type.");
  store::Tags tags = tags_from(in.value("tags", json::array()));
  if (auto problem = domain::check_constraints(in.value("placementConstraints", json::array())); !problem.empty())
    invalid(problem);

  json result = ctx.store.write([&](store::Db& db) {
    store::Record cluster = require_cluster(db, ctx, in.value("cluster", ""));
    store::ServiceRepo repo(db);
    if (auto existing = repo.find(cluster.id, name); existing && existing->status != "INACTIVE")
      invalid("Creation of service was not idempotent.");
    json svc = in;
    svc.erase("cluster");
    svc.erase("tags");
    svc.erase("clientToken");
    svc.erase("role");
    svc.erase("serviceConnectConfiguration");
    svc.erase("volumeConfigurations");
    if (in.contains("role")) {
      std::string role = in["role"];
      svc["roleArn"] = arn::is_arn(role) ? role : "arn:aws:iam::" + ctx.scope.account + ":role/" + role;
    }
    std::string arn_s = service_arn(ctx, cluster.name, name);
    svc["serviceArn"] = arn_s;
    svc["clusterArn"] = cluster.arn;
    svc["status"] = "ACTIVE";
    if (controller != "EXTERNAL") {
      if (!in.contains("taskDefinition")) invalid("TaskDefinition must be specified.");
      store::Record td = require_task_definition(db, ctx, in["taskDefinition"]);
      check_network(db, ctx, td.doc, svc);
      svc["taskDefinition"] = td.arn;
    }
    normalise_network(svc);
    if (!svc.contains("desiredCount")) svc["desiredCount"] = 0;
    svc["runningCount"] = 0;
    svc["pendingCount"] = 0;
    if (!svc.contains("launchType") && !svc.contains("capacityProviderStrategy")) {
      json cluster_strategy = cluster.doc.value("defaultCapacityProviderStrategy", json::array());
      if (cluster_strategy.empty()) svc["launchType"] = "EC2";
      else svc["capacityProviderStrategy"] = cluster_strategy;
    }
    bool fargate = svc.value("launchType", "") == "FARGATE";
    for (const auto& s : svc.value("capacityProviderStrategy", json::array()))
      if (s.value("capacityProvider", "").rfind("FARGATE", 0) == 0) fargate = true;
    if (fargate) {
      if (!svc.contains("platformVersion")) svc["platformVersion"] = "LATEST";
      svc["platformFamily"] = "Linux";
    }
    json dc = domain::deployments::default_configuration(scheduling);
    if (in.contains("deploymentConfiguration")) dc.update(in["deploymentConfiguration"]);
    svc["deploymentConfiguration"] = dc;
    svc["deploymentController"] = {{"type", controller}};
    svc["schedulingStrategy"] = scheduling;
    for (const char* list : {"loadBalancers", "serviceRegistries", "placementConstraints", "placementStrategy"})
      if (!svc.contains(list)) svc[list] = json::array();
    if (!svc.contains("propagateTags")) svc["propagateTags"] = "NONE";
    if (!svc.contains("enableECSManagedTags")) svc["enableECSManagedTags"] = false;
    if (!svc.contains("enableExecuteCommand")) svc["enableExecuteCommand"] = false;
    if (!svc.contains("availabilityZoneRebalancing"))
      svc["availabilityZoneRebalancing"] = scheduling == "DAEMON" ? "DISABLED" : "ENABLED";
    svc["createdAt"] = ctx.now;
    svc["createdBy"] = ctx.principal();
    svc["events"] = json::array();
    svc["deployments"] = json::array();
    if (controller == "EXTERNAL") svc["taskSets"] = json::array();
    if (!svc["loadBalancers"].empty() && !svc.contains("roleArn"))
      svc["roleArn"] = "arn:aws:iam::" + ctx.scope.account +
                       ":role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS";
    if (controller == "ECS") {
      domain::deployments::start(db, svc, ctx.now);
    }

    store::Record r;
    r.name = name;
    r.arn = arn_s;
    r.status = "ACTIVE";
    r.created_at = ctx.now;
    r.doc = std::move(svc);
    repo.insert(ctx.scope, cluster.id, r, ctx.now);
    store::TagRepo tag_repo(db);
    tag_repo.remove_all(r.arn);
    tag_repo.put(r.arn, tags);
    json out = r.doc;
    out["tags"] = tags_json(tags);
    return json{{"service", out}};
  });
  ctx.changed("service:" + result["service"].value("serviceArn", ""));
  return result;
}

json update_service(RequestContext& ctx, const json& in) {
  json result = ctx.store.write([&](store::Db& db) {
    store::Record cluster = require_cluster(db, ctx, in.value("cluster", ""));
    auto s = find_service(db, cluster, in.at("service").get<std::string>());
    if (!s) throw ApiError("ServiceNotFoundException", "Service not found.");
    if (s->status != "ACTIVE") throw ApiError("ServiceNotActiveException", "Service was not ACTIVE.");
    json& svc = s->doc;
    bool redeploy = in.value("forceNewDeployment", false);
    if (in.contains("taskDefinition")) {
      store::Record td = require_task_definition(db, ctx, in["taskDefinition"]);
      if (svc.value("taskDefinition", "") != td.arn) redeploy = true;
      svc["taskDefinition"] = td.arn;
    }
    if (in.contains("networkConfiguration")) {
      if (svc.value("networkConfiguration", json()) != in["networkConfiguration"]) redeploy = true;
      svc["networkConfiguration"] = in["networkConfiguration"];
      normalise_network(svc);
    }
    if (in.contains("taskDefinition") || in.contains("networkConfiguration")) {
      auto td = find_task_definition(db, ctx, svc["taskDefinition"]);
      if (td) check_network(db, ctx, td->doc, svc);
    }
    for (const char* k : {"platformVersion", "loadBalancers", "serviceRegistries", "capacityProviderStrategy"})
      if (in.contains(k) && svc.value(k, json()) != in[k]) {
        svc[k] = in[k];
        redeploy = true;
      }
    if (in.contains("capacityProviderStrategy")) svc.erase("launchType");
    for (const char* k : {"desiredCount", "healthCheckGracePeriodSeconds", "placementConstraints",
                          "placementStrategy", "enableExecuteCommand", "enableECSManagedTags", "propagateTags",
                          "availabilityZoneRebalancing"})
      if (in.contains(k)) svc[k] = in[k];
    if (in.contains("healthCheckGracePeriodSeconds") && svc.value("loadBalancers", json::array()).empty())
      invalid("Health check grace period is only valid for services configured to use load balancers");
    if (in.contains("deploymentConfiguration")) {
      json dc = svc.value("deploymentConfiguration", json::object());
      dc.update(in["deploymentConfiguration"]);
      svc["deploymentConfiguration"] = dc;
    }
    json& deployments = svc["deployments"];
    if (redeploy && svc["deploymentController"].value("type", "ECS") == "ECS") {
      domain::deployments::start(db, svc, ctx.now);
    } else {
      for (auto& d : deployments)
        if (d["status"] == "PRIMARY") {
          d["desiredCount"] = svc["desiredCount"];
          d["updatedAt"] = ctx.now;
        }
    }
    s->doc["_ecsd"]["steady"] = false;
    store::ServiceRepo(db).update(*s, ctx.now);
    return json{{"service", s->doc}};
  });
  ctx.changed("service:" + result["service"].value("serviceArn", ""));
  return result;
}

json describe_services(RequestContext& ctx, const json& in) {
  const json& refs = in.at("services");
  if (refs.size() > 10) invalid("The maximum number of services that can be described at once is 10.");
  bool include_tags = false;
  for (const auto& i : in.value("include", json::array())) include_tags |= i == "TAGS";
  return ctx.store.read([&](store::Db& db) {
    store::Record cluster = require_cluster_key(db, ctx, in.value("cluster", ""));
    json out = {{"services", json::array()}, {"failures", json::array()}};
    store::ServiceRepo repo(db);
    for (const auto& ref : refs) {
      auto s = repo.find_visible(cluster.id, service_name(ref.get<std::string>()),
                                 ctx.now - store::kInactiveServiceRetentionSeconds);
      if (s) out["services"].push_back(view(db, std::move(*s), include_tags));
      else out["failures"].push_back(
          {{"arn", service_arn(ctx, cluster.name, service_name(ref.get<std::string>()))}, {"reason", "MISSING"}});
    }
    return out;
  });
}

json list_services(RequestContext& ctx, const json& in) {
  int limit = in.value("maxResults", 10);
  if (limit < 1 || limit > 100) invalid("maxResults must be between 1 and 100.");
  std::int64_t after = in.contains("nextToken") ? decode_token(in["nextToken"]) : 0;
  std::string launch_type = in.value("launchType", "");
  std::string scheduling = in.value("schedulingStrategy", "");
  return ctx.store.read([&](store::Db& db) {
    store::Record cluster = require_cluster_key(db, ctx, in.value("cluster", ""));
    json out = {{"serviceArns", json::array()}};
    store::ServiceRepo repo(db);
    // Filters apply before paging; fetch in batches until the page is full.
    std::int64_t cursor = after, last = after;
    int taken = 0;
    while (true) {
      auto rows = repo.list_live(cluster.id, cursor, 100);
      for (const auto& r : rows) {
        cursor = r.id;
        if (!launch_type.empty() && r.doc.value("launchType", "") != launch_type) continue;
        if (!scheduling.empty() && r.doc.value("schedulingStrategy", "") != scheduling) continue;
        if (taken == limit) {
          out["nextToken"] = encode_token(last);
          return out;
        }
        out["serviceArns"].push_back(r.arn);
        ++taken;
        last = r.id;
      }
      if (rows.size() < 100) break;
    }
    return out;
  });
}

json delete_service(RequestContext& ctx, const json& in) {
  json result = ctx.store.write([&](store::Db& db) {
    store::Record cluster = require_cluster(db, ctx, in.value("cluster", ""));
    auto s = find_service(db, cluster, in.at("service").get<std::string>());
    if (!s || s->status == "INACTIVE") throw ApiError("ServiceNotFoundException", "Service not found.");
    json& svc = s->doc;
    if (svc.value("schedulingStrategy", "REPLICA") == "REPLICA" && svc.value("desiredCount", 0) > 0 &&
        !in.value("force", false))
      invalid("The service cannot be stopped while it is scaled above 0.");
    svc["desiredCount"] = 0;
    for (auto& d : svc["deployments"]) d["desiredCount"] = 0;
    // DRAINING until the scheduler has stopped the service's tasks; then INACTIVE.
    svc["status"] = "DRAINING";
    s->status = "DRAINING";
    store::ServiceRepo(db).update(*s, ctx.now);
    return json{{"service", svc}};
  });
  ctx.changed("service:" + result["service"].value("serviceArn", ""));
  return result;
}

}  // namespace ecsd::services::ecs
