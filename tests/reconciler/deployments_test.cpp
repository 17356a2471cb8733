// The deployment state machine, stepped one pass at a time against the fake runtime and a fake
// clock: rolling steps within minimumHealthyPercent/maximumPercent, ECS's 40 s wait for tasks
// without health checks, the circuit breaker with rollback, and the service deployment records.
#include <gtest/gtest.h>

#include "../fakes/fake_runtime.hpp"
#include "ecsd/common/api_error.hpp"
#include "ecsd/common/clock.hpp"
#include "ecsd/reconciler/reconciler.hpp"
#include "ecsd/services/ecs/ecs.hpp"

namespace ecsd::reconciler {
namespace {

using nlohmann::json;
using services::RequestContext;

constexpr const char* kSvc = "service:arn:aws:ecs:us-east-1:000000000000:service/c/s";

class ServiceDeploymentsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    set_clock(&clock_);
    Options opt;
    opt.instance_id = "inst0123456789ab";
    rec_ = std::make_unique<Reconciler>(store_, rt_, opt);
    services::ecs::create_cluster(ctx(), {{"clusterName", "c"}});
  }
  void TearDown() override { set_clock(nullptr); }

  RequestContext& ctx() {
    if (!ctx_) ctx_.emplace(RequestContext{{"000000000000", "us-east-1"}, "", "req", store_, 0, {}});
    ctx_->now = clock_.now();
    return *ctx_;
  }
  void register_td(const std::string& image) {
    services::ecs::register_task_definition(
        ctx(), {{"family", "web"},
                {"containerDefinitions", {{{"name", "web"}, {"image", image}, {"memory", 64}}}}});
  }
  json service() {
    return services::ecs::describe_services(ctx(), {{"cluster", "c"}, {"services", {"s"}}})["services"][0];
  }
  std::vector<std::string> tasks(const std::string& status = "RUNNING") {
    return services::ecs::list_tasks(ctx(), {{"cluster", "c"}, {"serviceName", "s"}, {"desiredStatus", status}})
        ["taskArns"].get<std::vector<std::string>>();
  }
  // One round: the service pass, then every unstopped task's pass, then the service again.
  void round() {
    rec_->step(kSvc);
    for (const auto& a : tasks()) rec_->step("task:" + a);
    for (const auto& a : tasks("STOPPED")) rec_->step("task:" + a);
    rec_->step(kSvc);
  }
  int live_total(const json& s) {
    int n = 0;
    for (const auto& d : s["deployments"]) n += d["runningCount"].get<int>() + d["pendingCount"].get<int>();
    return n;
  }

  FakeClock clock_{1767225600};
  store::Store store_{":memory:"};
  fakes::FakeRuntime rt_;
  std::unique_ptr<Reconciler> rec_;
  std::optional<RequestContext> ctx_;
};

TEST_F(ServiceDeploymentsTest, RollingUpdateStaysWithinMinAndMaxAndWaitsFortySecondsForTasksWithoutHealthChecks) {
  register_td("busybox:1");
  register_td("busybox:2");
  services::ecs::create_service(ctx(), {{"cluster", "c"}, {"serviceName", "s"}, {"taskDefinition", "web:1"},
                                        {"desiredCount", 4},
                                        {"deploymentConfiguration", {{"maximumPercent", 150},
                                                                     {"minimumHealthyPercent", 50}}}});
  round();
  ASSERT_EQ(service()["deployments"][0]["rolloutState"], "COMPLETED");
  clock_.advance(41);
  services::ecs::update_service(ctx(), {{"cluster", "c"}, {"service", "s"}, {"taskDefinition", "web:2"}});
  json s = service();
  ASSERT_EQ(s["deployments"].size(), 2u);
  EXPECT_EQ(s["deployments"][0]["status"], "PRIMARY");
  EXPECT_EQ(s["deployments"][1]["status"], "ACTIVE");

  // max 150% of 4 = 6 tasks; min 50% of 4 = 2 healthy. First pass: 2 new tasks, 2 old ones stopped.
  rec_->step(kSvc);
  s = service();
  EXPECT_EQ(tasks().size(), 4u);
  EXPECT_EQ(s["deployments"][0]["pendingCount"], 2);
  EXPECT_EQ(s["deployments"][1]["runningCount"], 2);
  for (int i = 0; i < 6; ++i) {
    round();
    s = service();
    EXPECT_LE(live_total(s), 6) << s["deployments"].dump();
    if (s["deployments"].size() == 1) break;
    // New tasks without health checks count only 40 s after RUNNING: the 2 old ones stay meanwhile.
    EXPECT_EQ(s["deployments"][1]["runningCount"], 2) << s["deployments"].dump();
    clock_.advance(41);
  }
  s = service();
  ASSERT_EQ(s["deployments"].size(), 1u) << s["deployments"].dump();
  EXPECT_EQ(s["deployments"][0]["rolloutState"], "COMPLETED");
  EXPECT_EQ(s["deployments"][0]["taskDefinition"], "arn:aws:ecs:us-east-1:000000000000:task-definition/web:2");
  EXPECT_EQ(s["runningCount"], 4);

  json sds = services::ecs::list_service_deployments(ctx(), {{"cluster", "c"}, {"service", "s"}});
  ASSERT_EQ(sds["serviceDeployments"].size(), 2u);
  EXPECT_EQ(sds["serviceDeployments"][0]["status"], "SUCCESSFUL");
  EXPECT_TRUE(sds["serviceDeployments"][0].contains("finishedAt"));
}

