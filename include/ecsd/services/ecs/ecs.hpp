// Amazon ECS: the dispatch table, the handlers (grouped by resource in src/services/ecs/),
// and the lookups they share.
#pragma once
#include <optional>
#include <string>

#include "ecsd/services/api.hpp"
#include "ecsd/store/store.hpp"
#include "ecsd/store/tag_repo.hpp"

namespace ecsd::services::ecs {

/// @return ECS's dispatch table over the embedded ECS model.
ServiceApi make_api();

// clusters.cpp
json create_cluster(RequestContext& ctx, const json& in);
json describe_clusters(RequestContext& ctx, const json& in);
json list_clusters(RequestContext& ctx, const json& in);
json delete_cluster(RequestContext& ctx, const json& in);
json update_cluster(RequestContext& ctx, const json& in);
json update_cluster_settings(RequestContext& ctx, const json& in);
json put_cluster_capacity_providers(RequestContext& ctx, const json& in);
json describe_capacity_providers(RequestContext& ctx, const json& in);

// task_definitions.cpp
json register_task_definition(RequestContext& ctx, const json& in);
json describe_task_definition(RequestContext& ctx, const json& in);
json list_task_definitions(RequestContext& ctx, const json& in);
json list_task_definition_families(RequestContext& ctx, const json& in);
json deregister_task_definition(RequestContext& ctx, const json& in);
json delete_task_definitions(RequestContext& ctx, const json& in);

// services.cpp
json create_service(RequestContext& ctx, const json& in);
json update_service(RequestContext& ctx, const json& in);
json describe_services(RequestContext& ctx, const json& in);
json list_services(RequestContext& ctx, const json& in);
json delete_service(RequestContext& ctx, const json& in);

// --- service deployments (service_deployments.cpp) ---
json list_service_deployments(RequestContext& ctx, const json& in);
json describe_service_deployments(RequestContext& ctx, const json& in);
json describe_service_revisions(RequestContext& ctx, const json& in);
json stop_service_deployment(RequestContext& ctx, const json& in);
json continue_service_deployment(RequestContext& ctx, const json& in);

// --- task sets of EXTERNAL services (task_sets.cpp) ---
json create_task_set(RequestContext& ctx, const json& in);
json update_task_set(RequestContext& ctx, const json& in);
json update_service_primary_task_set(RequestContext& ctx, const json& in);
json delete_task_set(RequestContext& ctx, const json& in);
json describe_task_sets(RequestContext& ctx, const json& in);

// tasks.cpp
json run_task(RequestContext& ctx, const json& in);
json stop_task(RequestContext& ctx, const json& in);
json describe_tasks(RequestContext& ctx, const json& in);
json list_tasks(RequestContext& ctx, const json& in);

// container_instances.cpp
json list_container_instances(RequestContext& ctx, const json& in);
json describe_container_instances(RequestContext& ctx, const json& in);
json update_container_instances_state(RequestContext& ctx, const json& in);
json register_container_instance(RequestContext& ctx, const json& in);
json deregister_container_instance(RequestContext& ctx, const json& in);

// tags.cpp
json tag_resource(RequestContext& ctx, const json& in);
json untag_resource(RequestContext& ctx, const json& in);
json list_tags_for_resource(RequestContext& ctx, const json& in);

// account_settings.cpp
json list_account_settings(RequestContext& ctx, const json& in);
json put_account_setting(RequestContext& ctx, const json& in);
json put_account_setting_default(RequestContext& ctx, const json& in);
json delete_account_setting(RequestContext& ctx, const json& in);

// --- shared lookups (common.cpp); all run inside a store transaction ---

/// @return the cluster name from a name or ARN ("default" when empty).
std::string cluster_name(const std::string& name_or_arn);
/// @return the cluster ARN for a name in the request's scope.
std::string cluster_arn(const RequestContext& ctx, const std::string& name);
/// @return false when `name_or_arn` is an ARN of another region or account.
bool in_scope(const RequestContext& ctx, const std::string& name_or_arn);
/// @return the ACTIVE cluster named by `name_or_arn`. @throws ClusterNotFoundException.
store::Record require_cluster(store::Db& db, const RequestContext& ctx, const std::string& name_or_arn);
/// require_cluster() without the cluster's document (`doc` is an empty object): for handlers that
/// need only its id, name and ARN, such as the read paths clients poll.
store::Record require_cluster_key(store::Db& db, const RequestContext& ctx, const std::string& name_or_arn);
/// Resolves "family", "family:revision" or an ARN. @return nullopt when it does not exist.
std::optional<store::Record> find_task_definition(store::Db& db, const RequestContext& ctx, const std::string& ref);
/// ECS tags ([{key, value}]) to store tags, validating the rules ECS applies.
store::Tags tags_from(const json& tags);
/// Store tags to ECS tags ([{key, value}]).
json tags_json(const store::Tags& tags);
/// @return the task ARN for a task id or ARN in `cluster`.
std::string task_arn(const RequestContext& ctx, const std::string& cluster, const std::string& id_or_arn);
/// @return the launch type a request ends up with ("" when a capacity provider strategy applies).
std::string launch_type_of(const json& in, const store::Record& cluster);

}  // namespace ecsd::services::ecs
