// Tests for manifest parsing and lifecycle policy evaluation.
#include "ecsd/registry/manifest.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "ecsd/registry/registry.hpp"

namespace ecsd::registry {
namespace {

using nlohmann::json;
const std::string kA = "sha256:" + std::string(64, 'a');
const std::string kB = "sha256:" + std::string(64, 'b');
const std::string kC = "sha256:" + std::string(64, 'c');

TEST(ManifestTest, DockerSchema2ListsConfigAndLayersAndSumsSizes) {
  json m = {{"schemaVersion", 2},
            {"mediaType", kDockerManifest},
            {"config", {{"mediaType", "application/vnd.docker.container.image.v1+json"}, {"digest", kA}, {"size", 10}}},
            {"layers", {{{"digest", kB}, {"size", 100}},
                        {{"digest", kC}, {"size", 5}, {"urls", {"https://example.invalid/l"}}}}}};
  std::string err;
  auto info = parse_manifest(m.dump(), "", err);
  ASSERT_TRUE(info) << err;
  EXPECT_EQ(info->media_type, kDockerManifest);
  EXPECT_EQ(info->artifact_media_type, "application/vnd.docker.container.image.v1+json");
  EXPECT_EQ(info->blobs, (std::vector<std::string>{kA, kB}));  // the foreign layer is not stored here
  EXPECT_EQ(info->size, 115);
  EXPECT_FALSE(info->is_index());
}

TEST(ManifestTest, IndexesListChildManifestsAndTypeComesFromContentTypeOrShape) {
  json idx = {{"schemaVersion", 2}, {"manifests", {{{"digest", kA}, {"size", 1}}, {{"digest", kB}, {"size", 2}}}}};
  std::string err;
  auto info = parse_manifest(idx.dump(), std::string(kDockerManifestList) + "; charset=utf-8", err);
  ASSERT_TRUE(info) << err;
  EXPECT_EQ(info->media_type, kDockerManifestList);
  EXPECT_EQ(info->children, (std::vector<std::string>{kA, kB}));
  info = parse_manifest(idx.dump(), "", err);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->media_type, kOciIndex);
}

TEST(ManifestTest, RejectsWhatItCannotStore) {
  std::string err;
  EXPECT_FALSE(parse_manifest("not json", "", err));
  EXPECT_FALSE(parse_manifest(R"({"schemaVersion":1,"fsLayers":[]})", "", err));
  EXPECT_NE(err.find("schema 1"), std::string::npos);
  json bad = {{"schemaVersion", 2}, {"mediaType", kOciManifest}, {"config", {{"digest", "sha256:../../x"}}}};
  EXPECT_FALSE(parse_manifest(bad.dump(), "", err));
  json noconfig = {{"schemaVersion", 2}, {"mediaType", kOciManifest}, {"layers", json::array()}};
  EXPECT_FALSE(parse_manifest(noconfig.dump(), "", err));
  json other = {{"schemaVersion", 2}, {"mediaType", "application/vnd.example+json"}};
  EXPECT_FALSE(parse_manifest(other.dump(), "", err));
}

store::EcrImage image(std::int64_t id, double pushed, std::vector<std::string> tags) {
  store::EcrImage i;
  i.id = id;
  i.pushed_at = pushed;
  i.tags = std::move(tags);
  return i;
}

TEST(LifecycleTest, CountRuleKeepsTheNewestAndHigherPriorityRulesClaimImagesFirst) {
  std::vector<store::EcrImage> images = {image(1, 100, {"v1"}), image(2, 200, {"v2"}), image(3, 300, {"prod-1"}),
                                         image(4, 400, {}), image(5, 500, {"v3"})};
  json policy = {{"rules",
                  {{{"rulePriority", 2},
                    {"selection", {{"tagStatus", "any"}, {"countType", "imageCountMoreThan"}, {"countNumber", 1}}},
                    {"action", {{"type", "expire"}}}},
                   {{"rulePriority", 1},
                    {"selection",
                     {{"tagStatus", "tagged"}, {"tagPrefixList", {"v"}}, {"countType", "imageCountMoreThan"},
                      {"countNumber", 2}}},
                    {"action", {{"type", "expire"}}}}}}};
  auto out = lifecycle_expired(policy.dump(), images, 1000);
  std::sort(out.begin(), out.end());
  // Rule 1 keeps v3 and v2 and expires v1; rule 2 sees prod-1 and the untagged one, keeps the newest (4).
  EXPECT_EQ(out, (std::vector<std::int64_t>{1, 3}));
}

TEST(LifecycleTest, SinceImagePushedExpiresOlderThanNDaysAndBadPoliciesThrow) {
  std::vector<store::EcrImage> images = {image(1, 0, {}), image(2, 10 * 86400.0, {})};
  json policy = {{"rules",
                  {{{"rulePriority", 1},
                    {"selection",
                     {{"tagStatus", "untagged"}, {"countType", "sinceImagePushed"}, {"countUnit", "days"},
                      {"countNumber", 5}}},
                    {"action", {{"type", "expire"}}}}}}};
  EXPECT_EQ(lifecycle_expired(policy.dump(), images, 11 * 86400.0), std::vector<std::int64_t>{1});
  EXPECT_THROW(lifecycle_expired("{}", images, 0), std::invalid_argument);
  EXPECT_THROW(lifecycle_expired(R"({"rules":[{"rulePriority":1,"selection":{"tagStatus":"x","countType":"imageCountMoreThan","countNumber":1}}]})",
                                 images, 0),
               std::invalid_argument);
}

}  // namespace
}  // namespace ecsd::registry
