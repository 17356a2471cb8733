// Reconciler tests: passes are stepped one at a time against the fake runtime and a fake clock.
#include "ecsd/reconciler/reconciler.hpp"

#include <gtest/gtest.h>

#include "../fakes/fake_runtime.hpp"
#include "ecsd/common/api_error.hpp"
#include "ecsd/common/clock.hpp"
#include "ecsd/domain/tasks.hpp"
#include "ecsd/services/ecs/ecs.hpp"
#include "ecsd/store/cluster_repo.hpp"
#include "ecsd/store/service_repo.hpp"
#include "ecsd/store/task_repo.hpp"

namespace ecsd::reconciler {
namespace {

using nlohmann::json;
using services::RequestContext;

class ReconcilerTest : public ::testing::Test {
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
    if (!ctx_) {
      ctx_.emplace(RequestContext{{"000000000000", "us-east-1"}, "", "req", store_, 0, {}});
      ctx_->notify = [this](const std::string& key) { notified_.push_back(key); };
    }
    ctx_->now = clock_.now();
    return *ctx_;
  }
  json register_td(json containers, json extra = json::object()) {
    json in = {{"family", "web"}, {"containerDefinitions", containers}};
    in.update(extra);
    return services::ecs::register_task_definition(ctx(), in)["taskDefinition"];
  }
  std::string run(const std::string& td = "web") {
    auto out = services::ecs::run_task(ctx(), {{"cluster", "c"}, {"taskDefinition", td}});
    return out["tasks"][0]["taskArn"];
  }
  json task(const std::string& arn) {
    auto out = services::ecs::describe_tasks(ctx(), {{"cluster", "c"}, {"tasks", {arn}}});
    return out["tasks"][0];
  }
  json service(const std::string& name) {
    auto out = services::ecs::describe_services(ctx(), {{"cluster", "c"}, {"services", {name}}});
    return out["services"][0];
  }
  std::vector<std::string> service_tasks(const std::string& name) {
    auto out = services::ecs::list_tasks(ctx(), {{"cluster", "c"}, {"serviceName", name}});
    return out["taskArns"].get<std::vector<std::string>>();
  }

  static json web(json extra = json::object()) {
    json c = {{"name", "web"}, {"image", "busybox:latest"}, {"memory", 64},
              {"portMappings", json::array({{{"containerPort", 80}}})}};
    c.update(extra);
    return c;
  }

