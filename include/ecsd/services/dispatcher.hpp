// The API front door: picks service and operation from the wire request (X-Amz-Target for
// awsJson, Action/Version for awsQuery), decodes and validates with the model's codec, calls
// the handler, and encodes the output or the AWS-shaped error.
#pragma once
#include <string>
#include <vector>

#include "ecsd/protocol/wire.hpp"
#include "ecsd/services/api.hpp"

namespace ecsd::services {

class Dispatcher {
 public:
  Dispatcher(store::Store& store, std::string account_id);
  /// Sets where handlers report changed resources (the reconciler's queue).
  void set_notify(std::function<void(const std::string&)> notify) { notify_ = std::move(notify); }
  /// Adds a service; its model decides how requests reach it.
  void add(ServiceApi api);
  /// Handles one API request. Never throws: every failure becomes an AWS error response.
  protocol::WireResponse handle(const protocol::WireRequest& req);
  /// @return every error code a handler of any added service may emit that is not in its model
  ///         (used by tests to keep codes honest).
  const std::vector<ServiceApi>& apis() const { return apis_; }

 private:
  protocol::WireResponse handle_json(const protocol::WireRequest& req, RequestContext& ctx);
  protocol::WireResponse handle_query(const protocol::WireRequest& req, RequestContext& ctx);
  const ServiceApi* by_target_prefix(const std::string& prefix) const;
  const ServiceApi* by_query(const std::string& version, const std::string& signing_service) const;

  store::Store& store_;
  std::string account_id_;
  std::vector<ServiceApi> apis_;
  std::function<void(const std::string&)> notify_;
};

}  // namespace ecsd::services
