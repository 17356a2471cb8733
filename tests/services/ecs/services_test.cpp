// Tests for the ECS service handlers (CreateService, UpdateService, DescribeServices, ListServices,
// DeleteService) and tagging of services, called directly with a fake request context.
#include <regex>
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
constexpr const char* kClusterArn = "arn:aws:ecs:us-east-1:000000000000:cluster/prod";
constexpr const char* kServicePrefix = "arn:aws:ecs:us-east-1:000000000000:service/prod/";
constexpr const char* kTdPrefix = "arn:aws:ecs:us-east-1:000000000000:task-definition/";

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

// The scope's default subnet and security group (EC2 creates the default VPC on first use).
json awsvpc_network(services::RequestContext& ctx) {
  json subnet = services::ec2::describe_subnets(ctx, json::object())["Subnets"][0]["SubnetId"];
  json group = services::ec2::describe_security_groups(ctx, json::object())["SecurityGroups"][0]["GroupId"];
  return {{"awsvpcConfiguration", {{"subnets", json::array({subnet})}, {"securityGroups", json::array({group})}}}};
}

class ServicesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    create_cluster(ctx_, {{"clusterName", "prod"}});
    register_web();                                      // web:1, bridge (EC2)
    register_task_definition(ctx_, {{"family", "app"},  // app:1, awsvpc (FARGATE)
                                    {"networkMode", "awsvpc"},
                                    {"requiresCompatibilities", json::array({"FARGATE"})},
                                    {"cpu", "256"},
                                    {"memory", "512"},
                                    {"containerDefinitions", json::array({{{"name", "app"}, {"image", "nginx"}}})}});
  }

  json register_web() {
    return register_task_definition(
        ctx_, {{"family", "web"},
               {"containerDefinitions", json::array({{{"name", "web"}, {"image", "nginx"}, {"memory", 128}}})}})
        ["taskDefinition"];
  }

  // CreateService on cluster "prod" with the EC2 task definition "web", plus `extra` members.
  json create(const std::string& name, const json& extra = json::object()) {
    json in = {{"cluster", "prod"}, {"serviceName", name}, {"taskDefinition", "web"}, {"desiredCount", 1}};
    in.update(extra);
    return create_service(ctx_, in)["service"];
  }
  json create_fargate(const std::string& name) {
    return create(name, {{"taskDefinition", "app"}, {"launchType", "FARGATE"}, {"networkConfiguration", awsvpc_network(ctx_)}});
  }
  json update(const std::string& name, const json& extra) {
    json in = {{"cluster", "prod"}, {"service", name}};
    in.update(extra);
    return update_service(ctx_, in)["service"];
  }
  json describe(const std::vector<std::string>& names) {
    return describe_services(ctx_, {{"cluster", "prod"}, {"services", names}});
  }
  json remove(const std::string& name, bool force = false) {
    json in = {{"cluster", "prod"}, {"service", name}};
    if (force) in["force"] = true;
    return delete_service(ctx_, in)["service"];
  }
  // A deleted service is DRAINING until the scheduler has stopped its tasks. These services have
  // none, so the scheduler's next pass makes them INACTIVE; do what it does, without a reconciler.
  void finish_draining(const std::string& name) {
    store_.write([&](store::Db& db) {
      auto cluster = store::ClusterRepo(db).find(ctx_.scope, "prod");
      ASSERT_TRUE(cluster);
      store::ServiceRepo repo(db);
      auto s = repo.find(cluster->id, name);
      ASSERT_TRUE(s);
      if (s->status != "DRAINING") return;
      s->status = "INACTIVE";
      s->doc["status"] = "INACTIVE";
      repo.update(*s, kNow);
    });
  }
  json remove_and_drain(const std::string& name) {
    json out = remove(name);
    finish_draining(name);
    return out;
  }
  // Follows nextToken to the end. @return every ARN listed, in order.
  std::vector<std::string> list_all(json in, int* pages = nullptr) {
    in["cluster"] = "prod";
    std::vector<std::string> out;
    int n = 0;
    while (true) {
      json page = list_services(ctx_, in);
      ++n;
      for (const auto& a : page["serviceArns"]) out.push_back(a);
      if (!page.contains("nextToken")) break;
      in["nextToken"] = page["nextToken"];
      if (n > 50) {
        ADD_FAILURE() << "paging does not terminate";
        break;
      }
    }
    if (pages) *pages = n;
    return out;
  }

  store::Store store_{":memory:"};
  RequestContext ctx_{{kAccount, "us-east-1"}, "AKIDEXAMPLE", "req-1", store_, kNow};
};

