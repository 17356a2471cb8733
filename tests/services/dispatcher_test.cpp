// Tests for the API dispatcher: wire requests in, AWS-shaped responses out, for awsJson (ECS)
// and awsQuery (STS), with no sockets.
#include "ecsd/services/dispatcher.hpp"

#include <algorithm>
#include <regex>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include "ecsd/common/clock.hpp"
#include "ecsd/services/ecs/ecs.hpp"
#include "ecsd/services/sts/sts.hpp"
#include "ecsd/store/store.hpp"

namespace ecsd::services {
namespace {

using protocol::WireRequest;
using protocol::WireResponse;

constexpr const char* kAccount = "000000000000";
constexpr double kNow = 1767225600.0;  // 2026-01-01T00:00:00Z
constexpr const char* kEcsTarget = "AmazonEC2ContainerServiceV20141113.";

std::string authorization(const std::string& region, const std::string& service) {
  return "AWS4-HMAC-SHA256 Credential=AKID/20260101/" + region + "/" + service +
         "/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=0123abcd";
}

// @return the value of response header `name` (case-insensitive), or "" when absent.
std::string header(const WireResponse& r, const std::string& name) {
  auto lower = [](std::string s) {
    for (auto& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return s;
  };
  for (const auto& [k, v] : r.headers)
    if (lower(k) == lower(name)) return v;
  return "";
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

class DispatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    log_level_ = spdlog::get_level();
    spdlog::set_level(spdlog::level::warn);  // keep per-request access lines out of test output
    set_clock(&clock_);
    dispatcher_.add(ecs::make_api());
    dispatcher_.add(sts::make_api());
  }
  void TearDown() override {
    set_clock(nullptr);
    spdlog::set_level(log_level_);
  }

  // An awsJson 1.1 ECS request as the AWS CLI sends it.
  WireResponse ecs_call(const std::string& op, const std::string& body, const std::string& region = "us-east-1") {
    WireRequest req;
    req.method = "POST";
    req.target = "/";
    req.headers = {{"content-type", "application/x-amz-json-1.1"},
                   {"x-amz-target", kEcsTarget + op},
                   {"authorization", authorization(region, "ecs")}};
    req.body = body;
    return dispatcher_.handle(req);
  }

  // An awsQuery request with a form body.
  WireResponse query_call(const std::string& body, const std::string& service = "sts") {
    WireRequest req;
    req.method = "POST";
    req.target = "/";
    req.headers = {{"content-type", "application/x-www-form-urlencoded; charset=utf-8"},
                   {"authorization", authorization("us-east-1", service)}};
    req.body = body;
    return dispatcher_.handle(req);
  }

  // Asserts an awsJson error response with `code`. @return the decoded body.
  json expect_json_error(const WireResponse& r, int status, const std::string& code) {
    EXPECT_EQ(r.status, status) << r.body;
    EXPECT_EQ(header(r, "x-amzn-ErrorType"), code);
    EXPECT_FALSE(header(r, "x-amzn-RequestId").empty());
    json body = json::parse(r.body, nullptr, false);
    EXPECT_FALSE(body.is_discarded()) << r.body;
    if (body.is_discarded()) return json::object();
    EXPECT_EQ(body.value("__type", ""), code) << r.body;
    EXPECT_FALSE(body.value("message", body.value("Message", "")).empty()) << r.body;
    return body;
  }

  spdlog::level::level_enum log_level_ = spdlog::level::info;
  FakeClock clock_{kNow};
  store::Store store_{":memory:"};
  Dispatcher dispatcher_{store_, kAccount};
};

TEST_F(DispatcherTest, SuccessfulCallAnswersJsonWithRequestId) {
  WireResponse r = ecs_call("CreateCluster", R"({"clusterName":"web"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.content_type, "application/x-amz-json-1.1");
  std::string request_id = header(r, "x-amzn-RequestId");
  EXPECT_TRUE(std::regex_match(request_id, std::regex("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")))
      << request_id;
  EXPECT_TRUE(header(r, "x-amzn-ErrorType").empty());
  json body = json::parse(r.body);
  EXPECT_EQ(body["cluster"]["clusterArn"], "arn:aws:ecs:us-east-1:000000000000:cluster/web");
}

TEST_F(DispatcherTest, EachRequestGetsItsOwnRequestId) {
  WireResponse a = ecs_call("ListClusters", "{}");
  WireResponse b = ecs_call("ListClusters", "{}");
  EXPECT_NE(header(a, "x-amzn-RequestId"), header(b, "x-amzn-RequestId"));
}

TEST_F(DispatcherTest, TimestampsAreEpochSecondsOnTheWire) {
  WireResponse r = ecs_call(
      "RegisterTaskDefinition",
      R"({"family":"web","containerDefinitions":[{"name":"app","image":"nginx","memory":128}]})");
  ASSERT_EQ(r.status, 200) << r.body;
  json td = json::parse(r.body)["taskDefinition"];
  ASSERT_TRUE(td["registeredAt"].is_number()) << td["registeredAt"];
  EXPECT_DOUBLE_EQ(td["registeredAt"].get<double>(), kNow);
}

TEST_F(DispatcherTest, UnknownTargetIsUnknownOperationException) {
  WireResponse r = ecs_call("DescribeUnicorns", "{}");
  expect_json_error(r, 400, "UnknownOperationException");

  WireRequest req;
  req.method = "POST";
  req.target = "/";
  req.headers = {{"content-type", "application/x-amz-json-1.1"}, {"x-amz-target", "NoSuchService.DoThing"}};
  req.body = "{}";
  expect_json_error(dispatcher_.handle(req), 400, "UnknownOperationException");
}

TEST_F(DispatcherTest, MalformedJsonIsSerializationException) {
  expect_json_error(ecs_call("CreateCluster", R"({"clusterName": )"), 400, "SerializationException");
  expect_json_error(ecs_call("CreateCluster", "not json"), 400, "SerializationException");
  expect_json_error(ecs_call("CreateCluster", "[1,2]"), 400, "SerializationException");
}

TEST_F(DispatcherTest, WrongMemberTypeIsSerializationException) {
  ASSERT_EQ(ecs_call("CreateCluster", "{}").status, 200);
  ASSERT_EQ(ecs_call("RegisterTaskDefinition",
                     R"({"family":"web","containerDefinitions":[{"name":"a","image":"nginx","memory":128}]})")
                .status,
            200);
  WireResponse r = ecs_call("CreateService", R"({"serviceName":"api","taskDefinition":"web","desiredCount":"x"})");
  expect_json_error(r, 400, "SerializationException");
  // Nothing was created.
  json list = json::parse(ecs_call("ListServices", "{}").body);
  EXPECT_EQ(list["serviceArns"], json::array());
}

TEST_F(DispatcherTest, MissingRequiredMemberNamesIt) {
  WireResponse r = ecs_call("CreateService", R"({"taskDefinition":"web"})");
  json body = expect_json_error(r, 400, "InvalidParameterException");
  EXPECT_TRUE(contains(body.value("message", ""), "serviceName")) << r.body;

  WireResponse td = ecs_call("RegisterTaskDefinition", R"({"family":"web"})");
  json td_body = expect_json_error(td, 400, "InvalidParameterException");
  EXPECT_TRUE(contains(td_body.value("message", ""), "containerDefinitions")) << td.body;
}

TEST_F(DispatcherTest, HandlerErrorsKeepTheirCode) {
  WireResponse r = ecs_call("DeleteCluster", R"({"cluster":"nope"})");
  expect_json_error(r, 400, "ClusterNotFoundException");
  WireResponse td = ecs_call("DescribeTaskDefinition", R"({"taskDefinition":"nope"})");
  expect_json_error(td, 400, "ClientException");
}

TEST_F(DispatcherTest, RegionComesFromCredentialScope) {
  WireResponse r = ecs_call("CreateCluster", R"({"clusterName":"web"})", "eu-west-1");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body)["cluster"]["clusterArn"], "arn:aws:ecs:eu-west-1:000000000000:cluster/web");

