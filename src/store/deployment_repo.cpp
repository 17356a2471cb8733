// Service deployment and service revision rows.
#include "ecsd/store/deployment_repo.hpp"

#include "ecsd/store/repos.hpp"

namespace ecsd::store {

namespace {
constexpr const char* kFind =
    "SELECT id, arn, service_arn, status, doc, version, created_at FROM service_deployments WHERE arn=?";
constexpr const char* kInsert =
    "INSERT INTO service_deployments(service_arn, arn, status, doc, version, created_at, updated_at) "
    "VALUES(?,?,?,?,1,?,?)";
constexpr const char* kUpdate =
    "UPDATE service_deployments SET status=?, doc=?, version=version+1, updated_at=? WHERE id=? AND version=?";
// Statuses are bound as one comma-separated string: instr(',' || ? || ',', ',' || status || ',').
constexpr const char* kList =
    "SELECT id, arn, service_arn, status, doc, version, created_at FROM service_deployments "
    "WHERE service_arn=? AND (?='' OR instr(',' || ? || ',', ',' || status || ',') > 0) "
    "AND (?=0 OR created_at>?) AND (?=0 OR created_at<?) AND (?=0 OR id<?) ORDER BY id DESC LIMIT ?";
constexpr const char* kFindRevision =
    "SELECT id, arn, service_arn, '', doc, 1, created_at FROM service_revisions WHERE arn=?";
constexpr const char* kInsertRevision =
    "INSERT INTO service_revisions(service_arn, arn, doc, created_at) VALUES(?,?,?,?)";
}  // namespace

std::optional<Record> ServiceDeploymentRepo::find_by_arn(std::string_view arn) {
  return detail::one_record(db_.prepare(kFind).bind_all(arn));
}

void ServiceDeploymentRepo::insert(Record& r, double now) {
  db_.prepare(kInsert).bind_all(r.name, r.arn, r.status, r.doc.dump(), r.created_at, now).run();
  r.id = db_.last_insert_rowid();
  r.version = 1;
}

void ServiceDeploymentRepo::update(Record& r, double now) {
  db_.prepare(kUpdate).bind_all(r.status, r.doc.dump(), now, r.id, r.version).run();
  if (db_.changes() != 1) throw ConflictError("service deployment " + r.arn + " changed concurrently");
  ++r.version;
}

std::vector<Record> ServiceDeploymentRepo::list(const ServiceDeploymentQuery& q) {
  std::string statuses;
  for (const auto& s : q.statuses) statuses += (statuses.empty() ? "" : ",") + s;
  return detail::all_records(db_.prepare(kList).bind_all(q.service_arn, statuses, statuses, q.created_after,
                                                         q.created_after, q.created_before, q.created_before,
                                                         q.before_id, q.before_id, q.limit));
}

std::optional<Record> ServiceDeploymentRepo::find_revision(std::string_view arn) {
  return detail::one_record(db_.prepare(kFindRevision).bind_all(arn));
}

void ServiceDeploymentRepo::insert_revision(Record& r) {
  db_.prepare(kInsertRevision).bind_all(r.name, r.arn, r.doc.dump(), r.created_at).run();
  r.id = db_.last_insert_rowid();
}

}  // namespace ecsd::store
