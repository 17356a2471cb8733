// ECS container definition -> engine ContainerSpec mapping.
#include "ecsd/reconciler/container_spec.hpp"

#include <gtest/gtest.h>

namespace ecsd::reconciler {
namespace {

using nlohmann::json;

SpecContext ctx(const std::string& mode = "bridge") {
  SpecContext c;
  c.task_arn = "arn:aws:ecs:us-east-1:000000000000:task/c/0123456789abcdef0123456789abcdef";
  c.task_id = "0123456789abcdef0123456789abcdef";
  c.cluster_name = "c";
  c.region = "us-east-1";
  c.instance_id = "i1";
  c.family = "web";
  c.revision = 3;
  c.network_mode = mode;
  c.awsvpc_network = "ecsd-i1-awsvpc";
  return c;
}

TEST(ContainerSpecTest, MapsTheContainerDefinition) {
  json td = json::parse(R"({"volumes": [{"name": "data"}, {"name": "host", "host": {"sourcePath": "/tmp/x"}}]})");
  json def = json::parse(R"({
    "name": "web", "image": "img:1", "command": ["a", "b"], "entryPoint": ["sh", "-c"],
    "cpu": 256, "memory": 128, "memoryReservation": 64,
    "environment": [{"name": "A", "value": "1"}],
    "portMappings": [{"containerPort": 80}, {"containerPort": 53, "hostPort": 5353, "protocol": "udp"}],
    "dockerLabels": {"team": "x"}, "ulimits": [{"name": "nofile", "softLimit": 1024, "hardLimit": 2048}],
    "mountPoints": [{"sourceVolume": "data", "containerPath": "/data"},
                    {"sourceVolume": "host", "containerPath": "/h", "readOnly": true}],
    "healthCheck": {"command": ["CMD-SHELL", "true"], "interval": 5},
    "linuxParameters": {"initProcessEnabled": true}, "stopTimeout": 7})");
  json overrides = json::parse(
      R"({"containerOverrides": [{"name": "web", "command": ["c"], "environment": [{"name": "A", "value": "2"}]}]})");
  auto s = build_spec(ctx(), td, def, overrides, {false, {"/tmp"}});
  EXPECT_EQ(s.name, "ecs-web-3-web-0123456789abcdef0123");
  EXPECT_EQ(*s.cmd, (std::vector<std::string>{"c"}));
  EXPECT_EQ(*s.entrypoint, (std::vector<std::string>{"sh", "-c"}));
  EXPECT_NE(std::find(s.env.begin(), s.env.end(), "A=2"), s.env.end());
  EXPECT_NE(std::find(s.env.begin(), s.env.end(), "AWS_REGION=us-east-1"), s.env.end());
  EXPECT_EQ(s.cpu_shares, 256);
  EXPECT_EQ(s.memory_bytes, 128 * 1024 * 1024);
  EXPECT_EQ(s.memory_reservation_bytes, 64 * 1024 * 1024);
  ASSERT_EQ(s.ports.size(), 2u);
  EXPECT_EQ(s.ports[0].host_port, 0);
  EXPECT_EQ(s.ports[0].host_ip, "127.0.0.1");
  EXPECT_EQ(s.ports[1].protocol, "udp");
  EXPECT_EQ(s.labels["team"], "x");
  EXPECT_EQ(s.labels["com.amazonaws.ecs.task-definition-version"], "3");
  EXPECT_EQ(s.binds, (std::vector<std::string>{"ecsd-0123456789abcdef0123-data:/data", "/tmp/x:/h:ro"}));
  ASSERT_TRUE(s.health);
  EXPECT_EQ(s.health->interval_seconds, 5);
  EXPECT_TRUE(s.init);
  EXPECT_EQ(s.stop_timeout_seconds, 7);
  EXPECT_EQ(s.ulimits[0].hard, 2048);
}

TEST(ContainerSpecTest, RefusesHostPathsOutsideTheAllowListAndPrivileged) {
  json td = {{"volumes", json::array({{{"name", "root"}, {"host", {{"sourcePath", "/etc"}}}}})}};
  json def = {{"name", "web"}, {"image", "img"}, {"mountPoints", {{{"sourceVolume", "root"}, {"containerPath", "/x"}}}}};
  EXPECT_THROW(build_spec(ctx(), td, def, json(), {false, {"/tmp"}}), SpecError);
  EXPECT_NO_THROW(build_spec(ctx(), td, def, json(), {false, {"/etc"}}));
  json priv = {{"name", "web"}, {"image", "img"}, {"privileged", true}};
  EXPECT_THROW(build_spec(ctx(), json::object(), priv, json(), {false, {}}), SpecError);
  EXPECT_TRUE(build_spec(ctx(), json::object(), priv, json(), {true, {}}).privileged);
}

TEST(ContainerSpecTest, AwsvpcContainersShareTheFirstContainersNamespace) {
  auto c = ctx("awsvpc");
  json def = {{"name", "web"}, {"image", "img"}, {"portMappings", {{{"containerPort", 80}}}}};
  auto first = build_spec(c, json::object(), def, json(), {});
  EXPECT_EQ(first.network_mode, "ecsd-i1-awsvpc");
  EXPECT_TRUE(first.ports.empty());
  c.netns_container = "abc";
  EXPECT_EQ(build_spec(c, json::object(), def, json(), {}).network_mode, "container:abc");
}

}  // namespace
}  // namespace ecsd::reconciler