  json us = json::parse(ecs_call("DescribeClusters", R"({"clusters":["web"]})", "us-east-1").body);
  EXPECT_EQ(us["clusters"], json::array());
  ASSERT_EQ(us["failures"].size(), 1u);
  EXPECT_EQ(us["failures"][0]["reason"], "MISSING");
  EXPECT_EQ(json::parse(ecs_call("ListClusters", "{}", "us-east-1").body)["clusterArns"], json::array());

  json eu = json::parse(ecs_call("ListClusters", "{}", "eu-west-1").body);
  EXPECT_EQ(eu["clusterArns"], json::array({"arn:aws:ecs:eu-west-1:000000000000:cluster/web"}));
}

TEST_F(DispatcherTest, MissingAuthorizationDefaultsToUsEast1) {
  WireRequest req;
  req.method = "POST";
  req.target = "/";
  req.headers = {{"content-type", "application/x-amz-json-1.1"}, {"x-amz-target", std::string(kEcsTarget) + "CreateCluster"}};
  req.body = R"({"clusterName":"web"})";
  WireResponse r = dispatcher_.handle(req);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body)["cluster"]["clusterArn"], "arn:aws:ecs:us-east-1:000000000000:cluster/web");
}

TEST_F(DispatcherTest, StsGetCallerIdentityAnswersXml) {
  WireResponse r = query_call("Action=GetCallerIdentity&Version=2011-06-15");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(contains(r.content_type, "xml")) << r.content_type;
  EXPECT_TRUE(contains(r.body, "<GetCallerIdentityResponse")) << r.body;
  EXPECT_TRUE(contains(r.body, "<GetCallerIdentityResult>")) << r.body;
  EXPECT_TRUE(contains(r.body, "<Account>000000000000</Account>")) << r.body;
  EXPECT_TRUE(contains(r.body, "<Arn>arn:aws:iam::000000000000:root</Arn>")) << r.body;
  std::string request_id = header(r, "x-amzn-RequestId");
  ASSERT_FALSE(request_id.empty());
  EXPECT_TRUE(contains(r.body, "<RequestId>" + request_id + "</RequestId>")) << r.body;
}

