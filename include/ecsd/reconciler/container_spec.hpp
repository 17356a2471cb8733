// Translating an ECS container definition (with RunTask overrides) into a runtime
// ContainerSpec: pure, so the mapping is unit-tested without an engine.
#pragma once
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ecsd/runtime/runtime.hpp"

namespace ecsd::reconciler {

struct HostPolicy {
  bool allow_privileged = false;
  std::vector<std::string> allowed_host_paths;  // prefixes host sourcePath binds may use
};

struct SpecContext {
  std::string task_arn, task_id, cluster_name, region, instance_id;
  std::string family;
  int revision = 0;
  std::string network_mode;    // bridge, host, none, awsvpc
  std::string awsvpc_network;  // engine network for awsvpc tasks
  std::string netns_container; // awsvpc: container whose namespace the others join ("" for the first)
  std::vector<std::pair<std::string, std::string>> extra_env;  // injected by ecsd (metadata, region...)
  bool fargate = false;
};

/// A definition the policy or the engine cannot run.
struct SpecError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct VolumeSource {
  std::string source;        // host path (starts with '/') or engine volume name
  bool task_scoped = false;  // removed with the task
};

/// @return task definition volume name -> where its data lives.
std::map<std::string, VolumeSource> volume_sources(const SpecContext& ctx, const nlohmann::json& td);

/// @return the engine container name of container `name` in the task.
std::string container_name(const SpecContext& ctx, const std::string& name);

/// Builds the spec for container definition `def` of task definition `td`.
/// @throws SpecError for refused settings (privileged, host paths outside the allow-list).
runtime::ContainerSpec build_spec(const SpecContext& ctx, const nlohmann::json& td, const nlohmann::json& def,
                                  const nlohmann::json& overrides, const HostPolicy& policy);

}  // namespace ecsd::reconciler
