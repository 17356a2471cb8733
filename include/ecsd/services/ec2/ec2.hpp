// Amazon EC2 networking: the dispatch table, the handlers (grouped by resource in
// src/services/ec2/), and the helpers they share. Every handler first makes sure the scope's
// default VPC exists (domain/networking.hpp).
#pragma once
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "ecsd/services/api.hpp"
#include "ecsd/store/ec2_repo.hpp"

namespace ecsd::services::ec2 {

/// @return EC2's dispatch table over the embedded EC2 model (DryRun is answered for every handler).
ServiceApi make_api();

// vpcs.cpp
json describe_vpcs(RequestContext& ctx, const json& in);
json create_vpc(RequestContext& ctx, const json& in);
json delete_vpc(RequestContext& ctx, const json& in);

// subnets.cpp
json describe_subnets(RequestContext& ctx, const json& in);
json create_subnet(RequestContext& ctx, const json& in);
json delete_subnet(RequestContext& ctx, const json& in);

// account.cpp
json describe_availability_zones(RequestContext& ctx, const json& in);
json describe_account_attributes(RequestContext& ctx, const json& in);

// security_groups.cpp
json create_security_group(RequestContext& ctx, const json& in);
json delete_security_group(RequestContext& ctx, const json& in);
json describe_security_groups(RequestContext& ctx, const json& in);
json authorize_security_group_ingress(RequestContext& ctx, const json& in);
json authorize_security_group_egress(RequestContext& ctx, const json& in);
json revoke_security_group_ingress(RequestContext& ctx, const json& in);
json revoke_security_group_egress(RequestContext& ctx, const json& in);
json describe_security_group_rules(RequestContext& ctx, const json& in);

// tags.cpp
json create_tags(RequestContext& ctx, const json& in);
json delete_tags(RequestContext& ctx, const json& in);
json describe_tags(RequestContext& ctx, const json& in);

// network_interfaces.cpp
json describe_network_interfaces(RequestContext& ctx, const json& in);

// --- shared helpers (common.cpp) ---

/// @return the strings of list member `name` of `in` (empty when absent).
std::vector<std::string> strings(const json& in, const char* name);
/// @return EC2 tags ([{Key, Value}]).
json tag_list(const store::Tags& tags);
/// @throws ApiError InvalidParameterValue for an empty, too long or reserved ("aws:") tag key.
void check_tag_key(const std::string& key);
/// @return the tags of the request's TagSpecifications for `resource_type`.
/// @throws ApiError InvalidParameterValue for a specification of another resource type or a reserved key.
store::Tags tag_specifications(const json& in, const std::string& resource_type);
/// @return the EC2 resource type of an id by its prefix ("vpc", "subnet", "security-group", ...), or "".
std::string resource_type_of(const std::string& id);
/// Applies MaxResults/NextToken to `items`; @return {<key>: page, NextToken: ...}.
json page(json items, const json& in, const char* key);
/// @throws ApiError `code` naming the first of `ids` that is not in `found` ("The vpc ID '%s' does not exist").
void require_found(const std::vector<std::string>& ids, const std::set<std::string>& found, const char* code,
                   const std::string& what);

}  // namespace ecsd::services::ec2