TEST_F(ServicesTest, CreateServiceResolvesFamilyToFullArn) {
  register_web();  // web:2 is now the latest ACTIVE revision
  json svc = create("api");
  EXPECT_EQ(svc["taskDefinition"], std::string(kTdPrefix) + "web:2");
  EXPECT_EQ(svc["deployments"][0]["taskDefinition"], std::string(kTdPrefix) + "web:2");
  EXPECT_EQ(create("pinned", {{"taskDefinition", "web:1"}})["taskDefinition"], std::string(kTdPrefix) + "web:1");
}

TEST_F(ServicesTest, CreateServiceReturnsArnsAndCounts) {
  json svc = create("api", {{"desiredCount", 3}});
  EXPECT_EQ(svc["serviceArn"], std::string(kServicePrefix) + "api");
  EXPECT_EQ(svc["serviceName"], "api");
  EXPECT_EQ(svc["clusterArn"], kClusterArn);
  EXPECT_EQ(svc["status"], "ACTIVE");
  EXPECT_EQ(svc["desiredCount"], 3);
  EXPECT_EQ(svc["runningCount"], 0);
  EXPECT_EQ(svc["pendingCount"], 0);
  EXPECT_EQ(svc["launchType"], "EC2");
  EXPECT_EQ(svc["schedulingStrategy"], "REPLICA");
  EXPECT_EQ(svc["deploymentController"]["type"], "ECS");
  EXPECT_DOUBLE_EQ(svc["createdAt"].get<double>(), kNow);
}

TEST_F(ServicesTest, CreateServiceStartsOnePrimaryDeployment) {
  json svc = create("api", {{"desiredCount", 2}});
  ASSERT_EQ(svc["deployments"].size(), 1u);
  const json& d = svc["deployments"][0];
  EXPECT_TRUE(std::regex_match(d["id"].get<std::string>(), std::regex("^ecs-svc/[0-9]+$"))) << d["id"];
  EXPECT_EQ(d["status"], "PRIMARY");
  EXPECT_EQ(d["rolloutState"], "IN_PROGRESS");
  EXPECT_EQ(d["taskDefinition"], std::string(kTdPrefix) + "web:1");
  EXPECT_EQ(d["desiredCount"], 2);
  EXPECT_EQ(d["runningCount"], 0);
  EXPECT_EQ(d["pendingCount"], 0);
  EXPECT_EQ(d["launchType"], "EC2");
}

TEST_F(ServicesTest, CreateServiceDefaultsDeploymentConfiguration) {
  json dc = create("api")["deploymentConfiguration"];
  EXPECT_EQ(dc["maximumPercent"], 200);
  EXPECT_EQ(dc["minimumHealthyPercent"], 100);
  EXPECT_EQ(dc["deploymentCircuitBreaker"]["enable"], false);
  EXPECT_EQ(dc["deploymentCircuitBreaker"]["rollback"], false);

  json custom = create("custom", {{"deploymentConfiguration", {{"maximumPercent", 150}}}})["deploymentConfiguration"];
  EXPECT_EQ(custom["maximumPercent"], 150);
  EXPECT_EQ(custom["minimumHealthyPercent"], 100);
}

TEST_F(ServicesTest, CreateServiceTwiceIsNotIdempotent) {
  create("api");
  ApiError e = api_error([&] { create("api"); });
  EXPECT_EQ(e.code, "InvalidParameterException");
  EXPECT_STREQ(e.what(), "Creation of service was not idempotent.");
}

