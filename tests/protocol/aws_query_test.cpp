// awsQuery codec tests: protocol fixtures as data (tests/fixtures/protocols/query.json), plus errors.
#include "ecsd/protocol/aws_query.hpp"

#include <fstream>

#include <gtest/gtest.h>

#include "ecsd/common/api_error.hpp"

namespace ecsd::protocol {
namespace {

using nlohmann::json;

json fixtures(const char* file = "query.json") {
  std::ifstream in(std::string(ECSD_SOURCE_DIR) + "/tests/fixtures/protocols/" + file);
  return json::parse(in);
}

std::string without_prolog(const std::string& xml) {
  auto end = xml.find("?>");
  std::string s = end == std::string::npos ? xml : xml.substr(end + 2);
  if (!s.empty() && s[0] == '\n') s.erase(0, 1);
  return s;
}

// Runs each fixture: params decode to input, output encodes to xml. @return the number of cases.
int run_fixtures(const json& all) {
  int cases = 0;
  for (const auto& f : all) {
    SCOPED_TRACE(f["description"].get<std::string>());
    const auto& svc = model::get(f["service"].get<std::string>());
    const auto* op = svc.find_operation(f["operation"].get<std::string>());
    if (!op) {
      ADD_FAILURE() << "no operation " << f["operation"];
      continue;
    }
    if (f.contains("params")) {
      FormParams params;
      for (auto it = f["params"].begin(); it != f["params"].end(); ++it) params[it.key()] = it.value();
      EXPECT_EQ(decode_query(svc, *op, params, "ValidationError"), f["input"]);
    }
    if (f.contains("xml")) EXPECT_EQ(without_prolog(encode_query(svc, *op, f["output"], "req-1")), f["xml"]);
    ++cases;
  }
  return cases;
}

TEST(AwsQueryTest, FixturesDecodeAndEncode) { EXPECT_GE(run_fixtures(fixtures()), 4); }

// The ec2 protocol's fixtures (tests/fixtures/protocols/ec2.json): the params are what botocore's
// EC2Serializer sends for the input.
TEST(AwsQueryTest, Ec2FixturesDecodeAndEncode) { EXPECT_GE(run_fixtures(fixtures("ec2.json")), 5); }

TEST(AwsQueryTest, ParseFormDecodesPercentAndPlus) {
  auto p = parse_form("Action=Describe&Names.member.1=a%2Fb+c&Empty=&Flag");
  EXPECT_EQ(p["Action"], "Describe");
  EXPECT_EQ(p["Names.member.1"], "a/b c");
  EXPECT_EQ(p["Empty"], "");
  EXPECT_EQ(p.count("Flag"), 1u);
}

TEST(AwsQueryTest, BadIntegerIsAValidationError) {
  const auto& svc = model::get("elbv2");
  FormParams params{{"Name", "tg"}, {"Port", "eighty"}};
  try {
    decode_query(svc, *svc.find_operation("CreateTargetGroup"), params, "ValidationError");
    FAIL() << "expected ValidationError";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.code, "ValidationError");
    EXPECT_NE(std::string(e.what()).find("Port"), std::string::npos);
  }
}

TEST(AwsQueryTest, MissingRequiredMemberIsReported) {
  const auto& svc = model::get("elbv2");
  try {
    decode_query(svc, *svc.find_operation("DeleteLoadBalancer"), {}, "ValidationError");
    FAIL() << "expected ValidationError";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.code, "ValidationError");
    EXPECT_NE(std::string(e.what()).find("LoadBalancerArn"), std::string::npos);
  }
}

TEST(AwsQueryTest, ErrorDocumentHasTypeCodeMessageAndRequestId) {
  const auto& svc = model::get("elbv2");
  std::string xml = encode_query_error(svc, "TargetGroupNotFound", "One or more target groups not found", true, "r-9");
  EXPECT_NE(xml.find("<ErrorResponse xmlns=\"http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/\">"),
            std::string::npos);
  EXPECT_NE(xml.find("<Error><Type>Sender</Type><Code>TargetGroupNotFound</Code><Message>One or more target groups "
                     "not found</Message></Error><RequestId>r-9</RequestId></ErrorResponse>"),
            std::string::npos);
}

TEST(AwsQueryTest, TextIsEscaped) {
  const auto& svc = model::get("sts");
  std::string xml = encode_query(svc, *svc.find_operation("GetCallerIdentity"), {{"Arn", "a<b>&\"c\""}}, "r");
  EXPECT_NE(xml.find("<Arn>a&lt;b&gt;&amp;&quot;c&quot;</Arn>"), std::string::npos);
}

TEST(AwsQueryTest, Ec2ListsAreItemsWithoutResultWrapper) {
  const auto& svc = model::get("ec2");
  const auto* op = svc.find_operation("DescribeVpcs");
  ASSERT_NE(op, nullptr);
  std::string xml = encode_query(svc, *op, {{"Vpcs", {{{"VpcId", "vpc-1"}, {"IsDefault", true}}}}}, "r-1");
  EXPECT_NE(xml.find("<DescribeVpcsResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15\"><requestId>r-1</requestId>"
                     "<vpcSet><item><isDefault>true</isDefault><vpcId>vpc-1</vpcId></item></vpcSet>"),
            std::string::npos)
      << xml;
  FormParams params{{"Filter.1.Name", "is-default"}, {"Filter.1.Value.1", "true"}, {"VpcId.1", "vpc-1"}};
  json in = decode_query(svc, *op, params, "InvalidParameterValue");
  EXPECT_EQ(in["Filters"][0]["Name"], "is-default");
  EXPECT_EQ(in["Filters"][0]["Values"][0], "true");
  EXPECT_EQ(in["VpcIds"][0], "vpc-1");
}

TEST(AwsQueryTest, Ec2ErrorDocumentIsResponseErrorsWithRequestID) {
  const auto& svc = model::get("ec2");
  std::string xml = without_prolog(encode_query_error(svc, "InvalidVpcID.NotFound", "The vpc ID 'vpc-1' does not exist",
                                                      true, "r-2"));
  EXPECT_EQ(xml,
            "<Response><Errors><Error><Code>InvalidVpcID.NotFound</Code><Message>The vpc ID &apos;vpc-1&apos; does not exist"
            "</Message></Error></Errors><RequestID>r-2</RequestID></Response>");
}

TEST(AwsQueryTest, Ec2OperationWithoutOutputHasOnlyRequestId) {
  const auto& svc = model::get("ec2");
  std::string xml = without_prolog(encode_query(svc, *svc.find_operation("DeleteVpc"), json::object(), "r-3"));
  EXPECT_EQ(xml, "<DeleteVpcResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15\"><requestId>r-3</requestId>"
                 "</DeleteVpcResponse>");
}

TEST(AwsQueryTest, Ec2TimestampsAreIso8601) {
  const auto& svc = model::get("ec2");
  json out = {{"NetworkInterfaces", {{{"NetworkInterfaceId", "eni-1"}, {"Attachment", {{"AttachTime", 1767225600.0}}}}}}};
  std::string xml = encode_query(svc, *svc.find_operation("DescribeNetworkInterfaces"), out, "r");
  EXPECT_NE(xml.find("<attachment><attachTime>2026-01-01T00:00:00"), std::string::npos) << xml;
}

}  // namespace
}  // namespace ecsd::protocol
