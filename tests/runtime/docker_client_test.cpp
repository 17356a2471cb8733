// Tests for the Docker Engine client against a fake Engine on a unix socket: the requests it
// sends, how it maps canned statuses and streams, and its pure wire-mapping helpers.
#include "ecsd/runtime/docker/docker_client.hpp"

#include <condition_variable>
#include <future>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "../fakes/fake_engine.hpp"

namespace ecsd::runtime {
namespace {

using nlohmann::json;
using testing::FakeEngine;
using testing::FakeRequest;
using testing::FakeResponse;
using testing::FakeStream;
using namespace std::chrono_literals;

using Kind = RuntimeError::Kind;

/// Runs `f` and @return the RuntimeError it throws (fails the test if none).
template <typename F>
RuntimeError expect_error(F&& f) {
  try {
    f();
  } catch (const RuntimeError& e) {
    return e;
  }
  ADD_FAILURE() << "no RuntimeError thrown";
  return RuntimeError(Kind::Internal, "none");
}

/// What dockerd 20.10 answers to GET /containers/{id}/json for a running container (trimmed).
json running_inspect() {
  return json::parse(R"({
    "Id": "3a298b62061933657d90342983b49a76596da3764f0f858790b6f62948cb1bf8",
    "Created": "2026-01-01T00:00:00.782886809Z",
    "Name": "/ecs-web-1",
    "Image": "sha256:3904da4438c709f7ddf0c611e60eb6bd953b8cea63662e9a1addadfada888fb1",
    "State": {"Status": "running", "Running": true, "OOMKilled": false, "Dead": false, "Pid": 30786,
              "ExitCode": 0, "Error": "", "StartedAt": "2026-01-01T00:00:01.500000000Z",
              "FinishedAt": "0001-01-01T00:00:00Z",
              "Health": {"Status": "healthy", "FailingStreak": 0, "Log": []}},
    "Config": {"Hostname": "3a298b620619", "Image": "ecsd-test/busybox:latest", "Entrypoint": null,
               "Labels": {"ecsd.task": "arn:aws:ecs:us-east-1:000000000000:task/c/1", "ecsd.container": "web"}},
    "NetworkSettings": {
      "Ports": {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "32769"}], "443/tcp": null,
                "53/udp": [{"HostIp": "0.0.0.0", "HostPort": "5353"}, {"HostIp": "::", "HostPort": "5353"}]},
      "IPAddress": "172.17.0.2",
      "Networks": {"bridge": {"IPAMConfig": null, "Aliases": null, "IPAddress": "172.17.0.2"},
                   "appnet": {"IPAMConfig": {"IPv4Address": "10.9.0.5"}, "IPAddress": "10.9.0.5"}}}
  })");
}

json event_json(const std::string& action, const std::string& id, const std::string& type = "container") {
  return {{"status", action},
          {"id", id},
          {"from", "ecsd-test/busybox:latest"},
          {"Type", type},
          {"Action", action},
          {"Actor", {{"ID", id}, {"Attributes", {{"ecsd.task", "arn:t/" + id}, {"name", "c-" + id}}}}},
          {"scope", "local"},
          {"time", 1767225600},
          {"timeNano", 1767225600000000000}};
}

/// One frame of the engine's multiplexed log stream.
std::string log_frame(char stream, const std::string& payload) {
  std::string f{stream, 0, 0, 0};
  auto n = static_cast<std::uint32_t>(payload.size());
  for (int shift = 24; shift >= 0; shift -= 8) f += static_cast<char>((n >> shift) & 0xff);
  return f + payload;
}

class DockerClientTest : public ::testing::Test {
 protected:
  DockerClientTest() : client(engine.socket_path(), fast_timeouts()) {}

  static DockerTimeouts fast_timeouts() {
    DockerTimeouts t;
    t.connect = 2s;
    t.request = 5s;
    t.pull_idle = 5s;
    t.stop_poll = 100ms;
    return t;
  }

  FakeEngine engine;
  DockerClient client;
};

// --- create ---