TEST_F(ServicesTest, CreateServiceAwsvpcRequiresNetworkConfiguration) {
  ApiError e = api_error([&] { create("app", {{"taskDefinition", "app"}, {"launchType", "FARGATE"}}); });
  EXPECT_EQ(e.code, "InvalidParameterException");
  EXPECT_EQ(list_all(json::object()), std::vector<std::string>{});
}

TEST_F(ServicesTest, CreateServiceFargateFillsNetworkAndPlatformDefaults) {
  json svc = create_fargate("app");
  EXPECT_EQ(svc["launchType"], "FARGATE");
  EXPECT_EQ(svc["platformVersion"], "LATEST");
  EXPECT_EQ(svc["networkConfiguration"]["awsvpcConfiguration"]["assignPublicIp"], "DISABLED");
  EXPECT_EQ(svc["networkConfiguration"]["awsvpcConfiguration"]["subnets"],
            awsvpc_network(ctx_)["awsvpcConfiguration"]["subnets"]);
}

TEST_F(ServicesTest, CreateServiceInMissingClusterFails) {
  ApiError e = api_error([&] { create("api", {{"cluster", "nope"}}); });
  EXPECT_EQ(e.code, "ClusterNotFoundException");
}

TEST_F(ServicesTest, CreateServiceWithMissingTaskDefinitionFails) {
  for (const std::string td : {"nope", "web:9", "arn:aws:ecs:us-east-1:000000000000:task-definition/nope:1"}) {
    ApiError e = api_error([&] { create("api", {{"taskDefinition", td}}); });
    EXPECT_EQ(e.code, "ClientException") << td;
  }
}

TEST_F(ServicesTest, CreateServiceWithInactiveTaskDefinitionFails) {
  deregister_task_definition(ctx_, {{"taskDefinition", "web:1"}});
  EXPECT_EQ(api_error([&] { create("api", {{"taskDefinition", "web:1"}}); }).code, "ClientException");
  EXPECT_EQ(api_error([&] { create("api", {{"taskDefinition", "web"}}); }).code, "ClientException");
}

TEST_F(ServicesTest, UpdateServiceWithNewTaskDefinitionStartsNewPrimary) {
  json before = create("api");
  register_web();  // web:2
  json svc = update("api", {{"taskDefinition", "web"}});
  EXPECT_EQ(svc["taskDefinition"], std::string(kTdPrefix) + "web:2");
  ASSERT_EQ(svc["deployments"].size(), 2u);
  int primaries = 0;
  for (const auto& d : svc["deployments"]) {
    if (d["status"] == "PRIMARY") {
      ++primaries;
      EXPECT_EQ(d["taskDefinition"], std::string(kTdPrefix) + "web:2");
      EXPECT_NE(d["id"], before["deployments"][0]["id"]);
      EXPECT_EQ(d["rolloutState"], "IN_PROGRESS");
    } else {
      EXPECT_EQ(d["status"], "ACTIVE");
      EXPECT_EQ(d["taskDefinition"], std::string(kTdPrefix) + "web:1");
      EXPECT_EQ(d["id"], before["deployments"][0]["id"]);
    }
  }
  EXPECT_EQ(primaries, 1);
  EXPECT_EQ(describe({"api"})["services"][0]["deployments"], svc["deployments"]);
}

TEST_F(ServicesTest, UpdateServiceDesiredCountKeepsOneDeployment) {
  json before = create("api", {{"desiredCount", 1}});
  json svc = update("api", {{"desiredCount", 4}});
  EXPECT_EQ(svc["desiredCount"], 4);
  ASSERT_EQ(svc["deployments"].size(), 1u);
  EXPECT_EQ(svc["deployments"][0]["status"], "PRIMARY");
  EXPECT_EQ(svc["deployments"][0]["id"], before["deployments"][0]["id"]);
  EXPECT_EQ(svc["deployments"][0]["desiredCount"], 4);
}

TEST_F(ServicesTest, UpdateServiceSameTaskDefinitionKeepsOneDeployment) {
  create("api");
  json svc = update("api", {{"taskDefinition", "web:1"}});
  EXPECT_EQ(svc["deployments"].size(), 1u);
}

