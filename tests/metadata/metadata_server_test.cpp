// Tests for the metadata endpoint's answers, called directly: v4/v3 container and task documents,
// credentials, stats, and unknown tokens. The listener itself is exercised by the integration tests.
#include "ecsd/metadata/metadata_server.hpp"

#include <gtest/gtest.h>

#include "ecsd/store/cluster_repo.hpp"
#include "ecsd/store/task_repo.hpp"
#include "../fakes/fake_runtime.hpp"

namespace ecsd::metadata {
namespace {

using nlohmann::json;

class MetadataServerTest : public ::testing::Test {
 protected:
  store::Store store_{":memory:"};
  fakes::FakeRuntime rt_;
  const std::string arn_ = "arn:aws:ecs:us-east-1:000000000000:task/default/0123456789abcdef";

  void SetUp() override {
    runtime::ContainerState st;
    st.id = "d0cker1";
    st.name = "/ecs-app-1-web-0123";
    st.image_id = "sha256:abc";
    st.status = "running";
    st.started_at = 1767225600.5;
    st.labels = {{"com.amazonaws.ecs.container-name", "web"}};
    rt_.states["d0cker1"] = st;
    store_.write([&](store::Db& db) {
      store::Record cluster;
      cluster.name = "default";
      cluster.arn = "arn:aws:ecs:us-east-1:000000000000:cluster/default";
      cluster.status = "ACTIVE";
      cluster.doc = json::object();
      store::ClusterRepo(db).insert({"000000000000", "us-east-1"}, cluster);
      store::TaskRow t;
      t.arn = arn_;
      t.cluster_id = cluster.id;
      t.family = "app";
      t.status = "RUNNING";
      t.desired_status = "RUNNING";
      t.doc = {{"taskArn", arn_},
               {"clusterArn", "arn:aws:ecs:us-east-1:000000000000:cluster/default"},
               {"lastStatus", "RUNNING"},
               {"desiredStatus", "RUNNING"},
               {"launchType", "EC2"},
               {"createdAt", 1767225600.0},
               {"containers", {{{"name", "web"}, {"runtimeId", "d0cker1"}, {"image", "busybox"}, {"lastStatus", "RUNNING"}}}},
               {"_ecsd",
                {{"td", {{"family", "app"}, {"revision", 3}, {"cpu", "256"}, {"memory", "512"}, {"networkMode", "bridge"},
                         {"containerDefinitions", {{{"name", "web"}, {"image", "busybox"}, {"cpu", 128}, {"memory", 64}}}}}},
                 {"credentials", {{"id", "cred-1"}, {"AccessKeyId", "ASIAEXAMPLE"}, {"SecretAccessKey", "s"},
                                  {"Token", "t"}, {"RoleArn", "arn:aws:iam::000000000000:role/app"}}}}}};
      store::TaskRepo(db).insert({"000000000000", "us-east-1"}, t, 0);
      store::MetaRepo meta(db);
      meta.put("mdtoken:tok1", json{{"task", arn_}, {"container", "web"}}.dump());
      meta.put("mdcred:cred-1", json{{"task", arn_}}.dump());
    });
  }
  json get(const std::string& path, int expect = 200) {
    protocol::WireRequest req{"GET", path, {}, ""};
    auto r = server_->handle(req);
    EXPECT_EQ(r.status, expect) << path << ": " << r.body;
    return json::parse(r.body);
  }
  std::unique_ptr<MetadataServer> server_ = std::make_unique<MetadataServer>(store_, &rt_);
};

TEST_F(MetadataServerTest, V4TaskDocumentHasTheDocumentedFields) {
  json t = get("/v4/tok1/task");
  EXPECT_EQ(t["TaskARN"], arn_);
  EXPECT_EQ(t["Cluster"], "arn:aws:ecs:us-east-1:000000000000:cluster/default");
  EXPECT_EQ(t["Family"], "app");
  EXPECT_EQ(t["Revision"], "3");
  EXPECT_EQ(t["KnownStatus"], "RUNNING");
  EXPECT_EQ(t["LaunchType"], "EC2");
  EXPECT_EQ(t["AvailabilityZone"], "us-east-1a");
  EXPECT_DOUBLE_EQ(t["Limits"]["CPU"].get<double>(), 0.25);
  EXPECT_EQ(t["Limits"]["Memory"], 512);
  ASSERT_EQ(t["Containers"].size(), 1u);
  const json& c = t["Containers"][0];
  EXPECT_EQ(c["DockerId"], "d0cker1");
  EXPECT_EQ(c["DockerName"], "ecs-app-1-web-0123");
  EXPECT_EQ(c["ImageID"], "sha256:abc");
  EXPECT_EQ(c["Limits"]["Memory"], 64);
  EXPECT_EQ(c["Type"], "NORMAL");
  EXPECT_EQ(c["Networks"][0]["NetworkMode"], "bridge");
  EXPECT_EQ(c["StartedAt"], "2026-01-01T00:00:00.500Z");
}

TEST_F(MetadataServerTest, ContainerDocumentV3AndV4) {
  json v4 = get("/v4/tok1");
  EXPECT_EQ(v4["Name"], "web");
  EXPECT_TRUE(v4.contains("ContainerARN"));
  json v3 = get("/v3/tok1");
  EXPECT_EQ(v3["Name"], "web");
  EXPECT_FALSE(v3.contains("ContainerARN"));
  EXPECT_FALSE(get("/v3/tok1/task").contains("LaunchType"));
}

TEST_F(MetadataServerTest, CredentialsAndUnknownTokens) {
  json c = get("/v2/credentials/cred-1");
  EXPECT_EQ(c["AccessKeyId"], "ASIAEXAMPLE");
  EXPECT_EQ(c["RoleArn"], "arn:aws:iam::000000000000:role/app");
  EXPECT_TRUE(c.contains("Expiration"));
  EXPECT_TRUE(c.contains("Token"));
  get("/v2/credentials/nope", 400);
  get("/v4/nope/task", 400);
  get("/v4/tok1/nothing", 404);
  get("/elsewhere", 404);
}

TEST_F(MetadataServerTest, TaskStatsAreKeyedByDockerId) {
  json s = get("/v4/tok1/task/stats");
  ASSERT_TRUE(s.contains("d0cker1"));
  EXPECT_TRUE(s["d0cker1"].is_object());
}

TEST_F(MetadataServerTest, NewCredentialsLookLikeTemporaryKeys) {
  json c = new_task_credentials("arn:aws:iam::000000000000:role/x");
  EXPECT_EQ(c["AccessKeyId"].get<std::string>().substr(0, 4), "ASIA");
  EXPECT_EQ(c["AccessKeyId"].get<std::string>().size(), 20u);
  EXPECT_NE(c["SecretAccessKey"], new_task_credentials("r")["SecretAccessKey"]);
}

}  // namespace
}  // namespace ecsd::metadata
