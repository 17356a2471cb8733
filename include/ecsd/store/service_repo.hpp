// Services: rows under a cluster. A deleted service keeps its row as INACTIVE for a while
// (describable, as in ECS); a new service of the same name gets a new row.
#pragma once
#include <optional>
#include <string_view>
#include <vector>

#include "ecsd/store/store.hpp"

namespace ecsd::store {

/// How long a deleted (INACTIVE) service stays describable, as in ECS.
inline constexpr double kInactiveServiceRetentionSeconds = 3600;

class ServiceRepo {
 public:
  explicit ServiceRepo(Db& db) : db_(db) {}
  /// @return the newest service of that name in the cluster (any status).
  std::optional<Record> find(std::int64_t cluster_id, std::string_view name);
  /// find(), except that an INACTIVE service last updated before `inactive_cutoff` counts as gone
  /// (what DescribeServices shows before the resync's purge_inactive has deleted it).
  std::optional<Record> find_visible(std::int64_t cluster_id, std::string_view name, double inactive_cutoff);
  /// @return the newest service with that ARN (any status).
  std::optional<Record> find_by_arn(std::string_view arn);
  void insert(const Scope& scope, std::int64_t cluster_id, Record& r, double now);
  /// @throws ConflictError when `r.version` is stale.
  void update(Record& r, double now);
  /// @return up to `limit` ACTIVE/DRAINING services of the cluster with id > after_id.
  std::vector<Record> list_live(std::int64_t cluster_id, std::int64_t after_id, int limit);
  /// @return every ACTIVE/DRAINING service of the cluster.
  std::vector<Record> all_live(std::int64_t cluster_id);
  /// @return every ACTIVE/DRAINING service in every cluster (for the scheduler's resync).
  std::vector<Record> all_live_everywhere();
  /// @return the cluster id a service row belongs to.
  std::int64_t cluster_of(std::int64_t service_id);
  /// @return the number of services in `status` in the cluster.
  int count(std::int64_t cluster_id, std::string_view status);
  /// Deletes INACTIVE rows last updated before `cutoff`.
  void purge_inactive(double cutoff);

 private:
  Db& db_;
};

}  // namespace ecsd::store
