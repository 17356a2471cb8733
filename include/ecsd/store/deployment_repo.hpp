// Service deployments and service revisions (migration 7, see store.cpp): the history that
// ListServiceDeployments, DescribeServiceDeployments and DescribeServiceRevisions answer from.
// The live rollout state stays in the service's deployments[]; the scheduler mirrors it here.
//
//   service_revisions    id, service_arn, arn (UNIQUE), doc (ServiceRevision), created_at
//   service_deployments  id, service_arn, arn (UNIQUE), status, doc (ServiceDeployment),
//                        version, created_at, updated_at
//
// Records returned by these repos carry the service ARN in `name`.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ecsd/store/store.hpp"

namespace ecsd::store {

/// What ListServiceDeployments filters on.
struct ServiceDeploymentQuery {
  std::string service_arn;
  std::vector<std::string> statuses;  // empty = any
  double created_after = 0, created_before = 0;  // 0 = unbounded
  std::int64_t before_id = 0;         // newest first: ids below this (0 = from the newest)
  int limit = 20;
};

class ServiceDeploymentRepo {
 public:
  explicit ServiceDeploymentRepo(Db& db) : db_(db) {}
  std::optional<Record> find_by_arn(std::string_view arn);
  /// Inserts `r` (r.name = service ARN); sets id and version.
  void insert(Record& r, double now);
  /// Writes status and doc. @throws ConflictError when `r.version` is stale.
  void update(Record& r, double now);
  /// @return the deployments matching `q`, newest first.
  std::vector<Record> list(const ServiceDeploymentQuery& q);

  std::optional<Record> find_revision(std::string_view arn);
  /// Inserts a service revision (r.name = service ARN); sets id.
  void insert_revision(Record& r);

 private:
  Db& db_;
};

}  // namespace ecsd::store
