// Tests for the ECS task definition handlers (RegisterTaskDefinition, DescribeTaskDefinition,
// ListTaskDefinitions, ListTaskDefinitionFamilies, DeregisterTaskDefinition, DeleteTaskDefinitions),
// called directly with a fake request context; one round trip goes through the Dispatcher's codec.
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include "ecsd/common/api_error.hpp"
#include "ecsd/common/clock.hpp"
#include "ecsd/services/dispatcher.hpp"
#include "ecsd/services/ecs/ecs.hpp"
#include "ecsd/store/store.hpp"

namespace ecsd::services::ecs {
namespace {

constexpr const char* kAccount = "000000000000";
constexpr double kNow = 1767225600.0;  // 2026-01-01T00:00:00Z
constexpr const char* kArnPrefix = "arn:aws:ecs:us-east-1:000000000000:task-definition/";

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

// A minimal EC2 container: ECS needs memory or memoryReservation when the task has no memory.
json container(const std::string& name = "app") {
  return {{"name", name}, {"image", "public.ecr.aws/nginx/nginx:latest"}, {"memory", 256}};
}

// A container definition using every member of the ContainerDefinition shape that a bridge-mode
// task accepts, with non-default values, so that anything ecsd drops or rewrites shows up.
json full_container() {
  return {
      {"name", "web"},
      {"image", "123456789012.dkr.ecr.us-east-1.amazonaws.com/web:1.2.3"},
      {"repositoryCredentials", {{"credentialsParameter", "arn:aws:secretsmanager:us-east-1:123456789012:secret:x"}}},
      {"cpu", 128},
      {"memory", 512},
      {"memoryReservation", 256},
      {"links", json::array({"db:database"})},
      {"portMappings", json::array({{{"containerPort", 8080}, {"hostPort", 80}, {"protocol", "tcp"},
                                     {"name", "http"}, {"appProtocol", "http"}},
                                    {{"containerPort", 53}, {"hostPort", 5353}, {"protocol", "udp"}}})},
      {"essential", false},
      {"restartPolicy", {{"enabled", true}, {"ignoredExitCodes", json::array({0, 137})}, {"restartAttemptPeriod", 120}}},
      {"entryPoint", json::array({"/bin/sh", "-c"})},
      {"command", json::array({"exec nginx -g 'daemon off;'"})},
      {"environment", json::array({{{"name", "MODE"}, {"value", "prod"}}, {{"name", "EMPTY"}, {"value", ""}}})},
      {"environmentFiles", json::array({{{"value", "arn:aws:s3:::bucket/app.env"}, {"type", "s3"}}})},
      {"mountPoints", json::array({{{"sourceVolume", "data"}, {"containerPath", "/data"}, {"readOnly", true}}})},
      {"volumesFrom", json::array({{{"sourceContainer", "db"}, {"readOnly", false}}})},
      {"linuxParameters",
       {{"capabilities", {{"add", json::array({"NET_ADMIN"})}, {"drop", json::array({"MKNOD"})}}},
        {"devices", json::array({{{"hostPath", "/dev/fuse"}, {"containerPath", "/dev/fuse"},
                                  {"permissions", json::array({"read", "write"})}}})},
        {"initProcessEnabled", true},
        {"sharedMemorySize", 64},
        {"tmpfs", json::array({{{"containerPath", "/tmp"}, {"size", 32}, {"mountOptions", json::array({"rw"})}}})},
        {"maxSwap", 1024},
        {"swappiness", 10}}},
      {"secrets", json::array({{{"name", "DB_PASSWORD"},
                                {"valueFrom", "arn:aws:ssm:us-east-1:123456789012:parameter/db-password"}}})},
      {"dependsOn", json::array({{{"containerName", "db"}, {"condition", "START"}}})},
      {"startTimeout", 60},
      {"stopTimeout", 30},
      {"versionConsistency", "disabled"},
      {"hostname", "web-host"},
      {"user", "1000:1000"},
      {"workingDirectory", "/srv"},
      {"disableNetworking", false},
      {"privileged", true},
      {"readonlyRootFilesystem", true},
      {"dnsServers", json::array({"10.0.0.2"})},
      {"dnsSearchDomains", json::array({"example.internal"})},
      {"extraHosts", json::array({{{"hostname", "db.local"}, {"ipAddress", "10.0.0.10"}}})},
      {"dockerSecurityOptions", json::array({"no-new-privileges"})},
      {"interactive", true},
      {"pseudoTerminal", true},
      {"dockerLabels", {{"com.example.team", "core"}, {"tier", "web"}}},
      {"ulimits", json::array({{{"name", "nofile"}, {"softLimit", 1024}, {"hardLimit", 4096}}})},
      {"logConfiguration",
       {{"logDriver", "awslogs"},
        {"options", {{"awslogs-group", "/ecs/web"}, {"awslogs-region", "us-east-1"}, {"awslogs-stream-prefix", "web"}}},
        {"secretOptions", json::array({{{"name", "token"},
                                        {"valueFrom", "arn:aws:ssm:us-east-1:123456789012:parameter/token"}}})}}},
      {"healthCheck",
       {{"command", json::array({"CMD-SHELL", "curl -f http://localhost/ || exit 1"})},
        {"interval", 10},
        {"timeout", 3},
        {"retries", 5},
        {"startPeriod", 20}}},
      {"systemControls", json::array({{{"namespace", "net.core.somaxconn"}, {"value", "1024"}}})},
      {"resourceRequirements", json::array({{{"value", "1"}, {"type", "GPU"}}})},
      {"firelensConfiguration", {{"type", "fluentbit"}, {"options", {{"enable-ecs-log-metadata", "true"}}}}},
      {"credentialSpecs", json::array({"credentialspec:arn:aws:s3:::bucket/spec.json"})},
  };
}

// Task-level members of RegisterTaskDefinition (bridge mode) with non-default values.
json full_task_definition() {
  json host_volume = {{"name", "data"}, {"host", {{"sourcePath", "/srv/data"}}}};
  json docker_config = {{"scope", "shared"},
                        {"autoprovision", true},
                        {"driver", "local"},
                        {"driverOpts", {{"type", "tmpfs"}}},
                        {"labels", {{"a", "b"}}}};
  json docker_volume = {{"name", "scratch"}, {"dockerVolumeConfiguration", docker_config}};
  return {{"family", "full"},
          {"taskRoleArn", "arn:aws:iam::000000000000:role/app"},
          {"executionRoleArn", "arn:aws:iam::000000000000:role/ecsTaskExecutionRole"},
          {"networkMode", "bridge"},
          {"containerDefinitions", json::array({full_container(), container("db")})},
          {"volumes", json::array({host_volume, docker_volume})},
          {"placementConstraints",
           json::array({{{"type", "memberOf"}, {"expression", "attribute:ecs.instance-type =~ t3.*"}}})},
          {"requiresCompatibilities", json::array({"EC2"})},
          {"cpu", "512"},
          {"memory", "1024"},
          {"pidMode", "host"},
          {"ipcMode", "host"},
          {"runtimePlatform", {{"cpuArchitecture", "ARM64"}, {"operatingSystemFamily", "LINUX"}}}};
}

json fargate(const std::string& cpu, const std::string& memory, const std::string& family = "fg") {
  return {{"family", family},
          {"networkMode", "awsvpc"},
          {"requiresCompatibilities", json::array({"FARGATE"})},
          {"cpu", cpu},
          {"memory", memory},
          {"containerDefinitions", json::array({{{"name", "app"}, {"image", "nginx"}}})}};
}

// Installs a process clock for the scope of a test.
struct ClockGuard {
  explicit ClockGuard(Clock* c) { set_clock(c); }
  ~ClockGuard() { set_clock(nullptr); }
};

// Keeps the dispatcher's per-request access lines out of test output for the scope of a test.
struct QuietLogs {
  QuietLogs() : saved(spdlog::get_level()) { spdlog::set_level(spdlog::level::warn); }
  ~QuietLogs() { spdlog::set_level(saved); }
  spdlog::level::level_enum saved;
};

std::vector<std::string> strings(const json& list) { return list.get<std::vector<std::string>>(); }

class TaskDefinitionsTest : public ::testing::Test {
 protected:
  RequestContext context(const std::string& region) {
    return RequestContext{{kAccount, region}, "AKIDEXAMPLE", "req-1", store_, kNow};
  }

