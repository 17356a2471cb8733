// ECS deployment rules shared by the service handlers (starting a deployment, StopServiceDeployment)
// and the scheduler (rolling steps, circuit breaker, rollback): ECS's arithmetic, service
// revisions, and the service deployment record that mirrors each entry of deployments[].
//
// A deployments[] entry carries ecsd's private state in "_ecsd" (never encoded: not in the model):
//   sd            the ServiceDeployment ARN it belongs to (a rollback entry shares the failed one's)
//   revision      the ServiceRevision ARN it deploys
//   failures      consecutive failed task launches (also failedTasks), reset when a task turns healthy
//   seen_until    stoppedAt of the last failed task already counted
//   healthy_seen  task ids already seen healthy (a new one resets `failures`)
//   stage         circuit breaker stage: 1 until a task of the deployment reaches RUNNING, then 2
//   rollback_of   for a rollback entry: the id of the deployment that failed
#pragma once
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "ecsd/store/store.hpp"

namespace ecsd::domain::deployments {

using nlohmann::json;

/// ECS waits this long after RUNNING before a task without container health checks (and without
/// load balancer targets) counts as healthy. Configured-duration seconds: pass through scaled().
inline constexpr double kNoHealthCheckWaitSeconds = 40;

/// @return the most tasks (RUNNING or PENDING, every deployment) allowed: floor(desired * max% / 100).
int max_tasks(int desired, int maximum_percent);
/// @return the fewest healthy tasks to keep: ceil(desired * min% / 100).
int min_healthy_tasks(int desired, int minimum_healthy_percent);
/// @return the circuit breaker's failed-launch threshold: ceil(desired / 2) clamped to 3..200.
int breaker_threshold(int desired);
/// @return the default deploymentConfiguration for REPLICA or DAEMON services (max/min 200/100, 100/0).
json default_configuration(const std::string& scheduling_strategy);

/// @return ECS's rolloutStateReason texts.
std::string in_progress_reason(const std::string& deployment_id);
std::string completed_reason(const std::string& deployment_id);
std::string breaker_failed_reason();
std::string breaker_rollback_reason(const std::string& completed_deployment_id);

/// Everything needed to start a deployment of a service's current configuration.
struct Started {
  json entry;             // the new PRIMARY deployments[] entry
  std::string sd_arn;     // its service deployment
};

/// Records a service revision of `svc` (the Service shape, as stored) and a new service deployment
/// for it, demotes the current PRIMARY entry to ACTIVE (its in-progress service deployment is
/// STOPPED) and puts the new PRIMARY entry first in svc.deployments. Runs in the caller's transaction.
Started start(store::Db& db, json& svc, double now);

/// Redeploys service revision `revision_arn` as a new PRIMARY entry that belongs to the failed
/// entry's service deployment (ROLLBACK_IN_PROGRESS), with `reason` as its rolloutStateReason and
/// the service deployment's rollback.reason. Puts the revision's configuration back on the service.
/// `failed` may point into svc.deployments: it is not used after the entry is inserted.
/// @return false when the revision is gone.
bool roll_back(store::Db& db, json& svc, json& failed, const std::string& revision_arn,
               const std::string& rollback_reason, const std::string& rollout_reason, double now);

/// Brings the service deployment of the PRIMARY `entry` up to date with it and the other entries of
/// svc.deployments: status (from rolloutState), counts of target and source revisions, circuit
/// breaker, lifecycle stage (`stage`, "" = leave as is). Writes only when something changed.
void sync(store::Db& db, const json& svc, const json& entry, const std::string& stage, double now);

// --- BLUE_GREEN, LINEAR and CANARY with an ALB (loadBalancers[].advancedConfiguration) ---

/// @return true when the service deploys with strategy BLUE_GREEN, LINEAR or CANARY and has a load
///         balancer with advancedConfiguration (alternate target group and production listener rule).
bool traffic_shifting(const json& svc);
/// @return the load balancer entry with advancedConfiguration (an empty object when none).
json advanced_load_balancer(const json& svc);
/// One production traffic step: the green revision's share in percent, and the configured time to
/// wait after it (seconds, before scaled()).
struct ShiftStep {
  double green_percent;
  double wait_seconds;
};
/// @return the production traffic steps of the strategy: BLUE_GREEN 100 at once; CANARY canaryPercent
///         for canaryBakeTimeInMinutes, then 100; LINEAR stepPercent more every stepBakeTimeInMinutes.
std::vector<ShiftStep> shift_steps(const json& deployment_configuration);
/// Rewrites the forward action of listener rule `rule_arn` to send to `weights` (target group ARN,
/// weight), keeping the rule's table of target groups and its targets' in-use state in line.
/// @return false when the rule does not exist or has no forward action.
bool set_forward_weights(store::Db& db, const std::string& rule_arn,
                         const std::vector<std::pair<std::string, int>>& weights, double now);

/// Blue/green rollback: production (and test) traffic back to the blue entry's target group, blue
/// PRIMARY again with the service's configuration back on its revision, the green entry ACTIVE and
/// FAILED with `reason`, its service deployment ROLLBACK_SUCCESSFUL. Green tasks are then stopped
/// by the scheduler. `green` and `blue` point into svc.deployments (not reallocated here).
void switch_back(store::Db& db, json& svc, json& green, json& blue, const std::string& reason, bool breaker,
                 double now);

/// @return the service deployment status for a finished entry: SUCCESSFUL / ROLLBACK_SUCCESSFUL
///         when it completed, STOPPED / ROLLBACK_FAILED when it failed.
std::string finished_status(const json& entry, bool completed);

}  // namespace ecsd::domain::deployments
