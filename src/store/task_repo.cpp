// Task, container instance and meta rows.
#include "ecsd/store/task_repo.hpp"

#include "ecsd/store/repos.hpp"

namespace ecsd::store {

namespace {
constexpr const char* kInsert =
    "INSERT INTO tasks(account, region, cluster_id, arn, service_arn, family, last_status, desired_status, "
    "started_by, container_instance_arn, doc, version, created_at, updated_at) VALUES(?,?,?,?,?,?,?,?,?,?,?,1,?,?)";
constexpr const char* kUpdate =
    "UPDATE tasks SET last_status=?, desired_status=?, container_instance_arn=?, doc=?, version=version+1, "
    "updated_at=? WHERE id=? AND version=?";
constexpr const char* kFindByArn =
    "SELECT id, arn, family, last_status, doc, version, created_at, cluster_id, service_arn, desired_status, "
    "started_by, container_instance_arn, updated_at FROM tasks WHERE arn=?";
constexpr const char* kList =
    "SELECT id, arn, family, last_status, doc, version, created_at, cluster_id, service_arn, desired_status, "
    "started_by, container_instance_arn, updated_at FROM tasks "
    "WHERE cluster_id=?1 AND (?2='' OR service_arn=?2) AND (?3='' OR family=?3) AND (?4='' OR desired_status=?4) "
    "AND (?5='' OR started_by=?5) AND (?6='' OR container_instance_arn=?6) AND id>?7 ORDER BY id LIMIT ?8";
constexpr const char* kUnstopped =
    "SELECT id, arn, family, last_status, doc, version, created_at, cluster_id, service_arn, desired_status, "
    "started_by, container_instance_arn, updated_at FROM tasks "
    "WHERE last_status<>'STOPPED' OR desired_status<>'STOPPED' ORDER BY id";
constexpr const char* kStoppedBefore = "SELECT arn FROM tasks WHERE last_status='STOPPED' AND updated_at<?";
constexpr const char* kRemove = "DELETE FROM tasks WHERE arn=?";
constexpr const char* kCountStatus = "SELECT count(*) FROM tasks WHERE cluster_id=? AND last_status=?";
constexpr const char* kCountUnstopped = "SELECT count(*) FROM tasks WHERE cluster_id=? AND last_status<>'STOPPED'";

constexpr const char* kCiInsert =
    "INSERT INTO container_instances(account, region, cluster_id, arn, status, doc, version, created_at) "
    "VALUES(?,?,?,?,?,?,1,?)";
constexpr const char* kCiUpdate =
    "UPDATE container_instances SET status=?, doc=?, version=version+1 WHERE id=? AND version=?";
constexpr const char* kCiFind =
    "SELECT id, arn, arn, status, doc, version, created_at FROM container_instances WHERE arn=?";
constexpr const char* kCiList =
    "SELECT id, arn, arn, status, doc, version, created_at FROM container_instances WHERE cluster_id=? ORDER BY id";

constexpr const char* kCiCluster = "SELECT cluster_id FROM container_instances WHERE id=?";
constexpr const char* kMetaGet = "SELECT value FROM meta WHERE key=?";
constexpr const char* kMetaRemove = "DELETE FROM meta WHERE key=?";
constexpr const char* kMetaPut =
    "INSERT INTO meta(key, value) VALUES(?,?) ON CONFLICT(key) DO UPDATE SET value=excluded.value";

TaskRow task_from(const Stmt& s) {
  TaskRow t;
  static_cast<Record&>(t) = detail::record_from(s);
  t.family = t.name;
  t.cluster_id = s.int64(7);
  t.service_arn = s.text(8);
  t.desired_status = s.text(9);
  t.started_by = s.text(10);
  t.container_instance_arn = s.text(11);
  t.updated_at = s.real(12);
  return t;
}

std::vector<TaskRow> all_tasks(Stmt& s) {
  std::vector<TaskRow> out;
  while (s.step()) out.push_back(task_from(s));
  s.reset();
  return out;
}
}  // namespace

void TaskRepo::insert(const Scope& scope, TaskRow& t, double now) {
  db_.prepare(kInsert)
      .bind_all(scope.account, scope.region, t.cluster_id, t.arn, t.service_arn, t.family, t.status,
                t.desired_status, t.started_by, t.container_instance_arn, t.doc.dump(), t.created_at, now)
      .run();
  t.id = db_.last_insert_rowid();
  t.version = 1;
  t.updated_at = now;
}

void TaskRepo::update(TaskRow& t, double now) {
  db_.prepare(kUpdate)
      .bind_all(t.status, t.desired_status, t.container_instance_arn, t.doc.dump(), now, t.id, t.version)
      .run();
  if (db_.changes() != 1) throw ConflictError("task " + t.arn + " changed concurrently");
  ++t.version;
  t.updated_at = now;
}

std::optional<TaskRow> TaskRepo::find_by_arn(std::string_view arn) {
  auto& s = db_.prepare(kFindByArn).bind_all(arn);
  std::optional<TaskRow> out;
  if (s.step()) out = task_from(s);
  s.reset();
  return out;
}

std::vector<TaskRow> TaskRepo::list(const TaskQuery& q) {
  return all_tasks(db_.prepare(kList).bind_all(q.cluster_id, q.service_arn, q.family, q.desired_status, q.started_by,
                                               q.container_instance_arn, q.after_id, q.limit));
}

std::vector<TaskRow> TaskRepo::all_unstopped() { return all_tasks(db_.prepare(kUnstopped)); }

std::vector<std::string> TaskRepo::stopped_before(double cutoff) {
  auto& s = db_.prepare(kStoppedBefore).bind_all(cutoff);
  std::vector<std::string> out;
  while (s.step()) out.push_back(s.text(0));
  s.reset();
  return out;
}

void TaskRepo::remove(std::string_view arn) { db_.prepare(kRemove).bind_all(arn).run(); }

int TaskRepo::count(std::int64_t cluster_id, std::string_view last_status) {
  auto& s = last_status.empty() ? db_.prepare(kCountUnstopped).bind_all(cluster_id)
                                : db_.prepare(kCountStatus).bind_all(cluster_id, last_status);
  int n = s.step() ? static_cast<int>(s.int64(0)) : 0;
  s.reset();
  return n;
}

void ContainerInstanceRepo::insert(const Scope& scope, std::int64_t cluster_id, Record& r) {
  db_.prepare(kCiInsert)
      .bind_all(scope.account, scope.region, cluster_id, r.arn, r.status, r.doc.dump(), r.created_at)
      .run();
  r.id = db_.last_insert_rowid();
  r.version = 1;
}

void ContainerInstanceRepo::update(Record& r) {
  db_.prepare(kCiUpdate).bind_all(r.status, r.doc.dump(), r.id, r.version).run();
  if (db_.changes() != 1) throw ConflictError("container instance " + r.arn + " changed concurrently");
  ++r.version;
}

std::optional<Record> ContainerInstanceRepo::find_by_arn(std::string_view arn) {
  return detail::one_record(db_.prepare(kCiFind).bind_all(arn));
}

std::vector<Record> ContainerInstanceRepo::list(std::int64_t cluster_id) {
  return detail::all_records(db_.prepare(kCiList).bind_all(cluster_id));
}

std::int64_t ContainerInstanceRepo::cluster_of(std::int64_t instance_id) {
  auto& s = db_.prepare(kCiCluster).bind_all(instance_id);
  std::int64_t id = s.step() ? s.int64(0) : 0;
  s.reset();
  return id;
}

std::optional<std::string> MetaRepo::get(std::string_view key) {
  auto& s = db_.prepare(kMetaGet).bind_all(key);
  std::optional<std::string> out;
  if (s.step()) out = s.text(0);
  s.reset();
  return out;
}

void MetaRepo::put(std::string_view key, std::string_view value) { db_.prepare(kMetaPut).bind_all(key, value).run(); }

void MetaRepo::remove(std::string_view key) { db_.prepare(kMetaRemove).bind_all(key).run(); }

}  // namespace ecsd::store
