// The service pass: keeps desiredCount tasks of the PRIMARY deployment running, replaces
// unhealthy and exited tasks, rolls old deployments' tasks within minimumHealthyPercent and
// maximumPercent, applies a restart backoff to crash-looping tasks, counts failed launches per
// deployment for the circuit breaker (and rolls back to the last completed revision), and writes
// counts, deployments, service deployments and ECS's event messages every time.
#include <cmath>
#include <set>

#include <spdlog/spdlog.h>

#include "ecsd/common/arn.hpp"
#include "ecsd/common/clock.hpp"
#include "ecsd/common/ids.hpp"
#include "ecsd/domain/deployments.hpp"
#include "ecsd/domain/tasks.hpp"
#include "ecsd/reconciler/reconciler.hpp"
#include "ecsd/store/cluster_repo.hpp"
#include "ecsd/store/elbv2_repo.hpp"
#include "ecsd/store/service_repo.hpp"
#include "ecsd/store/task_definition_repo.hpp"
#include "ecsd/store/task_repo.hpp"

namespace ecsd::reconciler {

using nlohmann::json;

namespace {

constexpr int kBurst = 10;                  // tasks started per pass at most
constexpr double kMaxBackoffSeconds = 60;   // crash-loop restart delay cap
constexpr double kPlacementEventEvery = 30; // seconds between repeated "unable to place" events

void add_event(json& doc, double now, const std::string& message) {
  json& events = doc["events"];
  if (!events.is_array()) events = json::array();
  events.insert(events.begin(), json::object({{"id", ids::uuid()}, {"createdAt", now}, {"message", message}}));
  if (events.size() > 100) events.erase(events.begin() + 100, events.end());
}

std::string task_list(const std::vector<std::string>& arns) {
  std::string s;
  for (const auto& a : arns) s += (s.empty() ? "" : " ") + std::string("(task ") + domain::task_id(a) + ")";
  return s;
}

bool has_health_check(const store::TaskRow& t) {
  for (const auto& d : t.doc["_ecsd"]["td"].value("containerDefinitions", json::array()))
    if (d.value("essential", true) && d.contains("healthCheck")) return true;
  return false;
}

// The load balancer states of a task's targets ("" when it has none).
std::vector<std::string> target_states(store::Db& db, const store::TaskRow& t) {
  std::vector<std::string> out;
  for (const auto& tg : t.doc["_ecsd"].value("targets", json::array())) {
    auto group = store::TargetGroupRepo(db).find_by_arn(tg.value("tg", ""));
    if (!group) continue;
    auto row = store::TargetRepo(db).find(group->id, tg.value("id", ""), tg.value("port", 0));
    out.push_back(row ? row->state : "");
  }
  return out;
}

// A task is ready once RUNNING, HEALTHY if it has container health checks, and healthy in every
// target group it is registered in.
bool ready(store::Db& db, const store::TaskRow& t) {
  if (t.status != "RUNNING") return false;
  std::string h = t.doc.value("healthStatus", "UNKNOWN");
  if (has_health_check(t) ? h != "HEALTHY" : h == "UNHEALTHY") return false;
  for (const auto& state : target_states(db, t))
    if (state != "healthy" && state != "unavailable") return false;
  return true;
}

// A task counts towards minimumHealthyPercent (and resets the circuit breaker) once ready; a task
// with neither container health checks nor load balancer targets only 40 s after RUNNING, as ECS
// documents (scaled by the CI time scale).
bool healthy(store::Db& db, const store::TaskRow& t, double now) {
  if (!ready(db, t)) return false;
  if (has_health_check(t) || !t.doc["_ecsd"].value("targets", json::array()).empty()) return true;
  return now >= t.doc.value("startedAt", now) + scaled(domain::deployments::kNoHealthCheckWaitSeconds);
}

bool failed_launch(const store::TaskRow& t) {
  std::string code = t.doc.value("stopCode", "");
  return code == "TaskFailedToStart" || code == "EssentialContainerExited" ||
         t.doc["_ecsd"].value("health_failure", false);
}

int progress(const store::TaskRow& t) {
  static const std::vector<std::string> kOrder = {"PROVISIONING", "PENDING", "ACTIVATING", "RUNNING"};
  auto it = std::find(kOrder.begin(), kOrder.end(), t.status);
  return static_cast<int>(it - kOrder.begin());
}

void mark_stopping(store::TaskRow& t, double now, const std::string& reason) {
  t.desired_status = "STOPPED";
  t.doc["desiredStatus"] = "STOPPED";
  t.doc["stopCode"] = "ServiceSchedulerInitiated";
  t.doc["stoppedReason"] = reason;
  t.doc["stoppingAt"] = now;
  t.doc["version"] = t.doc.value("version", 1) + 1;
}

// What launching service tasks needs from the pass.
struct LaunchContext {
  store::Db& db;
  const store::Scope& scope;
  const store::Record& cluster;
  json& svc;                 // the Service shape (events, placement, private state)
  const std::string& arn;    // the service ARN
  store::TaskRepo& tasks;
  double now;
};

// Starts up to `count` tasks of `config` (taskDefinition, launchType, capacityProviderStrategy,
// networkConfiguration, platformVersion) started by `started_by`, placing EC2 tasks on the cluster's
// instances; `extra` goes into each task's private state. A task that cannot be placed stops the
// launch with ECS's event (at most every kPlacementEventEvery seconds) and `requeue` = 5.
void launch_tasks(const LaunchContext& c, const json& config, int count, const std::string& started_by,
                  const json& extra, std::vector<store::TaskRow>& all, std::vector<std::string>& touched,
                  double& requeue) {
  auto td = store::TaskDefinitionRepo(c.db).find_by_arn(config.value("taskDefinition", ""));
  if (!td || count <= 0) return;
  json& priv = c.svc["_ecsd"];
  const std::string name = c.svc.value("serviceName", "");
  std::string launch_type = config.value("launchType", "");
  json strategy = config.value("capacityProviderStrategy", json());
  bool fargate = launch_type == "FARGATE";
  if (strategy.is_array())
    for (const auto& st : strategy) fargate |= st.value("capacityProvider", "").rfind("FARGATE", 0) == 0;
  json constraints = c.svc.value("placementConstraints", json::array());
  for (const auto& pc : td->doc.value("placementConstraints", json::array())) constraints.push_back(pc);
  domain::Resources need_res = domain::task_resources(td->doc, json::object());
  std::vector<std::string> started;
  for (int i = 0; i < count; ++i) {
    std::optional<store::Record> instance;
    if (!fargate) {
      auto placed = domain::place(c.db, c.scope, c.cluster, need_res, "service:" + name, constraints,
                                  c.svc.value("placementStrategy", json::array()), c.now);
      if (!placed.instance) {
        if (c.now - priv.value("last_placement_event", 0.0) >= kPlacementEventEvery) {
          const std::string& reason = placed.failure;
          std::string what = reason == "RESOURCE:MEMORY"                ? "memory available"
                             : reason == "RESOURCE:CPU"                 ? "CPU units available"
                             : reason.rfind("RESOURCE:PORTS", 0) == 0 ? "ports available"
                                                                        : "capacity: " + reason;
          add_event(c.svc, c.now, "(service " + name + ") was unable to place a task because no container instance "
                                  "met all of its requirements. The closest matching (container-instance " +
                                      domain::task_id(placed.closest) + ") has insufficient " + what +
                                      ". For more information, see the Troubleshooting section of the Amazon ECS "
                                      "Developer Guide.");
          priv["last_placement_event"] = c.now;
        }
        requeue = 5;
        break;
      }
      instance = placed.instance;
    }
    domain::TaskParams p;
    p.scope = c.scope;
    p.cluster = &c.cluster;
    p.task_definition = &*td;
    p.launch_type = launch_type;
    p.capacity_provider_strategy = strategy;
    p.network_configuration = config.value("networkConfiguration", json());
    p.started_by = started_by;
    p.group = "service:" + name;
    p.platform_version = config.value("platformVersion", "");
    p.service_arn = c.arn;
    p.container_instance_arn = instance ? instance->arn : "";
    p.enable_execute_command = c.svc.value("enableExecuteCommand", false);
    p.now = c.now;
    store::TaskRow t = domain::make_task(p);
    for (auto it = extra.begin(); it != extra.end(); ++it) t.doc["_ecsd"][it.key()] = it.value();
    c.tasks.insert(p.scope, t, c.now);
    touched.push_back(t.arn);
    started.push_back(t.arn);
    all.push_back(t);
  }
  if (!started.empty())
    add_event(c.svc, c.now, "(service " + name + ") has started " + std::to_string(started.size()) +
                                " tasks: " + task_list(started) + ".");
}

// Moves the primary (green) of a BLUE_GREEN, LINEAR or CANARY deployment through ECS's lifecycle
// stages as far as it can this pass: hooks (PAUSE waits for ContinueServiceDeployment; AWS_LAMBDA
// is recorded and skipped), scale up on its own target group, test traffic, production traffic in
// the strategy's steps, bake, clean up. @return the stage it is in.
std::string blue_green_phases(store::Db& db, json& svc, json& green, json* blue,
                              const std::vector<store::TaskRow*>& live, int desired, double now) {
  namespace dep = domain::deployments;
  json& gp = green["_ecsd"];
  json bg = gp.value("bg", json::object());
  json hooks = gp.value("hooks", json::array());
  const json actions = svc["_ecsd"].value("hook_actions", json::object());
  const json dc = svc.value("deploymentConfiguration", json::object());
  const json lb = dep::advanced_load_balancer(svc);
  const json ac = lb.value("advancedConfiguration", json::object());
  const std::string main_tg = lb.value("targetGroupArn", ""), alt_tg = ac.value("alternateTargetGroupArn", "");
  const std::string green_tg = gp.value("tg", "");
  const std::string blue_tg = blue ? (*blue)["_ecsd"].value("tg", "") : (green_tg == main_tg ? alt_tg : main_tg);
  const std::string id = green.value("id", ""), name = svc.value("serviceName", "");
  const std::string who = "(service " + name + ") (deployment " + id + ")";

  auto hooks_done = [&](const std::string& stage) {
    if (!blue) return true;  // a service's first deployment has nothing to shift from: no hooks
    bool done = true;
    int index = 0;
    for (const auto& hook : dc.value("lifecycleHooks", json::array())) {
      ++index;
      const json stages = hook.value("lifecycleStages", json::array());
      if (std::find(stages.begin(), stages.end(), stage) == stages.end()) continue;
      const std::string key = stage + "#" + std::to_string(index);
      json* rec = nullptr;
      for (auto& h : hooks)
        if (h.value("_key", "") == key) rec = &h;
      if (!rec) {
        std::string type = hook.value("targetType", "AWS_LAMBDA");
        json h = {{"hookId", ids::hex(16)}, {"targetType", type}, {"_key", key}};
        if (hook.contains("hookTargetArn")) h["targetArn"] = hook["hookTargetArn"];
        if (type == "PAUSE") {
          h["status"] = "AWAITING_ACTION";
          add_event(svc, now, who + " is paused at lifecycle stage " + stage + " (hook " + h["hookId"].get<std::string>() +
                                  "): call ContinueServiceDeployment to continue or roll back.");
        } else {
          h["status"] = "SUCCEEDED";
          add_event(svc, now, who + " skipped the " + type + " lifecycle hook " + hook.value("hookTargetArn", "") +
                                  " at stage " + stage + ": ecsd cannot invoke Lambda functions locally.");
        }
        hooks.push_back(h);
        rec = &hooks.back();
      }
      if ((*rec).value("status", "") == "AWAITING_ACTION") {
        if (actions.value((*rec).value("hookId", ""), "") == "CONTINUE") (*rec)["status"] = "SUCCEEDED";
        else done = false;  // ROLLBACK: the rollback request is taken at the start of the next pass
      }
    }
    return done;
  };
  auto weights = [&](const std::string& rule, int green_percent) {
    if (rule.empty() || green_tg.empty() || blue_tg.empty()) return;
    dep::set_forward_weights(db, rule, {{green_tg, green_percent}, {blue_tg, 100 - green_percent}}, now);
  };
  auto green_ready = [&] {
    int n = 0;
    bool all = true;
    for (const auto* t : live)
      if (t->started_by == id && t->desired_status == "RUNNING") {
        ++n;
        all = all && ready(db, *t);
      }
    return n >= desired && all;
  };

  std::string phase = bg.value("phase", "PRE_SCALE_UP");
  for (int guard = 0; guard < 16; ++guard) {
    std::string next;
    if (phase == "PRE_SCALE_UP") {
      if (hooks_done("RECONCILE_SERVICE") && hooks_done("PRE_SCALE_UP")) next = "SCALE_UP";
    } else if (phase == "SCALE_UP") {
      if (green_ready()) next = "POST_SCALE_UP";
    } else if (phase == "POST_SCALE_UP") {
      if (hooks_done("POST_SCALE_UP")) next = "TEST_TRAFFIC_SHIFT";
    } else if (phase == "TEST_TRAFFIC_SHIFT") {
      if (hooks_done("TEST_TRAFFIC_SHIFT")) {
        weights(ac.value("testListenerRule", ""), 100);
        next = "POST_TEST_TRAFFIC_SHIFT";
      }
    } else if (phase == "POST_TEST_TRAFFIC_SHIFT") {
      if (hooks_done("POST_TEST_TRAFFIC_SHIFT") && hooks_done("PRE_PRODUCTION_TRAFFIC_SHIFT")) {
        next = "PRODUCTION_TRAFFIC_SHIFT";
        bg["step"] = -1;
      }
    } else if (phase == "PRODUCTION_TRAFFIC_SHIFT") {
      auto steps = dep::shift_steps(dc);
      int step = bg.value("step", -1);
      if (step < 0 && !hooks_done("PRODUCTION_TRAFFIC_SHIFT")) break;
      if (step >= 0 && now < bg.value("until", 0.0)) break;
      ++step;
      if (step >= static_cast<int>(steps.size())) {
        next = "POST_PRODUCTION_TRAFFIC_SHIFT";
      } else {
        int pct = static_cast<int>(std::lround(steps[step].green_percent));
        weights(ac.value("productionListenerRule", ""), pct);
        bg["step"] = step;
        bg["until"] = now + scaled(steps[step].wait_seconds);
        bg["greenPercent"] = pct;
        add_event(svc, now, who + " shifted " + std::to_string(pct) + "% of production traffic to (target-group " +
                                green_tg + ").");
        continue;
      }
    } else if (phase == "POST_PRODUCTION_TRAFFIC_SHIFT") {
      if (hooks_done("POST_PRODUCTION_TRAFFIC_SHIFT")) {
        next = "BAKE_TIME";
        bg["until"] = now + scaled(60.0 * dc.value("bakeTimeInMinutes", 0));
      }
    } else if (phase == "BAKE_TIME") {
      if (!blue || now >= bg.value("until", 0.0)) next = "CLEAN_UP";
    }
    if (next.empty()) break;
    phase = next;
    bg["phase"] = phase;
  }
  bg["phase"] = phase;
  gp["bg"] = bg;
  gp["hooks"] = hooks;
  return phase;
}

}  // namespace

Outcome Reconciler::service_pass(const std::string& arn) {
  std::vector<std::string> touched;  // tasks to reconcile after the write
  Outcome outcome = store_.write([&](store::Db& db) -> Outcome {
    store::ServiceRepo services(db);
    auto found = services.find_by_arn(arn);
    if (!found || found->status == "INACTIVE") return {};
    store::Record s = *found;
    json& doc = s.doc;
    json& priv = doc["_ecsd"];
    if (!priv.is_object()) priv = json::object();
    const double now = clock().now();
    const std::string name = s.name;
    std::int64_t cluster_id = services.cluster_of(s.id);
    auto cluster = store::ClusterRepo(db).find_by_arn(doc.value("clusterArn", ""));
    store::TaskRepo tasks(db);
    store::TaskQuery q;
    q.cluster_id = cluster_id;
    q.service_arn = arn;
    q.limit = 1 << 30;
    std::vector<store::TaskRow> all = tasks.list(q);
    std::vector<store::TaskRow*> live;
    for (auto& t : all)
      if (t.desired_status == "RUNNING") live.push_back(&t);

    auto stop_task = [&](store::TaskRow& t, const std::string& reason) {
      mark_stopping(t, now, reason);
      tasks.update(t, now);
      touched.push_back(t.arn);
      live.erase(std::remove(live.begin(), live.end(), &t), live.end());
    };

    json& deployments = doc["deployments"];
    if (!deployments.is_array()) deployments = json::array();
    json* primary = nullptr;
    for (auto& d : deployments)
      if (d.value("status", "") == "PRIMARY") primary = &d;

    if (s.status == "DRAINING") {
      std::vector<std::string> stopped;
      for (auto* t : std::vector<store::TaskRow*>(live)) {
        stopped.push_back(t->arn);
        stop_task(*t, "Service " + name + " is being deleted");
      }
      bool any_unstopped = false;
      for (const auto& t : all) any_unstopped |= t.status != "STOPPED";
      doc["runningCount"] = 0;
      doc["pendingCount"] = 0;
      if (!stopped.empty()) add_event(doc, now, "(service " + name + ") has stopped " + std::to_string(stopped.size()) +
                                                    " running tasks: " + task_list(stopped) + ".");
      if (!any_unstopped) {
        s.status = "INACTIVE";
        doc["status"] = "INACTIVE";
        for (auto& d : deployments) d["desiredCount"] = 0;
      }
      services.update(s, now);
      return {any_unstopped ? 1.0 : -1.0};
    }
    if (doc.value("deploymentController", json::object()).value("type", "ECS") == "EXTERNAL") {
      // EXTERNAL: the caller's task sets, each scaled to ceil(desiredCount x scale%); DRAINING ones
      // lose their tasks and then disappear.
      const json before = doc;
      auto parsed_arn = arn::parse(arn);
      const store::Scope scope{parsed_arn ? parsed_arn->account : "", parsed_arn ? parsed_arn->region : ""};
      const int desired = doc.value("desiredCount", 0);
      double requeue = -1;
      json sets = doc.value("taskSets", json::array());
      json kept = json::array();
      int running = 0, pending = 0;
      bool all_steady = true;
      std::vector<std::string> stopped;
      for (json ts : sets) {
        const std::string id = ts.value("id", "");
        const bool draining = ts.value("status", "") == "DRAINING";
        const double pct = ts.value("scale", json::object()).value("value", 100.0);
        const int want = draining ? 0 : static_cast<int>(std::ceil(desired * pct / 100.0 - 1e-9));
        std::vector<store::TaskRow*> mine;
        for (auto* t : live)
          if (t->started_by == id) mine.push_back(t);
        if (static_cast<int>(mine.size()) > want) {
          std::sort(mine.begin(), mine.end(), [](auto* a, auto* b) {
            return progress(*a) != progress(*b) ? progress(*a) < progress(*b) : a->id > b->id;
          });
          for (std::size_t i = 0; i < mine.size() - static_cast<std::size_t>(want); ++i) {
            stopped.push_back(mine[i]->arn);
            stop_task(*mine[i], "Scaling activity initiated by (deployment " + id + ")");
          }
        } else if (static_cast<int>(mine.size()) < want && cluster) {
          launch_tasks({db, scope, *cluster, doc, arn, tasks, now}, ts,
                       std::min(kBurst, want - static_cast<int>(mine.size())), id,
                       {{"lbs", ts.value("loadBalancers", json::array())}}, all, touched, requeue);
          live.clear();
          for (auto& t : all)
            if (t.desired_status == "RUNNING") live.push_back(&t);
        }
        int r = 0, p = 0;
        bool ok = true;
        for (auto* t : live)
          if (t->started_by == id) {
            (t->status == "RUNNING" ? r : p)++;
            ok = ok && ready(db, *t);
          }
        running += r;
        pending += p;
        std::string stability = r == want && p == 0 && ok ? "STEADY_STATE" : "STABILIZING";
        all_steady = all_steady && stability == "STEADY_STATE";
        json next = ts;
        next["computedDesiredCount"] = want;
        next["runningCount"] = r;
        next["pendingCount"] = p;
        if (next.value("stabilityStatus", "") != stability) {
          next["stabilityStatus"] = stability;
          next["stabilityStatusAt"] = now;
        }
        if (next != ts) next["updatedAt"] = now;
        if (draining && r + p == 0) continue;
        kept.push_back(next);
      }
      if (!stopped.empty())
        add_event(doc, now, "(service " + name + ") has stopped " + std::to_string(stopped.size()) +
                                " running tasks: " + task_list(stopped) + ".");
      doc["taskSets"] = kept;
      doc["runningCount"] = running;
      doc["pendingCount"] = pending;
      if (!all_steady && requeue < 0) requeue = 1;
      if (doc != before) services.update(s, now);
      return {requeue};
    }
    if (!primary || doc.value("deploymentController", json::object()).value("type", "ECS") != "ECS") return {};

    const json before = doc;
    auto parsed_arn = arn::parse(arn);
    const store::Scope scope{parsed_arn ? parsed_arn->account : "", parsed_arn ? parsed_arn->region : ""};
    // DAEMON: one task per ACTIVE container instance.
    if (doc.value("schedulingStrategy", "REPLICA") == "DAEMON" && cluster) {
      domain::ensure_local_instance(db, scope, *cluster, now);
      int instances = 0;
      for (const auto& inst : store::ContainerInstanceRepo(db).list(cluster_id)) instances += inst.status == "ACTIVE";
      doc["desiredCount"] = instances;
    }
    const int desired = doc.value("desiredCount", 0);
    const json dc = doc.value("deploymentConfiguration", json::object());
    const int max_pct = dc.value("maximumPercent", 200), min_pct = dc.value("minimumHealthyPercent", 100);
    const json breaker = dc.value("deploymentCircuitBreaker", json::object());
    std::string primary_id = (*primary)["id"];
    // Tasks on a DRAINING container instance count as old: they are replaced elsewhere first.
    std::set<std::string> draining;
    for (const auto& inst : store::ContainerInstanceRepo(db).list(cluster_id))
      if (inst.status != "ACTIVE") draining.insert(inst.arn);
    auto in_primary = [&](const store::TaskRow* t) {
      return t->started_by == primary_id && !draining.count(t->container_instance_arn);
    };

    // Crash-loop accounting: failures since we last looked push the next launch out.
    double seen_until = priv.value("failures_seen_until", 0.0);
    int failures = priv.value("consecutive_failures", 0);
    for (const auto& t : all) {
      if (t.status != "STOPPED") continue;
      std::string code = t.doc.value("stopCode", "");
      double stopped_at = t.doc.value("stoppedAt", 0.0);
      if ((code == "TaskFailedToStart" || code == "EssentialContainerExited") && stopped_at > seen_until) {
        ++failures;
        seen_until = std::max(seen_until, stopped_at);
        priv["next_launch_at"] =
            stopped_at + scaled(std::min(kMaxBackoffSeconds, std::pow(2.0, std::min(failures, 10) - 1)));
        if (failures == 3)
          add_event(doc, now, "(service " + name + ") is unable to consistently start tasks successfully. For more "
                              "information, see the Troubleshooting section of the Amazon ECS Developer Guide.");
      }
    }
    priv["failures_seen_until"] = seen_until;
    priv["consecutive_failures"] = failures;

    // Circuit breaker accounting, per deployment: failed launches (tasks that stopped failing to
    // start, exited, or were replaced for failed health checks) in a row; a task of the deployment
    // turning healthy resets the count. Stage 2 starts once a task of the deployment is RUNNING.
    for (auto& d : deployments) {
      json& dp = d["_ecsd"];
      if (!dp.is_object()) dp = json::object();
      const std::string id = d.value("id", "");
      json seen = dp.value("healthy_seen", json::array());
      int count = dp.value("failures", 0);
      for (const auto& t : all) {
        if (t.started_by != id) continue;
        if (t.status == "RUNNING" && dp.value("stage", 1) == 1) dp["stage"] = 2;
        if (t.desired_status == "RUNNING" && healthy(db, t, now)) {
          std::string tid = domain::task_id(t.arn);
          if (std::find(seen.begin(), seen.end(), tid) == seen.end()) {
            seen.push_back(tid);
            count = 0;
          }
        }
      }
      double until = dp.value("seen_until", 0.0);
      double newest = until;
      for (const auto& t : all) {
        if (t.started_by != id || t.status != "STOPPED" || !failed_launch(t)) continue;
        double stopped_at = t.doc.value("stoppedAt", 0.0);
        if (stopped_at <= until) continue;
        ++count;
        newest = std::max(newest, stopped_at);
      }
      dp["seen_until"] = newest;
      dp["healthy_seen"] = seen;
      dp["failures"] = count;
      if (d.value("failedTasks", 0) != count) {
        d["failedTasks"] = count;
        d["updatedAt"] = now;
      }
    }

    // The circuit breaker: a deployment in progress with `threshold` failed launches in a row fails;
    // with rollback on, the last completed revision is redeployed. StopServiceDeployment (ROLLBACK)
    // asks for the same rollback through priv.rollback_requested.
    auto roll_back_from = [&](json& failed, const std::string& sd_reason, const std::string& rollout_reason) {
      std::string revision = priv.value("completed_revision", "");
      std::string completed_id = priv.value("completed_deployment", "");
      if (revision.empty() || failed.value("_ecsd", json::object()).contains("rollback_of")) return false;
      if (!domain::deployments::roll_back(db, doc, failed, revision, sd_reason, rollout_reason, now)) return false;
      add_event(doc, now, "(service " + name + ") rolling back to deployment " + completed_id + ".");
      return true;
    };
    // Traffic-shifting strategies (BLUE_GREEN, LINEAR, CANARY): `blue` is the newest completed
    // entry still serving production while the primary (green) rolls out.
    const bool shifting = domain::deployments::traffic_shifting(doc);
    auto find_blue = [&]() -> json* {
      if (!shifting) return nullptr;
      for (auto& d : deployments)
        if (d.value("status", "") == "ACTIVE" && d.value("rolloutState", "") == "COMPLETED" &&
            !d["_ecsd"].value("tg", "").empty())
          return &d;
      return nullptr;
    };
    auto switch_back = [&](json& green, const std::string& reason, bool by_breaker) {
      json* blue = find_blue();
      if (!blue) return false;
      add_event(doc, now, "(service " + name + ") (deployment " + green.value("id", "") +
                              ") rolling back to deployment " + blue->value("id", "") + ".");
      domain::deployments::switch_back(db, doc, green, *blue, reason, by_breaker, now);
      return true;
    };
    {
      json& p = *primary;
      const std::string sd_arn = p.value("_ecsd", json::object()).value("sd", "");
      // ContinueServiceDeployment with action ROLLBACK on a paused hook asks for the same.
      for (auto& h : p["_ecsd"].value("hooks", json::array()))
        if (priv.value("hook_actions", json::object()).value(h.value("hookId", ""), "") == "ROLLBACK")
          priv["rollback_requested"] = sd_arn;
      bool requested = !sd_arn.empty() && priv.value("rollback_requested", "") == sd_arn;
      if (requested) priv.erase("rollback_requested");
      bool tripped = breaker.value("enable", false) && p.value("rolloutState", "") == "IN_PROGRESS" &&
                     p.value("failedTasks", 0) >= domain::deployments::breaker_threshold(desired);
      if (tripped) {
        p["rolloutState"] = "FAILED";
        p["rolloutStateReason"] = domain::deployments::breaker_failed_reason();
        p["updatedAt"] = now;
        add_event(doc, now, "(service " + name + ") (deployment " + primary_id +
                                ") deployment failed: tasks failed to start.");
        bool rolled = breaker.value("rollback", false) &&
                      (switch_back(p, domain::deployments::breaker_failed_reason(), true) ||
                       roll_back_from(p, domain::deployments::breaker_failed_reason(),
                                      domain::deployments::breaker_rollback_reason(priv.value("completed_deployment", ""))));
        if (!rolled) {
          for (auto& d : deployments)
            if (d.value("status", "") == "PRIMARY") primary = &d;
          domain::deployments::sync(db, doc, *primary, "", now);
        }
      } else if (requested && p.value("rolloutState", "") == "IN_PROGRESS") {
        p["rolloutState"] = "FAILED";
        p["rolloutStateReason"] = "ECS deployment " + primary_id + " stopped: rollback requested.";
        p["updatedAt"] = now;
        if (!switch_back(p, "A rollback was requested for the service deployment.", false))
          roll_back_from(p, "A StopServiceDeployment request with stopType ROLLBACK rolled the service deployment back.",
                       "ECS deployment rolling back to deploymentId " + priv.value("completed_deployment", "") +
                           " (StopServiceDeployment).");
      }
      for (auto& d : deployments)
        if (d.value("status", "") == "PRIMARY") primary = &d;
      primary_id = (*primary).value("id", "");
    }
    const bool primary_failed = (*primary).value("rolloutState", "") == "FAILED";
    json* blue = find_blue();
    // The primary's target group: the first deployment uses loadBalancers' targetGroupArn; each
    // later one the group of the pair that blue does not use.
    if (shifting && (*primary)["_ecsd"].value("tg", "").empty()) {
      json lb = domain::deployments::advanced_load_balancer(doc);
      std::string main_tg = lb.value("targetGroupArn", "");
      std::string alt_tg = lb["advancedConfiguration"].value("alternateTargetGroupArn", "");
      (*primary)["_ecsd"]["tg"] = blue && (*blue)["_ecsd"].value("tg", "") == main_tg ? alt_tg : main_tg;
    }
    const std::string green_tg = shifting ? (*primary)["_ecsd"].value("tg", "") : "";
    std::string bg_phase = shifting ? (*primary)["_ecsd"].value("bg", json::object()).value("phase", "PRE_SCALE_UP") : "";
    if (shifting && (*primary).value("rolloutState", "") == "IN_PROGRESS")
      bg_phase = blue_green_phases(db, doc, *primary, blue, live, desired, now);

    // 1. Replace tasks that failed their health checks.
    for (auto* t : std::vector<store::TaskRow*>(live)) {
      if (t->status == "RUNNING" && t->doc.value("healthStatus", "") == "UNHEALTHY") {
        add_event(doc, now, "(service " + name + ") (task " + domain::task_id(t->arn) + ") failed container health checks.");
        t->doc["_ecsd"]["health_failure"] = true;
        stop_task(*t, "Task failed container health checks");
      }
    }
    // 1b. Replace tasks their load balancer finds unhealthy, once the grace period is over.
    double grace = scaled(doc.value("healthCheckGracePeriodSeconds", 0));
    for (auto* t : std::vector<store::TaskRow*>(live)) {
      if (t->status != "RUNNING" || now < t->doc.value("startedAt", now) + grace) continue;
      const json targets = t->doc["_ecsd"].value("targets", json::array());
      auto states = target_states(db, *t);
      for (std::size_t i = 0; i < states.size() && i < targets.size(); ++i)
        if (states[i] == "unhealthy") {
          std::string tg = targets[i].value("tg", "");
          add_event(doc, now, "(service " + name + ") (task " + domain::task_id(t->arn) +
                                  ") failed ELB health checks in (target-group " + tg + ")");
          t->doc["_ecsd"]["health_failure"] = true;
          stop_task(*t, "Task failed ELB health checks in (target-group " + tg + ")");
          break;
        }
    }
    // 2. Surplus tasks of the primary deployment: least progressed, then newest, go first.
    std::vector<store::TaskRow*> mine;
    for (auto* t : live)
      if (in_primary(t)) mine.push_back(t);
    if (static_cast<int>(mine.size()) > desired) {
      std::sort(mine.begin(), mine.end(), [](auto* a, auto* b) {
        return progress(*a) != progress(*b) ? progress(*a) < progress(*b) : a->id > b->id;
      });
      std::vector<std::string> stopped;
      for (std::size_t i = 0; i < mine.size() - static_cast<std::size_t>(desired); ++i) {
        stopped.push_back(mine[i]->arn);
        stop_task(*mine[i], "Scaling activity initiated by (deployment " + primary_id + ")");
      }
      add_event(doc, now, "(service " + name + ") has stopped " + std::to_string(stopped.size()) +
                              " running tasks: " + task_list(stopped) + ".");
      mine.erase(mine.begin(), mine.begin() + static_cast<long>(stopped.size()));
    }
    // 3. Start missing primary tasks within maximumPercent (and the crash-loop backoff).
    double requeue = -1;
    int old_live = static_cast<int>(live.size() - mine.size());
    int max_total = domain::deployments::max_tasks(desired, max_pct);
    int need = desired - static_cast<int>(mine.size());
    int room = old_live > 0 ? max_total - static_cast<int>(live.size()) : need;
    if (shifting && blue) room = need;  // blue/green scales green up to 100% beside blue
    if (shifting && bg_phase == "PRE_SCALE_UP") room = 0;  // lifecycle hooks first
    int to_start = std::min({need, room, kBurst});
    if (primary_failed) to_start = 0;  // a failed deployment launches no more tasks
    double next_launch = priv.value("next_launch_at", 0.0);
    if (to_start > 0 && now < next_launch) {
      requeue = next_launch - now;
      to_start = 0;
    }
    if (to_start > 0 && cluster) {
      json config = {{"taskDefinition", (*primary).value("taskDefinition", "")},
                     {"launchType", doc.value("launchType", "")},
                     {"capacityProviderStrategy", doc.value("capacityProviderStrategy", json())},
                     {"networkConfiguration", (*primary).value("networkConfiguration", doc.value("networkConfiguration", json()))},
                     {"platformVersion", (*primary).value("platformVersion", "")}};
      json extra = json::object();
      if (!green_tg.empty()) extra["lb_tg"] = green_tg;  // registered there (task pass)
      launch_tasks({db, scope, *cluster, doc, arn, tasks, now}, config, to_start, primary_id, extra, all, touched, requeue);
      // `all` may have reallocated: rebuild the live view.
      live.clear();
      for (auto& t : all)
        if (t.desired_status == "RUNNING") live.push_back(&t);
    }
    // 4. Stop old deployments' tasks while the service stays above minimumHealthyPercent.
    int min_healthy = domain::deployments::min_healthy_tasks(desired, min_pct);
    int healthy_now = 0;
    for (auto* t : live) healthy_now += healthy(db, *t, now) ? 1 : 0;
    std::vector<std::string> old_stopped;
    for (auto* t : std::vector<store::TaskRow*>(live)) {
      if (in_primary(t)) continue;
      // Blue/green: blue serves production until CLEAN_UP, then goes whatever minimumHealthyPercent says.
      if (blue && t->started_by == (*blue).value("id", "") && (*primary).value("rolloutState", "") == "IN_PROGRESS") {
        if (bg_phase != "CLEAN_UP") continue;
        old_stopped.push_back(t->arn);
        stop_task(*t, "Scaling activity initiated by (deployment " + primary_id + ")");
        continue;
      }
      // Old tasks that are not ready (pending, unhealthy) go at once; ready ones only while the
      // healthy count stays at minimumHealthyPercent (one still inside ECS's 40 s wait does not
      // count yet, but serves traffic: it waits for the count like the others).
      bool counts = healthy(db, *t, now);
      if (counts && healthy_now - 1 < min_healthy) continue;
      if (!counts && ready(db, *t) && healthy_now < min_healthy) continue;
      if (counts) --healthy_now;
      old_stopped.push_back(t->arn);
      stop_task(*t, "Scaling activity initiated by (deployment " + primary_id + ")");
    }
    if (!old_stopped.empty())
      add_event(doc, now, "(service " + name + ") has stopped " + std::to_string(old_stopped.size()) +
                              " running tasks: " + task_list(old_stopped) + ".");

    // 5. Counts, per service and per deployment; finished old deployments disappear.
    int running = 0, pending = 0;
    for (auto* t : live) (t->status == "RUNNING" ? running : pending)++;
    doc["runningCount"] = running;
    doc["pendingCount"] = pending;
    json kept = json::array();
    for (auto& d : deployments) {
      int r = 0, p = 0, failed = d.value("failedTasks", 0);
      for (auto* t : live)
        if (t->started_by == d.value("id", "")) (t->status == "RUNNING" ? r : p)++;
      bool is_primary = d.value("status", "") == "PRIMARY";
      if (!is_primary && r + p == 0) continue;
      json nd = d;
      nd["runningCount"] = r;
      nd["pendingCount"] = p;
      nd["failedTasks"] = failed;
      nd["desiredCount"] = is_primary ? desired : r + p;
      if (nd != d) nd["updatedAt"] = now;
      kept.push_back(nd);
    }
    deployments = kept;
    for (auto& d : deployments)
      if (d.value("status", "") == "PRIMARY") primary = &d;

    // 6. Steady state.
    bool primary_healthy = true;
    bool primary_settled = true;  // healthy as ECS counts it: health checks, targets, or 40 s RUNNING
    int primary_tasks = 0;
    for (auto* t : live)
      if (in_primary(t)) {
        primary_healthy = primary_healthy && ready(db, *t);
        primary_settled = primary_settled && healthy(db, *t, now);
        ++primary_tasks;
      }
    bool steady = deployments.size() == 1 && running == desired && pending == 0 && primary_healthy &&
                  (!shifting || bg_phase == "CLEAN_UP" || (*primary).value("rolloutState", "") != "IN_PROGRESS");
    if (steady) {
      if ((*primary).value("rolloutState", "") == "IN_PROGRESS") {
        (*primary)["rolloutState"] = "COMPLETED";
        (*primary)["rolloutStateReason"] = domain::deployments::completed_reason(primary_id);
        (*primary)["updatedAt"] = now;
        priv["completed_deployment"] = primary_id;
        priv["completed_revision"] = (*primary)["_ecsd"].value("revision", "");
        add_event(doc, now, "(service " + name + ") (deployment " + primary_id + ") deployment completed.");
      }
      if (!priv.value("steady", false)) {
        add_event(doc, now, "(service " + name + ") has reached a steady state.");
        priv["steady"] = true;
      }
      // The crash-loop backoff ends once the tasks have really stayed up, not when a task that is about
      // to exit was seen RUNNING for a moment.
      if (primary_tasks > 0 && primary_settled) priv["consecutive_failures"] = 0;
    } else {
      priv["steady"] = false;
      if (requeue < 0) requeue = 1;
    }
    std::string stage = (*primary).value("rolloutState", "") != "IN_PROGRESS" ? ""
                        : shifting                                                ? bg_phase
                        : primary_tasks < desired || !primary_healthy ? "SCALE_UP"
                                                                      : "CLEAN_UP";
    domain::deployments::sync(db, doc, *primary, stage, now);
    if (doc != before) services.update(s, now);
    return {requeue};
  });
  for (const auto& a : touched) enqueue("task:" + a);
  return outcome;
}

}  // namespace ecsd::reconciler
