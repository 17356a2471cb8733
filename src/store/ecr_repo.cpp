// ECR repository, image, tag and blob rows (layout in ecr_repo.hpp).
#include "ecsd/store/ecr_repo.hpp"

#include "ecsd/store/repos.hpp"

namespace ecsd::store {

namespace {
constexpr const char* kFindRepo =
    "SELECT id, arn, name, 'ACTIVE', doc, 1, created_at FROM ecr_repositories WHERE account=? AND region=? AND name=?";
constexpr const char* kInsertRepo =
    "INSERT INTO ecr_repositories(account, region, name, arn, doc, created_at) VALUES(?,?,?,?,?,?)";
constexpr const char* kUpdateRepo = "UPDATE ecr_repositories SET doc=? WHERE id=?";
constexpr const char* kListRepos =
    "SELECT id, arn, name, 'ACTIVE', doc, 1, created_at FROM ecr_repositories WHERE account=? AND region=? "
    "ORDER BY name";
constexpr const char* kReposWithPolicy =
    "SELECT id, arn, name, 'ACTIVE', doc, 1, created_at, account, region FROM ecr_repositories "
    "WHERE json_extract(doc, '$.lifecyclePolicyText') IS NOT NULL ORDER BY id";
constexpr const char* kDeleteRepo = "DELETE FROM ecr_repositories WHERE id=?";

constexpr const char* kFindImage =
    "SELECT id, repository_id, digest, media_type, artifact_media_type, manifest, size, pushed_at, last_pull "
    "FROM ecr_images WHERE repository_id=? AND digest=?";
constexpr const char* kFindImageByTag =
    "SELECT i.id, i.repository_id, i.digest, i.media_type, i.artifact_media_type, i.manifest, i.size, i.pushed_at, "
    "i.last_pull FROM ecr_image_tags t JOIN ecr_images i ON i.id=t.image_id WHERE t.repository_id=? AND t.tag=?";
constexpr const char* kListImages =
    "SELECT id, repository_id, digest, media_type, artifact_media_type, manifest, size, pushed_at, last_pull "
    "FROM ecr_images WHERE repository_id=? ORDER BY pushed_at, id";
constexpr const char* kCountImages = "SELECT count(*) FROM ecr_images WHERE repository_id=?";
constexpr const char* kInsertImage =
    "INSERT INTO ecr_images(repository_id, digest, media_type, artifact_media_type, manifest, size, pushed_at, "
    "last_pull) VALUES(?,?,?,?,?,?,?,0)";
constexpr const char* kInsertImageBlob = "INSERT OR IGNORE INTO ecr_image_blobs(image_id, digest) VALUES(?,?)";
constexpr const char* kPutTag =
    "INSERT INTO ecr_image_tags(repository_id, tag, image_id) VALUES(?,?,?) "
    "ON CONFLICT(repository_id, tag) DO UPDATE SET image_id=excluded.image_id";
constexpr const char* kDeleteTag = "DELETE FROM ecr_image_tags WHERE repository_id=? AND tag=?";
constexpr const char* kDeleteImage = "DELETE FROM ecr_images WHERE id=?";
constexpr const char* kReferencedAsChild =
    "SELECT 1 FROM ecr_image_blobs b JOIN ecr_images i ON i.id=b.image_id WHERE i.repository_id=? AND b.digest=? "
    "LIMIT 1";
constexpr const char* kTouchPull = "UPDATE ecr_images SET last_pull=? WHERE id=?";
constexpr const char* kTagsOf = "SELECT tag FROM ecr_image_tags WHERE image_id=? ORDER BY tag";
constexpr const char* kListTags =
    "SELECT tag FROM ecr_image_tags WHERE repository_id=? AND tag > ? ORDER BY tag LIMIT ?";

constexpr const char* kInsertBlob =
    "INSERT INTO registry_blobs(digest, size, created_at) VALUES(?1,?2,?3) "
    "ON CONFLICT(digest) DO UPDATE SET created_at=max(created_at, excluded.created_at)";
constexpr const char* kLinkBlob =
    "INSERT INTO ecr_repository_blobs(repository_id, digest, linked_at) VALUES(?,?,?) "
    "ON CONFLICT(repository_id, digest) DO UPDATE SET linked_at=excluded.linked_at";
constexpr const char* kLinkedBlob =
    "SELECT b.size FROM ecr_repository_blobs r JOIN registry_blobs b ON b.digest=r.digest "
    "WHERE r.repository_id=? AND r.digest=?";
constexpr const char* kBlob = "SELECT size FROM registry_blobs WHERE digest=?";
constexpr const char* kUnlinkBlob = "DELETE FROM ecr_repository_blobs WHERE repository_id=? AND digest=?";
constexpr const char* kDropStaleLinks =
    "DELETE FROM ecr_repository_blobs WHERE linked_at < ?1 AND NOT EXISTS (SELECT 1 FROM ecr_image_blobs ib "
    "JOIN ecr_images i ON i.id=ib.image_id WHERE i.repository_id=ecr_repository_blobs.repository_id "
    "AND ib.digest=ecr_repository_blobs.digest)";
constexpr const char* kGarbageBlobs =
    "SELECT digest FROM registry_blobs b WHERE created_at < ?1 "
    "AND NOT EXISTS (SELECT 1 FROM ecr_repository_blobs r WHERE r.digest=b.digest) "
    "AND NOT EXISTS (SELECT 1 FROM ecr_image_blobs ib WHERE ib.digest=b.digest)";
constexpr const char* kDeleteBlob = "DELETE FROM registry_blobs WHERE digest=?";

EcrImage image_from(const Stmt& s) {
  EcrImage i;
  i.id = s.int64(0);
  i.repository_id = s.int64(1);
  i.digest = s.text(2);
  i.media_type = s.text(3);
  i.artifact_media_type = s.text(4);
  i.manifest = s.text(5);
  i.size = s.int64(6);
  i.pushed_at = s.real(7);
  i.last_pull = s.real(8);
  return i;
}
}  // namespace

std::optional<Record> EcrRepo::find_repository(const Scope& scope, std::string_view name) {
  return detail::one_record(db_.prepare(kFindRepo).bind_all(scope.account, scope.region, name));
}

void EcrRepo::insert_repository(const Scope& scope, Record& r) {
  db_.prepare(kInsertRepo).bind_all(scope.account, scope.region, r.name, r.arn, r.doc.dump(), r.created_at).run();
  r.id = db_.last_insert_rowid();
  r.status = "ACTIVE";
  r.version = 1;
}

void EcrRepo::update_repository(const Record& r) { db_.prepare(kUpdateRepo).bind_all(r.doc.dump(), r.id).run(); }

std::vector<Record> EcrRepo::list_repositories(const Scope& scope) {
  return detail::all_records(db_.prepare(kListRepos).bind_all(scope.account, scope.region));
}

std::vector<std::pair<Scope, Record>> EcrRepo::repositories_with_lifecycle_policy() {
  auto& s = db_.prepare(kReposWithPolicy);
  std::vector<std::pair<Scope, Record>> out;
  while (s.step()) out.emplace_back(Scope{s.text(7), s.text(8)}, detail::record_from(s));
  s.reset();
  return out;
}

void EcrRepo::delete_repository(std::int64_t id) { db_.prepare(kDeleteRepo).bind_all(id).run(); }

std::vector<std::string> EcrRepo::tags_of(std::int64_t image_id) {
  auto& s = db_.prepare(kTagsOf).bind_all(image_id);
  std::vector<std::string> out;
  while (s.step()) out.push_back(s.text(0));
  s.reset();
  return out;
}

std::optional<EcrImage> EcrRepo::find_image(std::int64_t repository_id, std::string_view digest) {
  auto& s = db_.prepare(kFindImage).bind_all(repository_id, digest);
  std::optional<EcrImage> out;
  if (s.step()) out = image_from(s);
  s.reset();
  if (out) out->tags = tags_of(out->id);
  return out;
}

std::optional<EcrImage> EcrRepo::find_image_by_tag(std::int64_t repository_id, std::string_view tag) {
  auto& s = db_.prepare(kFindImageByTag).bind_all(repository_id, tag);
  std::optional<EcrImage> out;
  if (s.step()) out = image_from(s);
  s.reset();
  if (out) out->tags = tags_of(out->id);
  return out;
}

std::vector<EcrImage> EcrRepo::list_images(std::int64_t repository_id) {
  auto& s = db_.prepare(kListImages).bind_all(repository_id);
  std::vector<EcrImage> out;
  while (s.step()) out.push_back(image_from(s));
  s.reset();
  for (auto& i : out) i.tags = tags_of(i.id);
  return out;
}

int EcrRepo::count_images(std::int64_t repository_id) {
  auto& s = db_.prepare(kCountImages).bind_all(repository_id);
  int n = s.step() ? static_cast<int>(s.int64(0)) : 0;
  s.reset();
  return n;
}

void EcrRepo::insert_image(EcrImage& image, const std::vector<std::string>& blob_digests) {
  db_.prepare(kInsertImage)
      .bind_all(image.repository_id, image.digest, image.media_type, image.artifact_media_type, image.manifest,
                image.size, image.pushed_at)
      .run();
  image.id = db_.last_insert_rowid();
  for (const auto& d : blob_digests) db_.prepare(kInsertImageBlob).bind_all(image.id, d).run();
}

void EcrRepo::put_tag(std::int64_t repository_id, std::string_view tag, std::int64_t image_id) {
  db_.prepare(kPutTag).bind_all(repository_id, tag, image_id).run();
}

void EcrRepo::delete_tag(std::int64_t repository_id, std::string_view tag) {
  db_.prepare(kDeleteTag).bind_all(repository_id, tag).run();
}

void EcrRepo::delete_image(std::int64_t image_id) { db_.prepare(kDeleteImage).bind_all(image_id).run(); }

bool EcrRepo::referenced_as_child(std::int64_t repository_id, std::string_view digest) {
  auto& s = db_.prepare(kReferencedAsChild).bind_all(repository_id, digest);
  bool found = s.step();
  s.reset();
  return found;
}

void EcrRepo::touch_pull(std::int64_t image_id, double now) { db_.prepare(kTouchPull).bind_all(now, image_id).run(); }

std::vector<std::string> EcrRepo::list_tags(std::int64_t repository_id, std::string_view last, int limit) {
  auto& s = db_.prepare(kListTags).bind_all(repository_id, last, limit);
  std::vector<std::string> out;
  while (s.step()) out.push_back(s.text(0));
  s.reset();
  return out;
}

void EcrRepo::link_blob(std::int64_t repository_id, std::string_view digest, std::int64_t size, double now) {
  db_.prepare(kInsertBlob).bind_all(digest, size, now).run();
  db_.prepare(kLinkBlob).bind_all(repository_id, digest, now).run();
}

std::optional<std::int64_t> EcrRepo::linked_blob(std::int64_t repository_id, std::string_view digest) {
  auto& s = db_.prepare(kLinkedBlob).bind_all(repository_id, digest);
  std::optional<std::int64_t> out;
  if (s.step()) out = s.int64(0);
  s.reset();
  return out;
}

std::optional<std::int64_t> EcrRepo::blob(std::string_view digest) {
  auto& s = db_.prepare(kBlob).bind_all(digest);
  std::optional<std::int64_t> out;
  if (s.step()) out = s.int64(0);
  s.reset();
  return out;
}

void EcrRepo::unlink_blob(std::int64_t repository_id, std::string_view digest) {
  db_.prepare(kUnlinkBlob).bind_all(repository_id, digest).run();
}

std::vector<std::string> EcrRepo::collect_garbage(double cutoff) {
  db_.prepare(kDropStaleLinks).bind_all(cutoff).run();
  auto& s = db_.prepare(kGarbageBlobs).bind_all(cutoff);
  std::vector<std::string> out;
  while (s.step()) out.push_back(s.text(0));
  s.reset();
  for (const auto& d : out) db_.prepare(kDeleteBlob).bind_all(d).run();
  return out;
}

}  // namespace ecsd::store