TEST_F(ServicesTest, UpdateServiceForceNewDeploymentStartsNewPrimary) {
  create("api");
  json svc = update("api", {{"forceNewDeployment", true}});
  ASSERT_EQ(svc["deployments"].size(), 2u);
  EXPECT_EQ(svc["deployments"][0]["status"], "PRIMARY");
  EXPECT_EQ(svc["deployments"][1]["status"], "ACTIVE");
  EXPECT_EQ(svc["deployments"][0]["taskDefinition"], svc["deployments"][1]["taskDefinition"]);
}

TEST_F(ServicesTest, UpdateServiceMergesDeploymentConfiguration) {
  create("api");
  json dc = update("api", {{"deploymentConfiguration", {{"minimumHealthyPercent", 50}}}})["deploymentConfiguration"];
  EXPECT_EQ(dc["minimumHealthyPercent"], 50);
  EXPECT_EQ(dc["maximumPercent"], 200);
}

TEST_F(ServicesTest, UpdateUnknownServiceFails) {
  EXPECT_EQ(api_error([&] { update("nope", {{"desiredCount", 1}}); }).code, "ServiceNotFoundException");
  EXPECT_EQ(api_error([&] {
              update_service(ctx_, {{"cluster", "nope"}, {"service", "api"}, {"desiredCount", 1}});
            }).code,
            "ClusterNotFoundException");
}

TEST_F(ServicesTest, UpdateDeletedServiceIsServiceNotActive) {
  // ECS answers "ServiceNotActiveException: Service was not ACTIVE." for a deleted service that is
  // still describable (DRAINING or INACTIVE); ServiceNotFoundException is for names it never saw.
  create("api", {{"desiredCount", 0}});
  remove("api");
  ApiError draining = api_error([&] { update("api", {{"desiredCount", 1}}); });
  EXPECT_EQ(draining.code, "ServiceNotActiveException") << draining.what();
  finish_draining("api");
  ApiError inactive = api_error([&] { update("api", {{"desiredCount", 1}}); });
  EXPECT_EQ(inactive.code, "ServiceNotActiveException") << inactive.what();
}

TEST_F(ServicesTest, UpdateServiceToInactiveTaskDefinitionFails) {
  create("api");
  register_web();
  deregister_task_definition(ctx_, {{"taskDefinition", "web:2"}});
  EXPECT_EQ(api_error([&] { update("api", {{"taskDefinition", "web:2"}}); }).code, "ClientException");
  EXPECT_EQ(describe({"api"})["services"][0]["taskDefinition"], std::string(kTdPrefix) + "web:1");
}

TEST_F(ServicesTest, DeleteServiceRefusesWhileScaledUpUnlessForced) {
  create("api", {{"desiredCount", 2}});
  ApiError e = api_error([&] { remove("api"); });
  EXPECT_EQ(e.code, "InvalidParameterException");
  EXPECT_EQ(describe({"api"})["services"][0]["status"], "ACTIVE");

  json deleted = remove("api", /*force=*/true);
  EXPECT_EQ(deleted["status"], "DRAINING");
  EXPECT_EQ(deleted["desiredCount"], 0);
  EXPECT_EQ(deleted["serviceArn"], std::string(kServicePrefix) + "api");
}

TEST_F(ServicesTest, DeleteServiceAfterScalingToZero) {
  create("api", {{"desiredCount", 2}});
  update("api", {{"desiredCount", 0}});
  EXPECT_EQ(remove("api")["status"], "DRAINING");
}

TEST_F(ServicesTest, DeleteUnknownServiceFails) {
  EXPECT_EQ(api_error([&] { remove("nope"); }).code, "ServiceNotFoundException");
}