TEST_F(DockerClientTest, CreateContainerSendsTheEngineBody) {
  engine.always(FakeResponse::json(201, {{"Id", "c0ffee"}, {"Warnings", json::array()}}));
  ContainerSpec spec;
  spec.name = "ecs-web-1";
  spec.image = "127.0.0.1:5000/app:v1";
  spec.cmd = std::vector<std::string>{"httpd", "-f", "-p", "80"};
  spec.env = {"A=1", "B=two"};
  spec.working_dir = "/srv";
  spec.user = "nobody";
  spec.hostname = "web";
  spec.labels = {{"ecsd.task", "arn:t/1"}};
  spec.cpu_shares = 256;
  spec.memory_bytes = 512LL << 20;
  spec.memory_reservation_bytes = 128LL << 20;
  spec.ports = {{80, "tcp", "127.0.0.1", 0}, {53, "udp", "0.0.0.0", 5353}, {80, "tcp", "0.0.0.0", 8080}};
  spec.network_mode = "appnet";
  spec.ipv4_address = "10.9.0.5";
  spec.network_aliases = {"web", "www"};
  spec.binds = {"/data:/data:ro"};
  spec.volumes_from = {"side:ro"};
  spec.links = {"db:database"};
  spec.extra_hosts = {"h:10.0.0.1"};
  spec.dns_servers = {"10.0.0.2"};
  spec.dns_search = {"corp"};
  spec.ulimits = {{"nofile", 1024, 2048}};
  spec.cap_add = {"NET_ADMIN"};
  spec.cap_drop = {"MKNOD"};
  spec.readonly_rootfs = true;
  spec.init = true;
  spec.health = HealthCheck{{"CMD-SHELL", "wget -q localhost || exit 1"}, 1.5, 2, 0.25, 4};
  spec.stop_timeout_seconds = 12;
  spec.stop_signal = "SIGQUIT";
  spec.log_driver = "json-file";
  spec.log_options = {{"max-size", "10m"}};
  spec.sysctls = {{"net.core.somaxconn", "1024"}};
  spec.shm_size_bytes = 64LL << 20;

  EXPECT_EQ(client.create_container(spec), "c0ffee");

  FakeRequest req = engine.last_request();
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(req.path, "/v1.41/containers/create");
  EXPECT_EQ(req.param("name"), "ecs-web-1");
  EXPECT_EQ(req.header("content-type"), "application/json");
  EXPECT_FALSE(req.header("host").empty());
  json body = req.json();
  EXPECT_EQ(body["Image"], "127.0.0.1:5000/app:v1");
  EXPECT_EQ(body["Cmd"], json({"httpd", "-f", "-p", "80"}));
  EXPECT_FALSE(body.contains("Entrypoint"));  // unset: the image's entrypoint applies
  EXPECT_EQ(body["Env"], json({"A=1", "B=two"}));
  EXPECT_EQ(body["WorkingDir"], "/srv");
  EXPECT_EQ(body["User"], "nobody");
  EXPECT_EQ(body["Hostname"], "web");
  EXPECT_EQ(body["Labels"], json({{"ecsd.task", "arn:t/1"}}));
  EXPECT_EQ(body["ExposedPorts"], json({{"80/tcp", json::object()}, {"53/udp", json::object()}}));
  EXPECT_EQ(body["StopTimeout"], 12);
  EXPECT_EQ(body["StopSignal"], "SIGQUIT");
  EXPECT_EQ(body["Healthcheck"]["Test"], json({"CMD-SHELL", "wget -q localhost || exit 1"}));
  EXPECT_EQ(body["Healthcheck"]["Interval"], 1500000000LL);
  EXPECT_EQ(body["Healthcheck"]["Timeout"], 2000000000LL);
  EXPECT_EQ(body["Healthcheck"]["StartPeriod"], 250000000LL);
  EXPECT_EQ(body["Healthcheck"]["Retries"], 4);

  const json& host = body["HostConfig"];
  EXPECT_EQ(host["CpuShares"], 256);
  EXPECT_EQ(host["Memory"], 512LL << 20);
  EXPECT_EQ(host["MemoryReservation"], 128LL << 20);
  EXPECT_EQ(host["PortBindings"]["80/tcp"],
            json::parse(R"([{"HostIp":"127.0.0.1","HostPort":""},{"HostIp":"0.0.0.0","HostPort":"8080"}])"));
  EXPECT_EQ(host["PortBindings"]["53/udp"], json::parse(R"([{"HostIp":"0.0.0.0","HostPort":"5353"}])"));
  EXPECT_EQ(host["NetworkMode"], "appnet");
  EXPECT_EQ(host["Binds"], json({"/data:/data:ro"}));
  EXPECT_EQ(host["VolumesFrom"], json({"side:ro"}));
  EXPECT_EQ(host["Links"], json({"db:database"}));
  EXPECT_EQ(host["ExtraHosts"], json({"h:10.0.0.1"}));
  EXPECT_EQ(host["Dns"], json({"10.0.0.2"}));
  EXPECT_EQ(host["DnsSearch"], json({"corp"}));
  EXPECT_EQ(host["Ulimits"], json::parse(R"([{"Name":"nofile","Soft":1024,"Hard":2048}])"));
  EXPECT_EQ(host["CapAdd"], json({"NET_ADMIN"}));
  EXPECT_EQ(host["CapDrop"], json({"MKNOD"}));
  EXPECT_EQ(host["ReadonlyRootfs"], true);
  EXPECT_FALSE(host.contains("Privileged"));
  EXPECT_EQ(host["Init"], true);
  EXPECT_EQ(host["LogConfig"], json::parse(R"({"Type":"json-file","Config":{"max-size":"10m"}})"));
  EXPECT_EQ(host["Sysctls"], json({{"net.core.somaxconn", "1024"}}));
  EXPECT_EQ(host["ShmSize"], 64LL << 20);

  const json& endpoint = body["NetworkingConfig"]["EndpointsConfig"]["appnet"];
  EXPECT_EQ(endpoint["IPAMConfig"]["IPv4Address"], "10.9.0.5");
  EXPECT_EQ(endpoint["Aliases"], json({"web", "www"}));
}

