// Tests for the ECS cluster handlers (CreateCluster, DescribeClusters, ListClusters, DeleteCluster,
// UpdateClusterSettings, PutClusterCapacityProviders), called directly with a fake request context.
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "ecsd/common/api_error.hpp"
#include "ecsd/services/ec2/ec2.hpp"
#include "ecsd/services/ecs/ecs.hpp"
#include "ecsd/store/cluster_repo.hpp"
#include "ecsd/store/service_repo.hpp"
#include "ecsd/store/store.hpp"

namespace ecsd::services::ecs {
namespace {

constexpr const char* kAccount = "000000000000";
constexpr double kNow = 1767225600.0;  // 2026-01-01T00:00:00Z

// Runs `fn` and returns the ApiError it throws; fails the test when it throws none.
template <typename F>
ApiError api_error(F&& fn) {
  try {
    fn();
  } catch (const ApiError& e) {
    return e;
  }
  ADD_FAILURE() << "expected an ApiError, but the call succeeded";
  return ApiError("<none>", "<no error thrown>");
}

// @return the value of setting/statistic `name` in a [{name, value}] list, or "" when absent.
std::string named_value(const json& list, const std::string& name) {
  for (const auto& e : list)
    if (e.value("name", "") == name) return e.value("value", "");
  return "";
}

class ClustersTest : public ::testing::Test {
 protected:
  RequestContext context(const std::string& region, const std::string& account = kAccount) {
    return RequestContext{{account, region}, "AKIDEXAMPLE", "req-1", store_, kNow};
  }

  json create(const std::string& name) { return create_cluster(ctx_, {{"clusterName", name}})["cluster"]; }

  // Registers an EC2 task definition and creates a service `name` on `cluster` with it.
  json create_service_on(const std::string& cluster, const std::string& name, int desired = 0,
                         const std::string& launch_type = "EC2") {
    json td = {{"family", "web"},
               {"containerDefinitions", json::array({{{"name", "app"}, {"image", "nginx"}, {"memory", 128}}})}};
    if (launch_type == "FARGATE") {
      td = {{"family", "web-fargate"},
            {"networkMode", "awsvpc"},
            {"requiresCompatibilities", json::array({"FARGATE"})},
            {"cpu", "256"},
            {"memory", "512"},
            {"containerDefinitions", json::array({{{"name", "app"}, {"image", "nginx"}}})}};
    }
    std::string td_arn = register_task_definition(ctx_, td)["taskDefinition"]["taskDefinitionArn"];
    json in = {{"cluster", cluster},
               {"serviceName", name},
               {"taskDefinition", td_arn},
               {"desiredCount", desired},
               {"launchType", launch_type}};
    if (launch_type == "FARGATE")
      in["networkConfiguration"] = {
          {"awsvpcConfiguration",
           {{"subnets", json::array({services::ec2::describe_subnets(ctx_, json::object())["Subnets"][0]["SubnetId"]})}}}};
    return create_service(ctx_, in)["service"];
  }

  // A deleted service is DRAINING until the scheduler has stopped its tasks; with none, its next
  // pass makes the service INACTIVE. Do what it does, without a reconciler.
  void finish_draining(const std::string& cluster, const std::string& name) {
    store_.write([&](store::Db& db) {
      auto c = store::ClusterRepo(db).find(ctx_.scope, cluster);
      ASSERT_TRUE(c);
      store::ServiceRepo repo(db);
      auto s = repo.find(c->id, name);
      ASSERT_TRUE(s);
      if (s->status != "DRAINING") return;
      s->status = "INACTIVE";
      s->doc["status"] = "INACTIVE";
      repo.update(*s, kNow);
    });
  }