  FakeClock clock_{1767225600};
  store::Store store_{":memory:"};
  fakes::FakeRuntime rt_;
  std::unique_ptr<Reconciler> rec_;
  std::vector<std::string> notified_;
  std::optional<RequestContext> ctx_;
};

TEST_F(ReconcilerTest, RunTaskReachesRunningWithLabelsAndDynamicPort) {
  register_td({web()});
  std::string arn = run();
  EXPECT_EQ(task(arn)["lastStatus"], "PROVISIONING");
  EXPECT_NE(std::find(notified_.begin(), notified_.end(), "task:" + arn), notified_.end());
  rec_->step("task:" + arn);
  json t = task(arn);
  EXPECT_EQ(t["lastStatus"], "RUNNING");
  EXPECT_TRUE(t.contains("startedAt"));
  std::string id = rt_.find(arn, "web");
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(rt_.states[id].labels["com.amazonaws.ecs.cluster"], "c");
  EXPECT_EQ(rt_.states[id].labels["ecsd.instance"], "inst0123456789ab");
  EXPECT_EQ(t["containers"][0]["runtimeId"], id);
  EXPECT_EQ(t["containers"][0]["networkBindings"][0]["hostPort"], 32768);
  EXPECT_EQ(t["containers"][0]["networkBindings"][0]["bindIP"], "127.0.0.1");
}

TEST_F(ReconcilerTest, TaskStartCostsOneListCreateStartAndInspect) {
  register_td({web()});
  std::string arn = run();
  rt_.calls.clear();
  rec_->step("task:" + arn);
  ASSERT_EQ(task(arn)["lastStatus"], "RUNNING");
  // The pass adopts by label (one list), then uses create's id and start's success: no image check,
  // no list or inspect between create and start, one inspect after it for ports and pid.
  EXPECT_EQ(rt_.count("list"), 1u);
  EXPECT_EQ(rt_.count("create"), 1u);
  EXPECT_EQ(rt_.count("start"), 1u);
  EXPECT_EQ(rt_.count("inspect"), 1u);
  EXPECT_EQ(rt_.count("image"), 0u);
  EXPECT_EQ(rt_.calls.size(), 4u) << ::testing::PrintToString(rt_.calls);
  EXPECT_EQ(task(arn)["containers"][0]["networkBindings"][0]["hostPort"], 32768);  // from that inspect
}

TEST_F(ReconcilerTest, ContainerRemovedBetweenCreateAndStartIsCreatedAgain) {
  register_td({web()});
  std::string arn = run();
  bool removed = false;
  rt_.on_start = [&](const std::string& id) {
    if (!removed) rt_.states.erase(id);  // as `docker rm` right after the create
    removed = true;
  };
  rec_->step("task:" + arn);
  EXPECT_EQ(task(arn)["lastStatus"], "PENDING");
  EXPECT_EQ(task(arn)["desiredStatus"], "RUNNING");
  rec_->step("task:" + arn);
  EXPECT_EQ(task(arn)["lastStatus"], "RUNNING");
  EXPECT_EQ(rt_.count("create"), 2u);
  EXPECT_EQ(rt_.states.size(), 1u);
}

TEST_F(ReconcilerTest, ContainerCreatedByAnEarlierPassIsAdoptedByItsLabelsAndStarted) {
  register_td({web()});
  std::string arn = run();
  rec_->step("task:" + arn);
  std::string id = rt_.find(arn, "web");
  ASSERT_FALSE(id.empty());
  // As if ecsd had been killed between the create and the start.
  rt_.states[id].status = "created";
  rt_.states[id].ports.clear();
  store_.write([&](store::Db& db) {
    auto row = store::TaskRepo(db).find_by_arn(arn);
    row->status = "PENDING";
    store::TaskRepo(db).update(*row, clock_.now());
  });
  rec_->step("task:" + arn);
  EXPECT_EQ(task(arn)["lastStatus"], "RUNNING");
  EXPECT_EQ(rt_.count("create"), 1u);
  EXPECT_EQ(rt_.states.size(), 1u);
  EXPECT_EQ(rt_.states[id].status, "running");
}

TEST_F(ReconcilerTest, StartDependencyLetsItsDependentStartInTheSamePass) {
  register_td({{{"name", "side"}, {"image", "busybox:latest"}, {"memory", 16}},
               web({{"dependsOn", json::array({{{"containerName", "side"}, {"condition", "START"}}})}})});
  std::string arn = run();
  rec_->step("task:" + arn);
  EXPECT_EQ(rt_.states[rt_.find(arn, "side")].status, "running");
  EXPECT_EQ(rt_.states[rt_.find(arn, "web")].status, "running");
  EXPECT_EQ(task(arn)["lastStatus"], "RUNNING");
  // The dependency started first.
  auto pos = [&](const std::string& c) { return std::find(rt_.calls.begin(), rt_.calls.end(), "start " + rt_.find(arn, c)); };
  EXPECT_LT(pos("side"), pos("web"));
}

TEST_F(ReconcilerTest, OrphanCheckReadsLabelsFromTheListWithoutInspecting) {
  register_td({web()});
  std::string running = run();
  rec_->step("task:" + running);
  std::string stopped = run();
  rec_->step("task:" + stopped);
  services::ecs::stop_task(ctx(), {{"cluster", "c"}, {"task", stopped}});
  rec_->step("task:" + stopped);
  ASSERT_EQ(task(stopped)["lastStatus"], "STOPPED");  // its exited container stays for the retention
  runtime::ContainerSpec orphan;
  orphan.name = "ecs-orphan";
  orphan.image = "busybox:latest";
  orphan.labels = {{std::string(domain::kLabelInstance), "inst0123456789ab"},
                   {std::string(domain::kLabelTaskArn), "arn:aws:ecs:us-east-1:000000000000:task/c/gone"},
                   {std::string(domain::kLabelContainerName), "web"}};
  std::string orphan_id = rt_.create_container(orphan);
  runtime::ContainerSpec other = orphan;  // another daemon's
  other.name = "ecs-other";
  other.labels[std::string(domain::kLabelInstance)] = "someoneelse00000";
  std::string other_id = rt_.create_container(other);
  rt_.calls.clear();
  rec_->resync();
  EXPECT_FALSE(rt_.states.count(orphan_id));
  EXPECT_TRUE(rt_.states.count(other_id));
  EXPECT_TRUE(rt_.states.count(rt_.find(running, "web")));
  EXPECT_TRUE(rt_.states.count(rt_.find(stopped, "web")));
  EXPECT_EQ(rt_.count("inspect"), 0u) << ::testing::PrintToString(rt_.calls);
  EXPECT_EQ(rt_.count("list-brief"), 1u);
}

TEST_F(ReconcilerTest, BridgeGatewayIsLookedUpOnceForSeveralTasks) {
  Options opt;
  opt.instance_id = "inst0123456789ab";
  opt.metadata_endpoint = [](const std::string& address) { return "http://" + address + ":1234"; };
  rec_ = std::make_unique<Reconciler>(store_, rt_, opt);
  register_td({web({{"portMappings", json::array()}})});
  std::string a = run(), b = run();
  rec_->step("task:" + a);
  rec_->step("task:" + b);
  EXPECT_EQ(rt_.count("gateway"), 1u);
  for (const auto& arn : {a, b}) {
    bool found = false;
    for (const auto& kv : rt_.specs[rt_.find(arn, "web")].env)
      found = found || kv.rfind("ECS_CONTAINER_METADATA_URI_V4=http://172.17.0.1:1234/v4/", 0) == 0;
    EXPECT_TRUE(found) << arn;
  }
  clock_.advance(60);  // remembered for seconds, not for ever
  std::string c = run();
  rec_->step("task:" + c);
  EXPECT_EQ(rt_.count("gateway"), 2u);
}

TEST_F(ReconcilerTest, MetadataAndCredentialVariablesAreSetAndForgottenWithTheTask) {
  Options opt;
  opt.instance_id = "inst0123456789ab";
  std::vector<std::string> asked;
  opt.metadata_endpoint = [&](const std::string& address) {
    asked.push_back(address);
    return "http://" + address + ":1234";
  };
  opt.new_credentials = [](const std::string& role) {
    return json{{"AccessKeyId", "ASIATEST"}, {"SecretAccessKey", "s"}, {"Token", "t"}, {"RoleArn", role}};
  };
  rec_ = std::make_unique<Reconciler>(store_, rt_, opt);
  register_td({web()}, {{"taskRoleArn", "arn:aws:iam::000000000000:role/r"}});
  std::string arn = run();
  rec_->step("task:" + arn);
  std::string id = rt_.find(arn, "web");
  ASSERT_FALSE(id.empty());
  std::map<std::string, std::string> env;
  for (const auto& kv : rt_.specs[id].env) env[kv.substr(0, kv.find('='))] = kv.substr(kv.find('=') + 1);
  EXPECT_EQ(asked, std::vector<std::string>{"172.17.0.1"});
  const std::string v4 = env["ECS_CONTAINER_METADATA_URI_V4"];
  ASSERT_EQ(v4.rfind("http://172.17.0.1:1234/v4/", 0), 0u) << v4;
  const std::string token = v4.substr(v4.rfind('/') + 1);
  EXPECT_EQ(token.size(), 32u);
  EXPECT_EQ(env["ECS_CONTAINER_METADATA_URI"], "http://172.17.0.1:1234/v3/" + token);
  const std::string rel = env["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"];
  ASSERT_EQ(rel.rfind("/v2/credentials/", 0), 0u) << rel;
  EXPECT_EQ(env["AWS_CONTAINER_CREDENTIALS_FULL_URI"], "http://172.17.0.1:1234" + rel);
  auto meta = [&](const std::string& key) {
    return store_.read([&](store::Db& db) { return store::MetaRepo(db).get(key); });
  };
  EXPECT_TRUE(meta("mdtoken:" + token));
  EXPECT_TRUE(meta("taskcred:ASIATEST"));
  EXPECT_TRUE(meta("mdcred:" + rel.substr(16)));
  // Stopped and expired: the task's tokens and credentials go with it.
  services::ecs::stop_task(ctx(), {{"cluster", "c"}, {"task", arn}});
  rec_->step("task:" + arn);
  clock_.advance(7200);
  rec_->resync();
  EXPECT_FALSE(meta("mdtoken:" + token));
  EXPECT_FALSE(meta("taskcred:ASIATEST"));
  EXPECT_FALSE(meta("mdcred:" + rel.substr(16)));
}

TEST_F(ReconcilerTest, MissingImageIsPulledAndRecorded) {
  register_td({web({{"image", "app:v1"}})});
  std::string arn = run();
  rec_->step("task:" + arn);
  EXPECT_NE(std::find(rt_.calls.begin(), rt_.calls.end(), "pull app:v1"), rt_.calls.end());
  json t = task(arn);
  EXPECT_EQ(t["lastStatus"], "RUNNING");
  EXPECT_TRUE(t.contains("pullStartedAt"));
  EXPECT_TRUE(t.contains("pullStoppedAt"));
}

TEST_F(ReconcilerTest, FailedPullStopsTheTaskWithCannotPullContainerError) {
  register_td({web({{"image", "missing:v1"}})});
  std::string arn = run();
  rec_->step("task:" + arn);
  json t = task(arn);
  EXPECT_EQ(t["lastStatus"], "STOPPED");
  EXPECT_EQ(t["stopCode"], "TaskFailedToStart");
  EXPECT_EQ(t["stoppedReason"].get<std::string>().rfind("CannotPullContainerError", 0), 0u);
}

TEST_F(ReconcilerTest, EssentialContainerExitStopsTheTaskWithItsExitCode) {
  register_td({web()});
  std::string arn = run();
  rec_->step("task:" + arn);
  rt_.exit(rt_.find(arn, "web"), 3);
  rec_->step("task:" + arn);
  json t = task(arn);
  EXPECT_EQ(t["lastStatus"], "STOPPED");
  EXPECT_EQ(t["stopCode"], "EssentialContainerExited");
  EXPECT_EQ(t["stoppedReason"], "Essential container in task exited");
  EXPECT_EQ(t["containers"][0]["exitCode"], 3);
}

TEST_F(ReconcilerTest, OomKillIsTheContainerReason) {
  register_td({web()});
  std::string arn = run();
  rec_->step("task:" + arn);
  rt_.exit(rt_.find(arn, "web"), 137, true);
  rec_->step("task:" + arn);
  EXPECT_EQ(task(arn)["containers"][0]["reason"], "OutOfMemoryError: Container killed due to memory usage");
}

TEST_F(ReconcilerTest, StopTaskStopsContainersAndRecordsUserInitiated) {
  register_td({web()});
  std::string arn = run();
  rec_->step("task:" + arn);
  services::ecs::stop_task(ctx(), {{"cluster", "c"}, {"task", arn}, {"reason", "done"}});
  rec_->step("task:" + arn);
  json t = task(arn);
  EXPECT_EQ(t["lastStatus"], "STOPPED");
  EXPECT_EQ(t["stopCode"], "UserInitiated");
  EXPECT_EQ(t["stoppedReason"], "done");
  EXPECT_EQ(t["containers"][0]["exitCode"], 143);
  EXPECT_TRUE(t.contains("stoppedAt"));
}

TEST_F(ReconcilerTest, DependsOnCompleteWaitsForTheInitContainer) {
  register_td({{{"name", "init"}, {"image", "busybox:latest"}, {"memory", 16}, {"essential", false}},
               web({{"dependsOn", json::array({{{"containerName", "init"}, {"condition", "SUCCESS"}}})}})});
  std::string arn = run();
  rec_->step("task:" + arn);
  std::string init = rt_.find(arn, "init"), main = rt_.find(arn, "web");
  EXPECT_EQ(rt_.states[init].status, "running");
  EXPECT_EQ(rt_.states[main].status, "created");
  EXPECT_EQ(task(arn)["lastStatus"], "PENDING");
  rt_.exit(init, 0);
  rec_->step("task:" + arn);
  EXPECT_EQ(rt_.states[main].status, "running");
  EXPECT_EQ(task(arn)["lastStatus"], "RUNNING");
}

TEST_F(ReconcilerTest, FailedSuccessDependencyStopsTheTask) {
  register_td({{{"name", "init"}, {"image", "busybox:latest"}, {"memory", 16}, {"essential", false}},
               web({{"dependsOn", json::array({{{"containerName", "init"}, {"condition", "SUCCESS"}}})}})});
  std::string arn = run();
  rec_->step("task:" + arn);
  rt_.exit(rt_.find(arn, "init"), 1);
  rec_->step("task:" + arn);
  EXPECT_EQ(task(arn)["lastStatus"], "STOPPED");
  EXPECT_EQ(task(arn)["stopCode"], "TaskFailedToStart");
}

TEST_F(ReconcilerTest, RestartAdoptsRunningContainersWithoutDuplicates) {
  register_td({web()});
  std::string arn = run();
  rec_->step("task:" + arn);
  std::size_t creates = std::count_if(rt_.calls.begin(), rt_.calls.end(), [](auto& c) { return c.rfind("create", 0) == 0; });
  Options opt;
  opt.instance_id = "inst0123456789ab";
  Reconciler restarted(store_, rt_, opt);
  restarted.step("task:" + arn);
  std::size_t after = std::count_if(rt_.calls.begin(), rt_.calls.end(), [](auto& c) { return c.rfind("create", 0) == 0; });
  EXPECT_EQ(after, creates);
  EXPECT_EQ(task(arn)["lastStatus"], "RUNNING");
}

TEST_F(ReconcilerTest, UnreachableEngineStopsPendingTasksWithAClearReason) {
  register_td({web()});
  std::string arn = run();
  rt_.available = false;
  rec_->step("task:" + arn);
  json t = task(arn);
  EXPECT_EQ(t["lastStatus"], "STOPPED");
  EXPECT_NE(t["stoppedReason"].get<std::string>().find("container engine unreachable"), std::string::npos);
}

TEST_F(ReconcilerTest, PrivilegedContainersAreRefusedByDefault) {
  register_td({web({{"privileged", true}})});
  std::string arn = run();
  rec_->step("task:" + arn);
  json t = task(arn);
  EXPECT_EQ(t["lastStatus"], "STOPPED");
  EXPECT_NE(t["stoppedReason"].get<std::string>().find("--allow-privileged"), std::string::npos);
  EXPECT_TRUE(rt_.states.empty());
}

TEST_F(ReconcilerTest, ServiceKeepsDesiredCountAndReplacesExitedTasks) {
  register_td({web({{"portMappings", json::array()}})});
  services::ecs::create_service(ctx(), {{"cluster", "c"}, {"serviceName", "s"}, {"taskDefinition", "web"},
                                        {"desiredCount", 2}});
  std::string svc = "service:arn:aws:ecs:us-east-1:000000000000:service/c/s";
  rec_->step(svc);
  auto arns = service_tasks("s");
  ASSERT_EQ(arns.size(), 2u);
  EXPECT_EQ(service(std::string("s"))["events"][0]["message"].get<std::string>().rfind("(service s) has started 2 tasks:", 0), 0u);
  for (const auto& a : arns) rec_->step("task:" + a);
  rec_->step(svc);
  json s = service("s");
  EXPECT_EQ(s["runningCount"], 2);
  EXPECT_EQ(s["deployments"][0]["rolloutState"], "COMPLETED");
  EXPECT_EQ(s["events"][0]["message"], "(service s) has reached a steady state.");

  rt_.exit(rt_.find(arns[0], "web"), 137);
  rec_->step("task:" + arns[0]);
  EXPECT_EQ(task(arns[0])["lastStatus"], "STOPPED");
  clock_.advance(2);  // past the first crash-loop backoff
  rec_->step(svc);
  auto now_running = service_tasks("s");
  EXPECT_EQ(now_running.size(), 2u);
  EXPECT_EQ(std::count(now_running.begin(), now_running.end(), arns[0]), 0);
}

TEST_F(ReconcilerTest, ServiceScalesDownLeastProgressedFirstAndDrainsOnDelete) {
  register_td({web({{"portMappings", json::array()}})});
  services::ecs::create_service(ctx(), {{"cluster", "c"}, {"serviceName", "s"}, {"taskDefinition", "web"},
                                        {"desiredCount", 2}});
  std::string svc = "service:arn:aws:ecs:us-east-1:000000000000:service/c/s";
  rec_->step(svc);
  auto arns = service_tasks("s");
  rec_->step("task:" + arns[0]);  // only the first one runs
  services::ecs::update_service(ctx(), {{"cluster", "c"}, {"service", "s"}, {"desiredCount", 1}});
  rec_->step(svc);
  auto left = service_tasks("s");
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0], arns[0]);
  services::ecs::update_service(ctx(), {{"cluster", "c"}, {"service", "s"}, {"desiredCount", 0}});
  services::ecs::delete_service(ctx(), {{"cluster", "c"}, {"service", "s"}});
  EXPECT_EQ(service("s")["status"], "DRAINING");
  rec_->step(svc);
  for (const auto& a : arns) rec_->step("task:" + a);
  rec_->step(svc);
  EXPECT_EQ(service("s")["status"], "INACTIVE");
}

