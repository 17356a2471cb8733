// ECS cluster handlers: CreateCluster, DescribeClusters, ListClusters, DeleteCluster,
// UpdateCluster, UpdateClusterSettings, PutClusterCapacityProviders.
#include <regex>

#include "ecsd/common/api_error.hpp"
#include "ecsd/common/arn.hpp"
#include "ecsd/services/ecs/ecs.hpp"
#include "ecsd/store/cluster_repo.hpp"
#include "ecsd/store/service_repo.hpp"
#include "ecsd/store/task_repo.hpp"

namespace ecsd::services::ecs {

namespace {

const json kDefaultSettings = json::array({{{"name", "containerInsights"}, {"value", "disabled"}}});

void check_cluster_name(const std::string& name) {
  static const std::regex kName("^[a-zA-Z0-9_-]{1,255}$");
  if (!std::regex_match(name, kName))
    throw ApiError("InvalidParameterException",
                   "Cluster name can have up to 255 characters, which can be letters (uppercase and lowercase), "
                   "numbers, underscores and hyphens.");
}

// Capacity providers every account has.
bool is_builtin_provider(const std::string& name) { return name == "FARGATE" || name == "FARGATE_SPOT"; }

void check_providers(const json& providers, const json& strategy) {
  std::vector<std::string> names;
  for (const auto& p : providers) {
    auto n = p.get<std::string>();
    if (!is_builtin_provider(n))
      throw ApiError("InvalidParameterException", "The specified capacity provider '" + n + "' does not exist.");
    names.push_back(n);
  }
  for (const auto& s : strategy) {
    auto n = s.value("capacityProvider", "");
    if (std::find(names.begin(), names.end(), n) == names.end())
      throw ApiError("InvalidParameterException",
                     "The specified capacity provider strategy cannot contain a capacity provider that is not "
                     "associated with the cluster. Associate the capacity provider with the cluster or specify a "
                     "valid capacity provider and try again.");
  }
}

// Merges settings by name, as UpdateCluster/UpdateClusterSettings do.
void merge_settings(json& doc, const json& settings) {
  json& cur = doc["settings"];
  if (!cur.is_array()) cur = kDefaultSettings;
  for (const auto& s : settings) {
    bool found = false;
    for (auto& c : cur)
      if (c.value("name", "") == s.value("name", "")) {
        c["value"] = s.value("value", "");
        found = true;
      }
    if (!found) cur.push_back(s);
  }
}

// The Cluster shape as DescribeClusters returns it, with counts from the store.
json view(store::Db& db, const store::Record& c, const std::vector<std::string>& include) {
  auto has = [&](const char* what) { return std::find(include.begin(), include.end(), what) != include.end(); };
  json out = c.doc;
  store::ServiceRepo services(db);
  store::TaskRepo tasks(db);
  out["activeServicesCount"] = services.count(c.id, "ACTIVE");
  int running = tasks.count(c.id, "RUNNING");
  out["runningTasksCount"] = running;
  out["pendingTasksCount"] = tasks.count(c.id, "") - running;
  out["registeredContainerInstancesCount"] = static_cast<int>(store::ContainerInstanceRepo(db).list(c.id).size());
  out["statistics"] = json::array();
  out["tags"] = has("TAGS") ? tags_json(store::TagRepo(db).get(c.arn)) : json::array();
  if (!has("SETTINGS")) out.erase("settings");
  if (!has("CONFIGURATIONS")) out.erase("configuration");
  if (!has("ATTACHMENTS")) out.erase("attachments");
  if (has("STATISTICS")) {
    for (const char* name : {"runningEC2TasksCount", "runningFargateTasksCount", "pendingEC2TasksCount",
                             "pendingFargateTasksCount", "activeEC2ServiceCount", "activeFargateServiceCount",
                             "drainingEC2ServiceCount", "drainingFargateServiceCount"}) {
      out["statistics"].push_back({{"name", name}, {"value", "0"}});
    }
    int ec2 = 0, fargate = 0;
    for (const auto& s : services.all_live(c.id)) {
      if (s.status != "ACTIVE") continue;
      (s.doc.value("launchType", "EC2") == "FARGATE" ? fargate : ec2)++;
    }
    out["statistics"][4]["value"] = std::to_string(ec2);
    out["statistics"][5]["value"] = std::to_string(fargate);
  }
  return out;
}

// Full view for create/update/delete responses: settings and tags included.
json full_view(store::Db& db, const store::Record& c) { return view(db, c, {"SETTINGS", "TAGS", "CONFIGURATIONS"}); }

}  // namespace

json create_cluster(RequestContext& ctx, const json& in) {
  std::string name = in.value("clusterName", "default");
  check_cluster_name(name);
  json providers = in.value("capacityProviders", json::array());
  json strategy = in.value("defaultCapacityProviderStrategy", json::array());
  check_providers(providers, strategy);
  store::Tags tags = tags_from(in.value("tags", json::array()));
  return ctx.store.write([&](store::Db& db) {
    store::ClusterRepo repo(db);
    auto existing = repo.find(ctx.scope, name);
    if (existing && existing->status == "ACTIVE") return json{{"cluster", full_view(db, *existing)}};
    store::Record r = existing ? *existing : store::Record{};
    r.name = name;
    r.arn = cluster_arn(ctx, name);
    r.status = "ACTIVE";
    r.created_at = ctx.now;
    r.doc = {{"clusterArn", r.arn},
             {"clusterName", name},
             {"status", "ACTIVE"},
             {"registeredContainerInstancesCount", 0},
             {"runningTasksCount", 0},
             {"pendingTasksCount", 0},
             {"activeServicesCount", 0},
             {"statistics", json::array()},
             {"settings", kDefaultSettings},
             {"capacityProviders", providers},
             {"defaultCapacityProviderStrategy", strategy}};
    // The account's containerInsights setting is the default for new clusters.
    for (const auto& [principal, setting, value] : store::AccountSettingRepo(db).list(ctx.scope, ctx.principal(), "containerInsights"))
      r.doc["settings"] = json::array({{{"name", "containerInsights"}, {"value", value}}});
    if (in.contains("settings")) merge_settings(r.doc, in["settings"]);
    if (in.contains("configuration")) r.doc["configuration"] = in["configuration"];
    if (in.contains("serviceConnectDefaults"))
      r.doc["serviceConnectDefaults"] = {{"namespace", in["serviceConnectDefaults"].value("namespace", "")}};
    store::TagRepo tag_repo(db);
    if (existing) {
      repo.update(r);
      tag_repo.remove_all(r.arn);
    } else {
      repo.insert(ctx.scope, r);
    }
    tag_repo.put(r.arn, tags);
    return json{{"cluster", full_view(db, r)}};
  });
}

json describe_clusters(RequestContext& ctx, const json& in) {
  json names = in.value("clusters", json::array({"default"}));
  if (names.empty()) names.push_back("default");
  std::vector<std::string> include = in.value("include", std::vector<std::string>{});
  return ctx.store.read([&](store::Db& db) {
    json out = {{"clusters", json::array()}, {"failures", json::array()}};
    store::ClusterRepo repo(db);
    for (const auto& n : names) {
      std::string ref = n.get<std::string>(), name = cluster_name(ref);
      auto c = in_scope(ctx, ref) ? repo.find(ctx.scope, name) : std::nullopt;
      if (c) out["clusters"].push_back(view(db, *c, include));
      else out["failures"].push_back({{"arn", arn::is_arn(ref) ? ref : cluster_arn(ctx, name)}, {"reason", "MISSING"}});
    }
    return out;
  });
}

json list_clusters(RequestContext& ctx, const json& in) {
  int limit = in.value("maxResults", 100);
  if (limit < 1 || limit > 100)
    throw ApiError("InvalidParameterException", "maxResults must be between 1 and 100.");
  std::int64_t after = in.contains("nextToken") ? decode_token(in["nextToken"]) : 0;
  return ctx.store.read([&](store::Db& db) {
    auto rows = store::ClusterRepo(db).list_active(ctx.scope, after, limit + 1);
    json out = {{"clusterArns", json::array()}};
    for (std::size_t i = 0; i < rows.size() && i < static_cast<std::size_t>(limit); ++i)
      out["clusterArns"].push_back(rows[i].arn);
    if (rows.size() > static_cast<std::size_t>(limit)) out["nextToken"] = encode_token(rows[limit - 1].id);
    return out;
  });
}

json delete_cluster(RequestContext& ctx, const json& in) {
  return ctx.store.write([&](store::Db& db) {
    store::ClusterRepo repo(db);
    std::string ref = in.at("cluster");
    auto c = in_scope(ctx, ref) ? repo.find(ctx.scope, cluster_name(ref)) : std::nullopt;
    if (!c || c->status != "ACTIVE") throw ApiError("ClusterNotFoundException", "Cluster not found.");
    store::ServiceRepo services(db);
    if (services.count(c->id, "ACTIVE") + services.count(c->id, "DRAINING") > 0)
      throw ApiError("ClusterContainsServicesException",
                     "The Cluster cannot be deleted while Services are active.");
    if (store::TaskRepo(db).count(c->id, "") > 0)
      throw ApiError("ClusterContainsTasksException", "The Cluster cannot be deleted while Tasks are active.");
    // The implicit local container instance leaves with the cluster.
    store::ContainerInstanceRepo instances(db);
    for (auto& ci : instances.list(c->id)) {
      ci.status = "INACTIVE";
      ci.doc["status"] = "INACTIVE";
      instances.update(ci);
    }
    c->status = "INACTIVE";
    c->doc["status"] = "INACTIVE";
    repo.update(*c);
    return json{{"cluster", full_view(db, *c)}};
  });
}

json update_cluster(RequestContext& ctx, const json& in) {
  return ctx.store.write([&](store::Db& db) {
    store::Record c = require_cluster(db, ctx, in.at("cluster").get<std::string>());
    if (in.contains("settings")) merge_settings(c.doc, in["settings"]);
    if (in.contains("configuration")) c.doc["configuration"] = in["configuration"];
    if (in.contains("serviceConnectDefaults"))
      c.doc["serviceConnectDefaults"] = {{"namespace", in["serviceConnectDefaults"].value("namespace", "")}};
    store::ClusterRepo(db).update(c);
    return json{{"cluster", full_view(db, c)}};
  });
}

json update_cluster_settings(RequestContext& ctx, const json& in) {
  return ctx.store.write([&](store::Db& db) {
    store::Record c = require_cluster(db, ctx, in.at("cluster").get<std::string>());
    merge_settings(c.doc, in.at("settings"));
    store::ClusterRepo(db).update(c);
    return json{{"cluster", full_view(db, c)}};
  });
}

json describe_capacity_providers(RequestContext& ctx, const json& in) {
  json names = in.value("capacityProviders", json::array({"FARGATE", "FARGATE_SPOT"}));
  json out = {{"capacityProviders", json::array()}, {"failures", json::array()}};
  for (const auto& n : names) {
    std::string name = n.get<std::string>();
    if (auto slash = name.rfind('/'); slash != std::string::npos) name = name.substr(slash + 1);
    std::string arn_s = "arn:aws:ecs:" + ctx.scope.region + ":" + ctx.scope.account + ":capacity-provider/" + name;
    if (is_builtin_provider(name))
      out["capacityProviders"].push_back({{"capacityProviderArn", arn_s}, {"name", name}, {"status", "ACTIVE"},
                                          {"tags", json::array()}});
    else
      out["failures"].push_back({{"arn", arn_s}, {"reason", "MISSING"}});
  }
  return out;
}

json put_cluster_capacity_providers(RequestContext& ctx, const json& in) {
  check_providers(in.at("capacityProviders"), in.at("defaultCapacityProviderStrategy"));
  return ctx.store.write([&](store::Db& db) {
    store::Record c = require_cluster(db, ctx, in.at("cluster").get<std::string>());
    c.doc["capacityProviders"] = in["capacityProviders"];
    c.doc["defaultCapacityProviderStrategy"] = in["defaultCapacityProviderStrategy"];
    store::ClusterRepo(db).update(c);
    return json{{"cluster", full_view(db, c)}};
  });
}

}  // namespace ecsd::services::ecs
