// ECR repositories, images, tags and registry blob bookkeeping: the one store behind both the
// ECR API and the OCI registry (so a push shows up in DescribeImages and BatchDeleteImage
// removes from the registry).
//
//   ecr_repositories     id, account, region, name, arn, doc (Repository shape + policies), created_at
//                        UNIQUE(account, region, name)
//   ecr_images           id, repository_id -> ecr_repositories (cascade), digest, media_type,
//                        artifact_media_type, size, manifest (exact bytes), pushed_at, last_pull
//                        UNIQUE(repository_id, digest)
//   ecr_image_tags       repository_id (cascade), tag, image_id -> ecr_images (cascade)
//                        PRIMARY KEY(repository_id, tag)
//   ecr_image_blobs      image_id (cascade), digest            blobs a manifest refers to
//   ecr_repository_blobs repository_id (cascade), digest, linked_at
//                        blobs a repository may serve (uploaded, mounted or referenced)
//   registry_blobs       digest PRIMARY KEY, size, created_at  one row per file in the blob store
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ecsd/store/store.hpp"

namespace ecsd::store {

struct EcrImage {
  std::int64_t id = 0, repository_id = 0;
  std::string digest, media_type, artifact_media_type, manifest;
  std::int64_t size = 0;
  double pushed_at = 0, last_pull = 0;
  std::vector<std::string> tags;  // filled by the list/find helpers
};

class EcrRepo {
 public:
  explicit EcrRepo(Db& db) : db_(db) {}

  // --- repositories (Record: id, arn, name, status "ACTIVE", doc, version 1, created_at) ---
  std::optional<Record> find_repository(const Scope& scope, std::string_view name);
  /// Inserts `r` (sets id).
  void insert_repository(const Scope& scope, Record& r);
  /// Rewrites the doc of repository `r.id`.
  void update_repository(const Record& r);
  /// @return the repositories of a scope, by name.
  std::vector<Record> list_repositories(const Scope& scope);
  /// @return every repository whose doc has a lifecycle policy, with its scope.
  std::vector<std::pair<Scope, Record>> repositories_with_lifecycle_policy();
  /// Deletes the repository with its images, tags and blob links.
  void delete_repository(std::int64_t id);

  // --- images ---
  std::optional<EcrImage> find_image(std::int64_t repository_id, std::string_view digest);
  std::optional<EcrImage> find_image_by_tag(std::int64_t repository_id, std::string_view tag);
  /// @return every image of the repository (with tags), oldest push first.
  std::vector<EcrImage> list_images(std::int64_t repository_id);
  int count_images(std::int64_t repository_id);
  /// Inserts an image (sets id) with the blobs its manifest refers to.
  void insert_image(EcrImage& image, const std::vector<std::string>& blob_digests);
  /// Points `tag` at `image_id` (moving it from another image).
  void put_tag(std::int64_t repository_id, std::string_view tag, std::int64_t image_id);
  void delete_tag(std::int64_t repository_id, std::string_view tag);
  void delete_image(std::int64_t image_id);
  /// @return true when an image (manifest list / index) of the repository lists `digest` as a child.
  bool referenced_as_child(std::int64_t repository_id, std::string_view digest);
  void touch_pull(std::int64_t image_id, double now);
  /// @return up to `limit` tags of the repository after `last` in lexical order.
  std::vector<std::string> list_tags(std::int64_t repository_id, std::string_view last, int limit);

  // --- blobs ---
  /// Records that the blob store holds `digest` and that the repository may serve it.
  void link_blob(std::int64_t repository_id, std::string_view digest, std::int64_t size, double now);
  /// @return the blob's size when the repository may serve it.
  std::optional<std::int64_t> linked_blob(std::int64_t repository_id, std::string_view digest);
  /// @return the blob's size when the blob store holds it (in any repository).
  std::optional<std::int64_t> blob(std::string_view digest);
  void unlink_blob(std::int64_t repository_id, std::string_view digest);
  /// Garbage collection, step 1: drops links older than `cutoff` that no image of their
  /// repository refers to, then blob rows older than `cutoff` that nothing links or refers to.
  /// @return the digests whose files may now be deleted.
  std::vector<std::string> collect_garbage(double cutoff);

 private:
  std::vector<std::string> tags_of(std::int64_t image_id);
  Db& db_;
};

}  // namespace ecsd::store