TEST_F(DockerClientTest, CreateContainerSendsAnEmptyEntrypointButNoNetworkingConfigOnBridge) {
  engine.always(FakeResponse::json(201, {{"Id", "c1"}, {"Warnings", nullptr}}));
  ContainerSpec spec;
  spec.name = "c1";
  spec.image = "busybox";
  spec.entrypoint = std::vector<std::string>{};
  client.create_container(spec);

  json body = engine.last_request().json();
  ASSERT_TRUE(body.contains("Entrypoint"));
  EXPECT_EQ(body["Entrypoint"], json::array());  // set but empty clears the image's entrypoint
  EXPECT_FALSE(body.contains("Cmd"));
  EXPECT_EQ(body["HostConfig"]["NetworkMode"], "bridge");
  EXPECT_FALSE(body["HostConfig"].contains("PortBindings"));
  EXPECT_FALSE(body.contains("NetworkingConfig"));
  EXPECT_FALSE(body.contains("Healthcheck"));
}

TEST_F(DockerClientTest, CreateContainerMapsEngineStatuses) {
  ContainerSpec spec;
  spec.name = "c";
  spec.image = "missing:1";
  struct Case {
    int status;
    Kind kind;
  };
  for (Case c : {Case{404, Kind::NotFound}, Case{409, Kind::Conflict}, Case{400, Kind::Invalid},
                 Case{500, Kind::Internal}}) {
    engine.always(FakeResponse::message(c.status, "engine says " + std::to_string(c.status)));
    RuntimeError e = expect_error([&] { client.create_container(spec); });
    EXPECT_EQ(e.kind, c.kind) << c.status;
    EXPECT_EQ(e.status, c.status);
    EXPECT_NE(std::string(e.what()).find("engine says " + std::to_string(c.status)), std::string::npos) << e.what();
  }
}

TEST_F(DockerClientTest, UnreachableSocketIsUnavailable) {
  DockerClient gone(engine.socket_path() + ".missing", fast_timeouts());
  EXPECT_FALSE(gone.ping());
  RuntimeError e = expect_error([&] { gone.create_container(ContainerSpec{}); });
  EXPECT_EQ(e.kind, Kind::Unavailable);
  EXPECT_EQ(e.status, 0);
  EXPECT_EQ(expect_error([&] { gone.inspect_container("x"); }).kind, Kind::Unavailable);
  std::atomic<bool> stop{false};
  EXPECT_EQ(expect_error([&] { gone.watch_events({}, [](const Event&) {}, stop); }).kind, Kind::Unavailable);
}

TEST_F(DockerClientTest, SlowEngineTimesOutAsUnavailable) {
  DockerTimeouts t = fast_timeouts();
  t.request = 100ms;
  DockerClient impatient(engine.socket_path(), t);
  FakeResponse slow = FakeResponse::json(200, running_inspect());
  slow.delay = 400ms;
  engine.always(slow);
  EXPECT_EQ(expect_error([&] { impatient.inspect_container("x"); }).kind, Kind::Unavailable);
}

// --- start, stop, remove ---

TEST_F(DockerClientTest, StartAcceptsAlreadyStartedAndReportsMissing) {
  engine.always(FakeResponse::empty(204));
  client.start_container("abc");
  EXPECT_EQ(engine.last_request().method, "POST");
  EXPECT_EQ(engine.last_request().path, "/v1.41/containers/abc/start");
  engine.always(FakeResponse::empty(304));
  client.start_container("abc");
  engine.always(FakeResponse::message(404, "No such container: abc"));
  EXPECT_EQ(expect_error([&] { client.start_container("abc"); }).kind, Kind::NotFound);
}

TEST_F(DockerClientTest, StopSendsTimeoutAndAcceptsStoppedOrMissing) {
  engine.always(FakeResponse::empty(204));
  client.stop_container("abc", 7);
  FakeRequest req = engine.last_request();
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(req.path, "/v1.41/containers/abc/stop");
  EXPECT_EQ(req.param("t"), "7");
  engine.always(FakeResponse::empty(304));
  client.stop_container("abc", 7);
  engine.always(FakeResponse::message(404, "No such container: abc"));
  client.stop_container("abc", 7);
  engine.always(FakeResponse::message(500, "cannot stop"));
  EXPECT_EQ(expect_error([&] { client.stop_container("abc", 7); }).kind, Kind::Internal);
}

TEST_F(DockerClientTest, StopWaitsLongerThanItsOwnTimeout) {
  DockerTimeouts t = fast_timeouts();
  t.request = 100ms;
  DockerClient impatient(engine.socket_path(), t);
  FakeResponse slow = FakeResponse::empty(204);
  slow.delay = 400ms;  // the engine answers once the container has exited, up to t seconds later
  engine.always(slow);
  impatient.stop_container("abc", 1);
}

