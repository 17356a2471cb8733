// Tests for registry name, tag, digest and upload id validation and /v2/ routing: nothing a
// client sends may turn into a path outside the blob store.
#include "ecsd/registry/reference.hpp"

#include <gtest/gtest.h>

namespace ecsd::registry {
namespace {

const std::string kDigest = "sha256:" + std::string(64, 'a');

TEST(ReferenceTest, RepositoryNamesFollowTheOciGrammar) {
  for (const char* ok : {"ab", "app", "team/app", "a.b_c__d---e/f9", "x/y/z", "nginx-web-app"})
    EXPECT_TRUE(valid_repository_name(ok)) << ok;
  for (const char* bad : {"a", "App", "/app", "app/", "a//b", "../etc", "a/../b", "a/./b", "a..b", "a___b", "-a",
                          "a-", "a b", "a%2fb", ".", "..", "a\\b", "a:b"})
    EXPECT_FALSE(valid_repository_name(bad)) << bad;
  EXPECT_FALSE(valid_repository_name(std::string(257, 'a')));
  EXPECT_TRUE(valid_repository_name(std::string(256, 'a')));
}

TEST(ReferenceTest, DigestsAreLowerHexSha256Only) {
  EXPECT_TRUE(valid_digest(kDigest));
  EXPECT_FALSE(valid_digest("sha256:" + std::string(64, 'A')));
  EXPECT_FALSE(valid_digest("sha256:" + std::string(63, 'a')));
  EXPECT_FALSE(valid_digest("sha512:" + std::string(64, 'a')));
  EXPECT_FALSE(valid_digest("sha256:../../" + std::string(58, 'a')));
  EXPECT_FALSE(valid_digest("sha256:" + std::string(62, 'a') + "/a"));
}

TEST(ReferenceTest, TagsAndUploadIds) {
  EXPECT_TRUE(valid_tag("v1.2-rc_3"));
  EXPECT_TRUE(valid_tag("_x"));
  EXPECT_FALSE(valid_tag(".hidden"));
  EXPECT_FALSE(valid_tag("-x"));
  EXPECT_FALSE(valid_tag("a/b"));
  EXPECT_FALSE(valid_tag(std::string(129, 'a')));
  EXPECT_TRUE(valid_upload_id("0f8fad5b-d9cb-469f-a165-70867728950e"));
  EXPECT_FALSE(valid_upload_id("0f8fad5b-d9cb-469f-a165-70867728950"));
  EXPECT_FALSE(valid_upload_id("../../../../ecsd.db-aaaaaaaaaaaaaaaaaaa"));
}

TEST(ReferenceTest, RoutesSplitNamesWithSlashesFromTheRight) {
  auto r = parse_route("/v2/team/app/manifests/v1");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->kind, Route::Kind::Manifest);
  EXPECT_EQ(r->name, "team/app");
  EXPECT_EQ(r->reference, "v1");
  r = parse_route("/v2/team/blobs/app/blobs/" + kDigest);  // a repository named team/blobs/app
  ASSERT_TRUE(r);
  EXPECT_EQ(r->kind, Route::Kind::Blob);
  EXPECT_EQ(r->name, "team/blobs/app");
  r = parse_route("/v2/app/blobs/uploads/");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->kind, Route::Kind::UploadStart);
  r = parse_route("/v2/app/blobs/uploads/0f8fad5b-d9cb-469f-a165-70867728950e");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->kind, Route::Kind::Upload);
  r = parse_route("/v2/app/tags/list");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->kind, Route::Kind::Tags);
  EXPECT_EQ(parse_route("/v2/")->kind, Route::Kind::Base);
  EXPECT_FALSE(parse_route("/v1/app/manifests/x"));
}

TEST(ReferenceTest, BadPartsOfARouteAreBlankedNotPassedOn) {
  auto r = parse_route("/v2/../etc/blobs/" + kDigest);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->name.empty());
  r = parse_route("/v2/app/blobs/sha256:../../ecsd.db");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->name, "app");
  EXPECT_TRUE(r->reference.empty());
  r = parse_route("/v2/app/blobs/uploads/../../x");
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->reference.empty());
  r = parse_route("/v2/app/manifests/..");
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->reference.empty());
}

}  // namespace
}  // namespace ecsd::registry