TEST_F(ServicesTest, DeletedServiceStaysDescribableAsInactive) {
  create("api", {{"desiredCount", 0}});
  remove("api");
  json draining = describe({"api"});
  ASSERT_EQ(draining["services"].size(), 1u);
  EXPECT_EQ(draining["failures"], json::array());
  std::string status = draining["services"][0]["status"];
  EXPECT_TRUE(status == "DRAINING" || status == "INACTIVE") << status;

  finish_draining("api");
  json out = describe({"api", "never"});
  ASSERT_EQ(out["services"].size(), 1u);
  EXPECT_EQ(out["services"][0]["serviceName"], "api");
  EXPECT_EQ(out["services"][0]["status"], "INACTIVE");
  EXPECT_EQ(out["services"][0]["desiredCount"], 0);
  ASSERT_EQ(out["failures"].size(), 1u);
  EXPECT_EQ(out["failures"][0]["arn"], std::string(kServicePrefix) + "never");
  EXPECT_EQ(out["failures"][0]["reason"], "MISSING");
}

TEST_F(ServicesTest, DeletedServiceIsMissingAnHourAfterItWentInactive) {
  create("api", {{"desiredCount", 0}});
  remove_and_drain("api");  // INACTIVE at kNow
  ctx_.now = kNow + 3599;
  EXPECT_EQ(describe({"api"})["services"].size(), 1u);
  ctx_.now = kNow + 3601;
  json out = describe({"api"});
  EXPECT_EQ(out["services"], json::array());
  ASSERT_EQ(out["failures"].size(), 1u);
  EXPECT_EQ(out["failures"][0]["reason"], "MISSING");
  // A new service of the same name is found, not the expired one.
  create("api", {{"desiredCount", 0}});
  EXPECT_EQ(describe({"api"})["services"][0]["status"], "ACTIVE");
}

TEST_F(ServicesTest, DeleteServiceTwiceFails) {
  create("api", {{"desiredCount", 0}});
  remove_and_drain("api");
  ApiError e = api_error([&] { remove("api"); });
  EXPECT_TRUE(e.code == "ServiceNotFoundException" || e.code == "ServiceNotActiveException") << e.code;
}

TEST_F(ServicesTest, CreateServiceWhileOldOneDrainsFails) {
  create("api", {{"desiredCount", 0}});
  remove("api");
  json out = describe({"api"});
  if (out["services"][0]["status"] != "DRAINING") GTEST_SKIP() << "deleted services skip DRAINING";
  EXPECT_EQ(api_error([&] { create("api"); }).code, "InvalidParameterException");
}

TEST_F(ServicesTest, DescribeServicesAcceptsArns) {
  create("api");
  json out = describe({std::string(kServicePrefix) + "api"});
  ASSERT_EQ(out["services"].size(), 1u);
  EXPECT_EQ(out["services"][0]["serviceName"], "api");
  EXPECT_EQ(out["failures"], json::array());
}

TEST_F(ServicesTest, DescribeServicesInMissingClusterFails) {
  ApiError e = api_error([&] { describe_services(ctx_, {{"cluster", "nope"}, {"services", json::array({"api"})}}); });
  EXPECT_EQ(e.code, "ClusterNotFoundException");
}

TEST_F(ServicesTest, DescribeServicesRejectsMoreThanTen) {
  std::vector<std::string> names;
  for (int i = 0; i < 11; ++i) names.push_back("svc" + std::to_string(i));
  EXPECT_EQ(api_error([&] { describe(names); }).code, "InvalidParameterException");
}

TEST_F(ServicesTest, ServiceCallsWithoutClusterUseDefaultCluster) {
  json in = {{"serviceName", "api"}, {"taskDefinition", "web"}};
  EXPECT_EQ(api_error([&] { create_service(ctx_, in); }).code, "ClusterNotFoundException");
  create_cluster(ctx_, json::object());
  json svc = create_service(ctx_, in)["service"];
  EXPECT_EQ(svc["clusterArn"], "arn:aws:ecs:us-east-1:000000000000:cluster/default");
  EXPECT_EQ(svc["serviceArn"], "arn:aws:ecs:us-east-1:000000000000:service/default/api");
  EXPECT_EQ(list_services(ctx_, json::object())["serviceArns"], json::array({svc["serviceArn"]}));
  EXPECT_EQ(describe_services(ctx_, {{"services", json::array({"api"})}})["services"].size(), 1u);
}