TEST_F(DockerClientTest, RemoveForcesAndToleratesMissing) {
  engine.always(FakeResponse::empty(204));
  client.remove_container("abc", true);
  FakeRequest req = engine.last_request();
  EXPECT_EQ(req.method, "DELETE");
  EXPECT_EQ(req.path, "/v1.41/containers/abc");
  EXPECT_EQ(req.param("force"), "1");
  EXPECT_EQ(req.param("v"), "1");
  client.remove_container("abc", false);
  EXPECT_EQ(engine.last_request().param("force"), "0");
  engine.always(FakeResponse::message(404, "No such container: abc"));
  client.remove_container("abc", true);
  engine.always(FakeResponse::message(409, "removal of container abc is already in progress"));
  client.remove_container("abc", true);
  engine.always(FakeResponse::message(409, "You cannot remove a running container abc"));
  EXPECT_EQ(expect_error([&] { client.remove_container("abc", false); }).kind, Kind::Conflict);
}

// --- inspect, list ---

TEST_F(DockerClientTest, InspectParsesStatePortsAndNetworks) {
  engine.always(FakeResponse::json(200, running_inspect()));
  std::optional<ContainerState> st = client.inspect_container("3a298b620619");
  EXPECT_EQ(engine.last_request().path, "/v1.41/containers/3a298b620619/json");
  ASSERT_TRUE(st);
  EXPECT_EQ(st->id, "3a298b62061933657d90342983b49a76596da3764f0f858790b6f62948cb1bf8");
  EXPECT_EQ(st->name, "ecs-web-1");
  EXPECT_EQ(st->image, "ecsd-test/busybox:latest");
  EXPECT_EQ(st->image_id, "sha256:3904da4438c709f7ddf0c611e60eb6bd953b8cea63662e9a1addadfada888fb1");
  EXPECT_EQ(st->labels.at("ecsd.container"), "web");
  EXPECT_EQ(st->status, "running");
  EXPECT_EQ(st->health, "healthy");
  EXPECT_EQ(st->pid, 30786);
  EXPECT_DOUBLE_EQ(st->started_at, 1767225601.5);
  EXPECT_EQ(st->finished_at, 0);
  ASSERT_EQ(st->ports.size(), 3u);  // 443/tcp is exposed but not published
  auto has = [&](int cport, const std::string& proto, const std::string& ip, int hport) {
    return std::any_of(st->ports.begin(), st->ports.end(), [&](const PortBinding& p) {
      return p.container_port == cport && p.protocol == proto && p.host_ip == ip && p.host_port == hport;
    });
  };
  EXPECT_TRUE(has(80, "tcp", "127.0.0.1", 32769));
  EXPECT_TRUE(has(53, "udp", "0.0.0.0", 5353));
  EXPECT_TRUE(has(53, "udp", "::", 5353));
  EXPECT_EQ(st->network_ips, (std::map<std::string, std::string>{{"appnet", "10.9.0.5"}, {"bridge", "172.17.0.2"}}));
}

TEST_F(DockerClientTest, InspectParsesAnExitedContainer) {
  json j = running_inspect();
  j["State"] = json::parse(R"({"Status": "exited", "Running": false, "OOMKilled": true, "Pid": 0, "ExitCode": 137,
      "Error": "", "StartedAt": "2026-01-01T00:00:01Z", "FinishedAt": "2026-01-01T00:00:09.25Z"})");
  j["NetworkSettings"]["Ports"] = json::object();
  j["Config"]["Labels"] = nullptr;
  engine.always(FakeResponse::json(200, j));
  std::optional<ContainerState> st = client.inspect_container("x");
  ASSERT_TRUE(st);
  EXPECT_EQ(st->status, "exited");
  EXPECT_EQ(st->exit_code, 137);
  EXPECT_TRUE(st->oom_killed);
  EXPECT_EQ(st->health, "");
  EXPECT_DOUBLE_EQ(st->finished_at, 1767225609.25);
  EXPECT_TRUE(st->ports.empty());
  EXPECT_TRUE(st->labels.empty());
}

TEST_F(DockerClientTest, InspectOfMissingContainerIsNullopt) {
  engine.always(FakeResponse::message(404, "No such container: x"));
  EXPECT_FALSE(client.inspect_container("x"));
}

TEST_F(DockerClientTest, ListContainersFiltersByLabelAndInspectsEach) {
  engine.set_handler([](const FakeRequest& req) {
    if (req.path == "/v1.41/containers/json")
      return FakeResponse::json(200, json::parse(R"([{"Id": "aaa", "Names": ["/a"]}, {"Id": "gone", "Names": ["/g"]}])"));
    if (req.path == "/v1.41/containers/aaa/json") return FakeResponse::json(200, running_inspect());
    return FakeResponse::message(404, "No such container");
  });
  std::vector<ContainerState> list = client.list_containers({"ecsd.cluster=default", "ecsd.task"});
  ASSERT_EQ(list.size(), 1u);  // "gone" disappeared between list and inspect
  EXPECT_EQ(list[0].name, "ecs-web-1");
  FakeRequest req = engine.requests().front();
  EXPECT_EQ(req.method, "GET");
  EXPECT_EQ(req.param("all"), "1");
  EXPECT_EQ(json::parse(req.param("filters")), json::parse(R"({"label": ["ecsd.cluster=default", "ecsd.task"]})"));
}