  store::Store store_{":memory:"};
  RequestContext ctx_ = context("us-east-1");
};

TEST_F(ClustersTest, CreateClusterDefaultsNameToDefault) {
  json c = create_cluster(ctx_, json::object())["cluster"];
  EXPECT_EQ(c["clusterName"], "default");
  EXPECT_EQ(c["clusterArn"], "arn:aws:ecs:us-east-1:000000000000:cluster/default");
  EXPECT_EQ(c["status"], "ACTIVE");
}

TEST_F(ClustersTest, CreateClusterReturnsArnStatusAndZeroCounts) {
  json c = create("web");
  EXPECT_EQ(c["clusterArn"], "arn:aws:ecs:us-east-1:000000000000:cluster/web");
  EXPECT_EQ(c["clusterName"], "web");
  EXPECT_EQ(c["status"], "ACTIVE");
  EXPECT_EQ(c["registeredContainerInstancesCount"], 0);
  EXPECT_EQ(c["runningTasksCount"], 0);
  EXPECT_EQ(c["pendingTasksCount"], 0);
  EXPECT_EQ(c["activeServicesCount"], 0);
  EXPECT_EQ(named_value(c["settings"], "containerInsights"), "disabled");
}

TEST_F(ClustersTest, CreateClusterArnUsesRequestRegionAndAccount) {
  RequestContext eu = context("eu-west-1", "123456789012");
  json c = create_cluster(eu, {{"clusterName", "web"}})["cluster"];
  EXPECT_EQ(c["clusterArn"], "arn:aws:ecs:eu-west-1:123456789012:cluster/web");
}

TEST_F(ClustersTest, CreateClusterIsIdempotent) {
  json first = create("web");
  json second = create("web");
  EXPECT_EQ(second["clusterArn"], first["clusterArn"]);
  EXPECT_EQ(second["status"], "ACTIVE");
  json list = list_clusters(ctx_, json::object());
  EXPECT_EQ(list["clusterArns"], json::array({first["clusterArn"]}));
}

TEST_F(ClustersTest, CreateClusterRejectsInvalidName) {
  for (const std::string& bad : std::vector<std::string>{"bad name", "web!", "a/b", std::string(256, 'a')}) {
    ApiError e = api_error([&] { create_cluster(ctx_, {{"clusterName", bad}}); });
    EXPECT_EQ(e.code, "InvalidParameterException") << bad;
  }
  EXPECT_EQ(list_clusters(ctx_, json::object())["clusterArns"], json::array());
}

TEST_F(ClustersTest, CreateClusterAcceptsLongestValidName) {
  std::string name(255, 'a');
  EXPECT_EQ(create(name)["clusterName"], name);
}

TEST_F(ClustersTest, CreateClusterRejectsUnknownCapacityProvider) {
  ApiError e = api_error([&] {
    create_cluster(ctx_, {{"clusterName", "web"}, {"capacityProviders", json::array({"my-asg-provider"})}});
  });
  EXPECT_EQ(e.code, "InvalidParameterException");
}

TEST_F(ClustersTest, CreateClusterWithSettingsOverridesDefault) {
  json c = create_cluster(ctx_, {{"clusterName", "web"},
                                 {"settings", json::array({{{"name", "containerInsights"}, {"value", "enabled"}}})}})
               ["cluster"];
  ASSERT_EQ(c["settings"].size(), 1u);
  EXPECT_EQ(named_value(c["settings"], "containerInsights"), "enabled");
}

TEST_F(ClustersTest, DescribeClustersIncludesSettingsTagsAndStatistics) {
  create_cluster(ctx_, {{"clusterName", "web"}, {"tags", json::array({{{"key", "team"}, {"value", "core"}}})}});
  json out = describe_clusters(ctx_, {{"clusters", json::array({"web"})},
                                      {"include", json::array({"SETTINGS", "TAGS", "STATISTICS"})}});
  ASSERT_EQ(out["clusters"].size(), 1u);
  EXPECT_EQ(out["failures"], json::array());
  const json& c = out["clusters"][0];
  EXPECT_EQ(named_value(c["settings"], "containerInsights"), "disabled");
  EXPECT_EQ(c["tags"], json::array({{{"key", "team"}, {"value", "core"}}}));
  std::set<std::string> stats;
  for (const auto& s : c["statistics"]) stats.insert(s["name"].get<std::string>());
  for (const char* name : {"runningEC2TasksCount", "runningFargateTasksCount", "pendingEC2TasksCount",
                           "pendingFargateTasksCount", "activeEC2ServiceCount", "activeFargateServiceCount",
                           "drainingEC2ServiceCount", "drainingFargateServiceCount"}) {
    EXPECT_TRUE(stats.count(name)) << name;
    EXPECT_EQ(named_value(c["statistics"], name), "0") << name;
  }
}

TEST_F(ClustersTest, DescribeClustersOmitsSettingsTagsAndStatisticsUnlessIncluded) {
  create_cluster(ctx_, {{"clusterName", "web"}, {"tags", json::array({{{"key", "team"}, {"value", "core"}}})}});
  json c = describe_clusters(ctx_, {{"clusters", json::array({"web"})}})["clusters"][0];
  EXPECT_FALSE(c.contains("settings"));
  EXPECT_TRUE(!c.contains("tags") || c["tags"].empty());
  EXPECT_TRUE(!c.contains("statistics") || c["statistics"].empty());
}

TEST_F(ClustersTest, DescribeClustersCountsActiveServicesByLaunchType) {
  create("web");
  create_service_on("web", "ec2-svc", 0, "EC2");
  create_service_on("web", "fargate-svc", 0, "FARGATE");
  json c = describe_clusters(ctx_, {{"clusters", json::array({"web"})}, {"include", json::array({"STATISTICS"})}})
               ["clusters"][0];
  EXPECT_EQ(c["activeServicesCount"], 2);
  EXPECT_EQ(named_value(c["statistics"], "activeEC2ServiceCount"), "1");
  EXPECT_EQ(named_value(c["statistics"], "activeFargateServiceCount"), "1");
}

TEST_F(ClustersTest, ClusterTagsCanBeAddedListedAndRemoved) {
  std::string arn = create("web")["clusterArn"];
  tag_resource(ctx_, {{"resourceArn", arn}, {"tags", json::array({{{"key", "team"}, {"value", "core"}},
                                                                   {{"key", "env"}, {"value", "prod"}}})}});
  untag_resource(ctx_, {{"resourceArn", arn}, {"tagKeys", json::array({"env"})}});
  EXPECT_EQ(list_tags_for_resource(ctx_, {{"resourceArn", arn}})["tags"],
            json::array({{{"key", "team"}, {"value", "core"}}}));
  json c = describe_clusters(ctx_, {{"clusters", json::array({"web"})}, {"include", json::array({"TAGS"})}})
               ["clusters"][0];
  EXPECT_EQ(c["tags"], json::array({{{"key", "team"}, {"value", "core"}}}));
  EXPECT_EQ(api_error([&] {
              list_tags_for_resource(ctx_, {{"resourceArn", "arn:aws:ecs:us-east-1:000000000000:cluster/nope"}});
            }).code,
            "ClusterNotFoundException");
}

TEST_F(ClustersTest, DescribeClustersReportsMissingClusters) {
  create("web");
  json out = describe_clusters(ctx_, {{"clusters", json::array({"web", "nope"})}});
  ASSERT_EQ(out["clusters"].size(), 1u);
  EXPECT_EQ(out["clusters"][0]["clusterName"], "web");
  ASSERT_EQ(out["failures"].size(), 1u);
  EXPECT_EQ(out["failures"][0]["arn"], "arn:aws:ecs:us-east-1:000000000000:cluster/nope");
  EXPECT_EQ(out["failures"][0]["reason"], "MISSING");
}

TEST_F(ClustersTest, DescribeClustersWithoutNamesDescribesDefault) {
  json missing = describe_clusters(ctx_, json::object());
  EXPECT_EQ(missing["clusters"], json::array());
  ASSERT_EQ(missing["failures"].size(), 1u);
  EXPECT_EQ(missing["failures"][0]["arn"], "arn:aws:ecs:us-east-1:000000000000:cluster/default");
  EXPECT_EQ(missing["failures"][0]["reason"], "MISSING");

  create_cluster(ctx_, json::object());
  json found = describe_clusters(ctx_, json::object());
  ASSERT_EQ(found["clusters"].size(), 1u);
  EXPECT_EQ(found["clusters"][0]["clusterName"], "default");
}

TEST_F(ClustersTest, DescribeClustersAcceptsArn) {
  create("web");
  json out = describe_clusters(ctx_, {{"clusters", json::array({"arn:aws:ecs:us-east-1:000000000000:cluster/web"})}});
  ASSERT_EQ(out["clusters"].size(), 1u);
  EXPECT_EQ(out["clusters"][0]["clusterName"], "web");
}

TEST_F(ClustersTest, DescribeClustersByArnOfAnotherRegionIsMissing) {
  // The ARN names eu-west-1's "web"; us-east-1's "web" is a different cluster and must not be returned.
  create("web");
  std::string eu_arn = "arn:aws:ecs:eu-west-1:000000000000:cluster/web";
  json out = describe_clusters(ctx_, {{"clusters", json::array({eu_arn})}});
  EXPECT_EQ(out["clusters"], json::array()) << out.dump();
  EXPECT_EQ(out["failures"].size(), 1u) << out.dump();
  std::string other_account = "arn:aws:ecs:us-east-1:123456789012:cluster/web";
  json out2 = describe_clusters(ctx_, {{"clusters", json::array({other_account})}});
  EXPECT_EQ(out2["clusters"], json::array()) << out2.dump();
}

TEST_F(ClustersTest, ListClustersPagesThroughAllClusters) {
  std::set<std::string> created;
  for (int i = 0; i < 5; ++i) created.insert(create("c" + std::to_string(i))["clusterArn"].get<std::string>());

  std::vector<std::string> seen;
  json in = {{"maxResults", 2}};
  int pages = 0;
  while (true) {
    json page = list_clusters(ctx_, in);
    ++pages;
    ASSERT_LE(page["clusterArns"].size(), 2u);
    for (const auto& a : page["clusterArns"]) seen.push_back(a.get<std::string>());
    if (!page.contains("nextToken")) break;
    in["nextToken"] = page["nextToken"];
    ASSERT_LT(pages, 10) << "paging does not terminate";
  }
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(seen.size(), 5u);
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()), created);
}

