// Tests for RegisterTargets, DeregisterTargets and DescribeTargetHealth, and the target health
// transitions the data plane and ECS drive through domain/elb.hpp.
#include "elbv2_fixture.hpp"

#include "ecsd/domain/elb.hpp"

namespace ecsd::services::elbv2 {
namespace {

class TargetsTest : public Elbv2Test {
 protected:
  void SetUp() override {
    Elbv2Test::SetUp();
    lb_ = create_alb("web")["LoadBalancerArn"];
    tg_ = create_tg("web", "HTTP", 80, {{"TargetType", "ip"}})["TargetGroupArn"];
  }

  void add(const json& targets) { register_targets(ctx_, {{"TargetGroupArn", tg_}, {"Targets", targets}}); }
  void remove(const json& targets) { deregister_targets(ctx_, {{"TargetGroupArn", tg_}, {"Targets", targets}}); }
  json health(const json& targets = json()) {
    json in = {{"TargetGroupArn", tg_}};
    if (!targets.is_null()) in["Targets"] = targets;
    return describe_target_health(ctx_, in)["TargetHealthDescriptions"];
  }
  void set_delay(const std::string& seconds) {
    modify_target_group_attributes(
        ctx_, {{"TargetGroupArn", tg_},
               {"Attributes", json::array({{{"Key", "deregistration_delay.timeout_seconds"}, {"Value", seconds}}})}});
  }

  std::string lb_, tg_;
};

json target(const std::string& id, int port = 0) {
  json t = {{"Id", id}};
  if (port) t["Port"] = port;
  return t;
}

TEST_F(TargetsTest, TargetsOfAnUnusedGroupAreUnused) {
  add(json::array({target("10.0.0.1"), target("10.0.0.2", 8080)}));
  json h = health();
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h[0]["Target"]["Id"], "10.0.0.1");
  EXPECT_EQ(h[0]["Target"]["Port"], 80);
  EXPECT_EQ(h[0]["HealthCheckPort"], "80");
  EXPECT_EQ(h[0]["TargetHealth"]["State"], "unused");
  EXPECT_EQ(h[0]["TargetHealth"]["Reason"], "Target.NotInUse");
  EXPECT_EQ(h[0]["TargetHealth"]["Description"],
            "Target group is not configured to receive traffic from the load balancer");
  EXPECT_EQ(h[1]["Target"]["Port"], 8080);
  EXPECT_EQ(h[1]["HealthCheckPort"], "8080");
}

TEST_F(TargetsTest, AttachingTheGroupMakesTargetsInitialAndDetachingUnused) {
  add(json::array({target("10.0.0.1")}));
  std::string listener = create_http_listener(lb_, tg_)["ListenerArn"];
  json h = health();
  EXPECT_EQ(h[0]["TargetHealth"]["State"], "initial");
  EXPECT_EQ(h[0]["TargetHealth"]["Reason"], "Elb.RegistrationInProgress");
  add(json::array({target("10.0.0.2")}));
  EXPECT_EQ(health()[1]["TargetHealth"]["State"], "initial");
  delete_listener(ctx_, {{"ListenerArn", listener}});
  for (const auto& d : health()) EXPECT_EQ(d["TargetHealth"]["State"], "unused");
}

TEST_F(TargetsTest, DeregisteredTargetsDrainForTheDelayThenLeave) {
  create_http_listener(lb_, tg_);
  set_delay("30");
  add(json::array({target("10.0.0.1"), target("10.0.0.2")}));
  remove(json::array({target("10.0.0.1")}));
  json h = health();
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h[0]["TargetHealth"]["State"], "draining");
  EXPECT_EQ(h[0]["TargetHealth"]["Reason"], "Target.DeregistrationInProgress");
  EXPECT_EQ(h[0]["TargetHealth"]["Description"], "Target deregistration is in progress");
  ctx_.now += 29;
  EXPECT_EQ(health().size(), 2u);
  ctx_.now += 1;
  h = health();
  ASSERT_EQ(h.size(), 1u);
  EXPECT_EQ(h[0]["Target"]["Id"], "10.0.0.2");
}

TEST_F(TargetsTest, ReRegisteringADrainingTargetStartsOver) {
  create_http_listener(lb_, tg_);
  add(json::array({target("10.0.0.1")}));
  remove(json::array({target("10.0.0.1")}));
  add(json::array({target("10.0.0.1")}));
  EXPECT_EQ(health()[0]["TargetHealth"]["State"], "initial");
}

TEST_F(TargetsTest, UnusedOrZeroDelayTargetsLeaveAtOnce) {
  add(json::array({target("10.0.0.1")}));
  remove(json::array({target("10.0.0.1")}));
  EXPECT_TRUE(health().empty());
  create_http_listener(lb_, tg_);
  set_delay("0");
  add(json::array({target("10.0.0.1")}));
  remove(json::array({target("10.0.0.1")}));
  EXPECT_TRUE(health().empty());
}

TEST_F(TargetsTest, DeregisteringAnUnregisteredTargetIsANoOp) {
  add(json::array({target("10.0.0.1", 8080)}));
  remove(json::array({target("10.0.0.1")}));  // port 80: not registered
  EXPECT_EQ(health().size(), 1u);
}

