// Tests for the blob store: digest verification, the upload state machine, atomic publication
// and deduplication.
#include "ecsd/registry/blob_store.hpp"

#include <filesystem>

#include <gtest/gtest.h>

#include "ecsd/common/ids.hpp"

namespace ecsd::registry {
namespace {

namespace fs = std::filesystem;
using Status = BlobStore::Status;

class BlobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("ecsd-blob-test-" + ids::hex(8));
    store_ = std::make_unique<BlobStore>(root_);
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(root_);
  }
  std::size_t files_under(const char* dir) {
    std::size_t n = 0;
    for (auto& e : fs::recursive_directory_iterator(root_ / dir))
      if (e.is_regular_file()) ++n;
    return n;
  }
  void append(const std::string& uuid, const std::string& data, std::optional<std::uint64_t> offset = std::nullopt) {
    auto [w, st] = store_->append(uuid, 1, offset);
    ASSERT_EQ(st, Status::Ok);
    ASSERT_TRUE(w->write(data.data(), data.size()));
  }
  fs::path root_;
  std::unique_ptr<BlobStore> store_;
};

TEST_F(BlobStoreTest, Sha256MatchesKnownVectors) {
  EXPECT_EQ(sha256_digest(""), "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_digest("abc"), "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  Sha256 h;
  h.update("a", 1);
  EXPECT_EQ(h.digest(), sha256_digest("a"));  // digest() does not finalise
  h.update("bc", 2);
  EXPECT_EQ(h.digest(), sha256_digest("abc"));
}

TEST_F(BlobStoreTest, ChunkedUploadBecomesVisibleOnlyAfterAVerifiedCommit) {
  std::string uuid = store_->start_upload(1);
  append(uuid, "hello ", 0);
  append(uuid, "world", 6);
  EXPECT_EQ(store_->upload_size(uuid, 1), 11u);
  std::string digest = sha256_digest("hello world");
  EXPECT_FALSE(store_->blob_size(digest));
  auto [st, size] = store_->commit(uuid, 1, digest);
  EXPECT_EQ(st, Status::Ok);
  EXPECT_EQ(size, 11u);
  EXPECT_EQ(store_->blob_size(digest), 11u);
  char buf[5];
  EXPECT_EQ(store_->read_blob(digest, 6, buf, 5), 5);
  EXPECT_EQ(std::string(buf, 5), "world");
  EXPECT_EQ(files_under("uploads"), 0u);
  EXPECT_EQ(store_->blob_path(digest), root_ / "blobs" / "sha256" / digest.substr(7, 2) / digest.substr(7));
  EXPECT_FALSE(store_->upload_size(uuid, 1));  // the upload is gone
}

TEST_F(BlobStoreTest, WrongDigestDiscardsTheUploadAndPublishesNothing) {
  std::string uuid = store_->start_upload(1);
  append(uuid, "payload");
  auto [st, size] = store_->commit(uuid, 1, sha256_digest("other"));
  EXPECT_EQ(st, Status::DigestMismatch);
  EXPECT_EQ(files_under("blobs"), 0u);
  EXPECT_EQ(files_under("uploads"), 0u);
  EXPECT_EQ(store_->commit(uuid, 1, sha256_digest("payload")).first, Status::UnknownUpload);
}

TEST_F(BlobStoreTest, OffsetsMustContinueTheUploadAndOneWriterAtATime) {
  std::string uuid = store_->start_upload(1);
  append(uuid, "abc");
  EXPECT_EQ(store_->append(uuid, 1, 0).second, Status::BadOffset);
  EXPECT_EQ(store_->append(uuid, 1, 5).second, Status::BadOffset);
  {
    auto [w, st] = store_->append(uuid, 1, 3);
    ASSERT_EQ(st, Status::Ok);
    EXPECT_EQ(store_->append(uuid, 1, 3).second, Status::Busy);
    EXPECT_EQ(store_->commit(uuid, 1, sha256_digest("abc")).first, Status::Busy);
    w->write("d", 1);
  }
  EXPECT_EQ(store_->upload_size(uuid, 1), 4u);
  EXPECT_EQ(store_->commit(uuid, 1, sha256_digest("abcd")).first, Status::Ok);
}

TEST_F(BlobStoreTest, UploadsBelongToTheirRepository) {
  std::string uuid = store_->start_upload(1);
  EXPECT_FALSE(store_->upload_size(uuid, 2));
  EXPECT_EQ(store_->append(uuid, 2, 0).second, Status::UnknownUpload);
  EXPECT_FALSE(store_->cancel(uuid, 2));
  EXPECT_TRUE(store_->cancel(uuid, 1));
  EXPECT_EQ(files_under("uploads"), 0u);
}

TEST_F(BlobStoreTest, IdenticalContentIsStoredOnce) {
  for (int i = 0; i < 2; ++i) {
    std::string uuid = store_->start_upload(i + 1);
    auto [w, st] = store_->append(uuid, i + 1, 0);
    w->write("same", 4);
    w.reset();
    EXPECT_EQ(store_->commit(uuid, i + 1, sha256_digest("same")).first, Status::Ok);
  }
  EXPECT_EQ(files_under("blobs"), 1u);
  EXPECT_EQ(store_->blob_digests(), std::vector<std::string>{sha256_digest("same")});
}

TEST_F(BlobStoreTest, LeftoverUploadsArePurgedAtStartAndInvalidDigestsHaveNoPath) {
  std::string uuid = store_->start_upload(1);
  append(uuid, "partial");
  store_.reset();
  EXPECT_EQ(files_under("uploads"), 1u);  // a crash mid-upload leaves it here, never under blobs/
  store_ = std::make_unique<BlobStore>(root_);
  EXPECT_EQ(files_under("uploads"), 0u);
  EXPECT_EQ(files_under("blobs"), 0u);
  EXPECT_THROW(store_->blob_path("sha256:../../x"), std::invalid_argument);
}

}  // namespace
}  // namespace ecsd::registry