TEST_F(DockerClientTest, ListContainersBriefReadsTheListAloneWithoutInspecting) {
  engine.set_handler([](const FakeRequest& req) {
    if (req.path == "/v1.41/containers/json")
      return FakeResponse::json(200, json::parse(R"([
        {"Id": "aaa", "Names": ["/ecs-web-1"], "Image": "busybox:latest", "ImageID": "sha256:1",
         "Labels": {"ecsd.task": "arn:t/1", "ecsd.container": "web"}, "State": "exited",
         "Status": "Exited (3) 2 seconds ago"},
        {"Id": "bbb", "Names": ["/ecs-db-1"], "Labels": null, "State": "running"},
        {"Names": ["/no-id"]}])"));
    return FakeResponse::message(500, "unexpected " + req.path);
  });
  std::vector<ContainerState> list = client.list_containers_brief({"ecsd.instance=i1"});
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].id, "aaa");
  EXPECT_EQ(list[0].name, "ecs-web-1");
  EXPECT_EQ(list[0].image, "busybox:latest");
  EXPECT_EQ(list[0].status, "exited");
  EXPECT_EQ(list[0].labels.at("ecsd.task"), "arn:t/1");
  EXPECT_EQ(list[1].name, "ecs-db-1");
  EXPECT_EQ(list[1].status, "running");
  EXPECT_TRUE(list[1].labels.empty());
  ASSERT_EQ(engine.requests().size(), 1u);  // no inspect
  EXPECT_EQ(json::parse(engine.requests().front().param("filters")), json::parse(R"({"label": ["ecsd.instance=i1"]})"));
}

// --- images ---

TEST_F(DockerClientTest, ImagePresentAsksForTheImageByName) {
  engine.always(FakeResponse::json(200, {{"Id", "sha256:abc"}}));
  EXPECT_TRUE(client.image_present("127.0.0.1:5000/app:v1"));
  EXPECT_EQ(engine.last_request().path, "/v1.41/images/127.0.0.1:5000/app:v1/json");
  engine.always(FakeResponse::message(404, "No such image: app:v1"));
  EXPECT_FALSE(client.image_present("app:v1"));
  engine.always(FakeResponse::message(500, "boom"));
  EXPECT_EQ(expect_error([&] { client.image_present("app:v1"); }).kind, Kind::Internal);
}

TEST_F(DockerClientTest, PullSplitsTheReferenceAndReadsTheStreamToTheEnd) {
  FakeResponse ok;
  ok.chunks = {R"({"status":"Pulling from app","id":"v1"})" "\r\n",
               R"({"status":"Downloading","progressDetail":{"current":1,"total":2},"id":"abc"})" "\r\n{\"sta",
               "tus\":\"Status: Downloaded newer image for app:v1\"}\r\n"};
  engine.always(ok);
  struct Case {
    std::string image, from_image, tag;
  };
  for (const Case& c : {Case{"127.0.0.1:5000/app:v1", "127.0.0.1:5000/app", "v1"},
                        Case{"127.0.0.1:5000/app", "127.0.0.1:5000/app", "latest"},
                        Case{"busybox", "busybox", "latest"},
                        Case{"library/busybox:1.36", "library/busybox", "1.36"},
                        Case{"app@sha256:0123", "app", "sha256:0123"},
                        Case{"reg:5000/app:v1@sha256:0123", "reg:5000/app", "sha256:0123"}}) {
    client.pull_image(c.image, nullptr);
    FakeRequest req = engine.last_request();
    EXPECT_EQ(req.method, "POST");
    EXPECT_EQ(req.path, "/v1.41/images/create");
    EXPECT_EQ(req.param("fromImage"), c.from_image) << c.image;
    EXPECT_EQ(req.param("tag"), c.tag) << c.image;
    EXPECT_EQ(req.header("x-registry-auth"), "");
  }
}

