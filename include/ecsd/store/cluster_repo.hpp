// Clusters: one row per (account, region, name); the AWS Cluster shape lives in `doc`.
#pragma once
#include <optional>
#include <string_view>
#include <vector>

#include "ecsd/store/store.hpp"

namespace ecsd::store {

class ClusterRepo {
 public:
  explicit ClusterRepo(Db& db) : db_(db) {}
  std::optional<Record> find(const Scope& scope, std::string_view name);
  /// find() without the document: `doc` is an empty object (no JSON parse of the stored one).
  std::optional<Record> find_key(const Scope& scope, std::string_view name);
  std::optional<Record> find_by_arn(std::string_view arn);
  /// Inserts `r` (sets id, version 1).
  void insert(const Scope& scope, Record& r);
  /// Writes `r` if its version is current, then bumps it. @throws ConflictError otherwise.
  void update(Record& r);
  /// @return up to `limit` ACTIVE clusters with id > `after_id`, by id.
  std::vector<Record> list_active(const Scope& scope, std::int64_t after_id, int limit);

 private:
  Db& db_;
};

}  // namespace ecsd::store