TEST_F(ClustersTest, ListClustersLastFullPageHasNoNextToken) {
  for (int i = 0; i < 4; ++i) create("c" + std::to_string(i));
  json first = list_clusters(ctx_, {{"maxResults", 2}});
  ASSERT_TRUE(first.contains("nextToken"));
  json second = list_clusters(ctx_, {{"maxResults", 2}, {"nextToken", first["nextToken"]}});
  EXPECT_EQ(second["clusterArns"].size(), 2u);
  EXPECT_FALSE(second.contains("nextToken"));
}

TEST_F(ClustersTest, ListClustersRejectsTokenItDidNotIssue) {
  create("web");
  ApiError e = api_error([&] { list_clusters(ctx_, {{"nextToken", "not-a-token"}}); });
  EXPECT_EQ(e.code, "InvalidParameterException");
}

TEST_F(ClustersTest, ListClustersOmitsDeletedClusters) {
  create("keep");
  create("gone");
  delete_cluster(ctx_, {{"cluster", "gone"}});
  EXPECT_EQ(list_clusters(ctx_, json::object())["clusterArns"],
            json::array({"arn:aws:ecs:us-east-1:000000000000:cluster/keep"}));
}

TEST_F(ClustersTest, DeleteClusterMarksItInactive) {
  create("web");
  json deleted = delete_cluster(ctx_, {{"cluster", "web"}})["cluster"];
  EXPECT_EQ(deleted["status"], "INACTIVE");
  EXPECT_EQ(deleted["clusterArn"], "arn:aws:ecs:us-east-1:000000000000:cluster/web");
  // A deleted cluster is still describable, as INACTIVE, not a failure.
  json out = describe_clusters(ctx_, {{"clusters", json::array({"web"})}});
  ASSERT_EQ(out["clusters"].size(), 1u);
  EXPECT_EQ(out["clusters"][0]["status"], "INACTIVE");
  EXPECT_EQ(out["failures"], json::array());
}