TEST_F(DispatcherTest, StsIsFoundByVersionWithoutAuthorization) {
  WireRequest req;
  req.method = "POST";
  req.target = "/";
  req.headers = {{"content-type", "application/x-www-form-urlencoded"}};
  req.body = "Action=GetCallerIdentity&Version=2011-06-15";
  WireResponse r = dispatcher_.handle(req);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(contains(r.body, "<Account>000000000000</Account>")) << r.body;
}

TEST_F(DispatcherTest, StsAcceptsParametersInTheQueryString) {
  WireRequest req;
  req.method = "GET";
  req.target = "/?Action=GetCallerIdentity&Version=2011-06-15";
  req.headers = {{"authorization", authorization("us-east-1", "sts")}};
  WireResponse r = dispatcher_.handle(req);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(contains(r.body, "<Account>000000000000</Account>")) << r.body;
}

TEST_F(DispatcherTest, QueryUnknownActionIsInvalidAction) {
  WireResponse r = query_call("Action=DescribeUnicorns&Version=2011-06-15");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_TRUE(contains(r.content_type, "xml")) << r.content_type;
  EXPECT_TRUE(std::regex_search(
      r.body, std::regex(R"(<ErrorResponse[^>]*>\s*<Error>\s*<Type>Sender</Type>\s*<Code>InvalidAction</Code>)")))
      << r.body;
  EXPECT_TRUE(contains(r.body, "<Message>")) << r.body;
  std::string request_id = header(r, "x-amzn-RequestId");
  ASSERT_FALSE(request_id.empty());
  EXPECT_TRUE(contains(r.body, "<RequestId>" + request_id + "</RequestId>")) << r.body;
}

TEST_F(DispatcherTest, QueryWithoutActionIsAnError) {
  WireResponse r = query_call("Version=2011-06-15");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_TRUE(contains(r.body, "<ErrorResponse")) << r.body;
  EXPECT_TRUE(contains(r.body, "<Code>MissingAction</Code>")) << r.body;
}

TEST_F(DispatcherTest, OperationWithoutHandlerIsNotImplemented) {
  // Pick an ECS operation in the model that has no handler (RunTask while it is unimplemented) and
  // whose input has no required members, so that "{}" passes validation and reaches dispatch.
  ServiceApi api = ecs::make_api();
  auto callable_with_empty_body = [&](const model::Operation& o) {
    if (o.input < 0) return true;
    for (const auto& m : api.model->shape(o.input).members)
      if (m.required) return false;
    return true;
  };
  std::vector<std::string> candidates;
  for (const auto& [name, operation] : api.model->operations())
    if (!api.handlers.count(name) && callable_with_empty_body(operation)) candidates.push_back(name);
  std::sort(candidates.begin(), candidates.end());
  if (candidates.empty()) GTEST_SKIP() << "every ECS operation has a handler";
  std::string op = std::find(candidates.begin(), candidates.end(), "RunTask") != candidates.end() ? "RunTask"
                                                                                                   : candidates.front();

  WireResponse r = ecs_call(op, "{}");
  EXPECT_EQ(r.status, 501) << op << ": " << r.body;
  EXPECT_FALSE(header(r, "x-amzn-ErrorType").empty());
  json body = json::parse(r.body, nullptr, false);
  ASSERT_FALSE(body.is_discarded()) << r.body;
  std::string message = body.value("message", "");
  EXPECT_TRUE(contains(message, op)) << message;
  EXPECT_TRUE(contains(message, "not implement")) << message;
}

}  // namespace
}  // namespace ecsd::services
