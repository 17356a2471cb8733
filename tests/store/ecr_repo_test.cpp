// Tests for the ECR store: images and tags, blob links and garbage collection.
#include "ecsd/store/ecr_repo.hpp"

#include <gtest/gtest.h>

namespace ecsd::store {
namespace {

const Scope kScope{"000000000000", "us-east-1"};
const std::string kL1 = "sha256:" + std::string(64, '1');
const std::string kL2 = "sha256:" + std::string(64, '2');

class EcrRepoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    repo_id_ = store_.write([&](Db& db) {
      Record r;
      r.name = "app";
      r.arn = "arn:aws:ecr:us-east-1:000000000000:repository/app";
      r.doc = {{"imageTagMutability", "MUTABLE"}};
      EcrRepo(db).insert_repository(kScope, r);
      return r.id;
    });
  }
  std::int64_t push(const std::string& digest, const std::vector<std::string>& blobs, const std::string& tag,
                    double now) {
    return store_.write([&](Db& db) {
      EcrRepo ecr(db);
      for (const auto& b : blobs) ecr.link_blob(repo_id_, b, 10, now);
      EcrImage i;
      i.repository_id = repo_id_;
      i.digest = digest;
      i.media_type = "m";
      i.manifest = "{}";
      i.pushed_at = now;
      ecr.insert_image(i, blobs);
      if (!tag.empty()) ecr.put_tag(repo_id_, tag, i.id);
      return i.id;
    });
  }
  Store store_{":memory:"};
  std::int64_t repo_id_ = 0;
};

TEST_F(EcrRepoTest, TagsMoveBetweenImagesAndListInOrder) {
  auto a = push("sha256:a", {kL1}, "v1", 1);
  auto b = push("sha256:b", {kL1}, "v2", 2);
  store_.write([&](Db& db) { EcrRepo(db).put_tag(repo_id_, "v1", b); });
  store_.read([&](Db& db) {
    EcrRepo ecr(db);
    EXPECT_TRUE(ecr.find_image(repo_id_, "sha256:a")->tags.empty());
    EXPECT_EQ(ecr.find_image_by_tag(repo_id_, "v1")->id, b);
    EXPECT_EQ(ecr.list_tags(repo_id_, "", 10), (std::vector<std::string>{"v1", "v2"}));
    EXPECT_EQ(ecr.list_tags(repo_id_, "v1", 10), (std::vector<std::string>{"v2"}));
    EXPECT_EQ(ecr.list_images(repo_id_).front().id, a);
    return 0;
  });
}

TEST_F(EcrRepoTest, GarbageCollectionKeepsReferencedAndYoungBlobs) {
  auto a = push("sha256:a", {kL1, kL2}, "v1", 100);
  push("sha256:b", {kL1}, "v2", 100);
  store_.write([&](Db& db) { EcrRepo(db).link_blob(repo_id_, "sha256:young", 1, 990); });
  EXPECT_TRUE(store_.write([&](Db& db) { return EcrRepo(db).collect_garbage(500); }).empty());
  store_.write([&](Db& db) { EcrRepo(db).delete_image(a); });
  // kL2 only belonged to the deleted image; kL1 is still used by v2; the young upload is kept.
  auto gone = store_.write([&](Db& db) { return EcrRepo(db).collect_garbage(500); });
  EXPECT_EQ(gone, std::vector<std::string>{kL2});
  store_.read([&](Db& db) {
    EcrRepo ecr(db);
    EXPECT_FALSE(ecr.blob(kL2));
    EXPECT_TRUE(ecr.linked_blob(repo_id_, kL1));
    EXPECT_TRUE(ecr.blob("sha256:young"));
    return 0;
  });
}

TEST_F(EcrRepoTest, DeletingARepositoryCascadesAndResetClearsEverything) {
  push("sha256:a", {kL1}, "v1", 1);
  store_.write([&](Db& db) { EcrRepo(db).delete_repository(repo_id_); });
  store_.read([&](Db& db) {
    EXPECT_FALSE(EcrRepo(db).find_image(repo_id_, "sha256:a"));
    EXPECT_FALSE(EcrRepo(db).linked_blob(repo_id_, kL1));
    return 0;
  });
  SetUp();
  push("sha256:a", {kL1}, "v1", 1);
  store_.reset();
  store_.read([&](Db& db) {
    EXPECT_TRUE(EcrRepo(db).list_repositories(kScope).empty());
    EXPECT_FALSE(EcrRepo(db).blob(kL1));
    return 0;
  });
}

}  // namespace
}  // namespace ecsd::store