TEST_F(ClustersTest, DeleteClusterAcceptsArn) {
  create("web");
  json deleted = delete_cluster(ctx_, {{"cluster", "arn:aws:ecs:us-east-1:000000000000:cluster/web"}})["cluster"];
  EXPECT_EQ(deleted["status"], "INACTIVE");
}

TEST_F(ClustersTest, DeleteClusterWithActiveServiceFails) {
  create("web");
  create_service_on("web", "svc");
  ApiError e = api_error([&] { delete_cluster(ctx_, {{"cluster", "web"}}); });
  EXPECT_EQ(e.code, "ClusterContainsServicesException");
  EXPECT_EQ(describe_clusters(ctx_, {{"clusters", json::array({"web"})}})["clusters"][0]["status"], "ACTIVE");

  delete_service(ctx_, {{"cluster", "web"}, {"service", "svc"}});
  finish_draining("web", "svc");
  EXPECT_EQ(delete_cluster(ctx_, {{"cluster", "web"}})["cluster"]["status"], "INACTIVE");
}

TEST_F(ClustersTest, DeleteClusterNotFound) {
  ApiError e = api_error([&] { delete_cluster(ctx_, {{"cluster", "nope"}}); });
  EXPECT_EQ(e.code, "ClusterNotFoundException");

  create("web");
  delete_cluster(ctx_, {{"cluster", "web"}});
  ApiError again = api_error([&] { delete_cluster(ctx_, {{"cluster", "web"}}); });
  EXPECT_EQ(again.code, "ClusterNotFoundException");
}

