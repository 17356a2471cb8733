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
  const auto& p = get("ecs").paginators().at("ListTaskDefinitions");
  ASSERT_EQ(p.result_keys.size(), 1u);
  EXPECT_EQ(p.result_keys[0], "taskDefinitionArns");
  EXPECT_EQ(p.limit_key, "maxResults");
}

TEST(ModelTest, AllEmbeddedModelsLoad) {
  for (const auto& name : embedded_names()) {
    SCOPED_TRACE(name);
    EXPECT_FALSE(get(name).operations().empty());
  }
  EXPECT_THROW(get("nope"), std::out_of_range);
}

constexpr std::string_view kTinyModel = R"({
  "version": "2.0",
  "metadata": {"apiVersion": "2020-01-01", "protocol": "json", "jsonVersion": "1.1",
               "targetPrefix": "Tiny_20200101", "serviceId": "Tiny", "endpointPrefix": "tiny",
               "serviceFullName": "A \"quoted\" {brace} name"},
  "operations": {"Ping": {"name": "Ping", "input": {"shape": "PingRequest"}}},
  "shapes": {"PingRequest": {"type": "structure", "members": {"n": {"shape": "N"}}}, "N": {"type": "integer"}}
})";

TEST(ModelTest, DeferredModelReadsMetadataFirstAndTheRestOnFirstUse) {
  Service s = Service::deferred("tiny", kTinyModel);
  EXPECT_EQ(s.target_prefix, "Tiny_20200101");
  EXPECT_EQ(s.signing_name, "tiny");
  EXPECT_FALSE(s.loaded());
  const auto* op = s.find_operation("Ping");
  ASSERT_NE(op, nullptr);
  EXPECT_TRUE(s.loaded());
  EXPECT_EQ(s.shape(s.shape(op->input).find_member("n")->shape).type, Type::Integer);
}

TEST(ModelTest, DeferredAndEagerLoadsAgree) {
  Service eager = Service::load("tiny", kTinyModel);
  Service lazy = Service::deferred("tiny", kTinyModel);
  EXPECT_TRUE(eager.loaded());
  EXPECT_EQ(eager.service_id, lazy.service_id);
  EXPECT_EQ(eager.api_version, lazy.api_version);
  EXPECT_EQ(eager.shapes().size(), lazy.shapes().size());
  EXPECT_EQ(eager.shape_index("N"), lazy.shape_index("N"));
}

}  // namespace
}  // namespace ecsd::model