TEST_F(TargetsTest, DescribeNamedTargetsReportsUnregisteredOnes) {
  add(json::array({target("10.0.0.1", 8080), target("10.0.0.1", 8081)}));
  json h = health(json::array({target("10.0.0.1"), target("10.0.0.9", 90)}));
  ASSERT_EQ(h.size(), 3u);  // both registrations of 10.0.0.1, then the unknown target
  EXPECT_EQ(h[2]["Target"]["Id"], "10.0.0.9");
  EXPECT_EQ(h[2]["Target"]["Port"], 90);
  EXPECT_EQ(h[2]["TargetHealth"]["State"], "unused");
  EXPECT_EQ(h[2]["TargetHealth"]["Reason"], "Target.NotRegistered");
}

TEST_F(TargetsTest, TargetIdsMustSuitTheTargetType) {
  auto code = [&](const std::string& id) {
    return api_error([&] { add(json::array({target(id)})); }).code;
  };
  EXPECT_EQ(code("8.8.8.8"), "InvalidTarget");
  EXPECT_EQ(code("i-0123456789abcdef0"), "InvalidTarget");
  EXPECT_EQ(code("::1"), "InvalidTarget");  // an IPv4 group
  EXPECT_NO_THROW(add(json::array({target("127.0.0.1", 8080), target("192.168.1.10"), target("100.64.0.1")})));
  std::string instances = create_tg("inst", "HTTP", 80)["TargetGroupArn"];
  EXPECT_NO_THROW(register_targets(ctx_, {{"TargetGroupArn", instances},
                                          {"Targets", json::array({target("i-0123456789abcdef0", 32768)})}}));
  EXPECT_EQ(api_error([&] {
              register_targets(ctx_, {{"TargetGroupArn", instances}, {"Targets", json::array({target("10.0.0.1")})}});
            }).code,
            "InvalidTarget");
  EXPECT_EQ(api_error([&] { register_targets(ctx_, {{"TargetGroupArn", tg_ + "0"}, {"Targets", json::array()}}); }).code,
            "TargetGroupNotFound");
}

TEST_F(TargetsTest, LambdaGroupTakesOneFunction) {
  std::string fn = create_target_group(ctx_, {{"Name", "fn"}, {"TargetType", "lambda"}})["TargetGroups"][0]["TargetGroupArn"];
  const std::string f1 = "arn:aws:lambda:us-east-1:000000000000:function:one";
  register_targets(ctx_, {{"TargetGroupArn", fn}, {"Targets", json::array({target(f1)})}});
  json h = describe_target_health(ctx_, {{"TargetGroupArn", fn}})["TargetHealthDescriptions"];
  EXPECT_FALSE(h[0]["Target"].contains("Port"));
  EXPECT_FALSE(h[0].contains("HealthCheckPort"));
  EXPECT_EQ(api_error([&] {
              register_targets(ctx_, {{"TargetGroupArn", fn},
                                      {"Targets", json::array({target("arn:aws:lambda:us-east-1:000000000000:function:two")})}});
            }).code,
            "TooManyTargets");
}

TEST_F(TargetsTest, DataPlaneHealthResultsShowInDescribeTargetHealth) {
  create_http_listener(lb_, tg_);
  add(json::array({target("10.0.0.1"), target("10.0.0.2")}));
  bool changed = store_.write([&](store::Db& db) {
    return domain::elb::set_target_health(db, tg_, "10.0.0.1", 80, domain::elb::healthy_health(), ctx_.now);
  });
  EXPECT_TRUE(changed);
  store_.write([&](store::Db& db) {
    domain::elb::set_target_health(db, tg_, "10.0.0.2", 80,
                                   domain::elb::unhealthy_health("Target.ResponseCodeMismatch", "[503]"), ctx_.now);
  });
  json h = health();
  EXPECT_EQ(h[0]["TargetHealth"]["State"], "healthy");
  EXPECT_FALSE(h[0]["TargetHealth"].contains("Reason"));
  EXPECT_EQ(h[1]["TargetHealth"]["State"], "unhealthy");
  EXPECT_EQ(h[1]["TargetHealth"]["Reason"], "Target.ResponseCodeMismatch");
  EXPECT_EQ(h[1]["TargetHealth"]["Description"], "Health checks failed with these codes: [503]");
  // A draining target keeps draining whatever the checks say.
  remove(json::array({target("10.0.0.1")}));
  bool again = store_.write([&](store::Db& db) {
    return domain::elb::set_target_health(db, tg_, "10.0.0.1", 80, domain::elb::healthy_health(), ctx_.now);
  });
  EXPECT_FALSE(again);
  EXPECT_EQ(health()[0]["TargetHealth"]["State"], "draining");
}

TEST_F(TargetsTest, AnomalyDetectionOnlyForWeightedRandomGroups) {
  add(json::array({target("10.0.0.1")}));
  json h = describe_target_health(ctx_, {{"TargetGroupArn", tg_}, {"Include", json::array({"All"})}})
               ["TargetHealthDescriptions"];
  EXPECT_FALSE(h[0].contains("AnomalyDetection"));
  modify_target_group_attributes(
      ctx_, {{"TargetGroupArn", tg_},
             {"Attributes", json::array({{{"Key", "load_balancing.algorithm.type"}, {"Value", "weighted_random"}}})}});
  h = describe_target_health(ctx_, {{"TargetGroupArn", tg_}, {"Include", json::array({"AnomalyDetection"})}})
          ["TargetHealthDescriptions"];
  EXPECT_EQ(h[0]["AnomalyDetection"]["Result"], "normal");
}

}  // namespace
}  // namespace ecsd::services::elbv2
