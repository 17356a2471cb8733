// ECS task domain rules shared by the API handlers and the scheduler: building a new task
// from a task definition, the resources it needs, and the local container instance it is
// placed on. Pure functions over JSON, plus lookups that run inside a store transaction.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ecsd/store/store.hpp"
#include "ecsd/store/task_repo.hpp"

namespace ecsd::domain {

using nlohmann::json;

// Labels on every container ecsd creates (the ECS agent's names, plus ecsd's own).
inline constexpr const char* kLabelCluster = "com.amazonaws.ecs.cluster";
inline constexpr const char* kLabelTaskArn = "com.amazonaws.ecs.task-arn";
inline constexpr const char* kLabelContainerName = "com.amazonaws.ecs.container-name";
inline constexpr const char* kLabelFamily = "com.amazonaws.ecs.task-definition-family";
inline constexpr const char* kLabelRevision = "com.amazonaws.ecs.task-definition-version";
inline constexpr const char* kLabelManaged = "ecsd.managed";
inline constexpr const char* kLabelInstance = "ecsd.instance";  // which ecsd daemon owns it

struct TaskParams {
  store::Scope scope;
  const store::Record* cluster = nullptr;
  const store::Record* task_definition = nullptr;
  std::string launch_type;             // "" when a capacity provider strategy is used
  json capacity_provider_strategy;     // or null
  json network_configuration;          // or null
  json overrides;                      // TaskOverride or null
  std::string started_by, group, platform_version, service_arn, container_instance_arn;
  json tags;                           // [{key, value}] or null
  bool enable_execute_command = false;
  double now = 0;
};

/// @return a new task row (lastStatus PROVISIONING, desiredStatus RUNNING) with the Task shape in doc.
store::TaskRow make_task(const TaskParams& p);

/// What a task reserves on a container instance.
struct Resources {
  long cpu = 0, memory = 0;
  std::vector<long> tcp_ports, udp_ports;  // static host ports
};

/// @return the resources of a task definition (task-level cpu/memory, else the sum over containers).
Resources task_resources(const json& task_definition, const json& overrides);

/// @return the resources of a task row (from its task definition snapshot in doc._ecsd.td).
Resources task_resources(const store::TaskRow& task);

/// @return the cluster's local container instance (the local engine), registering it on first use.
store::Record ensure_local_instance(store::Db& db, const store::Scope& scope, const store::Record& cluster, double now);

/// @return the container instance's doc with remainingResources and task counts filled from the tasks placed on it.
json container_instance_view(store::Db& db, const store::Record& instance);

/// @return "" when `need` fits on `instance` now, else ECS's failure reason ("RESOURCE:MEMORY", ...).
std::string placement_failure(store::Db& db, const store::Record& instance, const Resources& need);

/// Where a task goes, or why it cannot go anywhere.
struct Placement {
  std::optional<store::Record> instance;  // chosen ACTIVE container instance
  std::string failure;                    // "" when placed, else ECS's reason ("RESOURCE:MEMORY", ...)
  std::string closest;                    // the instance that came closest (for events and failures[])
};

/// Chooses a container instance of `cluster` for a task needing `need`, honouring placement
/// constraints (distinctInstance, memberOf with `attribute:NAME ==|!=|in ...` and `exists`) and
/// strategies (binpack cpu/memory, spread instanceId/attribute, random), in ECS's order.
/// `group` is the task group ("service:name" or "family:x") that distinctInstance and spread count.
Placement place(store::Db& db, const store::Scope& scope, const store::Record& cluster, const Resources& need,
                const std::string& group, const json& constraints, const json& strategy, double now);

/// @return "" when every memberOf expression in `constraints` is one ecsd understands, else the
///         InvalidParameterException message for the first that is not.
std::string check_constraints(const json& constraints);

/// @return the short id (last path element) of a task ARN.
std::string task_id(const std::string& task_arn);

}  // namespace ecsd::domain
