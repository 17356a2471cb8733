// Tasks: one row per task; the AWS Task shape lives in `doc` (plus ecsd's private "_ecsd"
// member, which no encoder writes out because it is not in the model).
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ecsd/store/store.hpp"

namespace ecsd::store {

struct TaskRow : Record {
  std::int64_t cluster_id = 0;
  std::string service_arn, family, desired_status, started_by, container_instance_arn;
  double updated_at = 0;
};

struct TaskQuery {
  std::int64_t cluster_id = 0;
  std::string service_arn;     // "" = any
  std::string family;          // "" = any
  std::string desired_status;  // "" = any
  std::string started_by;      // "" = any
  std::string container_instance_arn;  // "" = any
  std::int64_t after_id = 0;
  int limit = 100;
};

class TaskRepo {
 public:
  explicit TaskRepo(Db& db) : db_(db) {}
  void insert(const Scope& scope, TaskRow& t, double now);
  /// @throws ConflictError when `t.version` is stale.
  void update(TaskRow& t, double now);
  std::optional<TaskRow> find_by_arn(std::string_view arn);
  /// @return tasks matching `q`, by id.
  std::vector<TaskRow> list(const TaskQuery& q);
  /// @return every task whose desired or last status is not STOPPED (all accounts).
  std::vector<TaskRow> all_unstopped();
  /// @return ARNs of STOPPED tasks last updated before `cutoff`.
  std::vector<std::string> stopped_before(double cutoff);
  void remove(std::string_view arn);
  /// @return the number of tasks of the cluster in `last_status` ("" = not STOPPED).
  int count(std::int64_t cluster_id, std::string_view last_status);

 private:
  Db& db_;
};

/// Container instances (the local engine registered into each cluster).
class ContainerInstanceRepo {
 public:
  explicit ContainerInstanceRepo(Db& db) : db_(db) {}
  void insert(const Scope& scope, std::int64_t cluster_id, Record& r);
  void update(Record& r);
  std::optional<Record> find_by_arn(std::string_view arn);
  std::vector<Record> list(std::int64_t cluster_id);
  /// @return the cluster id the instance belongs to (0 when unknown).
  std::int64_t cluster_of(std::int64_t instance_id);

 private:
  Db& db_;
};

/// Small key/value facts about the daemon itself (e.g. its instance id).
class MetaRepo {
 public:
  explicit MetaRepo(Db& db) : db_(db) {}
  std::optional<std::string> get(std::string_view key);
  void put(std::string_view key, std::string_view value);
  void remove(std::string_view key);

 private:
  Db& db_;
};

}  // namespace ecsd::store