TEST_F(DockerClientTest, PullSendsRegistryAuth) {
  engine.always(FakeResponse::json(200, {{"status", "Status: Image is up to date for app:v1"}}));
  RegistryAuth auth{"AWS", "pa$$?word>", "127.0.0.1:5000"};
  client.pull_image("127.0.0.1:5000/app:v1", &auth);
  std::string header = engine.last_request().header("x-registry-auth");
  ASSERT_FALSE(header.empty());
  EXPECT_EQ(header.find_first_of("+/"), std::string::npos);  // base64url
  EXPECT_EQ(header, docker::registry_auth_header(auth));
  // Decode base64url by hand to check the payload.
  std::string decoded;
  std::uint32_t acc = 0;
  int bits = 0;
  for (char ch : header) {
    if (ch == '=') break;
    int v = std::string("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_").find(ch);
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      decoded += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  EXPECT_EQ(json::parse(decoded), json::parse(R"({"username":"AWS","password":"pa$$?word>","serveraddress":"127.0.0.1:5000"})"));
}

TEST_F(DockerClientTest, PullErrorInTheStreamIsAnError) {
  struct Case {
    std::string message;
    Kind kind;
  };
  for (const Case& c : {Case{"manifest for app:v9 not found: manifest unknown: manifest unknown", Kind::NotFound},
                        Case{"pull access denied for nope, repository does not exist", Kind::NotFound},
                        Case{"Get \"http://127.0.0.1:5999/v2/\": dial tcp 127.0.0.1:5999: connect: connection refused",
                             Kind::Unavailable},
                        Case{"failed to register layer: no space left on device", Kind::Internal}}) {
    FakeResponse res;
    res.chunks = {R"({"status":"Pulling from app","id":"v9"})" "\r\n",
                  json{{"errorDetail", {{"message", c.message}}}, {"error", c.message}}.dump() + "\r\n"};
    engine.always(res);
    RuntimeError e = expect_error([&] { client.pull_image("app:v9", nullptr); });
    EXPECT_EQ(e.kind, c.kind) << c.message;
    EXPECT_NE(std::string(e.what()).find(c.message), std::string::npos);
  }
}

TEST_F(DockerClientTest, PullRefusedBeforeStreamingMapsTheStatus) {
  engine.always(FakeResponse::message(404, "pull access denied for nope, repository does not exist or may require "
                                           "'docker login': denied: requested access to the resource is denied"));
  EXPECT_EQ(expect_error([&] { client.pull_image("nope", nullptr); }).kind, Kind::NotFound);
  engine.always(FakeResponse::message(500, "Get \"https://registry-1.docker.io/v2/\": dial tcp: lookup "
                                           "registry-1.docker.io on 10.0.0.53:53: no such host"));
  EXPECT_EQ(expect_error([&] { client.pull_image("nope", nullptr); }).kind, Kind::Unavailable);
}

// --- networks ---

TEST_F(DockerClientTest, EnsureNetworkReturnsAnExistingOne) {
  engine.always(FakeResponse::json(200, {{"Name", "ecsd-default"}, {"Id", "n1"}, {"Driver", "bridge"}}));
  EXPECT_EQ(client.ensure_network({"ecsd-default", "172.31.0.0/20", "", {}}), "n1");
  ASSERT_EQ(engine.requests().size(), 1u);
  EXPECT_EQ(engine.last_request().method, "GET");
  EXPECT_EQ(engine.last_request().path, "/v1.41/networks/ecsd-default");
}

TEST_F(DockerClientTest, EnsureNetworkCreatesAMissingOne) {
  engine.set_handler([](const FakeRequest& req) {
    if (req.method == "POST") return FakeResponse::json(201, {{"Id", "n2"}, {"Warning", ""}});
    return FakeResponse::message(404, "network ecsd-app not found");
  });
  NetworkSpec spec{"ecsd-app", "172.31.16.0/20", "172.31.16.1", {{"ecsd.managed", "true"}}};
  EXPECT_EQ(client.ensure_network(spec), "n2");
  FakeRequest req = engine.last_request();
  EXPECT_EQ(req.path, "/v1.41/networks/create");
  json body = req.json();
  EXPECT_EQ(body["Name"], "ecsd-app");
  EXPECT_EQ(body["Driver"], "bridge");
  EXPECT_EQ(body["CheckDuplicate"], true);
  EXPECT_EQ(body["Labels"], json({{"ecsd.managed", "true"}}));
  EXPECT_EQ(body["IPAM"]["Config"], json::parse(R"([{"Subnet":"172.31.16.0/20","Gateway":"172.31.16.1"}])"));
}

TEST_F(DockerClientTest, EnsureNetworkReportsAnOverlappingSubnet) {
  engine.set_handler([](const FakeRequest& req) {
    if (req.method == "POST") return FakeResponse::message(403, "Pool overlaps with other one on this address space");
    return FakeResponse::message(404, "network x not found");
  });
  EXPECT_EQ(expect_error([&] { client.ensure_network({"x", "172.17.0.0/16", "", {}}); }).kind, Kind::Conflict);
}

TEST_F(DockerClientTest, RemoveAndListNetworks) {
  engine.always(FakeResponse::message(404, "network x not found"));
  client.remove_network("x");
  EXPECT_EQ(engine.last_request().method, "DELETE");
  EXPECT_EQ(engine.last_request().path, "/v1.41/networks/x");
  engine.always(FakeResponse::message(403, "error while removing network: network x has active endpoints"));
  EXPECT_EQ(expect_error([&] { client.remove_network("x"); }).kind, Kind::Conflict);

  engine.always(FakeResponse::json(200, json::parse(R"([{"Name": "a", "Id": "1"}, {"Name": "b", "Id": "2"}])")));
  EXPECT_EQ(client.list_networks({"ecsd.managed=true"}), (std::vector<std::string>{"a", "b"}));
  FakeRequest req = engine.last_request();
  EXPECT_EQ(req.path, "/v1.41/networks");
  EXPECT_EQ(json::parse(req.param("filters")), json::parse(R"({"label": ["ecsd.managed=true"]})"));
}

// --- events ---

TEST_F(DockerClientTest, WatchEventsParsesAChunkedStream) {
  std::string die = event_json("die", "c2").dump() + "\n";
  FakeResponse res;
  res.stream = [&](FakeStream& s) {
    s.chunk(event_json("start", "c1").dump() + "\n" + die.substr(0, 20));
    std::this_thread::sleep_for(300ms);  // a slow engine: the rest of the line after several read timeouts
    s.chunk(die.substr(20));
    s.chunk(event_json("exec_start: sh -c true", "c1").dump() + "\n");  // health check noise
    s.chunk(event_json("create", "n1", "network").dump() + "\n");
    s.chunk(event_json("health_status: healthy", "c1").dump() + "\n");
  };
  engine.always(res);

  std::vector<Event> events;
  std::atomic<bool> stop{false};
  client.watch_events({"ecsd.cluster"}, [&](const Event& e) { events.push_back(e); }, stop);

  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].container_id, "c1");
  EXPECT_EQ(events[0].action, "start");
  EXPECT_EQ(events[0].labels.at("ecsd.task"), "arn:t/c1");
  EXPECT_EQ(events[1].container_id, "c2");
  EXPECT_EQ(events[1].action, "die");
  EXPECT_EQ(events[2].action, "health_status: healthy");
  FakeRequest req = engine.last_request();
  EXPECT_EQ(req.path, "/v1.41/events");
  EXPECT_EQ(json::parse(req.param("filters")), json::parse(R"({"type": ["container"], "label": ["ecsd.cluster"]})"));
}

