// Task definition rows and revision allocation.
#include "ecsd/store/task_definition_repo.hpp"

#include "ecsd/common/arn.hpp"
#include "ecsd/store/repos.hpp"

namespace ecsd::store {

namespace {
constexpr const char* kNextRevision =
    "SELECT coalesce(max(revision), 0) + 1 FROM task_definitions WHERE account=? AND region=? AND family=?";
constexpr const char* kInsert =
    "INSERT INTO task_definitions(account, region, family, revision, arn, status, doc, registered_at) "
    "VALUES(?,?,?,?,?,?,?,?)";
constexpr const char* kFind =
    "SELECT id, arn, family, status, doc, 1, registered_at FROM task_definitions "
    "WHERE account=? AND region=? AND family=? AND revision=?";
constexpr const char* kFindLatestActive =
    "SELECT id, arn, family, status, doc, 1, registered_at FROM task_definitions "
    "WHERE account=? AND region=? AND family=? AND status='ACTIVE' ORDER BY revision DESC LIMIT 1";
constexpr const char* kFindByArn =
    "SELECT id, arn, family, status, doc, 1, registered_at FROM task_definitions "
    "WHERE account=? AND region=? AND family=? AND revision=? AND arn=?";
constexpr const char* kUpdate = "UPDATE task_definitions SET status=?, doc=? WHERE id=?";
constexpr const char* kListAsc =
    "SELECT id, arn, family, status, doc, 1, registered_at FROM task_definitions "
    "WHERE account=?1 AND region=?2 AND (?3='' OR family=?3) AND (?4='' OR status=?4) "
    "ORDER BY family ASC, revision ASC LIMIT ?6 OFFSET ?5";
constexpr const char* kListDesc =
    "SELECT id, arn, family, status, doc, 1, registered_at FROM task_definitions "
    "WHERE account=?1 AND region=?2 AND (?3='' OR family=?3) AND (?4='' OR status=?4) "
    "ORDER BY family DESC, revision DESC LIMIT ?6 OFFSET ?5";
constexpr const char* kFamilies =
    "SELECT family FROM task_definitions WHERE account=?1 AND region=?2 AND substr(family,1,length(?3))=?3 "
    "GROUP BY family HAVING ?4='ALL' OR (?4='ACTIVE' AND max(status='ACTIVE')=1) "
    "OR (?4='INACTIVE' AND max(status='ACTIVE')=0) ORDER BY family LIMIT ?6 OFFSET ?5";
}  // namespace

int TaskDefinitionRepo::next_revision(const Scope& scope, std::string_view family) {
  auto& s = db_.prepare(kNextRevision).bind_all(scope.account, scope.region, family);
  int rev = s.step() ? static_cast<int>(s.int64(0)) : 1;
  s.reset();
  return rev;
}

void TaskDefinitionRepo::insert(const Scope& scope, int revision, Record& r) {
  db_.prepare(kInsert)
      .bind_all(scope.account, scope.region, r.name, revision, r.arn, r.status, r.doc.dump(), r.created_at)
      .run();
  r.id = db_.last_insert_rowid();
}

std::optional<Record> TaskDefinitionRepo::find(const Scope& scope, std::string_view family, int revision) {
  return detail::one_record(db_.prepare(kFind).bind_all(scope.account, scope.region, family, revision));
}

std::optional<Record> TaskDefinitionRepo::find_latest_active(const Scope& scope, std::string_view family) {
  return detail::one_record(db_.prepare(kFindLatestActive).bind_all(scope.account, scope.region, family));
}

std::optional<std::pair<std::string_view, int>> split_family_revision(std::string_view family_revision) {
  auto colon = family_revision.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  std::string_view rev = family_revision.substr(colon + 1);
  if (rev.empty() || rev.size() > 9 || rev.find_first_not_of("0123456789") != std::string_view::npos)
    return std::nullopt;
  return std::make_pair(family_revision.substr(0, colon), std::stoi(std::string(rev)));
}

std::optional<Record> TaskDefinitionRepo::find_by_arn(std::string_view arn) {
  // arn:<partition>:ecs:<region>:<account>:task-definition/<family>:<revision>; the key columns
  // find the row, the arn column confirms it.
  auto a = arn::parse(arn);
  constexpr std::string_view kPrefix = "task-definition/";
  if (!a || a->resource.compare(0, kPrefix.size(), kPrefix) != 0) return std::nullopt;
  auto key = split_family_revision(std::string_view(a->resource).substr(kPrefix.size()));
  if (!key) return std::nullopt;
  return detail::one_record(db_.prepare(kFindByArn).bind_all(a->account, a->region, key->first, key->second, arn));
}

void TaskDefinitionRepo::update(Record& r) { db_.prepare(kUpdate).bind_all(r.status, r.doc.dump(), r.id).run(); }

std::vector<Record> TaskDefinitionRepo::list(const Scope& scope, const TaskDefinitionQuery& q) {
  return detail::all_records(db_.prepare(q.descending ? kListDesc : kListAsc)
                                 .bind_all(scope.account, scope.region, q.family, q.status, q.offset, q.limit));
}

std::vector<std::string> TaskDefinitionRepo::families(const Scope& scope, std::string_view prefix,
                                                      std::string_view status, std::int64_t offset, int limit) {
  auto& s = db_.prepare(kFamilies).bind_all(scope.account, scope.region, prefix, status, offset, limit);
  std::vector<std::string> out;
  while (s.step()) out.push_back(s.text(0));
  s.reset();
  return out;
}

}  // namespace ecsd::store
