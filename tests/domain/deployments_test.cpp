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

}  // namespace
}  // namespace ecsd::domain::deployments