TEST_F(DockerClientTest, WatchEventsReturnsSoonAfterStop) {
  auto client_closed = std::make_shared<std::promise<bool>>();
  FakeResponse res;
  res.stream = [client_closed](FakeStream& s) {
    s.chunk(event_json("start", "c1").dump() + "\n");
    client_closed->set_value(s.wait_client_close(10s));
  };
  engine.always(res);

  std::mutex mu;
  std::condition_variable cv;
  int seen = 0;
  std::atomic<bool> stop{false};
  auto watcher = std::async(std::launch::async, [&] {
    client.watch_events({}, [&](const Event&) {
      std::lock_guard lock(mu);
      ++seen;
      cv.notify_all();
    }, stop);
  });
  struct StopOnExit {  // a failed assertion must not leave the watcher (and the future) blocking
    std::atomic<bool>& stop;
    ~StopOnExit() { stop = true; }
  } stop_on_exit{stop};
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, 5s, [&] { return seen == 1; }));
  }
  auto stopped_at = std::chrono::steady_clock::now();
  stop = true;
  ASSERT_EQ(watcher.wait_for(5s), std::future_status::ready);
  EXPECT_LT(std::chrono::steady_clock::now() - stopped_at, 1s);
  watcher.get();
  EXPECT_TRUE(client_closed->get_future().get());  // the connection was closed, not leaked
}

TEST_F(DockerClientTest, WatchEventsReportsAnEngineError) {
  engine.always(FakeResponse::message(400, "invalid filter 'lable'"));
  std::atomic<bool> stop{false};
  EXPECT_EQ(expect_error([&] { client.watch_events({}, [](const Event&) {}, stop); }).kind, Kind::Invalid);
}

// --- logs, ping ---

TEST_F(DockerClientTest, ContainerLogsDemultiplexesStdoutAndStderr) {
  FakeResponse res;
  res.content_type = "application/vnd.docker.raw-stream";
  std::string raw = log_frame(1, "out1\n") + log_frame(2, "err1\n") + log_frame(1, "out2\n");
  res.chunks = {raw.substr(0, 11), raw.substr(11)};  // a frame split across chunks
  engine.always(res);
  EXPECT_EQ(client.container_logs("abc", 10), "out1\nerr1\nout2\n");
  FakeRequest req = engine.last_request();
  EXPECT_EQ(req.path, "/v1.41/containers/abc/logs");
  EXPECT_EQ(req.param("stdout"), "1");
  EXPECT_EQ(req.param("stderr"), "1");
  EXPECT_EQ(req.param("tail"), "10");

  client.container_logs("abc", -1);
  EXPECT_EQ(engine.last_request().param("tail"), "all");

  engine.always(FakeResponse{200, "tty output\r\n", "application/vnd.docker.raw-stream"});
  EXPECT_EQ(client.container_logs("abc", 10), "tty output\r\n");
  engine.always(FakeResponse{200, "", "application/vnd.docker.raw-stream"});
  EXPECT_EQ(client.container_logs("abc", 10), "");
  engine.always(FakeResponse::message(404, "No such container: abc"));
  EXPECT_EQ(expect_error([&] { client.container_logs("abc", 10); }).kind, Kind::NotFound);
}