TEST_F(ClustersTest, CreateClusterAfterDeleteReactivatesIt) {
  create_cluster(ctx_, {{"clusterName", "web"}, {"tags", json::array({{{"key", "old"}, {"value", "1"}}})}});
  delete_cluster(ctx_, {{"cluster", "web"}});
  json c = create("web");
  EXPECT_EQ(c["status"], "ACTIVE");
  EXPECT_EQ(c["clusterArn"], "arn:aws:ecs:us-east-1:000000000000:cluster/web");
  EXPECT_EQ(list_clusters(ctx_, json::object())["clusterArns"].size(), 1u);
  json described = describe_clusters(ctx_, {{"clusters", json::array({"web"})}, {"include", json::array({"TAGS"})}});
  EXPECT_EQ(described["clusters"][0]["tags"], json::array());
}

TEST_F(ClustersTest, ClustersAreScopedToRegion) {
  create("web");
  RequestContext eu = context("eu-west-1");

  json out = describe_clusters(eu, {{"clusters", json::array({"web"})}});
  EXPECT_EQ(out["clusters"], json::array());
  ASSERT_EQ(out["failures"].size(), 1u);
  EXPECT_EQ(out["failures"][0]["arn"], "arn:aws:ecs:eu-west-1:000000000000:cluster/web");
  EXPECT_EQ(out["failures"][0]["reason"], "MISSING");
  EXPECT_EQ(list_clusters(eu, json::object())["clusterArns"], json::array());
  EXPECT_EQ(api_error([&] { delete_cluster(eu, {{"cluster", "web"}}); }).code, "ClusterNotFoundException");

  // The same name in another region is another cluster.
  json eu_web = create_cluster(eu, {{"clusterName", "web"}})["cluster"];
  EXPECT_EQ(eu_web["clusterArn"], "arn:aws:ecs:eu-west-1:000000000000:cluster/web");
  delete_cluster(eu, {{"cluster", "web"}});
  EXPECT_EQ(describe_clusters(ctx_, {{"clusters", json::array({"web"})}})["clusters"][0]["status"], "ACTIVE");
}

TEST_F(ClustersTest, ClustersAreScopedToAccount) {
  create("web");
  RequestContext other = context("us-east-1", "123456789012");
  EXPECT_EQ(list_clusters(other, json::object())["clusterArns"], json::array());
  EXPECT_EQ(describe_clusters(other, {{"clusters", json::array({"web"})}})["failures"].size(), 1u);
}

