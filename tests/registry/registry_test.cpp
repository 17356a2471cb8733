// Tests for the registry's request handling, called directly (no sockets): auth challenge,
// the upload state machine over PATCH/PUT, ranges, manifests and immutable tags.
#include "ecsd/registry/registry.hpp"

#include <unistd.h>

#include <filesystem>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "ecsd/common/clock.hpp"
#include "ecsd/common/ids.hpp"

namespace ecsd::registry {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class RegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("ecsd-registry-test-" + ids::hex(8));
    RegistryOptions opt;
    opt.port = 4510;
    registry_ = std::make_unique<Registry>(store_, root_.string(), opt);
    store_.write([&](store::Db& db) {
      store::Record r;
      r.name = "app";
      r.arn = "arn:aws:ecr:us-east-1:000000000000:repository/app";
      r.doc = {{"imageTagMutability", "IMMUTABLE"}};
      store::EcrRepo(db).insert_repository({"000000000000", "us-east-1"}, r);
    });
    password_ = registry_->tokens().issue("000000000000", "us-east-1", clock().now() + 600);
  }
  void TearDown() override {
    registry_.reset();
    fs::remove_all(root_);
  }

  HttpRequest req(const std::string& method, const std::string& target, bool auth = true) {
    HttpRequest r;
    r.method = method;
    r.target = target;
    r.local_address = "127.0.1.1";
    r.headers["host"] = "127.0.1.1:4510";
    if (auth) r.headers["authorization"] = "Basic " + base64_encode("AWS:" + password_);
    return r;
  }
  static std::string header(const HttpResponse& r, const std::string& name) {
    for (const auto& [k, v] : r.headers)
      if (k == name) return v;
    return "";
  }
  // Runs a request whose body is `body` through the plan, as the server would.
  HttpResponse run(const HttpRequest& r, const std::string& body = "") {
    Plan p = registry_->begin(r);
    if (p.body == Plan::Body::Upload) {
      bool ok = p.writer->write(body.data(), body.size());
      return p.on_uploaded(std::move(*p.writer), ok);
    }
    if (p.body == Plan::Body::Buffer) return p.on_buffered(std::string(body));
    return std::move(p.response);
  }
  std::string push_blob(const std::string& data) {
    std::string digest = sha256_digest(data);
    auto r = run(req("POST", "/v2/app/blobs/uploads/?digest=" + digest), data);
    EXPECT_EQ(r.status, 201);
    return digest;
  }
  std::string read_file(const HttpResponse& r) {
    std::string out(r.file->length, '\0');
    EXPECT_EQ(::pread(r.file->fd, out.data(), out.size(), static_cast<off_t>(r.file->offset)),
              static_cast<ssize_t>(out.size()));
    return out;
  }

  store::Store store_{":memory:"};
  fs::path root_;
  std::unique_ptr<Registry> registry_;
  std::string password_;
};