TEST_F(ServicesTest, ServiceCallsAcceptClusterArn) {
  create("api");
  json out = describe_services(ctx_, {{"cluster", kClusterArn}, {"services", json::array({"api"})}});
  ASSERT_EQ(out["services"].size(), 1u);
  json svc = update_service(ctx_, {{"cluster", kClusterArn}, {"service", std::string(kServicePrefix) + "api"},
                                   {"desiredCount", 0}})["service"];
  EXPECT_EQ(svc["desiredCount"], 0);
}

TEST_F(ServicesTest, DeletedServiceIsNotListedAndNameCanBeReused) {
  create("api", {{"desiredCount", 0}});
  create("other");
  remove_and_drain("api");
  EXPECT_EQ(list_all(json::object()), std::vector<std::string>{std::string(kServicePrefix) + "other"});

  json again = create("api", {{"desiredCount", 2}});
  EXPECT_EQ(again["status"], "ACTIVE");
  EXPECT_EQ(again["serviceArn"], std::string(kServicePrefix) + "api");
  json out = describe({"api"});
  ASSERT_EQ(out["services"].size(), 1u);
  EXPECT_EQ(out["services"][0]["status"], "ACTIVE");
  EXPECT_EQ(out["services"][0]["desiredCount"], 2);
  EXPECT_EQ(list_all(json::object()).size(), 2u);
}

TEST_F(ServicesTest, DeleteServiceLetsClusterBeDeleted) {
  create("api", {{"desiredCount", 0}});
  EXPECT_EQ(api_error([&] { delete_cluster(ctx_, {{"cluster", "prod"}}); }).code,
            "ClusterContainsServicesException");
  remove("api");
  // Still DRAINING (or already INACTIVE): ECS refuses while any service is ACTIVE or DRAINING.
  if (describe({"api"})["services"][0]["status"] == "DRAINING")
    EXPECT_EQ(api_error([&] { delete_cluster(ctx_, {{"cluster", "prod"}}); }).code,
              "ClusterContainsServicesException");
  finish_draining("api");
  EXPECT_EQ(delete_cluster(ctx_, {{"cluster", "prod"}})["cluster"]["status"], "INACTIVE");
}

TEST_F(ServicesTest, ListServicesPagesThroughAllServices) {
  std::set<std::string> created;
  for (int i = 0; i < 5; ++i) created.insert(create("svc" + std::to_string(i))["serviceArn"].get<std::string>());
  int pages = 0;
  std::vector<std::string> all = list_all({{"maxResults", 2}}, &pages);
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(all.size(), 5u);
  EXPECT_EQ(std::set<std::string>(all.begin(), all.end()), created);
}

TEST_F(ServicesTest, ListServicesDefaultPageIsTen) {
  for (int i = 0; i < 12; ++i) create("svc" + std::to_string(i));
  json first = list_services(ctx_, {{"cluster", "prod"}});
  EXPECT_EQ(first["serviceArns"].size(), 10u);
  ASSERT_TRUE(first.contains("nextToken"));
  json second = list_services(ctx_, {{"cluster", "prod"}, {"nextToken", first["nextToken"]}});
  EXPECT_EQ(second["serviceArns"].size(), 2u);
  EXPECT_FALSE(second.contains("nextToken"));
}

TEST_F(ServicesTest, ListServicesFiltersByLaunchType) {
  create("ec2-a");
  create_fargate("fargate-a");
  create("ec2-b");
  create_fargate("fargate-b");
  EXPECT_EQ(list_all({{"launchType", "FARGATE"}}),
            (std::vector<std::string>{std::string(kServicePrefix) + "fargate-a",
                                      std::string(kServicePrefix) + "fargate-b"}));
  EXPECT_EQ(list_all({{"launchType", "EC2"}}),
            (std::vector<std::string>{std::string(kServicePrefix) + "ec2-a", std::string(kServicePrefix) + "ec2-b"}));
  // Filtered paging still visits every match exactly once.
  int pages = 0;
  EXPECT_EQ(list_all({{"launchType", "FARGATE"}, {"maxResults", 1}}, &pages).size(), 2u);
  EXPECT_EQ(pages, 2);
}

