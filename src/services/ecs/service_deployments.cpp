// ECS service deployment handlers: ListServiceDeployments, DescribeServiceDeployments,
// StopServiceDeployment, ContinueServiceDeployment and DescribeServiceRevisions. The records are written by the service
// handlers and the scheduler (domain/deployments.cpp); StopServiceDeployment only asks the
// scheduler for a rollback, and ContinueServiceDeployment records the action for a paused hook.
#include "ecsd/common/api_error.hpp"
#include "ecsd/common/arn.hpp"
#include "ecsd/services/ecs/ecs.hpp"
#include "ecsd/store/deployment_repo.hpp"
#include "ecsd/store/service_repo.hpp"

namespace ecsd::services::ecs {

namespace {

[[noreturn]] void invalid(const std::string& msg) { throw ApiError("InvalidParameterException", msg); }

// Members of a ServiceDeployment that ListServiceDeployments returns (ServiceDeploymentBrief).
json brief(const json& sd) {
  json out = json::object();
  for (const char* k : {"serviceDeploymentArn", "serviceArn", "clusterArn", "startedAt", "createdAt", "finishedAt",
                        "status", "statusReason"})
    if (sd.contains(k)) out[k] = sd[k];
  out["targetServiceRevisionArn"] = sd.value("targetServiceRevision", json::object()).value("arn", "");
  return out;
}

double timestamp(const json& v) { return v.is_number() ? v.get<double>() : 0; }

}  // namespace

json list_service_deployments(RequestContext& ctx, const json& in) {
  int limit = in.value("maxResults", 20);
  if (limit < 1 || limit > 100) invalid("maxResults must be between 1 and 100.");
  std::int64_t before = in.contains("nextToken") ? decode_token(in["nextToken"]) : 0;
  return ctx.store.read([&](store::Db& db) {
    store::Record cluster = require_cluster(db, ctx, in.value("cluster", ""));
    std::string ref = in.at("service").get<std::string>();
    std::string name = ref;
    if (auto a = arn::parse(ref)) name = a->resource.substr(a->resource.rfind('/') + 1);
    auto svc = store::ServiceRepo(db).find(cluster.id, name);
    if (!svc) throw ApiError("ServiceNotFoundException", "Service not found.");
    store::ServiceDeploymentQuery q;
    q.service_arn = svc->arn;
    for (const auto& s : in.value("status", json::array())) q.statuses.push_back(s.get<std::string>());
    const json created = in.value("createdAt", json::object());
    q.created_after = timestamp(created.value("after", json()));
    q.created_before = timestamp(created.value("before", json()));
    q.before_id = before;
    q.limit = limit + 1;
    auto rows = store::ServiceDeploymentRepo(db).list(q);
    json out = {{"serviceDeployments", json::array()}};
    for (std::size_t i = 0; i < rows.size() && i < static_cast<std::size_t>(limit); ++i)
      out["serviceDeployments"].push_back(brief(rows[i].doc));
    if (rows.size() > static_cast<std::size_t>(limit)) out["nextToken"] = encode_token(rows[limit - 1].id);
    return out;
  });
}

json describe_service_deployments(RequestContext& ctx, const json& in) {
  const json& arns = in.at("serviceDeploymentArns");
  if (arns.empty() || arns.size() > 20) invalid("serviceDeploymentArns must name between 1 and 20 ARNs.");
  return ctx.store.read([&](store::Db& db) {
    json out = {{"serviceDeployments", json::array()}, {"failures", json::array()}};
    store::ServiceDeploymentRepo repo(db);
    for (const auto& a : arns) {
      std::string s = a.get<std::string>();
      auto sd = in_scope(ctx, s) ? repo.find_by_arn(s) : std::nullopt;
      if (sd) out["serviceDeployments"].push_back(sd->doc);
      else out["failures"].push_back({{"arn", s}, {"reason", "MISSING"}});
    }
    return out;
  });
}

json describe_service_revisions(RequestContext& ctx, const json& in) {
  const json& arns = in.at("serviceRevisionArns");
  if (arns.empty() || arns.size() > 20) invalid("serviceRevisionArns must name between 1 and 20 ARNs.");
  return ctx.store.read([&](store::Db& db) {
    json out = {{"serviceRevisions", json::array()}, {"failures", json::array()}};
    store::ServiceDeploymentRepo repo(db);
    for (const auto& a : arns) {
      std::string s = a.get<std::string>();
      auto rev = in_scope(ctx, s) ? repo.find_revision(s) : std::nullopt;
      if (rev) out["serviceRevisions"].push_back(rev->doc);
      else out["failures"].push_back({{"arn", s}, {"reason", "MISSING"}});
    }
    return out;
  });
}

json stop_service_deployment(RequestContext& ctx, const json& in) {
  std::string stop_type = in.value("stopType", "ROLLBACK");
  if (stop_type != "ROLLBACK") invalid("The stopType " + stop_type + " is not supported. The valid value is ROLLBACK.");
  std::string sd_arn = in.at("serviceDeploymentArn").get<std::string>();
  std::string service_arn = ctx.store.write([&](store::Db& db) {
    store::ServiceDeploymentRepo repo(db);
    auto sd = in_scope(ctx, sd_arn) ? repo.find_by_arn(sd_arn) : std::nullopt;
    if (!sd) throw ApiError("ServiceDeploymentNotFoundException", "The service deployment " + sd_arn + " does not exist.");
    if (sd->status != "PENDING" && sd->status != "IN_PROGRESS")
      throw ApiError("ConflictException", "The service deployment " + sd_arn + " is " + sd->status +
                                              "; only a service deployment in progress can be stopped.");
    auto svc = store::ServiceRepo(db).find_by_arn(sd->name);
    if (!svc || svc->status != "ACTIVE") throw ApiError("ServiceNotActiveException", "Service was not ACTIVE.");
    if (svc->doc.value("_ecsd", json::object()).value("completed_revision", "").empty())
      throw ApiError("ConflictException", "The service has no completed service revision to roll back to.");
    sd->status = "ROLLBACK_REQUESTED";
    sd->doc["status"] = "ROLLBACK_REQUESTED";
    sd->doc["updatedAt"] = ctx.now;
    repo.update(*sd, ctx.now);
    svc->doc["_ecsd"]["rollback_requested"] = sd_arn;
    store::ServiceRepo(db).update(*svc, ctx.now);
    return svc->arn;
  });
  ctx.changed("service:" + service_arn);
  return {{"serviceDeploymentArn", sd_arn}};
}

json continue_service_deployment(RequestContext& ctx, const json& in) {
  std::string sd_arn = in.at("serviceDeploymentArn").get<std::string>();
  std::string hook_id = in.at("hookId").get<std::string>();
  std::string action = in.value("action", "CONTINUE");
  std::string service_arn = ctx.store.write([&](store::Db& db) {
    auto sd = in_scope(ctx, sd_arn) ? store::ServiceDeploymentRepo(db).find_by_arn(sd_arn) : std::nullopt;
    if (!sd) throw ApiError("ServiceDeploymentNotFoundException", "The service deployment " + sd_arn + " does not exist.");
    bool waiting = false;
    for (const auto& h : sd->doc.value("lifecycleHookDetails", json::array()))
      waiting |= h.value("hookId", "") == hook_id && h.value("status", "") == "AWAITING_ACTION";
    if (!waiting)
      throw ApiError("InvalidParameterException",
                     "The service deployment " + sd_arn + " is not waiting at lifecycle hook " + hook_id + ".");
    auto svc = store::ServiceRepo(db).find_by_arn(sd->name);
    if (!svc || svc->status != "ACTIVE") throw ApiError("ServiceNotActiveException", "Service was not ACTIVE.");
    svc->doc["_ecsd"]["hook_actions"][hook_id] = action;
    store::ServiceRepo(db).update(*svc, ctx.now);
    return svc->arn;
  });
  ctx.changed("service:" + service_arn);
  return {{"serviceDeploymentArn", sd_arn}};
}

}  // namespace ecsd::services::ecs