TEST_F(DockerClientTest, FollowLogsAsksForTimestampsSinceAndDecodesLines) {
  FakeResponse res;
  res.content_type = "application/vnd.docker.multiplexed-stream";
  std::string raw = log_frame(1, "2026-01-01T00:00:00.000000001Z out1\n") +
                    log_frame(2, "2026-01-01T00:00:00.000000002Z err1\n");
  res.chunks = {raw.substr(0, 20), raw.substr(20)};
  engine.always(res);
  std::atomic<bool> stop{false};
  std::vector<LogLine> got;
  client.follow_logs("abc", 1767225600LL * 1000000000LL + 5, true,
                     [&](std::vector<LogLine>& lines) { got.insert(got.end(), lines.begin(), lines.end()); }, stop);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].text, "out1");
  EXPECT_EQ(got[1].text, "err1");
  EXPECT_TRUE(got[1].is_stderr);
  EXPECT_EQ(got[1].ts_ns, 1767225600LL * 1000000000LL + 2);
  FakeRequest req = engine.last_request();
  EXPECT_EQ(req.path, "/v1.41/containers/abc/logs");
  EXPECT_EQ(req.param("follow"), "1");
  EXPECT_EQ(req.param("timestamps"), "1");
  EXPECT_EQ(req.param("since"), "1767225600.000000005");
  engine.always(FakeResponse::message(404, "No such container: abc"));
  EXPECT_EQ(expect_error([&] { client.follow_logs("abc", 0, true, [](std::vector<LogLine>&) {}, stop); }).kind,
            Kind::NotFound);
}

TEST_F(DockerClientTest, NetworkGatewayFromIpamOrTheSubnetsFirstAddress) {
  engine.always(FakeResponse{200, R"({"Name":"bridge","IPAM":{"Config":[{"Subnet":"172.17.0.0/16","Gateway":"172.17.0.1"}]}})",
                             "application/json"});
  EXPECT_EQ(client.network_gateway("bridge"), "172.17.0.1");
  engine.always(FakeResponse{200, R"({"Name":"n","IPAM":{"Config":[{"Subnet":"172.31.16.0/20"}]}})", "application/json"});
  EXPECT_EQ(client.network_gateway("n"), "172.31.16.1");
  engine.always(FakeResponse::message(404, "network n not found"));
  EXPECT_EQ(client.network_gateway("n"), "");
}

TEST_F(DockerClientTest, PingExpectsOk) {
  engine.always(FakeResponse{200, "OK", "text/plain; charset=utf-8"});
  EXPECT_TRUE(client.ping());
  EXPECT_EQ(engine.last_request().path, "/v1.41/_ping");
  engine.always(FakeResponse::message(500, "down"));
  EXPECT_FALSE(client.ping());
}

// --- pure helpers ---

TEST(DockerMappingTest, ParseEngineTimeHandlesNanosecondsAndTheZeroTime) {
  EXPECT_EQ(docker::parse_engine_time("0001-01-01T00:00:00Z"), 0);
  EXPECT_EQ(docker::parse_engine_time(""), 0);
  EXPECT_EQ(docker::parse_engine_time("junk"), 0);
  EXPECT_NEAR(docker::parse_engine_time("2026-01-01T00:00:00.123456789Z"), 1767225600.123456789, 1e-6);
  EXPECT_DOUBLE_EQ(docker::parse_engine_time("2026-01-01T01:00:00+01:00"), 1767225600);
}

TEST(DockerMappingTest, UrlEncodeKeepsPathCharactersOnlyWhenAsked) {
  EXPECT_EQ(docker::url_encode(R"({"label":["a=b"]})"), "%7B%22label%22%3A%5B%22a%3Db%22%5D%7D");
  EXPECT_EQ(docker::url_encode("reg:5000/app@sha256:ab", true), "reg:5000/app@sha256:ab");
  EXPECT_EQ(docker::url_encode("a b/c"), "a%20b%2Fc");
}

TEST(DockerMappingTest, LabelFiltersOmitEmptyParts) {
  EXPECT_EQ(docker::label_filters({}), "{}");
  EXPECT_EQ(json::parse(docker::label_filters({"k=v"}, "container")),
            json::parse(R"({"type":["container"],"label":["k=v"]})"));
}

TEST(DockerMappingTest, DemuxStopsAtATruncatedFrame) {
  std::string raw = log_frame(1, "hello ") + log_frame(2, "world");
  EXPECT_EQ(docker::demux_logs(raw.substr(0, raw.size() - 2)), "hello wor");
}

}  // namespace
}  // namespace ecsd::runtime
