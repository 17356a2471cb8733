// ELBv2 rules shared by the API handlers (services/elbv2), the data plane (alb/: listeners,
// rule matching, health checks) and the ECS scheduler (registering task targets): target health
// states and their transitions, registration and deregistration with draining, and read models
// of listeners with their rules and of target groups with their targets.
//
// Every function taking a Db runs inside the caller's store transaction (Store::read/write) and
// never blocks. Handlers enqueue "load-balancer:<arn>" when a load balancer, listener or rule
// changes and "target-group:<arn>" when a target group or its targets change, so a data plane
// hooked to the reconciler's queue can reload just that part.
//
// Target states (TargetHealthStateEnum), as the data plane should treat them:
//   initial      registered; health checks not passed yet    -> no traffic (unless fail-open)
//   healthy      passed HealthyThresholdCount checks          -> traffic
//   unhealthy    failed UnhealthyThresholdCount checks        -> no traffic (unless fail-open)
//   unavailable  health checks disabled for the group         -> traffic
//   draining     deregistered; until drain_until              -> no new requests, in-flight finish
//   unused       no listener or rule forwards to the group    -> no traffic
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "ecsd/store/elbv2_repo.hpp"
#include "ecsd/store/store.hpp"

namespace ecsd::domain::elb {

using nlohmann::json;

inline constexpr const char* kInitial = "initial";
inline constexpr const char* kHealthy = "healthy";
inline constexpr const char* kUnhealthy = "unhealthy";
inline constexpr const char* kUnavailable = "unavailable";
inline constexpr const char* kDraining = "draining";
inline constexpr const char* kUnused = "unused";

/// A target's TargetHealth: State, Reason (TargetHealthReasonEnum, "" for healthy) and Description.
struct Health {
  std::string state, reason, description;
  bool operator==(const Health&) const = default;
};

/// @return the health of a newly registered target: initial (Elb.RegistrationInProgress) when a
///         listener or rule forwards to its group, unavailable (Target.HealthCheckDisabled) when the
///         group is in use with health checks disabled, unused (Target.NotInUse) otherwise.
Health registered_health(bool in_use, bool health_check_enabled);
/// @return draining (Target.DeregistrationInProgress).
Health draining_health();
/// @return what DescribeTargetHealth reports for a target that is not registered.
Health not_registered_health();
/// @return healthy (no reason).
Health healthy_health();
/// @return unhealthy with `reason` (Target.ResponseCodeMismatch, Target.Timeout, Target.FailedHealthChecks)
///         and ELB's description for it; `detail` is appended (e.g. "[503]" for a response code mismatch).
Health unhealthy_health(const std::string& reason, const std::string& detail = "");
/// @return true for states that receive new requests (healthy, unavailable). When no target of a
///         group is routable but some are initial/unhealthy, ALB fails open to those: the caller decides.
bool routable(std::string_view state);

/// A process-wide counter bumped whenever a target is added, changes state or goes, and whenever
/// touch() is called (listener and rule changes). The data plane polls it to reload at once instead
/// of on its next periodic sync: a deregistered target stops getting new requests within
/// milliseconds. Bumped inside the writer's transaction; the store serialises readers with
/// writers, so a reader that sees the new value and then reads the store sees the change.
std::uint64_t generation();
void touch();

/// A target as RegisterTargets/DeregisterTargets name it.
struct TargetRef {
  std::string id;                 // instance id, IP address, Lambda ARN or ALB ARN
  int port = 0;                   // 0: the target group's port
  std::string availability_zone;  // optional ("all" for IPs outside the VPC)
};

/// @return true when a listener or rule forwards to the target group.
bool in_use(store::Db& db, std::int64_t target_group_id);
/// @return the group's health check switch (HealthCheckEnabled, true unless turned off).
bool health_check_enabled(const store::TargetGroupRow& group);
/// @return the group's deregistration_delay.timeout_seconds.
double deregistration_delay(const store::TargetGroupRow& group);
/// @return the group's traffic port (0 for lambda groups).
int group_port(const store::TargetGroupRow& group);
/// @return the port health checks of `target` go to: HealthCheckPort, or the target's port for "traffic-port".
int health_check_port(const store::TargetGroupRow& group, const store::TargetRow& target);

/// Registers targets. Registered targets are left as they are; a draining one starts over.
void register_targets(store::Db& db, const store::TargetGroupRow& group, const std::vector<TargetRef>& targets,
                      double now);
/// Deregisters targets: draining for deregistration_delay.timeout_seconds while the group is in
/// use, removed at once otherwise (or with a zero delay). Targets not registered are ignored.
void deregister_targets(store::Db& db, const store::TargetGroupRow& group, const std::vector<TargetRef>& targets,
                        double now);
/// The same by target group ARN, for the ECS scheduler. @return false when the group does not exist.
bool register_targets(store::Db& db, std::string_view target_group_arn, const std::vector<TargetRef>& targets,
                      double now);
bool deregister_targets(store::Db& db, std::string_view target_group_arn, const std::vector<TargetRef>& targets,
                        double now);

/// Records the outcome of health checks. Draining and unused targets keep their state.
/// @return true when the target's health changed (the caller may then tell ECS).
bool set_target_health(store::Db& db, std::string_view target_group_arn, std::string_view target_id, int port,
                       const Health& health, double now);
/// Removes draining targets whose deregistration delay is over (every group). @return how many.
int purge_drained(store::Db& db, double now);
/// Brings a group's targets in line with whether it is in use and whether health checks are on:
/// unused <-> initial/unavailable; draining targets of a group nobody forwards to are dropped.
void refresh_targets(store::Db& db, const store::TargetGroupRow& group, double now);

/// A rule as the data plane evaluates it. Conditions are normalized: every condition carries its
/// *Config member (HostHeaderConfig, PathPatternConfig, ...). Forward actions always carry
/// ForwardConfig with weights (TargetGroupArn as well when there is one group).
struct RuleView {
  std::string arn;
  std::optional<int> priority;  // nullopt: the default rule (listener's DefaultActions)
  json conditions;              // [RuleCondition]
  json actions;                 // [Action], ordered by Order when given
};

/// A listener with its load balancer's facts and its rules.
struct ListenerView {
  store::ListenerRow listener;       // doc: the Listener shape (Certificates, SslPolicy, AlpnPolicy)
  store::LoadBalancerRow load_balancer;  // type, dns_name, doc (Scheme, ...), attributes
  std::vector<RuleView> rules;       // by priority, the default rule last
};

/// @return every listener of every account and region, by load balancer and port.
std::vector<ListenerView> listeners(store::Db& db);
/// @return one listener, or nullopt.
std::optional<ListenerView> listener(store::Db& db, std::string_view listener_arn);

/// A target group with everything health checks and routing need.
struct TargetGroupView {
  store::TargetGroupRow group;   // doc: the TargetGroup shape (health check settings, Matcher, Port, ...)
  std::vector<store::TargetRow> targets;
  std::vector<std::string> load_balancer_arns;
};

/// @return the target group with its targets, or nullopt.
std::optional<TargetGroupView> target_group(store::Db& db, std::string_view target_group_arn);
/// @return every target group a listener or rule forwards to (what the health checker probes).
std::vector<TargetGroupView> target_groups_in_use(store::Db& db);

}  // namespace ecsd::domain::elb