TEST_F(RegistryTest, PingChallengesAndChecksThePassword) {
  auto r = run(req("GET", "/v2/", false));
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(header(r, "WWW-Authenticate"), R"(Basic realm="http://127.0.1.1:4510/",service="ecr.amazonaws.com")");
  auto bad = req("GET", "/v2/", false);
  bad.headers["authorization"] = "Basic " + base64_encode("AWS:" + password_ + "x");
  EXPECT_EQ(run(bad).status, 401);
  EXPECT_EQ(run(req("GET", "/v2/")).status, 200);
  // The same token on another region's address is refused.
  auto west = req("GET", "/v2/");
  west.local_address = "127.0.4.1";
  EXPECT_EQ(run(west).status, 401);
}

TEST_F(RegistryTest, ChunkedUploadWithRangesThenCommitAndRangedRead) {
  auto start = run(req("POST", "/v2/app/blobs/uploads/"));
  ASSERT_EQ(start.status, 202);
  std::string uuid = header(start, "Docker-Upload-UUID");
  EXPECT_EQ(header(start, "Location"), "http://127.0.1.1:4510/v2/app/blobs/uploads/" + uuid);
  EXPECT_EQ(header(start, "Range"), "0-0");
  std::string path = "/v2/app/blobs/uploads/" + uuid;
  auto patch = req("PATCH", path);
  patch.headers["content-range"] = "0-4";
  EXPECT_EQ(header(run(patch, "hello"), "Range"), "0-4");
  patch.headers["content-range"] = "3-7";  // overlaps: refused, the upload is unchanged
  auto refused = run(patch, "xxxxx");
  EXPECT_EQ(refused.status, 416);
  EXPECT_EQ(header(refused, "Range"), "0-4");
  EXPECT_EQ(header(run(req("GET", path)), "Range"), "0-4");
  std::string digest = sha256_digest("hello world");
  auto put = run(req("PUT", path + "?digest=" + digest), " world");
  ASSERT_EQ(put.status, 201);
  EXPECT_EQ(header(put, "Docker-Content-Digest"), digest);
  EXPECT_EQ(run(req("GET", path)).status, 404);  // the upload is over
  auto get = req("GET", "/v2/app/blobs/" + digest);
  get.headers["range"] = "bytes=6-";
  auto ranged = run(get);
  EXPECT_EQ(ranged.status, 206);
  EXPECT_EQ(header(ranged, "Content-Range"), "bytes 6-10/11");
  EXPECT_EQ(read_file(ranged), "world");
}

TEST_F(RegistryTest, WrongDigestOnPutPublishesNothing) {
  auto start = run(req("POST", "/v2/app/blobs/uploads/"));
  std::string path = "/v2/app/blobs/uploads/" + header(start, "Docker-Upload-UUID");
  std::string wrong = sha256_digest("something else");
  auto put = run(req("PUT", path + "?digest=" + wrong), "content");
  EXPECT_EQ(put.status, 400);
  EXPECT_NE(put.body.find("DIGEST_INVALID"), std::string::npos);
  EXPECT_EQ(run(req("HEAD", "/v2/app/blobs/" + wrong)).status, 404);
  EXPECT_EQ(run(req("HEAD", "/v2/app/blobs/" + sha256_digest("content"))).status, 404);
}

TEST_F(RegistryTest, ManifestsByTagAndDigestAndImmutableTags) {
  std::string config = push_blob("{}"), layer = push_blob("layer-bytes");
  auto manifest = [&](const std::string& l) {
    return json{{"schemaVersion", 2},
                {"mediaType", kDockerManifest},
                {"config", {{"mediaType", "application/vnd.docker.container.image.v1+json"}, {"digest", config}, {"size", 2}}},
                {"layers", {{{"digest", l}, {"size", 11}}}}}
        .dump();
  };
  auto put = req("PUT", "/v2/app/manifests/v1");
  put.headers["content-type"] = kDockerManifest;
  auto r = run(put, manifest(layer));
  ASSERT_EQ(r.status, 201) << r.body;
  std::string digest = header(r, "Docker-Content-Digest");
  EXPECT_EQ(digest, sha256_digest(manifest(layer)));
  auto got = run(req("GET", "/v2/app/manifests/" + digest));
  EXPECT_EQ(got.body, manifest(layer));
  EXPECT_EQ(header(got, "Content-Type"), kDockerManifest);
  auto head = run(req("HEAD", "/v2/app/manifests/v1"));
  EXPECT_EQ(head.head_length, static_cast<std::int64_t>(manifest(layer).size()));
  // Same tag, other content, immutable repository: refused. Same content again: fine.
  std::string other = push_blob("other-layer");
  auto refused = run(put, manifest(other));
  EXPECT_EQ(refused.status, 400);
  EXPECT_NE(refused.body.find("TAG_INVALID"), std::string::npos);
  EXPECT_EQ(run(put, manifest(layer)).status, 201);
  // A manifest naming a blob that was never pushed.
  auto missing = run(req("PUT", "/v2/app/manifests/v2"), manifest(sha256_digest("never pushed")));
  EXPECT_NE(missing.body.find("MANIFEST_BLOB_UNKNOWN"), std::string::npos);
  // By digest, the content must match.
  auto by_digest = req("PUT", "/v2/app/manifests/" + sha256_digest("x"));
  EXPECT_NE(run(by_digest, manifest(layer)).body.find("DIGEST_INVALID"), std::string::npos);
}

TEST_F(RegistryTest, IndexesNeedTheirChildrenAndDeletesAndGarbageCollectionFollowReferences) {
  std::string config = push_blob("{}"), kept = push_blob("kept-layer"), dropped = push_blob("dropped-layer");
  std::string image = json{{"schemaVersion", 2},
                           {"mediaType", kOciManifest},
                           {"config", {{"digest", config}, {"size", 2}}},
                           {"layers", {{{"digest", kept}, {"size", 10}}}}}
                          .dump();
  std::string child = sha256_digest(image);
  auto index = [&](const std::string& d) {
    return json{{"schemaVersion", 2}, {"mediaType", kOciIndex}, {"manifests", {{{"digest", d}, {"size", 1}}}}}.dump();
  };
  auto r = run(req("PUT", "/v2/app/manifests/multi"), index(child));
  EXPECT_NE(r.body.find("MANIFEST_UNKNOWN"), std::string::npos);  // the child is not there yet
  EXPECT_EQ(run(req("PUT", "/v2/app/manifests/" + child), image).status, 201);
  EXPECT_EQ(run(req("PUT", "/v2/app/manifests/multi"), index(child)).status, 201);
  auto stored = store_.read([&](store::Db& db) {
    store::EcrRepo ecr(db);
    auto repo = ecr.find_repository({"000000000000", "us-east-1"}, "app");
    return std::make_pair(*ecr.find_image_by_tag(repo->id, "multi"), ecr.referenced_as_child(repo->id, child));
  });
  EXPECT_EQ(stored.first.size, 12);  // the largest child
  EXPECT_TRUE(stored.second);
  // Blob DELETE unlinks from the repository; nothing is collected before the grace period.
  EXPECT_EQ(run(req("DELETE", "/v2/app/blobs/" + dropped)).status, 202);
  EXPECT_EQ(run(req("HEAD", "/v2/app/blobs/" + dropped)).status, 404);
  EXPECT_EQ(registry_->collect_garbage(clock().now()), 0);
  EXPECT_TRUE(registry_->blobs().blob_size(dropped));
  // After it, only the unreferenced blob goes; the manifests' blobs stay.
  EXPECT_EQ(registry_->collect_garbage(clock().now() + 3600), 1);
  EXPECT_FALSE(registry_->blobs().blob_size(dropped));
  EXPECT_TRUE(registry_->blobs().blob_size(kept));
  // Deleting the index, then the image, frees the layer for the next collection.
  EXPECT_EQ(run(req("DELETE", "/v2/app/manifests/" + sha256_digest(index(child)))).status, 202);
  EXPECT_EQ(run(req("DELETE", "/v2/app/manifests/" + child)).status, 202);
  EXPECT_EQ(run(req("GET", "/v2/app/manifests/" + child)).status, 404);
  EXPECT_EQ(registry_->collect_garbage(clock().now() + 3600), 2);  // layer and config
  EXPECT_FALSE(registry_->blobs().blob_size(kept));
}

TEST_F(RegistryTest, UnknownRepositoriesAndInvalidReferences) {
  EXPECT_NE(run(req("GET", "/v2/nope/tags/list")).body.find("NAME_UNKNOWN"), std::string::npos);
  EXPECT_EQ(run(req("GET", "/v2/app/blobs/sha256:..%2F..%2Fecsd.db")).status, 400);
  EXPECT_EQ(run(req("GET", "/v2/App/manifests/v1")).status, 400);
  EXPECT_EQ(run(req("PATCH", "/v2/app/blobs/uploads/not-a-uuid")).status, 404);
}

}  // namespace
}  // namespace ecsd::registry
