// Service rows.
#include "ecsd/store/service_repo.hpp"

#include "ecsd/store/repos.hpp"

namespace ecsd::store {

namespace {
constexpr const char* kFind =
    "SELECT id, arn, name, status, doc, version, created_at FROM services WHERE cluster_id=? AND name=? "
    "ORDER BY id DESC LIMIT 1";
constexpr const char* kFindVisible =
    "SELECT id, arn, name, status, doc, version, created_at FROM services WHERE cluster_id=? AND name=? "
    "AND (status<>'INACTIVE' OR updated_at>=?) ORDER BY id DESC LIMIT 1";
constexpr const char* kFindByArn =
    "SELECT id, arn, name, status, doc, version, created_at FROM services WHERE arn=? ORDER BY id DESC LIMIT 1";
constexpr const char* kInsert =
    "INSERT INTO services(account, region, cluster_id, name, arn, status, doc, version, created_at, updated_at) "
    "VALUES(?,?,?,?,?,?,?,1,?,?)";
constexpr const char* kUpdate =
    "UPDATE services SET status=?, doc=?, version=version+1, updated_at=? WHERE id=? AND version=?";
constexpr const char* kListLive =
    "SELECT id, arn, name, status, doc, version, created_at FROM services "
    "WHERE cluster_id=? AND status IN ('ACTIVE','DRAINING') AND id>? ORDER BY id LIMIT ?";
constexpr const char* kAllLive =
    "SELECT id, arn, name, status, doc, version, created_at FROM services WHERE status IN ('ACTIVE','DRAINING') "
    "ORDER BY id";
constexpr const char* kClusterOf = "SELECT cluster_id FROM services WHERE id=?";
constexpr const char* kCount = "SELECT count(*) FROM services WHERE cluster_id=? AND status=?";
constexpr const char* kPurge = "DELETE FROM services WHERE status='INACTIVE' AND updated_at<?";
}  // namespace

std::optional<Record> ServiceRepo::find(std::int64_t cluster_id, std::string_view name) {
  return detail::one_record(db_.prepare(kFind).bind_all(cluster_id, name));
}

std::optional<Record> ServiceRepo::find_visible(std::int64_t cluster_id, std::string_view name,
                                                double inactive_cutoff) {
  return detail::one_record(db_.prepare(kFindVisible).bind_all(cluster_id, name, inactive_cutoff));
}

std::optional<Record> ServiceRepo::find_by_arn(std::string_view arn) {
  return detail::one_record(db_.prepare(kFindByArn).bind_all(arn));
}

void ServiceRepo::insert(const Scope& scope, std::int64_t cluster_id, Record& r, double now) {
  db_.prepare(kInsert)
      .bind_all(scope.account, scope.region, cluster_id, r.name, r.arn, r.status, r.doc.dump(), r.created_at, now)
      .run();
  r.id = db_.last_insert_rowid();
  r.version = 1;
}

void ServiceRepo::update(Record& r, double now) {
  db_.prepare(kUpdate).bind_all(r.status, r.doc.dump(), now, r.id, r.version).run();
  if (db_.changes() != 1) throw ConflictError("service " + r.arn + " changed concurrently");
  ++r.version;
}

std::vector<Record> ServiceRepo::list_live(std::int64_t cluster_id, std::int64_t after_id, int limit) {
  return detail::all_records(db_.prepare(kListLive).bind_all(cluster_id, after_id, limit));
}

std::vector<Record> ServiceRepo::all_live(std::int64_t cluster_id) {
  return list_live(cluster_id, 0, 1 << 30);
}

std::vector<Record> ServiceRepo::all_live_everywhere() { return detail::all_records(db_.prepare(kAllLive)); }

std::int64_t ServiceRepo::cluster_of(std::int64_t service_id) {
  auto& s = db_.prepare(kClusterOf).bind_all(service_id);
  std::int64_t id = s.step() ? s.int64(0) : 0;
  s.reset();
  return id;
}

int ServiceRepo::count(std::int64_t cluster_id, std::string_view status) {
  auto& s = db_.prepare(kCount).bind_all(cluster_id, status);
  int n = s.step() ? static_cast<int>(s.int64(0)) : 0;
  s.reset();
  return n;
}

void ServiceRepo::purge_inactive(double cutoff) { db_.prepare(kPurge).bind_all(cutoff).run(); }

}  // namespace ecsd::store
