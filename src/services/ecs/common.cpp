// Lookups shared by the ECS handlers, and ECS's dispatch table.
#include "ecsd/common/api_error.hpp"
#include "ecsd/common/arn.hpp"
#include "ecsd/services/ecs/ecs.hpp"
#include "ecsd/store/cluster_repo.hpp"
#include "ecsd/store/task_definition_repo.hpp"

namespace ecsd::services::ecs {

std::string cluster_name(const std::string& name_or_arn) {
  if (name_or_arn.empty()) return "default";
  if (auto a = arn::parse(name_or_arn)) {
    auto slash = a->resource.find('/');
    return slash == std::string::npos ? a->resource : a->resource.substr(slash + 1);
  }
  return name_or_arn;
}

std::string cluster_arn(const RequestContext& ctx, const std::string& name) {
  return arn::make("ecs", ctx.scope.region, ctx.scope.account, "cluster/" + name);
}

bool in_scope(const RequestContext& ctx, const std::string& name_or_arn) {
  auto a = arn::parse(name_or_arn);
  return !a || (a->region == ctx.scope.region && a->account == ctx.scope.account);
}

store::Record require_cluster(store::Db& db, const RequestContext& ctx, const std::string& name_or_arn) {
  if (!in_scope(ctx, name_or_arn)) throw ApiError("ClusterNotFoundException", "Cluster not found.");
  auto c = store::ClusterRepo(db).find(ctx.scope, cluster_name(name_or_arn));
  if (!c || c->status != "ACTIVE") throw ApiError("ClusterNotFoundException", "Cluster not found.");
  return *c;
}

store::Record require_cluster_key(store::Db& db, const RequestContext& ctx, const std::string& name_or_arn) {
  if (!in_scope(ctx, name_or_arn)) throw ApiError("ClusterNotFoundException", "Cluster not found.");
  auto c = store::ClusterRepo(db).find_key(ctx.scope, cluster_name(name_or_arn));
  if (!c || c->status != "ACTIVE") throw ApiError("ClusterNotFoundException", "Cluster not found.");
  return *c;
}

std::optional<store::Record> find_task_definition(store::Db& db, const RequestContext& ctx, const std::string& ref) {
  store::TaskDefinitionRepo repo(db);
  std::string family_rev = ref;
  if (auto a = arn::parse(ref)) {
    if (a->service != "ecs" || a->resource.rfind("task-definition/", 0) != 0) return std::nullopt;
    if (a->region != ctx.scope.region || a->account != ctx.scope.account) return std::nullopt;
    family_rev = a->resource.substr(16);
  }
  if (family_rev.find(':') == std::string::npos) return repo.find_latest_active(ctx.scope, family_rev);
  auto key = store::split_family_revision(family_rev);
  if (!key) return std::nullopt;
  return repo.find(ctx.scope, key->first, key->second);
}

store::Tags tags_from(const json& tags) {
  store::Tags out;
  if (!tags.is_array()) return out;
  if (tags.size() > 50) throw ApiError("InvalidParameterException", "The number of tags exceeds the maximum of 50.");
  for (const auto& t : tags) {
    std::string key = t.value("key", "");
    if (key.empty()) throw ApiError("InvalidParameterException", "Tag keys must not be empty.");
    if (key.rfind("aws:", 0) == 0)
      throw ApiError("InvalidParameterException", "Tag keys beginning with 'aws:' are reserved for AWS use.");
    out.emplace_back(key, t.value("value", ""));
  }
  return out;
}

json tags_json(const store::Tags& tags) {
  json out = json::array();
  for (const auto& [k, v] : tags) out.push_back({{"key", k}, {"value", v}});
  return out;
}

std::string task_arn(const RequestContext& ctx, const std::string& cluster, const std::string& id_or_arn) {
  if (arn::is_arn(id_or_arn)) return id_or_arn;
  return arn::make("ecs", ctx.scope.region, ctx.scope.account, "task/" + cluster + "/" + id_or_arn);
}

std::string launch_type_of(const json& in, const store::Record& cluster) {
  if (in.contains("launchType")) return in["launchType"];
  if (in.contains("capacityProviderStrategy") && !in["capacityProviderStrategy"].empty()) return "";
  if (!cluster.doc.value("defaultCapacityProviderStrategy", json::array()).empty()) return "";
  return "EC2";
}

ServiceApi make_api() {
  ServiceApi api;
  api.model = &model::get("ecs");
  api.validation_code = "InvalidParameterException";
  api.handlers = {
      {"CreateCluster", create_cluster},
      {"DescribeClusters", describe_clusters},
      {"ListClusters", list_clusters},
      {"DeleteCluster", delete_cluster},
      {"UpdateCluster", update_cluster},
      {"UpdateClusterSettings", update_cluster_settings},
      {"PutClusterCapacityProviders", put_cluster_capacity_providers},
      {"DescribeCapacityProviders", describe_capacity_providers},
      {"RegisterTaskDefinition", register_task_definition},
      {"DescribeTaskDefinition", describe_task_definition},
      {"ListTaskDefinitions", list_task_definitions},
      {"ListTaskDefinitionFamilies", list_task_definition_families},
      {"DeregisterTaskDefinition", deregister_task_definition},
      {"DeleteTaskDefinitions", delete_task_definitions},
      {"CreateService", create_service},
      {"UpdateService", update_service},
      {"DescribeServices", describe_services},
      {"ListServices", list_services},
      {"DeleteService", delete_service},
      {"ListServiceDeployments", list_service_deployments},
      {"DescribeServiceDeployments", describe_service_deployments},
      {"DescribeServiceRevisions", describe_service_revisions},
      {"StopServiceDeployment", stop_service_deployment},
      {"ContinueServiceDeployment", continue_service_deployment},
      {"CreateTaskSet", create_task_set},
      {"UpdateTaskSet", update_task_set},
      {"UpdateServicePrimaryTaskSet", update_service_primary_task_set},
      {"DeleteTaskSet", delete_task_set},
      {"DescribeTaskSets", describe_task_sets},
      {"RunTask", run_task},
      {"StopTask", stop_task},
      {"DescribeTasks", describe_tasks},
      {"ListTasks", list_tasks},
      {"ListContainerInstances", list_container_instances},
      {"DescribeContainerInstances", describe_container_instances},
      {"UpdateContainerInstancesState", update_container_instances_state},
      {"RegisterContainerInstance", register_container_instance},
      {"DeregisterContainerInstance", deregister_container_instance},
      {"TagResource", tag_resource},
      {"UntagResource", untag_resource},
      {"ListTagsForResource", list_tags_for_resource},
      {"ListAccountSettings", list_account_settings},
      {"PutAccountSetting", put_account_setting},
      {"PutAccountSettingDefault", put_account_setting_default},
      {"DeleteAccountSetting", delete_account_setting},
  };
  return api;
}

}  // namespace ecsd::services::ecs