TEST_F(ClustersTest, PutClusterCapacityProvidersAcceptsFargateProviders) {
  create("web");
  json strategy = json::array({{{"capacityProvider", "FARGATE"}, {"weight", 1}, {"base", 1}},
                               {{"capacityProvider", "FARGATE_SPOT"}, {"weight", 3}}});
  json c = put_cluster_capacity_providers(ctx_, {{"cluster", "web"},
                                                 {"capacityProviders", json::array({"FARGATE", "FARGATE_SPOT"})},
                                                 {"defaultCapacityProviderStrategy", strategy}})["cluster"];
  EXPECT_EQ(c["capacityProviders"], json::array({"FARGATE", "FARGATE_SPOT"}));
  EXPECT_EQ(c["defaultCapacityProviderStrategy"], strategy);

  json described = describe_clusters(ctx_, {{"clusters", json::array({"web"})}})["clusters"][0];
  EXPECT_EQ(described["capacityProviders"], json::array({"FARGATE", "FARGATE_SPOT"}));
  EXPECT_EQ(described["defaultCapacityProviderStrategy"], strategy);
}

TEST_F(ClustersTest, PutClusterCapacityProvidersRejectsUnknownProvider) {
  create("web");
  ApiError e = api_error([&] {
    put_cluster_capacity_providers(ctx_, {{"cluster", "web"},
                                          {"capacityProviders", json::array({"FARGATE", "my-asg-provider"})},
                                          {"defaultCapacityProviderStrategy", json::array()}});
  });
  EXPECT_EQ(e.code, "InvalidParameterException");
  EXPECT_NE(std::string(e.what()).find("my-asg-provider"), std::string::npos) << e.what();
  json c = describe_clusters(ctx_, {{"clusters", json::array({"web"})}})["clusters"][0];
  EXPECT_TRUE(!c.contains("capacityProviders") || c["capacityProviders"].empty());
}

TEST_F(ClustersTest, PutClusterCapacityProvidersRejectsStrategyOutsideProviders) {
  create("web");
  ApiError e = api_error([&] {
    put_cluster_capacity_providers(
        ctx_, {{"cluster", "web"},
               {"capacityProviders", json::array({"FARGATE"})},
               {"defaultCapacityProviderStrategy", json::array({{{"capacityProvider", "FARGATE_SPOT"}}})}});
  });
  EXPECT_EQ(e.code, "InvalidParameterException");
}

TEST_F(ClustersTest, PutClusterCapacityProvidersOnMissingClusterFails) {
  ApiError e = api_error([&] {
    put_cluster_capacity_providers(ctx_, {{"cluster", "nope"},
                                          {"capacityProviders", json::array({"FARGATE"})},
                                          {"defaultCapacityProviderStrategy", json::array()}});
  });
  EXPECT_EQ(e.code, "ClusterNotFoundException");
}

TEST_F(ClustersTest, UpdateClusterSettingsMergesByName) {
  create_cluster(ctx_, {{"clusterName", "web"},
                        {"capacityProviders", json::array({"FARGATE"})},
                        {"tags", json::array({{{"key", "team"}, {"value", "core"}}})}});
  json enabled = json::array({{{"name", "containerInsights"}, {"value", "enabled"}}});
  json c = update_cluster_settings(ctx_, {{"cluster", "web"}, {"settings", enabled}})["cluster"];
  EXPECT_EQ(c["settings"], enabled);

  json enhanced = json::array({{{"name", "containerInsights"}, {"value", "enhanced"}}});
  update_cluster_settings(ctx_, {{"cluster", "web"}, {"settings", enhanced}});
  json described = describe_clusters(ctx_, {{"clusters", json::array({"web"})},
                                            {"include", json::array({"SETTINGS", "TAGS"})}})["clusters"][0];
  EXPECT_EQ(described["settings"], enhanced);  // replaced by name, not appended
  EXPECT_EQ(described["capacityProviders"], json::array({"FARGATE"}));
  EXPECT_EQ(described["tags"], json::array({{{"key", "team"}, {"value", "core"}}}));
}

TEST_F(ClustersTest, UpdateClusterSettingsOnMissingClusterFails) {
  json enabled = json::array({{{"name", "containerInsights"}, {"value", "enabled"}}});
  ApiError e = api_error([&] { update_cluster_settings(ctx_, {{"cluster", "nope"}, {"settings", enabled}}); });
  EXPECT_EQ(e.code, "ClusterNotFoundException");
}

}  // namespace
}  // namespace ecsd::services::ecs
