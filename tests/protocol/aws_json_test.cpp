// awsJson codec tests: decoding with type checks and validation, model-driven encoding.
#include "ecsd/protocol/aws_json.hpp"

#include <gtest/gtest.h>

#include "ecsd/common/api_error.hpp"
#include "ecsd/protocol/validator.hpp"

namespace ecsd::protocol {
namespace {

using nlohmann::json;

const model::Service& ecs() { return model::get("ecs"); }
const model::Operation& op(const char* name) { return *ecs().find_operation(name); }

ApiError decode_error(const char* operation, const std::string& body) {
  try {
    decode_json(ecs(), op(operation), body, "InvalidParameterException");
  } catch (const ApiError& e) {
    return e;
  }
  ADD_FAILURE() << "no error for " << body;
  return ApiError("", "");
}

TEST(AwsJsonTest, EmptyBodyIsAnEmptyObject) {
  EXPECT_EQ(decode_json(ecs(), op("ListClusters"), "", "InvalidParameterException"), json::object());
}

TEST(AwsJsonTest, MalformedJsonIsASerializationException) {
  EXPECT_EQ(decode_error("ListClusters", "{not json").code, "SerializationException");
  EXPECT_EQ(decode_error("ListClusters", "[1,2]").code, "SerializationException");
}

TEST(AwsJsonTest, WrongTypeIsASerializationExceptionNamingTheMember) {
  auto e = decode_error("CreateService", R"({"serviceName":"s","desiredCount":"x"})");
  EXPECT_EQ(e.code, "SerializationException");
  EXPECT_NE(std::string(e.what()).find("desiredCount"), std::string::npos);
}

TEST(AwsJsonTest, EveryConstraintViolationIsReportedAtOnce) {
  auto e = decode_error("RegisterTaskDefinition", R"({"networkMode":"bogus"})");
  EXPECT_EQ(e.code, "InvalidParameterException");
  std::string msg = e.what();
  EXPECT_NE(msg.find("3 validation errors detected"), std::string::npos) << msg;
  EXPECT_NE(msg.find("'family'"), std::string::npos);
  EXPECT_NE(msg.find("'containerDefinitions'"), std::string::npos);
  EXPECT_NE(msg.find("enum value set"), std::string::npos);
}

TEST(AwsJsonTest, TimestampsAcceptIsoStringsAndBecomeEpochSeconds) {
  json in = decode_json(ecs(), op("ListServiceDeployments"),
                        R"({"service":"s","createdAt":{"after":"2026-01-01T00:00:00Z","before":1767225700}})",
                        "InvalidParameterException");
  EXPECT_DOUBLE_EQ(in["createdAt"]["after"].get<double>(), 1767225600);
  EXPECT_DOUBLE_EQ(in["createdAt"]["before"].get<double>(), 1767225700);
}

TEST(AwsJsonTest, EncodeDropsUnknownMembersAndNulls) {
  json out = {{"cluster", {{"clusterName", "c"}, {"bogusField", 1}, {"status", nullptr}}}, {"extra", true}};
  EXPECT_EQ(json::parse(encode_json(ecs(), op("CreateCluster"), out)), json({{"cluster", {{"clusterName", "c"}}}}));
}

TEST(AwsJsonTest, EncodeWritesTimestampsAsEpochSeconds) {
  json out = {{"taskDefinition", {{"registeredAt", "2026-01-01T00:00:00.500Z"}}}};
  auto j = json::parse(encode_json(ecs(), op("DescribeTaskDefinition"), out));
  EXPECT_DOUBLE_EQ(j["taskDefinition"]["registeredAt"].get<double>(), 1767225600.5);
}

// The encoder writes the shaped output straight into the body; this pins the bytes it writes:
// keys in byte order at every level, lists in order, maps with their keys escaped, strings escaped
// (quotes, backslashes, control characters) and invalid UTF-8 replaced by U+FFFD, nulls and unknown members
// dropped, a structure that is not an object written as {}.
TEST(AwsJsonTest, EncodeWritesCompactJsonWithSortedKeysAndEscapedStrings) {
  json container = {{"name", "we\"b\\1\n"},
                    {"image", "busybox"},
                    {"essential", true},
                    {"memory", 128},
                    {"dockerLabels", {{"b\"key", "2"}, {"a", "1"}}},
                    {"environment", json::array({{{"value", "x"}, {"name", "N"}}, json()})},
                    {"portMappings", "not a list"},
                    {"unknown", {{"x", 1}}},
                    {"cpu", nullptr}};
  json out = {{"taskDefinition",
               {{"family", "web\x01"},
                {"revision", 3},
                {"registeredAt", 1767225600.25},
                {"containerDefinitions", json::array({container})},
                {"runtimePlatform", "oops"}}},
              {"tags", json::array({{{"key", "k\xff"}, {"value", "v"}}})}};
  EXPECT_EQ(encode_json(ecs(), op("DescribeTaskDefinition"), out),
            R"({"tags":[{"key":"k)" "\xEF\xBF\xBD" R"(","value":"v"}],"taskDefinition":{"containerDefinitions":[{"dockerLabels":)"
            R"({"a":"1","b\"key":"2"},"environment":[{"name":"N","value":"x"},{}],"essential":true,"image":"busybox",)"
            R"("memory":128,"name":"we\"b\\1\n","portMappings":[]}],"family":"web\u0001","registeredAt":1767225600.25,)"
            R"("revision":3,"runtimePlatform":{}}})");
}

TEST(AwsJsonTest, ErrorBodyIsWhatBotocoreParses) {
  EXPECT_EQ(json::parse(encode_json_error("ClusterNotFoundException", "Cluster not found.")),
            json({{"__type", "ClusterNotFoundException"}, {"message", "Cluster not found."}}));
}

TEST(ValidatorTest, LengthAndRangeConstraints) {
  const auto& svc = model::get("elbv2");
  json in = {{"Name", "tg"}, {"Port", 70000}, {"HealthCheckIntervalSeconds", 1}};
  auto problems = validate(svc, svc.find_operation("CreateTargetGroup")->input, in);
  ASSERT_EQ(problems.size(), 2u);
  EXPECT_NE(problems[0].find("value less than or equal to 65535"), std::string::npos) << problems[0];
  EXPECT_NE(problems[1].find("value greater than or equal to 5"), std::string::npos) << problems[1];
  const auto& ecs = model::get("ecs");
  auto names = validate(ecs, ecs.find_operation("DescribeClusters")->input, {{"clusters", json::array({"a"})}});
  EXPECT_TRUE(names.empty());
  EXPECT_EQ(validation_message({"a"}), "1 validation error detected: a");
}

}  // namespace
}  // namespace ecsd::protocol
