// ECS deployment arithmetic: maximumPercent rounds down, minimumHealthyPercent rounds up, the
// circuit breaker threshold, and the replica/daemon defaults.
#include "ecsd/domain/deployments.hpp"

#include <gtest/gtest.h>

namespace ecsd::domain::deployments {
namespace {

TEST(DeploymentsTest, MaximumPercentRoundsDown) {
  EXPECT_EQ(max_tasks(4, 200), 8);
  EXPECT_EQ(max_tasks(3, 150), 4);   // 4.5
  EXPECT_EQ(max_tasks(5, 120), 6);   // 6.0 exactly, no floating point loss
  EXPECT_EQ(max_tasks(1, 199), 1);   // 1.99
  EXPECT_EQ(max_tasks(0, 200), 0);
  EXPECT_EQ(max_tasks(7, 100), 7);
}

TEST(DeploymentsTest, MinimumHealthyPercentRoundsUp) {
  EXPECT_EQ(min_healthy_tasks(4, 100), 4);
  EXPECT_EQ(min_healthy_tasks(3, 50), 2);   // 1.5
  EXPECT_EQ(min_healthy_tasks(1, 50), 1);   // 0.5
  EXPECT_EQ(min_healthy_tasks(10, 33), 4);  // 3.3
  EXPECT_EQ(min_healthy_tasks(5, 0), 0);
  EXPECT_EQ(min_healthy_tasks(5, 60), 3);   // 3.0 exactly
}

TEST(DeploymentsTest, BreakerThresholdIsHalfTheDesiredCountClampedTo3Through200) {
  EXPECT_EQ(breaker_threshold(0), 3);
  EXPECT_EQ(breaker_threshold(1), 3);
  EXPECT_EQ(breaker_threshold(6), 3);
  EXPECT_EQ(breaker_threshold(7), 4);   // ceil(3.5)
  EXPECT_EQ(breaker_threshold(10), 5);
  EXPECT_EQ(breaker_threshold(399), 200);
  EXPECT_EQ(breaker_threshold(1000), 200);
}

TEST(DeploymentsTest, DefaultsDifferForReplicaAndDaemon) {
  json replica = default_configuration("REPLICA"), daemon = default_configuration("DAEMON");
  EXPECT_EQ(replica["maximumPercent"], 200);
  EXPECT_EQ(replica["minimumHealthyPercent"], 100);
  EXPECT_EQ(daemon["maximumPercent"], 100);
  EXPECT_EQ(daemon["minimumHealthyPercent"], 0);
  EXPECT_EQ(replica["strategy"], "ROLLING");
  EXPECT_EQ(replica["deploymentCircuitBreaker"], json({{"enable", false}, {"rollback", false}}));
}

TEST(DeploymentsTest, ReasonsUseEcsWording) {
  EXPECT_EQ(in_progress_reason("ecs-svc/1"), "ECS deployment ecs-svc/1 in progress.");
  EXPECT_EQ(completed_reason("ecs-svc/1"), "ECS deployment ecs-svc/1 completed.");
  EXPECT_EQ(breaker_failed_reason(), "ECS deployment circuit breaker: tasks failed to start.");
  EXPECT_EQ(breaker_rollback_reason("ecs-svc/1"),
            "ECS deployment circuit breaker: rolling back to deploymentId ecs-svc/1.");
}

TEST(DeploymentsTest, ShiftStepsFollowTheStrategy) {
  auto bg = shift_steps({{"strategy", "BLUE_GREEN"}});
  ASSERT_EQ(bg.size(), 1u);
  EXPECT_EQ(bg[0].green_percent, 100);
  EXPECT_EQ(bg[0].wait_seconds, 0);

  auto canary = shift_steps({{"strategy", "CANARY"},
                             {"canaryConfiguration", {{"canaryPercent", 20.0}, {"canaryBakeTimeInMinutes", 3}}}});
  ASSERT_EQ(canary.size(), 2u);
  EXPECT_EQ(canary[0].green_percent, 20);
  EXPECT_EQ(canary[0].wait_seconds, 180);
  EXPECT_EQ(canary[1].green_percent, 100);

  auto linear = shift_steps({{"strategy", "LINEAR"},
                             {"linearConfiguration", {{"stepPercent", 25.0}, {"stepBakeTimeInMinutes", 2}}}});
  ASSERT_EQ(linear.size(), 4u);
  EXPECT_EQ(linear[0].green_percent, 25);
  EXPECT_EQ(linear[2].green_percent, 75);
  EXPECT_EQ(linear[2].wait_seconds, 120);
  EXPECT_EQ(linear[3].green_percent, 100);
  EXPECT_EQ(linear[3].wait_seconds, 0);

  auto uneven = shift_steps({{"strategy", "LINEAR"}, {"linearConfiguration", {{"stepPercent", 40.0}}}});
  ASSERT_EQ(uneven.size(), 3u);  // 40, 80, then the rest
  EXPECT_EQ(uneven[1].green_percent, 80);
  EXPECT_EQ(uneven[2].green_percent, 100);
}

TEST(DeploymentsTest, TrafficShiftingNeedsAStrategyAndAnAdvancedLoadBalancer) {
  json lb = {{"targetGroupArn", "tg-a"},
             {"advancedConfiguration", {{"alternateTargetGroupArn", "tg-b"}, {"productionListenerRule", "rule"}}}};
  json svc = {{"deploymentConfiguration", {{"strategy", "CANARY"}}}, {"loadBalancers", {lb}}};
  EXPECT_TRUE(traffic_shifting(svc));
  EXPECT_EQ(advanced_load_balancer(svc)["targetGroupArn"], "tg-a");
  svc["deploymentConfiguration"]["strategy"] = "ROLLING";
  EXPECT_FALSE(traffic_shifting(svc));
  svc["deploymentConfiguration"]["strategy"] = "BLUE_GREEN";
  svc["loadBalancers"][0].erase("advancedConfiguration");
  EXPECT_FALSE(traffic_shifting(svc));
}

}  // namespace
}  // namespace ecsd::domain::deployments
