// Task definitions: one row per revision; `name` is the family. Rows are never deleted (a
// deleted revision stays as DELETE_IN_PROGRESS), so revision numbers are never reused.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ecsd/store/store.hpp"

namespace ecsd::store {

struct TaskDefinitionQuery {
  std::string family;  // exact family, or empty for all
  std::string status;  // ACTIVE / INACTIVE / DELETE_IN_PROGRESS, or empty for any
  bool descending = false;
  std::int64_t offset = 0;
  int limit = 100;
};

/// Splits "family:revision" (a revision of 1 to 9 digits). @return nullopt for anything else.
std::optional<std::pair<std::string_view, int>> split_family_revision(std::string_view family_revision);

class TaskDefinitionRepo {
 public:
  explicit TaskDefinitionRepo(Db& db) : db_(db) {}
  /// @return the next revision of `family`: its highest + 1 (1 for a new family). Call it in the
  /// write transaction that inserts that revision.
  int next_revision(const Scope& scope, std::string_view family);
  /// Inserts revision `revision` of family `r.name`.
  void insert(const Scope& scope, int revision, Record& r);
  std::optional<Record> find(const Scope& scope, std::string_view family, int revision);
  /// @return the newest ACTIVE revision of `family`.
  std::optional<Record> find_latest_active(const Scope& scope, std::string_view family);
  /// @return the revision an ARN names (looked up by its account, region, family and revision).
  std::optional<Record> find_by_arn(std::string_view arn);
  /// Writes status and doc of `r`.
  void update(Record& r);
  /// @return rows ordered by family then revision (ascending unless `q.descending`).
  std::vector<Record> list(const Scope& scope, const TaskDefinitionQuery& q);
  /// @return family names starting with `prefix`; `status` ACTIVE = with an ACTIVE revision,
  ///         INACTIVE = with none, ALL = every family with a stored revision.
  std::vector<std::string> families(const Scope& scope, std::string_view prefix, std::string_view status,
                                    std::int64_t offset, int limit);

 private:
  Db& db_;
};

}  // namespace ecsd::store