TEST_F(ServiceDeploymentsTest, TimeScaleShortensTheFortySecondWait) {
  register_td("busybox:1");
  register_td("busybox:2");
  services::ecs::create_service(ctx(), {{"cluster", "c"}, {"serviceName", "s"}, {"taskDefinition", "web:1"},
                                        {"desiredCount", 1}});
  round();
  clock_.set_scale(10);
  clock_.advance(5);
  services::ecs::update_service(ctx(), {{"cluster", "c"}, {"service", "s"}, {"taskDefinition", "web:2"}});
  round();
  EXPECT_EQ(service()["deployments"].size(), 2u);
  clock_.advance(4.1);  // 40 s / 10
  round();
  round();
  EXPECT_EQ(service()["deployments"].size(), 1u) << service()["deployments"].dump();
}

TEST_F(ServiceDeploymentsTest, CircuitBreakerCountsFailedLaunchesAndRollsBackToTheLastCompletedRevision) {
  register_td("busybox:1");
  register_td("missing:2");  // the fake engine cannot pull it: every launch fails
  services::ecs::create_service(
      ctx(), {{"cluster", "c"}, {"serviceName", "s"}, {"taskDefinition", "web:1"}, {"desiredCount", 2},
              {"deploymentConfiguration", {{"deploymentCircuitBreaker", {{"enable", true}, {"rollback", true}}}}}});
  round();
  std::string completed = service()["deployments"][0]["id"];
  services::ecs::update_service(ctx(), {{"cluster", "c"}, {"service", "s"}, {"taskDefinition", "web:2"}});
  std::string failing = service()["deployments"][0]["id"];
  json s;
  for (int i = 0; i < 20; ++i) {
    round();
    clock_.advance(70);  // past any crash-loop backoff
    s = service();
    if (s["deployments"][0]["id"] != failing) break;
    EXPECT_LT(s["deployments"][0]["failedTasks"].get<int>(), 5) << "the breaker trips at 3";
  }
  ASSERT_NE(s["deployments"][0]["id"], failing) << s["deployments"].dump();
  EXPECT_EQ(s["deployments"][0]["rolloutStateReason"],
            "ECS deployment circuit breaker: rolling back to deploymentId " + completed + ".");
  EXPECT_EQ(s["taskDefinition"], "arn:aws:ecs:us-east-1:000000000000:task-definition/web:1");
  bool failed_event = false;
  for (const auto& e : s["events"])
    failed_event |= e["message"] == "(service s) (deployment " + failing + ") deployment failed: tasks failed to start.";
  EXPECT_TRUE(failed_event);
  for (int i = 0; i < 4; ++i) {
    round();
    clock_.advance(41);
  }
  s = service();
  ASSERT_EQ(s["deployments"].size(), 1u) << s["deployments"].dump();
  EXPECT_EQ(s["deployments"][0]["rolloutState"], "COMPLETED");
  json sds = services::ecs::list_service_deployments(ctx(), {{"cluster", "c"}, {"service", "s"}});
  EXPECT_EQ(sds["serviceDeployments"][0]["status"], "ROLLBACK_SUCCESSFUL");
  json sd = services::ecs::describe_service_deployments(
      ctx(), {{"serviceDeploymentArns", {sds["serviceDeployments"][0]["serviceDeploymentArn"]}}})["serviceDeployments"][0];
  EXPECT_EQ(sd["deploymentCircuitBreaker"]["status"], "TRIGGERED");
  EXPECT_GE(sd["deploymentCircuitBreaker"]["failureCount"].get<int>(), 3);  // two launches fail per round
  EXPECT_EQ(sd["deploymentCircuitBreaker"]["threshold"], 3);
}

TEST_F(ServiceDeploymentsTest, StopServiceDeploymentWithoutCompletedRevisionIsAConflict) {
  register_td("missing:1");
  services::ecs::create_service(ctx(), {{"cluster", "c"}, {"serviceName", "s"}, {"taskDefinition", "web:1"},
                                        {"desiredCount", 1}});
  json sds = services::ecs::list_service_deployments(ctx(), {{"cluster", "c"}, {"service", "s"}});
  ASSERT_EQ(sds["serviceDeployments"].size(), 1u);
  EXPECT_EQ(sds["serviceDeployments"][0]["status"], "IN_PROGRESS");
  try {
    services::ecs::stop_service_deployment(
        ctx(), {{"serviceDeploymentArn", sds["serviceDeployments"][0]["serviceDeploymentArn"]}});
    FAIL() << "expected ConflictException";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.code, "ConflictException");
  }
}

TEST_F(ServiceDeploymentsTest, DaemonServiceRunsOneTaskPerActiveInstanceAndReplacesItStopFirst) {
  register_td("busybox:1");
  register_td("busybox:2");
  json created = services::ecs::create_service(
      ctx(), {{"cluster", "c"}, {"serviceName", "s"}, {"taskDefinition", "web:1"}, {"schedulingStrategy", "DAEMON"}});
  EXPECT_EQ(created["service"]["deploymentConfiguration"]["maximumPercent"], 100);
  EXPECT_EQ(created["service"]["deploymentConfiguration"]["minimumHealthyPercent"], 0);
  round();
  json s = service();
  EXPECT_EQ(s["desiredCount"], 1);  // the local container instance
  EXPECT_EQ(s["runningCount"], 1);
  services::ecs::update_service(ctx(), {{"cluster", "c"}, {"service", "s"}, {"taskDefinition", "web:2"}});
  // maximumPercent 100: the old task stops before its replacement starts.
  rec_->step(kSvc);
  EXPECT_EQ(tasks().size(), 0u);
  round();
  round();
  s = service();
  ASSERT_EQ(s["deployments"].size(), 1u) << s["deployments"].dump();
  EXPECT_EQ(s["deployments"][0]["taskDefinition"], "arn:aws:ecs:us-east-1:000000000000:task-definition/web:2");
  EXPECT_EQ(s["runningCount"], 1);
}

}  // namespace
}  // namespace ecsd::reconciler
