// ECS deployment arithmetic, service revisions and service deployment records.
#include "ecsd/domain/deployments.hpp"

#include <algorithm>
#include <cmath>

#include "ecsd/common/arn.hpp"
#include "ecsd/common/ids.hpp"
#include "ecsd/domain/elb.hpp"
#include "ecsd/store/deployment_repo.hpp"
#include "ecsd/store/elbv2_repo.hpp"
#include "ecsd/store/task_definition_repo.hpp"

namespace ecsd::domain::deployments {

int max_tasks(int desired, int maximum_percent) {
  // Integer arithmetic: floor for non-negative operands, no floating point surprises (e.g. 3 * 150).
  return static_cast<int>((static_cast<long long>(desired) * maximum_percent) / 100);
}

int min_healthy_tasks(int desired, int minimum_healthy_percent) {
  long long p = static_cast<long long>(desired) * minimum_healthy_percent;
  return static_cast<int>((p + 99) / 100);
}

int breaker_threshold(int desired) { return std::clamp((desired + 1) / 2, 3, 200); }

json default_configuration(const std::string& scheduling_strategy) {
  bool daemon = scheduling_strategy == "DAEMON";
  return {{"deploymentCircuitBreaker", {{"enable", false}, {"rollback", false}}},
          {"maximumPercent", daemon ? 100 : 200},
          {"minimumHealthyPercent", daemon ? 0 : 100},
          {"strategy", "ROLLING"}};
}

std::string in_progress_reason(const std::string& id) { return "ECS deployment " + id + " in progress."; }
std::string completed_reason(const std::string& id) { return "ECS deployment " + id + " completed."; }
std::string breaker_failed_reason() { return "ECS deployment circuit breaker: tasks failed to start."; }
std::string breaker_rollback_reason(const std::string& completed_id) {
  return "ECS deployment circuit breaker: rolling back to deploymentId " + completed_id + ".";
}

namespace {

// arn:aws:ecs:region:account:service/cluster/name -> "cluster/name", region, account.
struct ServiceRef {
  std::string region, account, path;
};

ServiceRef service_ref(const json& svc) {
  ServiceRef r;
  auto a = arn::parse(svc.value("serviceArn", ""));
  if (a) {
    r.region = a->region;
    r.account = a->account;
    r.path = a->resource.substr(a->resource.find('/') + 1);
  }
  return r;
}

// The configuration members a service revision and a deployment entry take from the service.
constexpr const char* kRevisionMembers[] = {"taskDefinition",        "capacityProviderStrategy", "launchType",
                                           "platformVersion",       "platformFamily",           "loadBalancers",
                                           "serviceRegistries",     "networkConfiguration"};
constexpr const char* kEntryMembers[] = {"launchType", "capacityProviderStrategy", "platformVersion", "platformFamily",
                                         "networkConfiguration"};

std::string record_revision(store::Db& db, const json& svc, double now) {
  ServiceRef ref = service_ref(svc);
  std::string revision_arn =
      arn::make("ecs", ref.region, ref.account, "service-revision/" + ref.path + "/" + ids::digits(19));
  json rev = {{"serviceRevisionArn", revision_arn},
              {"serviceArn", svc.value("serviceArn", "")},
              {"clusterArn", svc.value("clusterArn", "")},
              {"guardDutyEnabled", false},
              {"createdAt", now}};
  for (const char* k : kRevisionMembers)
    if (svc.contains(k)) rev[k] = svc[k];
  json images = json::array();
  if (auto td = store::TaskDefinitionRepo(db).find_by_arn(svc.value("taskDefinition", "")))
    for (const auto& c : td->doc.value("containerDefinitions", json::array()))
      images.push_back({{"containerName", c.value("name", "")}, {"image", c.value("image", "")}});
  rev["containerImages"] = images;
  store::Record r;
  r.arn = revision_arn;
  r.name = svc.value("serviceArn", "");
  r.doc = rev;
  r.created_at = now;
  store::ServiceDeploymentRepo(db).insert_revision(r);
  return revision_arn;
}

json entry_for(const json& svc, const json& config, const std::string& id, const std::string& sd,
               const std::string& revision, double now) {
  json d = {{"id", id},
            {"status", "PRIMARY"},
            {"taskDefinition", config.value("taskDefinition", "")},
            {"desiredCount", svc.value("desiredCount", 0)},
            {"pendingCount", 0},
            {"runningCount", 0},
            {"failedTasks", 0},
            {"createdAt", now},
            {"updatedAt", now},
            {"rolloutState", "IN_PROGRESS"},
            {"rolloutStateReason", in_progress_reason(id)}};
  for (const char* k : kEntryMembers)
    if (config.contains(k)) d[k] = config[k];
  d["_ecsd"] = {{"sd", sd}, {"revision", revision}, {"failures", 0}, {"stage", 1}};
  return d;
}

json breaker_of(const json& svc) {
  const json dc = svc.value("deploymentConfiguration", json::object());
  return dc.value("deploymentCircuitBreaker", json::object());
}

void demote_primary(store::Db& db, json& svc, const std::string& superseded_by, double now) {
  for (auto& d : svc["deployments"]) {
    if (d.value("status", "") != "PRIMARY") continue;
    d["status"] = "ACTIVE";
    d["updatedAt"] = now;
    std::string sd_arn = d.value("_ecsd", json::object()).value("sd", "");
    if (sd_arn.empty() || sd_arn == superseded_by) continue;
    store::ServiceDeploymentRepo repo(db);
    auto sd = repo.find_by_arn(sd_arn);
    if (!sd) continue;
    std::string st = sd->status;
    if (st == "PENDING" || st == "IN_PROGRESS" || st == "STOP_REQUESTED" || st == "ROLLBACK_REQUESTED" ||
        st == "ROLLBACK_IN_PROGRESS") {
      sd->status = "STOPPED";
      sd->doc["status"] = "STOPPED";
      sd->doc["statusReason"] = "A newer service deployment (" + superseded_by + ") replaced this one.";
      sd->doc["stoppedAt"] = now;
      sd->doc["updatedAt"] = now;
      if (sd->doc.contains("deploymentCircuitBreaker") &&
          sd->doc["deploymentCircuitBreaker"].value("status", "") == "MONITORING")
        sd->doc["deploymentCircuitBreaker"]["status"] = "MONITORING_COMPLETE";
      repo.update(*sd, now);
    }
  }
}

}  // namespace

Started start(store::Db& db, json& svc, double now) {
  ServiceRef ref = service_ref(svc);
  std::string revision = record_revision(db, svc, now);
  std::string id = "ecs-svc/" + ids::digits(19);
  std::string sd_arn = arn::make("ecs", ref.region, ref.account, "service-deployment/" + ref.path + "/" + ids::hex(22));
  if (!svc["deployments"].is_array()) svc["deployments"] = json::array();
  demote_primary(db, svc, sd_arn, now);
  json entry = entry_for(svc, svc, id, sd_arn, revision, now);

  json sources = json::array();
  for (const auto& d : svc["deployments"])
    sources.push_back({{"arn", d.value("_ecsd", json::object()).value("revision", "")},
                       {"requestedTaskCount", d.value("desiredCount", 0)},
                       {"runningTaskCount", d.value("runningCount", 0)},
                       {"pendingTaskCount", d.value("pendingCount", 0)}});
  json breaker = breaker_of(svc);
  json sd = {{"serviceDeploymentArn", sd_arn},
             {"serviceArn", svc.value("serviceArn", "")},
             {"clusterArn", svc.value("clusterArn", "")},
             {"createdAt", now},
             {"startedAt", now},
             {"updatedAt", now},
             {"sourceServiceRevisions", sources},
             {"targetServiceRevision",
              {{"arn", revision}, {"requestedTaskCount", svc.value("desiredCount", 0)}, {"runningTaskCount", 0},
               {"pendingTaskCount", 0}}},
             {"status", "IN_PROGRESS"},
             {"lifecycleStage", "RECONCILE_SERVICE"},
             {"deploymentConfiguration", svc.value("deploymentConfiguration", json::object())},
             {"deploymentCircuitBreaker",
              {{"status", breaker.value("enable", false) ? "MONITORING" : "DISABLED"},
               {"failureCount", 0},
               {"threshold", breaker_threshold(svc.value("desiredCount", 0))}}},
             {"alarms", {{"status", "DISABLED"}}}};
  store::Record r;
  r.arn = sd_arn;
  r.name = svc.value("serviceArn", "");
  r.status = "IN_PROGRESS";
  r.doc = sd;
  r.created_at = now;
  store::ServiceDeploymentRepo(db).insert(r, now);

  svc["deployments"].insert(svc["deployments"].begin(), entry);
  return {entry, sd_arn};
}

bool roll_back(store::Db& db, json& svc, json& failed, const std::string& revision_arn,
               const std::string& rollback_reason, const std::string& rollout_reason, double now) {
  store::ServiceDeploymentRepo repo(db);
  auto rev = repo.find_revision(revision_arn);
  if (!rev) return false;
  const std::string failed_id = failed.value("id", "");
  const std::string sd_arn = failed.value("_ecsd", json::object()).value("sd", "");
  // `failed` lives in svc.deployments, which the insert below reallocates: read it now.
  const bool breaker_failed = failed.value("rolloutState", "") == "FAILED";
  const int failed_tasks = failed.value("failedTasks", 0);
  // The service goes back to the revision's configuration.
  for (const char* k : kRevisionMembers) {
    if (rev->doc.contains(k)) svc[k] = rev->doc[k];
    else if (std::string(k) != "taskDefinition") svc.erase(k);
  }
  for (auto& d : svc["deployments"])
    if (d.value("status", "") == "PRIMARY") {
      d["status"] = "ACTIVE";
      d["updatedAt"] = now;
    }
  std::string id = "ecs-svc/" + ids::digits(19);
  json entry = entry_for(svc, rev->doc, id, sd_arn, revision_arn, now);
  entry["rolloutStateReason"] = rollout_reason;
  entry["_ecsd"]["rollback_of"] = failed_id;
  svc["deployments"].insert(svc["deployments"].begin(), entry);

  if (auto sd = repo.find_by_arn(sd_arn)) {
    sd->status = "ROLLBACK_IN_PROGRESS";
    sd->doc["status"] = "ROLLBACK_IN_PROGRESS";
    sd->doc["statusReason"] = rollback_reason;
    sd->doc["rollback"] = {{"reason", rollback_reason}, {"startedAt", now}, {"serviceRevisionArn", revision_arn}};
    json& cb = sd->doc["deploymentCircuitBreaker"];
    if (breaker_failed && cb.value("status", "") == "MONITORING" && failed_tasks > 0) {
      cb["status"] = "TRIGGERED";
      cb["failureCount"] = failed_tasks;
    }
    sd->doc["updatedAt"] = now;
    repo.update(*sd, now);
  }
  return true;
}

std::string finished_status(const json& entry, bool completed) {
  bool rollback = entry.value("_ecsd", json::object()).contains("rollback_of");
  if (completed) return rollback ? "ROLLBACK_SUCCESSFUL" : "SUCCESSFUL";
  return rollback ? "ROLLBACK_FAILED" : "STOPPED";
}

void sync(store::Db& db, const json& svc, const json& entry, const std::string& stage, double now) {
  const json priv = entry.value("_ecsd", json::object());
  const std::string sd_arn = priv.value("sd", "");
  if (sd_arn.empty()) return;
  store::ServiceDeploymentRepo repo(db);
  auto sd = repo.find_by_arn(sd_arn);
  if (!sd) return;
  json doc = sd->doc;
  std::string status = sd->status;
  const std::string rollout = entry.value("rolloutState", "IN_PROGRESS");
  const bool rollback = priv.contains("rollback_of");
  if (rollout == "COMPLETED" || rollout == "FAILED") {
    status = finished_status(entry, rollout == "COMPLETED");
    if (!doc.contains("finishedAt")) doc["finishedAt"] = now;
  } else if (rollback) {
    status = "ROLLBACK_IN_PROGRESS";
  } else if (status != "STOP_REQUESTED" && status != "ROLLBACK_REQUESTED") {
    status = "IN_PROGRESS";
  }
  if (rollout == "FAILED" && !rollback) doc["statusReason"] = entry.value("rolloutStateReason", "");
  doc["status"] = status;
  // A rollback keeps the revision the service deployment set out to deploy as its target.
  std::string target = rollback ? doc.value("targetServiceRevision", json::object()).value("arn", "") : "";
  if (target.empty()) target = priv.value("revision", "");
  doc["targetServiceRevision"] = {{"arn", target},
                                  {"requestedTaskCount", entry.value("desiredCount", 0)},
                                  {"runningTaskCount", entry.value("runningCount", 0)},
                                  {"pendingTaskCount", entry.value("pendingCount", 0)}};
  json sources = json::array();
  for (const auto& d : svc.value("deployments", json::array())) {
    if (d.value("status", "") == "PRIMARY") continue;
    sources.push_back({{"arn", d.value("_ecsd", json::object()).value("revision", "")},
                       {"requestedTaskCount", d.value("desiredCount", 0)},
                       {"runningTaskCount", d.value("runningCount", 0)},
                       {"pendingTaskCount", d.value("pendingCount", 0)}});
  }
  if (!sources.empty() || !doc.contains("sourceServiceRevisions")) doc["sourceServiceRevisions"] = sources;
  json& cb = doc["deploymentCircuitBreaker"];
  // Once TRIGGERED the breaker keeps the figures that tripped it (a rollback entry starts from 0).
  if (cb.value("status", "") != "DISABLED" && cb.value("status", "") != "TRIGGERED") {
    cb["failureCount"] = entry.value("failedTasks", 0);
    cb["threshold"] = breaker_threshold(entry.value("desiredCount", 0));
    cb["status"] = rollout == "FAILED" ? "TRIGGERED" : rollout == "COMPLETED" ? "MONITORING_COMPLETE" : "MONITORING";
  }
  if (!stage.empty()) doc["lifecycleStage"] = stage;
  if (priv.contains("hooks")) doc["lifecycleHookDetails"] = priv["hooks"];
  if (doc == sd->doc && status == sd->status) return;
  doc["updatedAt"] = now;
  sd->status = status;
  sd->doc = doc;
  repo.update(*sd, now);
}

json advanced_load_balancer(const json& svc) {
  for (const auto& lb : svc.value("loadBalancers", json::array()))
    if (lb.contains("advancedConfiguration")) return lb;
  return json::object();
}

bool traffic_shifting(const json& svc) {
  std::string strategy = svc.value("deploymentConfiguration", json::object()).value("strategy", "ROLLING");
  if (strategy != "BLUE_GREEN" && strategy != "LINEAR" && strategy != "CANARY") return false;
  json ac = advanced_load_balancer(svc).value("advancedConfiguration", json::object());
  return !ac.value("alternateTargetGroupArn", "").empty() && !ac.value("productionListenerRule", "").empty();
}

std::vector<ShiftStep> shift_steps(const json& dc) {
  std::string strategy = dc.value("strategy", "BLUE_GREEN");
  std::vector<ShiftStep> steps;
  if (strategy == "CANARY") {
    json c = dc.value("canaryConfiguration", json::object());
    double pct = std::clamp(c.value("canaryPercent", 10.0), 0.0, 100.0);
    if (pct > 0 && pct < 100) steps.push_back({pct, 60.0 * c.value("canaryBakeTimeInMinutes", 10)});
  } else if (strategy == "LINEAR") {
    json l = dc.value("linearConfiguration", json::object());
    double step = std::clamp(l.value("stepPercent", 10.0), 1.0, 100.0);
    for (double pct = step; pct < 100 - 1e-9; pct += step)
      steps.push_back({pct, 60.0 * l.value("stepBakeTimeInMinutes", 6)});
  }
  steps.push_back({100, 0});
  return steps;
}

bool set_forward_weights(store::Db& db, const std::string& rule_arn,
                         const std::vector<std::pair<std::string, int>>& weights, double now) {
  store::RuleRepo rules(db);
  auto rule = rules.find_by_arn(rule_arn);
  if (!rule) return false;
  store::TargetGroupRepo groups(db);
  json targets = json::array();
  std::vector<store::RuleTargetGroup> rows;
  for (const auto& [arn, weight] : weights) {
    auto g = groups.find_by_arn(arn);
    if (!g) return false;
    targets.push_back({{"TargetGroupArn", arn}, {"Weight", weight}});
    rows.push_back({g->id, weight});
  }
  bool found = false;
  for (auto& action : rule->doc["Actions"]) {
    if (action.value("Type", "") != "forward") continue;
    found = true;
    action.erase("TargetGroupArn");
    json fc = action.value("ForwardConfig", json::object());
    fc["TargetGroups"] = targets;
    action["ForwardConfig"] = fc;
  }
  if (!found) return false;
  rules.update(*rule);
  std::vector<std::int64_t> touched = rules.target_group_ids(rule->id);
  rules.set_target_groups(rule->id, rows);
  for (const auto& r : rows) touched.push_back(r.target_group_id);
  for (auto id : touched)
    if (auto g = groups.find_by_id(id)) elb::refresh_targets(db, *g, now);
  return true;
}

void switch_back(store::Db& db, json& svc, json& green, json& blue, const std::string& reason, bool breaker,
                 double now) {
  const json ac = advanced_load_balancer(svc).value("advancedConfiguration", json::object());
  const std::string blue_tg = blue["_ecsd"].value("tg", ""), green_tg = green["_ecsd"].value("tg", "");
  if (!blue_tg.empty() && !green_tg.empty()) {
    for (const char* rule : {"productionListenerRule", "testListenerRule"})
      if (!ac.value(rule, "").empty()) set_forward_weights(db, ac.value(rule, ""), {{blue_tg, 100}, {green_tg, 0}}, now);
  }
  store::ServiceDeploymentRepo repo(db);
  const std::string blue_revision = blue["_ecsd"].value("revision", "");
  if (auto rev = repo.find_revision(blue_revision))
    for (const char* k : kRevisionMembers) {
      if (rev->doc.contains(k)) svc[k] = rev->doc[k];
      else if (std::string(k) != "taskDefinition") svc.erase(k);
    }
  green["status"] = "ACTIVE";
  green["rolloutState"] = "FAILED";
  green["rolloutStateReason"] = reason;
  green["updatedAt"] = now;
  green["_ecsd"]["rolled_back"] = true;
  blue["status"] = "PRIMARY";
  blue["desiredCount"] = svc.value("desiredCount", 0);
  blue["updatedAt"] = now;
  if (auto sd = repo.find_by_arn(green["_ecsd"].value("sd", ""))) {
    sd->status = "ROLLBACK_SUCCESSFUL";
    sd->doc["status"] = "ROLLBACK_SUCCESSFUL";
    sd->doc["statusReason"] = reason;
    sd->doc["rollback"] = {{"reason", reason}, {"startedAt", now}, {"serviceRevisionArn", blue_revision}};
    sd->doc["finishedAt"] = now;
    sd->doc["updatedAt"] = now;
    json& cb = sd->doc["deploymentCircuitBreaker"];
    if (breaker && cb.value("status", "") != "DISABLED") {
      cb["status"] = "TRIGGERED";
      cb["failureCount"] = green.value("failedTasks", 0);
    } else if (cb.value("status", "") == "MONITORING") {
      cb["status"] = "MONITORING_COMPLETE";
    }
    repo.update(*sd, now);
  }
}

}  // namespace ecsd::domain::deployments
