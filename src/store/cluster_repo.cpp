// Cluster rows.
#include "ecsd/store/cluster_repo.hpp"

#include "ecsd/store/repos.hpp"

namespace ecsd::store {

namespace {
constexpr const char* kFindByName =
    "SELECT id, arn, name, status, doc, version, created_at FROM clusters WHERE account=? AND region=? AND name=?";
constexpr const char* kFindKeyByName =
    "SELECT id, arn, name, status, '{}', version, created_at FROM clusters WHERE account=? AND region=? AND name=?";
constexpr const char* kFindByArn =
    "SELECT id, arn, name, status, doc, version, created_at FROM clusters WHERE arn=?";
constexpr const char* kInsert =
    "INSERT INTO clusters(account, region, name, arn, status, doc, version, created_at) VALUES(?,?,?,?,?,?,1,?)";
constexpr const char* kUpdate =
    "UPDATE clusters SET status=?, doc=?, version=version+1 WHERE id=? AND version=?";
constexpr const char* kListActive =
    "SELECT id, arn, name, status, doc, version, created_at FROM clusters "
    "WHERE account=? AND region=? AND status='ACTIVE' AND id>? ORDER BY id LIMIT ?";
}  // namespace

std::optional<Record> ClusterRepo::find(const Scope& scope, std::string_view name) {
  return detail::one_record(db_.prepare(kFindByName).bind_all(scope.account, scope.region, name));
}

std::optional<Record> ClusterRepo::find_key(const Scope& scope, std::string_view name) {
  return detail::one_record(db_.prepare(kFindKeyByName).bind_all(scope.account, scope.region, name));
}

std::optional<Record> ClusterRepo::find_by_arn(std::string_view arn) {
  return detail::one_record(db_.prepare(kFindByArn).bind_all(arn));
}

void ClusterRepo::insert(const Scope& scope, Record& r) {
  db_.prepare(kInsert).bind_all(scope.account, scope.region, r.name, r.arn, r.status, r.doc.dump(), r.created_at).run();
  r.id = db_.last_insert_rowid();
  r.version = 1;
}

void ClusterRepo::update(Record& r) {
  db_.prepare(kUpdate).bind_all(r.status, r.doc.dump(), r.id, r.version).run();
  if (db_.changes() != 1) throw ConflictError("cluster " + r.arn + " changed concurrently");
  ++r.version;
}

std::vector<Record> ClusterRepo::list_active(const Scope& scope, std::int64_t after_id, int limit) {
  return detail::all_records(db_.prepare(kListActive).bind_all(scope.account, scope.region, after_id, limit));
}

}  // namespace ecsd::store