  json reg(const json& in) { return register_task_definition(ctx_, in)["taskDefinition"]; }
  json reg_family(const std::string& family) {
    return reg({{"family", family}, {"containerDefinitions", json::array({container()})}});
  }
  json describe(const std::string& ref) { return describe_task_definition(ctx_, {{"taskDefinition", ref}}); }
  json deregister(const std::string& ref) {
    return deregister_task_definition(ctx_, {{"taskDefinition", ref}})["taskDefinition"];
  }
  // Follows nextToken to the end. @return every ARN listed, in order.
  std::vector<std::string> list_all(json in, int* pages = nullptr) {
    std::vector<std::string> out;
    int n = 0;
    while (true) {
      json page = list_task_definitions(ctx_, in);
      ++n;
      for (const auto& a : page["taskDefinitionArns"]) out.push_back(a);
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
  RequestContext ctx_ = context("us-east-1");
};

TEST_F(TaskDefinitionsTest, RegisterAssignsRevisionsPerFamily) {
  for (int rev = 1; rev <= 3; ++rev) {
    json td = reg_family("web");
    EXPECT_EQ(td["revision"], rev);
    EXPECT_EQ(td["family"], "web");
    EXPECT_EQ(td["taskDefinitionArn"], std::string(kArnPrefix) + "web:" + std::to_string(rev));
    EXPECT_EQ(td["status"], "ACTIVE");
  }
  EXPECT_EQ(reg_family("worker")["revision"], 1);
  EXPECT_EQ(reg_family("web")["revision"], 4);
}

TEST_F(TaskDefinitionsTest, RegisterReturnsTagsAndRecordsRegistration) {
  json out = register_task_definition(ctx_, {{"family", "web"},
                                             {"containerDefinitions", json::array({container()})},
                                             {"tags", json::array({{{"key", "team"}, {"value", "core"}}})}});
  EXPECT_EQ(out["tags"], json::array({{{"key", "team"}, {"value", "core"}}}));
  const json& td = out["taskDefinition"];
  EXPECT_FALSE(td.contains("tags"));
  EXPECT_DOUBLE_EQ(td["registeredAt"].get<double>(), kNow);
  EXPECT_EQ(td["registeredBy"], "arn:aws:iam::000000000000:root");
}

TEST_F(TaskDefinitionsTest, DescribeByFamilyReturnsLatestActiveRevision) {
  reg_family("web");
  reg_family("web");
  reg_family("web");
  json td = describe("web")["taskDefinition"];
  EXPECT_EQ(td["revision"], 3);
  EXPECT_EQ(td["taskDefinitionArn"], std::string(kArnPrefix) + "web:3");
}

TEST_F(TaskDefinitionsTest, DescribeByFamilyAndRevision) {
  reg_family("web");
  reg_family("web");
  json td = describe("web:1")["taskDefinition"];
  EXPECT_EQ(td["revision"], 1);
  EXPECT_EQ(td["taskDefinitionArn"], std::string(kArnPrefix) + "web:1");
}

TEST_F(TaskDefinitionsTest, DescribeByArn) {
  reg_family("web");
  reg_family("web");
  json td = describe(std::string(kArnPrefix) + "web:2")["taskDefinition"];
  EXPECT_EQ(td["revision"], 2);
  EXPECT_EQ(td["family"], "web");
}

TEST_F(TaskDefinitionsTest, DescribeUnknownIsClientException) {
  reg_family("web");
  for (const std::string ref : {"nope", "web:2", "web:0", "web:x", "nope:1",
                                "arn:aws:ecs:us-east-1:000000000000:task-definition/nope:1",
                                "arn:aws:ecs:us-east-1:111111111111:task-definition/web:1"}) {
    ApiError e = api_error([&] { describe(ref); });
    EXPECT_EQ(e.code, "ClientException") << ref;
  }
}

TEST_F(TaskDefinitionsTest, DescribeIncludesTagsWhenAsked) {
  register_task_definition(ctx_, {{"family", "web"},
                                  {"containerDefinitions", json::array({container()})},
                                  {"tags", json::array({{{"key", "team"}, {"value", "core"}}})}});
  json with = describe_task_definition(ctx_, {{"taskDefinition", "web"}, {"include", json::array({"TAGS"})}});
  EXPECT_EQ(with["tags"], json::array({{{"key", "team"}, {"value", "core"}}}));
  json without = describe("web");
  EXPECT_TRUE(!without.contains("tags") || without["tags"].empty());
}

TEST_F(TaskDefinitionsTest, RegisterRoundTripsEveryContainerField) {
  json in = full_task_definition();
  json expected = full_container();
  json registered = reg(in);
  json described = describe("full:1")["taskDefinition"];
  for (const json* td : {&registered, &described}) {
    ASSERT_EQ((*td)["containerDefinitions"].size(), 2u);
    const json& c = (*td)["containerDefinitions"][0];
    for (const auto& [key, value] : expected.items()) {
      ASSERT_TRUE(c.contains(key)) << "container member dropped: " << key;
      EXPECT_EQ(c[key], value) << "container member changed: " << key;
    }
    for (const char* key : {"taskRoleArn", "executionRoleArn", "networkMode", "volumes", "placementConstraints",
                            "requiresCompatibilities", "cpu", "memory", "pidMode", "ipcMode", "runtimePlatform"}) {
      ASSERT_TRUE(td->contains(key)) << "task member dropped: " << key;
      EXPECT_EQ((*td)[key], in[key]) << "task member changed: " << key;
    }
  }
}

TEST_F(TaskDefinitionsTest, RegisterRoundTripsEveryContainerFieldOverTheWire) {
  FakeClock clock(kNow);
  ClockGuard guard(&clock);
  QuietLogs quiet;
  Dispatcher dispatcher(store_, kAccount);
  dispatcher.add(make_api());
  auto call = [&](const std::string& op, const json& body) {
    protocol::WireRequest req;
    req.method = "POST";
    req.target = "/";
    req.headers = {{"content-type", "application/x-amz-json-1.1"},
                   {"x-amz-target", "AmazonEC2ContainerServiceV20141113." + op},
                   {"authorization",
                    "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/ecs/aws4_request, "
                    "SignedHeaders=host;x-amz-date, Signature=0"}};
    req.body = body.dump();
    return dispatcher.handle(req);
  };
  json in = full_task_definition();
  json expected = full_container();
  protocol::WireResponse put = call("RegisterTaskDefinition", in);
  ASSERT_EQ(put.status, 200) << put.body;
  protocol::WireResponse got = call("DescribeTaskDefinition", {{"taskDefinition", "full"}});
  ASSERT_EQ(got.status, 200) << got.body;
  for (const auto& resp : {put, got}) {
    json td = json::parse(resp.body)["taskDefinition"];
    ASSERT_EQ(td["containerDefinitions"].size(), 2u);
    const json& c = td["containerDefinitions"][0];
    for (const auto& [key, value] : expected.items()) {
      ASSERT_TRUE(c.contains(key)) << "container member dropped on the wire: " << key;
      EXPECT_EQ(c[key], value) << "container member changed on the wire: " << key;
    }
    for (const char* key : {"taskRoleArn", "executionRoleArn", "networkMode", "volumes", "placementConstraints",
                            "requiresCompatibilities", "cpu", "memory", "pidMode", "ipcMode", "runtimePlatform"}) {
      ASSERT_TRUE(td.contains(key)) << "task member dropped on the wire: " << key;
      EXPECT_EQ(td[key], in[key]) << "task member changed on the wire: " << key;
    }
    EXPECT_EQ(td["registeredAt"], kNow);  // awsJson timestamps are epoch seconds
  }
}

TEST_F(TaskDefinitionsTest, RegisterFillsContainerDefaults) {
  json td = reg({{"family", "web"},
                 {"containerDefinitions",
                  json::array({{{"name", "app"}, {"image", "nginx"}, {"memory", 256},
                                {"portMappings", json::array({{{"containerPort", 80}}})}}})}});
  const json& c = td["containerDefinitions"][0];
  EXPECT_EQ(c["cpu"], 0);
  EXPECT_EQ(c["essential"], true);
  EXPECT_EQ(c["environment"], json::array());
  EXPECT_EQ(c["mountPoints"], json::array());
  EXPECT_EQ(c["volumesFrom"], json::array());
  EXPECT_EQ(c["systemControls"], json::array());
  ASSERT_EQ(c["portMappings"].size(), 1u);
  EXPECT_EQ(c["portMappings"][0]["protocol"], "tcp");
  EXPECT_EQ(c["portMappings"][0]["containerPort"], 80);
  EXPECT_EQ(td["volumes"], json::array());
  EXPECT_EQ(td["placementConstraints"], json::array());
  EXPECT_EQ(td["requiresAttributes"].is_array(), true);
  std::vector<std::string> compat = strings(td["compatibilities"]);
  EXPECT_EQ(std::set<std::string>(compat.begin(), compat.end()), (std::set<std::string>{"EC2", "EXTERNAL"}));
}

TEST_F(TaskDefinitionsTest, RegisterFillsEmptyPortMappings) {
  json c = reg_family("web")["containerDefinitions"][0];
  EXPECT_EQ(c["portMappings"], json::array());
}

TEST_F(TaskDefinitionsTest, RegisterFillsHealthCheckDefaults) {
  // ECS fills interval 30, timeout 5 and retries 3 into a health check that omits them.
  json c = container();
  c["healthCheck"] = {{"command", json::array({"CMD-SHELL", "true"})}};
  json hc = reg({{"family", "web"}, {"containerDefinitions", json::array({c})}})["containerDefinitions"][0]
                ["healthCheck"];
  EXPECT_EQ(hc["command"], json::array({"CMD-SHELL", "true"}));
  EXPECT_EQ(hc.value("interval", -1), 30) << hc.dump();
  EXPECT_EQ(hc.value("timeout", -1), 5) << hc.dump();
  EXPECT_EQ(hc.value("retries", -1), 3) << hc.dump();
}

TEST_F(TaskDefinitionsTest, AwsvpcSetsHostPortToContainerPort) {
  json in = fargate("256", "512");
  in["containerDefinitions"][0]["portMappings"] = json::array({{{"containerPort", 8080}}});
  json pm = reg(in)["containerDefinitions"][0]["portMappings"][0];
  EXPECT_EQ(pm["containerPort"], 8080);
  EXPECT_EQ(pm["hostPort"], 8080);
  EXPECT_EQ(pm["protocol"], "tcp");
}

TEST_F(TaskDefinitionsTest, AwsvpcRejectsHostPortDifferentFromContainerPort) {
  json in = fargate("256", "512");
  in["containerDefinitions"][0]["portMappings"] = json::array({{{"containerPort", 8080}, {"hostPort", 80}}});
  EXPECT_EQ(api_error([&] { reg(in); }).code, "ClientException");
}

TEST_F(TaskDefinitionsTest, FargateRequiresAwsvpc) {
  for (const char* mode : {"bridge", "host"}) {
    json in = fargate("256", "512");
    in["networkMode"] = mode;
    ApiError e = api_error([&] { reg(in); });
    EXPECT_EQ(e.code, "ClientException") << mode;
    EXPECT_NE(std::string(e.what()).find("awsvpc"), std::string::npos) << e.what();
  }
  json no_mode = fargate("256", "512");
  no_mode.erase("networkMode");
  EXPECT_EQ(api_error([&] { reg(no_mode); }).code, "ClientException");
}

TEST_F(TaskDefinitionsTest, FargateRequiresTaskCpuAndMemory) {
  json no_cpu = fargate("256", "512");
  no_cpu.erase("cpu");
  ApiError e = api_error([&] { reg(no_cpu); });
  EXPECT_EQ(e.code, "ClientException");
  EXPECT_NE(std::string(e.what()).find("cpu"), std::string::npos) << e.what();

  json no_memory = fargate("256", "512");
  no_memory.erase("memory");
  ApiError m = api_error([&] { reg(no_memory); });
  EXPECT_EQ(m.code, "ClientException");
  EXPECT_NE(std::string(m.what()).find("memory"), std::string::npos) << m.what();
}

TEST_F(TaskDefinitionsTest, FargateRejectsInvalidCpuMemoryCombination) {
  ApiError e = api_error([&] { reg(fargate("256", "4096")); });
  EXPECT_EQ(e.code, "ClientException");
  EXPECT_EQ(std::string(e.what()).rfind("No Fargate configuration exists for given values: 256 CPU, 4096 memory", 0),
            0u)
      << e.what();
  EXPECT_EQ(api_error([&] { reg(fargate("300", "1024")); }).code, "ClientException");
}

TEST_F(TaskDefinitionsTest, FargateAwslogsRequiresExecutionRole) {
  // ECS: "Fargate requires task definition to have execution role ARN to support log driver awslogs."
  json in = fargate("256", "512");
  in["containerDefinitions"][0]["logConfiguration"] = {
      {"logDriver", "awslogs"},
      {"options", {{"awslogs-group", "/ecs/fg"}, {"awslogs-region", "us-east-1"}, {"awslogs-stream-prefix", "fg"}}}};
  ApiError e = api_error([&] { reg(in); });
  EXPECT_EQ(e.code, "ClientException");
  EXPECT_NE(std::string(e.what()).find("execution role"), std::string::npos) << e.what();

  in["executionRoleArn"] = "arn:aws:iam::000000000000:role/ecsTaskExecutionRole";
  EXPECT_EQ(reg(in)["status"], "ACTIVE");
}

TEST_F(TaskDefinitionsTest, FargateAcceptsValidSizes) {
  for (const auto& [cpu, mem] : std::vector<std::pair<std::string, std::string>>{
           {"256", "512"}, {"256", "2048"}, {"512", "4096"}, {"1024", "8192"}, {"2048", "16384"},
           {"4096", "30720"}, {"8192", "61440"}, {"16384", "122880"}}) {
    json td = reg(fargate(cpu, mem));
    EXPECT_EQ(td["cpu"], cpu);
    EXPECT_EQ(td["memory"], mem);
    std::vector<std::string> compat = strings(td["compatibilities"]);
    EXPECT_EQ(std::set<std::string>(compat.begin(), compat.end()), (std::set<std::string>{"EC2", "FARGATE"}))
        << cpu << "/" << mem;
  }
}

TEST_F(TaskDefinitionsTest, RegisterNormalisesVcpuAndGbUnits) {
  json td = reg(fargate("1 vCPU", "2 GB"));
  EXPECT_EQ(td["cpu"], "1024");
  EXPECT_EQ(td["memory"], "2048");
  json quarter = reg(fargate("0.25 vCPU", "0.5GB"));
  EXPECT_EQ(quarter["cpu"], "256");
  EXPECT_EQ(quarter["memory"], "512");
  EXPECT_EQ(describe("fg:1")["taskDefinition"]["cpu"], "1024");
}

TEST_F(TaskDefinitionsTest, Ec2ContainerWithoutMemoryIsRejected) {
  json in = {{"family", "web"}, {"containerDefinitions", json::array({{{"name", "app"}, {"image", "nginx"}}})}};
  ApiError e = api_error([&] { reg(in); });
  EXPECT_EQ(e.code, "ClientException");
  EXPECT_NE(std::string(e.what()).find("app"), std::string::npos) << e.what();

  json reservation = in;
  reservation["containerDefinitions"][0]["memoryReservation"] = 128;
  EXPECT_EQ(reg(reservation)["revision"], 1);
  json task_memory = in;
  task_memory["memory"] = "512";
  EXPECT_EQ(reg(task_memory)["revision"], 2);
}

TEST_F(TaskDefinitionsTest, RegisterRejectsInvalidDefinitions) {
  json bad_family = {{"family", "web app"}, {"containerDefinitions", json::array({container()})}};
  EXPECT_EQ(api_error([&] { reg(bad_family); }).code, "ClientException");
  json dup = {{"family", "web"}, {"containerDefinitions", json::array({container("a"), container("a")})}};
  EXPECT_EQ(api_error([&] { reg(dup); }).code, "ClientException");
  json reservation_over_memory = {{"family", "web"}, {"containerDefinitions", json::array({container()})}};
  reservation_over_memory["containerDefinitions"][0]["memoryReservation"] = 512;  // memory is 256
  EXPECT_EQ(api_error([&] { reg(reservation_over_memory); }).code, "ClientException");
  // Nothing was registered, so the family's first revision is still 1.
  EXPECT_EQ(reg_family("web")["revision"], 1);
}

TEST_F(TaskDefinitionsTest, RegisterRejectsContainerCpuAboveTaskCpu) {
  // ECS: "The sum of all container 'cpu' values cannot be greater than the value of the task 'cpu'."
  json a = container("a"), b = container("b");
  a["cpu"] = 200;
  b["cpu"] = 100;
  json in = {{"family", "web"}, {"cpu", "256"}, {"containerDefinitions", json::array({a, b})}};
  ApiError e = api_error([&] { reg(in); });
  EXPECT_EQ(e.code, "ClientException");
  EXPECT_NE(std::string(e.what()).find("cpu"), std::string::npos) << e.what();
}

TEST_F(TaskDefinitionsTest, RegisterRejectsAwslogsWithoutGroupAndRegion) {
  // ECS: "Log driver awslogs requires options: awslogs-region, awslogs-group".
  json c = container();
  c["logConfiguration"] = {{"logDriver", "awslogs"}, {"options", {{"awslogs-stream-prefix", "web"}}}};
  ApiError e = api_error([&] { reg({{"family", "web"}, {"containerDefinitions", json::array({c})}}); });
  EXPECT_EQ(e.code, "ClientException");
  EXPECT_NE(std::string(e.what()).find("awslogs-group"), std::string::npos) << e.what();
}

TEST_F(TaskDefinitionsTest, RegisterRejectsSuccessDependencyOnEssentialContainer) {
  // ECS: "A dependency container with SUCCESS or COMPLETE condition cannot be an essential container".
  json init = container("init");  // essential by default
  json app = container("app");
  app["dependsOn"] = json::array({{{"containerName", "init"}, {"condition", "SUCCESS"}}});
  ApiError e = api_error([&] { reg({{"family", "web"}, {"containerDefinitions", json::array({init, app})}}); });
  EXPECT_EQ(e.code, "ClientException");

  init["essential"] = false;
  EXPECT_EQ(reg({{"family", "web"}, {"containerDefinitions", json::array({init, app})}})["status"], "ACTIVE");
}

TEST_F(TaskDefinitionsTest, ListTaskDefinitionsPagesBeyondHundred) {
  for (int i = 0; i < 105; ++i) reg_family("web");
  json first = list_task_definitions(ctx_, json::object());
  EXPECT_EQ(first["taskDefinitionArns"].size(), 100u);
  ASSERT_TRUE(first.contains("nextToken"));
  json second = list_task_definitions(ctx_, {{"nextToken", first["nextToken"]}});
  EXPECT_EQ(second["taskDefinitionArns"].size(), 5u);
  EXPECT_FALSE(second.contains("nextToken"));

  int pages = 0;
  std::vector<std::string> all = list_all(json::object(), &pages);
  EXPECT_EQ(pages, 2);
  ASSERT_EQ(all.size(), 105u);
  EXPECT_EQ(std::set<std::string>(all.begin(), all.end()).size(), 105u);
  EXPECT_EQ(all.front(), std::string(kArnPrefix) + "web:1");
  EXPECT_EQ(all.back(), std::string(kArnPrefix) + "web:105");  // numeric, not lexical, revision order
}

TEST_F(TaskDefinitionsTest, ListTaskDefinitionsSmallPagesCoverEverything) {
  for (int i = 0; i < 7; ++i) reg_family(i % 2 ? "web" : "worker");
  int pages = 0;
  std::vector<std::string> all = list_all({{"maxResults", 3}}, &pages);
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(all.size(), 7u);
  EXPECT_EQ(std::set<std::string>(all.begin(), all.end()).size(), 7u);
}

TEST_F(TaskDefinitionsTest, ListTaskDefinitionsFamilyPrefixMatchesExactFamily) {
  reg_family("web");
  reg_family("web");
  reg_family("web-api");
  reg_family("webhook");
  std::vector<std::string> web = list_all({{"familyPrefix", "web"}});
  EXPECT_EQ(web, (std::vector<std::string>{std::string(kArnPrefix) + "web:1", std::string(kArnPrefix) + "web:2"}));
  EXPECT_EQ(list_all({{"familyPrefix", "we"}}), std::vector<std::string>{});
}

TEST_F(TaskDefinitionsTest, ListTaskDefinitionsFiltersByStatus) {
  reg_family("web");
  reg_family("web");
  reg_family("web");
  deregister("web:2");
  EXPECT_EQ(list_all(json::object()),
            (std::vector<std::string>{std::string(kArnPrefix) + "web:1", std::string(kArnPrefix) + "web:3"}));
  EXPECT_EQ(list_all({{"status", "ACTIVE"}}),
            (std::vector<std::string>{std::string(kArnPrefix) + "web:1", std::string(kArnPrefix) + "web:3"}));
  EXPECT_EQ(list_all({{"status", "INACTIVE"}}), std::vector<std::string>{std::string(kArnPrefix) + "web:2"});
}

TEST_F(TaskDefinitionsTest, ListTaskDefinitionsSortsDescending) {
  reg_family("api");
  reg_family("web");
  reg_family("web");
  EXPECT_EQ(list_all({{"sort", "DESC"}}),
            (std::vector<std::string>{std::string(kArnPrefix) + "web:2", std::string(kArnPrefix) + "web:1",
                                      std::string(kArnPrefix) + "api:1"}));
  EXPECT_EQ(list_all({{"sort", "ASC"}}),
            (std::vector<std::string>{std::string(kArnPrefix) + "api:1", std::string(kArnPrefix) + "web:1",
                                      std::string(kArnPrefix) + "web:2"}));
  EXPECT_EQ(list_all({{"familyPrefix", "web"}, {"sort", "DESC"}}),
            (std::vector<std::string>{std::string(kArnPrefix) + "web:2", std::string(kArnPrefix) + "web:1"}));
}

TEST_F(TaskDefinitionsTest, ListTaskDefinitionFamiliesFiltersByPrefixAndStatus) {
  reg_family("web");
  reg_family("web-api");
  reg_family("worker");
  reg_family("db");
  deregister("db:1");
  auto families = [&](const json& in) { return strings(list_task_definition_families(ctx_, in)["families"]); };
  EXPECT_EQ(families(json::object()), (std::vector<std::string>{"db", "web", "web-api", "worker"}));
  EXPECT_EQ(families({{"familyPrefix", "web"}}), (std::vector<std::string>{"web", "web-api"}));
  EXPECT_EQ(families({{"familyPrefix", "w"}, {"status", "ACTIVE"}}),
            (std::vector<std::string>{"web", "web-api", "worker"}));
  EXPECT_EQ(families({{"status", "ACTIVE"}}), (std::vector<std::string>{"web", "web-api", "worker"}));
  EXPECT_EQ(families({{"status", "INACTIVE"}}), (std::vector<std::string>{"db"}));
  EXPECT_EQ(families({{"status", "ALL"}}), (std::vector<std::string>{"db", "web", "web-api", "worker"}));
}

TEST_F(TaskDefinitionsTest, ListTaskDefinitionFamiliesPages) {
  for (const char* f : {"a", "b", "c", "d", "e"}) reg_family(f);
  json first = list_task_definition_families(ctx_, {{"maxResults", 2}});
  EXPECT_EQ(strings(first["families"]), (std::vector<std::string>{"a", "b"}));
  ASSERT_TRUE(first.contains("nextToken"));
  json second = list_task_definition_families(ctx_, {{"maxResults", 2}, {"nextToken", first["nextToken"]}});
  EXPECT_EQ(strings(second["families"]), (std::vector<std::string>{"c", "d"}));
  json third = list_task_definition_families(ctx_, {{"maxResults", 2}, {"nextToken", second["nextToken"]}});
  EXPECT_EQ(strings(third["families"]), (std::vector<std::string>{"e"}));
  EXPECT_FALSE(third.contains("nextToken"));
}

TEST_F(TaskDefinitionsTest, DeregisterMarksRevisionInactive) {
  reg_family("web");
  reg_family("web");
  json td = deregister("web:2");
  EXPECT_EQ(td["status"], "INACTIVE");
  EXPECT_EQ(td["taskDefinitionArn"], std::string(kArnPrefix) + "web:2");
  EXPECT_DOUBLE_EQ(td["deregisteredAt"].get<double>(), kNow);

  // The latest-ACTIVE lookup by family skips the deregistered revision...
  EXPECT_EQ(describe("web")["taskDefinition"]["revision"], 1);
  // ...but the revision itself stays describable.
  EXPECT_EQ(describe("web:2")["taskDefinition"]["status"], "INACTIVE");

  deregister(std::string(kArnPrefix) + "web:1");
  EXPECT_EQ(api_error([&] { describe("web"); }).code, "ClientException");
}

TEST_F(TaskDefinitionsTest, DeregisterUnknownIsClientException) {
  reg_family("web");
  for (const std::string& ref : std::vector<std::string>{"web:2", "nope:1", std::string(kArnPrefix) + "nope:1"})
    EXPECT_EQ(api_error([&] { deregister(ref); }).code, "ClientException") << ref;
}

TEST_F(TaskDefinitionsTest, DeleteTaskDefinitionsOnlyDeletesInactive) {
  reg_family("web");
  json out = delete_task_definitions(ctx_, {{"taskDefinitions", json::array({"web:1"})}});
  EXPECT_EQ(out["taskDefinitions"], json::array());
  ASSERT_EQ(out["failures"].size(), 1u);
  EXPECT_EQ(out["failures"][0]["arn"], std::string(kArnPrefix) + "web:1");
  EXPECT_FALSE(out["failures"][0].value("reason", "").empty());
  EXPECT_EQ(describe("web:1")["taskDefinition"]["status"], "ACTIVE");
}

TEST_F(TaskDefinitionsTest, DeleteTaskDefinitionsMarksDeleteInProgress) {
  reg_family("web");
  reg_family("web");
  deregister("web:1");
  json out = delete_task_definitions(ctx_, {{"taskDefinitions", json::array({"web:1", "web:2", "nope:1"})}});
  ASSERT_EQ(out["taskDefinitions"].size(), 1u);
  EXPECT_EQ(out["taskDefinitions"][0]["taskDefinitionArn"], std::string(kArnPrefix) + "web:1");
  EXPECT_EQ(out["taskDefinitions"][0]["status"], "DELETE_IN_PROGRESS");
  EXPECT_DOUBLE_EQ(out["taskDefinitions"][0]["deleteRequestedAt"].get<double>(), kNow);
  ASSERT_EQ(out["failures"].size(), 2u);

  EXPECT_EQ(list_all({{"status", "DELETE_IN_PROGRESS"}}), std::vector<std::string>{std::string(kArnPrefix) + "web:1"});
  // A revision being deleted stays describable by revision.
  EXPECT_EQ(describe("web:1")["taskDefinition"]["status"], "DELETE_IN_PROGRESS");
  EXPECT_EQ(list_all({{"status", "INACTIVE"}}), std::vector<std::string>{});
  EXPECT_EQ(list_all(json::object()), std::vector<std::string>{std::string(kArnPrefix) + "web:2"});
}

TEST_F(TaskDefinitionsTest, RevisionsAreNeverReusedAfterDelete) {
  reg_family("web");
  reg_family("web");
  deregister("web:1");
  deregister("web:2");
  delete_task_definitions(ctx_, {{"taskDefinitions", json::array({"web:1", "web:2"})}});
  json td = reg_family("web");
  EXPECT_EQ(td["revision"], 3);
  EXPECT_EQ(td["taskDefinitionArn"], std::string(kArnPrefix) + "web:3");
}

TEST_F(TaskDefinitionsTest, TaskDefinitionsAreScopedToRegion) {
  reg_family("web");
  reg_family("web");
  RequestContext eu = context("eu-west-1");
  ApiError e = api_error([&] { describe_task_definition(eu, {{"taskDefinition", "web"}}); });
  EXPECT_EQ(e.code, "ClientException");
  EXPECT_EQ(list_task_definitions(eu, json::object())["taskDefinitionArns"], json::array());
  EXPECT_EQ(list_task_definition_families(eu, json::object())["families"], json::array());
  json td = register_task_definition(eu, {{"family", "web"}, {"containerDefinitions", json::array({container()})}})
                ["taskDefinition"];
  EXPECT_EQ(td["revision"], 1);
  EXPECT_EQ(td["taskDefinitionArn"], "arn:aws:ecs:eu-west-1:000000000000:task-definition/web:1");
}

}  // namespace
}  // namespace ecsd::services::ecs