TEST_F(ReconcilerTest, ResyncDeletesServicesInactiveForMoreThanAnHour) {
  register_td({web({{"portMappings", json::array()}})});
  services::ecs::create_service(ctx(), {{"cluster", "c"}, {"serviceName", "s"}, {"taskDefinition", "web"},
                                        {"desiredCount", 0}});
  services::ecs::delete_service(ctx(), {{"cluster", "c"}, {"service", "s"}});
  rec_->step("service:arn:aws:ecs:us-east-1:000000000000:service/c/s");
  ASSERT_EQ(service("s")["status"], "INACTIVE");
  auto rows = [&] {
    return store_.read([&](store::Db& db) {
      auto cluster = store::ClusterRepo(db).find({"000000000000", "us-east-1"}, "c");
      return store::ServiceRepo(db).find(cluster->id, "s").has_value();
    });
  };
  clock_.advance(3000);
  rec_->resync();
  EXPECT_TRUE(rows());
  EXPECT_EQ(service("s")["status"], "INACTIVE");
  clock_.advance(700);
  rec_->resync();
  EXPECT_FALSE(rows());
}

TEST_F(ReconcilerTest, ServiceWaitsForCapacityWithEcsEvent) {
  register_td({web({{"memory", 1 << 30}, {"portMappings", json::array()}})});
  services::ecs::create_service(ctx(), {{"cluster", "c"}, {"serviceName", "s"}, {"taskDefinition", "web"},
                                        {"desiredCount", 1}});
  auto out = rec_->step("service:arn:aws:ecs:us-east-1:000000000000:service/c/s");
  EXPECT_GT(out.requeue_after, 0);
  EXPECT_TRUE(service_tasks("s").empty());
  std::string msg = service("s")["events"][0]["message"];
  EXPECT_EQ(msg.rfind("(service s) was unable to place a task because no container instance met all of its "
                      "requirements.", 0), 0u) << msg;
}

TEST(WorkQueueTest, DeduplicatesAndRequeuesKeysAddedWhileProcessing) {
  WorkQueue q;
  q.add("a");
  q.add("a");
  q.add("b");
  EXPECT_EQ(q.size(), 2u);
  auto k = q.get();
  ASSERT_TRUE(k);
  EXPECT_EQ(*k, "a");
  q.add("a");  // while processing: comes back after done()
  EXPECT_EQ(*q.get(), "b");
  q.done("a");
  EXPECT_EQ(*q.get(), "a");
  q.shutdown();
  EXPECT_FALSE(q.get());
}

}  // namespace
}  // namespace ecsd::reconciler
