// Keeps error codes honest: every ApiError code the sources emit must exist in the service
// models, apart from the few protocol-level codes every AWS service answers with.
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include <gtest/gtest.h>

#include "ecsd/model/model.hpp"

namespace ecsd {
namespace {

TEST(ErrorCodesTest, EveryEmittedCodeExistsInTheModels) {
  const std::set<std::string> kProtocolCodes = {
      "SerializationException", "UnknownOperationException", "InvalidAction", "MissingAction",
      "ValidationError", "InternalFailure", "NotImplemented", "ServerException"};
  // EC2's model declares no error shapes; these are codes from EC2's API error code reference.
  const std::set<std::string> kEc2Codes = {
      "CannotDelete", "DependencyViolation", "DryRunOperation", "InvalidGroup.Duplicate", "InvalidGroup.NotFound",
      "InvalidGroup.Reserved", "InvalidID", "InvalidNetworkInterfaceID.NotFound", "InvalidPaginationToken",
      "InvalidParameterValue", "InvalidPermission.Duplicate", "InvalidPermission.NotFound",
      "InvalidSecurityGroupRuleId.NotFound", "InvalidSubnet.Conflict", "InvalidSubnet.Range",
      "InvalidSubnetID.NotFound", "InvalidVpc.Range", "InvalidVpcID.NotFound", "MissingParameter",
      "VPCIdNotSpecified"};
  std::set<std::string> model_codes;
  for (const auto& name : model::embedded_names())
    for (const auto& sh : model::get(name).shapes())
      if (sh.exception) model_codes.insert(sh.error_code);
  std::regex emit(R"re(ApiError\(\s*"([A-Za-z.]+)")re");
  int found = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(std::string(ECSD_SOURCE_DIR) + "/src")) {
    if (entry.path().extension() != ".cpp") continue;
    std::ifstream in(entry.path());
    std::stringstream ss;
    ss << in.rdbuf();
    std::string text = ss.str();
    for (std::sregex_iterator it(text.begin(), text.end(), emit), end; it != end; ++it) {
      std::string code = (*it)[1];
      ++found;
      EXPECT_TRUE(model_codes.count(code) || kProtocolCodes.count(code) || kEc2Codes.count(code))
          << code << " (in " << entry.path().filename() << ") is not an error code of any service model";
    }
  }
  EXPECT_GT(found, 10);
}

}  // namespace
}  // namespace ecsd
