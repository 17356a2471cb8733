// Tests for the ELBv2 read models and target transitions the data plane and the ECS scheduler use
// (domain/elb.hpp). Resources are created through the API handlers, as a user would.
#include "ecsd/domain/elb.hpp"

#include "../services/elbv2/elbv2_fixture.hpp"

namespace ecsd::services::elbv2 {
namespace {

namespace elb = domain::elb;

class ElbDomainTest : public Elbv2Test {
 protected:
  void SetUp() override {
    Elbv2Test::SetUp();
    lb_ = create_alb("web")["LoadBalancerArn"];
    web_ = create_tg("web", "HTTP", 80, {{"TargetType", "ip"}, {"HealthCheckPath", "/health"}})["TargetGroupArn"];
    api_ = create_tg("api", "HTTP", 8080, {{"TargetType", "ip"}})["TargetGroupArn"];
    create_tg("idle");
    listener_ = create_http_listener(lb_, web_)["ListenerArn"];
    path_rule(listener_, 10, "/api/*", api_);
  }

  std::string lb_, web_, api_, listener_;
};

TEST_F(ElbDomainTest, ListenersCarryTheirLoadBalancerAndRulesInOrder) {
  auto views = store_.read([&](store::Db& db) { return elb::listeners(db); });
  ASSERT_EQ(views.size(), 1u);
  const auto& v = views[0];
  EXPECT_EQ(v.listener.arn, listener_);
  EXPECT_EQ(v.listener.port, 80);
  EXPECT_EQ(v.listener.protocol, "HTTP");
  EXPECT_EQ(v.load_balancer.arn, lb_);
  EXPECT_EQ(v.load_balancer.type, "application");
  EXPECT_NE(v.load_balancer.dns_name.find(".elb.localhost"), std::string::npos);
  EXPECT_EQ(v.load_balancer.attributes["idle_timeout.timeout_seconds"], "60");
  ASSERT_EQ(v.rules.size(), 2u);
  EXPECT_EQ(v.rules[0].priority, 10);
  EXPECT_EQ(v.rules[0].conditions[0]["PathPatternConfig"]["Values"][0], "/api/*");
  EXPECT_EQ(v.rules[0].actions[0]["ForwardConfig"]["TargetGroups"][0]["TargetGroupArn"], api_);
  EXPECT_FALSE(v.rules[1].priority);
  EXPECT_EQ(v.rules[1].actions[0]["TargetGroupArn"], web_);
  auto one = store_.read([&](store::Db& db) { return elb::listener(db, listener_); });
  ASSERT_TRUE(one);
  EXPECT_EQ(one->rules.size(), 2u);
}

TEST_F(ElbDomainTest, TargetGroupsInUseAreWhatHealthChecksProbe) {
  auto groups = store_.read([&](store::Db& db) { return elb::target_groups_in_use(db); });
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0].group.arn, web_);
  EXPECT_EQ(groups[0].group.doc["HealthCheckPath"], "/health");
  EXPECT_EQ(groups[0].load_balancer_arns, std::vector<std::string>{lb_});
  EXPECT_EQ(elb::deregistration_delay(groups[0].group), 300);
}

TEST_F(ElbDomainTest, SchedulerRegistersAndDeregistersByArn) {
  store_.write([&](store::Db& db) {
    EXPECT_TRUE(elb::register_targets(db, api_, {{"172.17.0.5", 0, ""}, {"172.17.0.6", 32768, ""}}, kNow));
    EXPECT_FALSE(elb::register_targets(db, api_ + "0", {{"172.17.0.5", 0, ""}}, kNow));
  });
  auto g = store_.read([&](store::Db& db) { return elb::target_group(db, api_); });
  ASSERT_EQ(g->targets.size(), 2u);
  EXPECT_EQ(g->targets[0].port, 8080);
  EXPECT_EQ(g->targets[0].state, elb::kInitial);
  EXPECT_EQ(g->targets[1].port, 32768);
  EXPECT_EQ(elb::health_check_port(g->group, g->targets[1]), 32768);
  store_.write([&](store::Db& db) {
    EXPECT_TRUE(elb::set_target_health(db, api_, "172.17.0.5", 8080, elb::healthy_health(), kNow + 1));
    EXPECT_FALSE(elb::set_target_health(db, api_, "172.17.0.5", 8080, elb::healthy_health(), kNow + 2));
    elb::deregister_targets(db, api_, {{"172.17.0.5", 0, ""}}, kNow + 3);
  });
  g = store_.read([&](store::Db& db) { return elb::target_group(db, api_); });
  EXPECT_EQ(g->targets[0].state, elb::kDraining);
  EXPECT_EQ(g->targets[0].drain_until, kNow + 3 + 300);
  EXPECT_FALSE(elb::routable(g->targets[0].state));
  EXPECT_EQ(store_.write([&](store::Db& db) { return elb::purge_drained(db, kNow + 303); }), 1);
}

TEST(ElbHealthTest, StatesAndReasons) {
  EXPECT_EQ(elb::registered_health(false, true).reason, "Target.NotInUse");
  EXPECT_EQ(elb::registered_health(true, true).state, "initial");
  EXPECT_EQ(elb::registered_health(true, false).reason, "Target.HealthCheckDisabled");
  EXPECT_EQ(elb::unhealthy_health("Target.Timeout").description, "Request timed out");
  EXPECT_TRUE(elb::routable("healthy"));
  EXPECT_TRUE(elb::routable("unavailable"));
  EXPECT_FALSE(elb::routable("initial"));
}

}  // namespace
}  // namespace ecsd::services::elbv2
