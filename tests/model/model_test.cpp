// Model loading tests: the embedded botocore models load and resolve shapes, errors and paginators.
#include "ecsd/model/model.hpp"

#include <gtest/gtest.h>

namespace ecsd::model {
namespace {

TEST(ModelTest, EcsModelHasItsMetadataAndOperations) {
  const auto& ecs = get("ecs");
  EXPECT_EQ(ecs.protocol, "json");
  EXPECT_EQ(ecs.target_prefix, "AmazonEC2ContainerServiceV20141113");
  EXPECT_EQ(ecs.api_version, "2014-11-13");
  const auto* op = ecs.find_operation("CreateService");
  ASSERT_NE(op, nullptr);
  const auto& input = ecs.shape(op->input);
  const auto* name = input.find_member("serviceName");
  ASSERT_NE(name, nullptr);
  EXPECT_TRUE(name->required);
  EXPECT_EQ(ecs.shape(name->shape).type, Type::String);
  // 2025 deployment features exist only in the newest models.
  EXPECT_NE(ecs.find_operation("ListServiceDeployments"), nullptr);
}

TEST(ModelTest, ErrorsResolveByWireCode) {
  const auto* e = get("ecs").find_error("ClusterNotFoundException");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->error_status, 400);
  // ELBv2's wire codes differ from shape names.
  const auto* tg = get("elbv2").find_error("TargetGroupNotFound");
  ASSERT_NE(tg, nullptr);
  EXPECT_EQ(tg->name, "TargetGroupNotFoundException");
}

TEST(ModelTest, PaginatorsAreLoaded) {
  const auto& p = get("ecs").paginators.at("ListTaskDefinitions");
  ASSERT_EQ(p.result_keys.size(), 1u);
  EXPECT_EQ(p.result_keys[0], "taskDefinitionArns");
  EXPECT_EQ(p.limit_key, "maxResults");
}

TEST(ModelTest, AllEmbeddedModelsLoad) {
  for (const auto& name : embedded_names()) {
    SCOPED_TRACE(name);
    EXPECT_FALSE(get(name).operations.empty());
  }
  EXPECT_THROW(get("nope"), std::out_of_range);
}

}  // namespace
}  // namespace ecsd::model