TEST_F(ServicesTest, ListServicesInMissingClusterFails) {
  EXPECT_EQ(api_error([&] { list_services(ctx_, {{"cluster", "nope"}}); }).code, "ClusterNotFoundException");
}

TEST_F(ServicesTest, ServicesAreScopedToTheirCluster) {
  create_cluster(ctx_, {{"clusterName", "staging"}});
  create("api");
  EXPECT_EQ(list_services(ctx_, {{"cluster", "staging"}})["serviceArns"], json::array());
  json out = describe_services(ctx_, {{"cluster", "staging"}, {"services", json::array({"api"})}});
  EXPECT_EQ(out["services"], json::array());
  EXPECT_EQ(out["failures"].size(), 1u);
  json other = create_service(ctx_, {{"cluster", "staging"}, {"serviceName", "api"}, {"taskDefinition", "web"}})
                   ["service"];
  EXPECT_EQ(other["serviceArn"], "arn:aws:ecs:us-east-1:000000000000:service/staging/api");
}

TEST_F(ServicesTest, ServiceTagsCanBeAddedListedAndRemoved) {
  json svc = create("api", {{"tags", json::array({{{"key", "team"}, {"value", "core"}}})}});
  std::string arn = svc["serviceArn"];
  EXPECT_EQ(list_tags_for_resource(ctx_, {{"resourceArn", arn}})["tags"],
            json::array({{{"key", "team"}, {"value", "core"}}}));

  tag_resource(ctx_, {{"resourceArn", arn},
                      {"tags", json::array({{{"key", "env"}, {"value", "prod"}}, {{"key", "team"}, {"value", "edge"}}})}});
  json tags = list_tags_for_resource(ctx_, {{"resourceArn", arn}})["tags"];
  std::set<std::pair<std::string, std::string>> got;
  for (const auto& t : tags) got.emplace(t["key"], t["value"]);
  EXPECT_EQ(got, (std::set<std::pair<std::string, std::string>>{{"env", "prod"}, {"team", "edge"}}));

  untag_resource(ctx_, {{"resourceArn", arn}, {"tagKeys", json::array({"team"})}});
  EXPECT_EQ(list_tags_for_resource(ctx_, {{"resourceArn", arn}})["tags"],
            json::array({{{"key", "env"}, {"value", "prod"}}}));

  json described = describe_services(ctx_, {{"cluster", "prod"},
                                            {"services", json::array({"api"})},
                                            {"include", json::array({"TAGS"})}})["services"][0];
  EXPECT_EQ(described["tags"], json::array({{{"key", "env"}, {"value", "prod"}}}));
}

TEST_F(ServicesTest, TaggingRejectsReservedKeysAndUnknownServices) {
  std::string arn = create("api")["serviceArn"];
  EXPECT_EQ(api_error([&] {
              tag_resource(ctx_, {{"resourceArn", arn}, {"tags", json::array({{{"key", "aws:x"}, {"value", "1"}}})}});
            }).code,
            "InvalidParameterException");
  std::string missing = std::string(kServicePrefix) + "nope";
  EXPECT_EQ(api_error([&] {
              tag_resource(ctx_, {{"resourceArn", missing}, {"tags", json::array({{{"key", "a"}, {"value", "1"}}})}});
            }).code,
            "ServiceNotFoundException");
}

TEST_F(ServicesTest, RecreatedServiceStartsWithoutOldTags) {
  create("api", {{"desiredCount", 0}, {"tags", json::array({{{"key", "old"}, {"value", "1"}}})}});
  remove_and_drain("api");
  std::string arn = create("api")["serviceArn"];
  EXPECT_EQ(list_tags_for_resource(ctx_, {{"resourceArn", arn}})["tags"], json::array());
}

}  // namespace
}  // namespace ecsd::services::ecs
