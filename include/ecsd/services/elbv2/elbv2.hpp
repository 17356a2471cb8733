// Elastic Load Balancing v2 (awsQuery, 2015-12-01): the dispatch table, the handlers (grouped by
// resource in src/services/elbv2/) and the lookups and checks they share. The control plane only:
// handlers write desired state; the data plane (alb/) reads it through domain/elb.hpp.
#pragma once
#include <string>
#include <vector>

#include "ecsd/services/api.hpp"
#include "ecsd/store/elbv2_repo.hpp"
#include "ecsd/store/tag_repo.hpp"

namespace ecsd::services::elbv2 {

/// @return ELBv2's dispatch table over the embedded ELBv2 model.
ServiceApi make_api();

// load_balancers.cpp
json create_load_balancer(RequestContext& ctx, const json& in);
json describe_load_balancers(RequestContext& ctx, const json& in);
json delete_load_balancer(RequestContext& ctx, const json& in);
json describe_load_balancer_attributes(RequestContext& ctx, const json& in);
json modify_load_balancer_attributes(RequestContext& ctx, const json& in);

// target_groups.cpp
json create_target_group(RequestContext& ctx, const json& in);
json describe_target_groups(RequestContext& ctx, const json& in);
json modify_target_group(RequestContext& ctx, const json& in);
json delete_target_group(RequestContext& ctx, const json& in);
json describe_target_group_attributes(RequestContext& ctx, const json& in);
json modify_target_group_attributes(RequestContext& ctx, const json& in);

// listeners.cpp
json create_listener(RequestContext& ctx, const json& in);
json describe_listeners(RequestContext& ctx, const json& in);
json modify_listener(RequestContext& ctx, const json& in);
json delete_listener(RequestContext& ctx, const json& in);

// rules.cpp
json create_rule(RequestContext& ctx, const json& in);
json describe_rules(RequestContext& ctx, const json& in);
json modify_rule(RequestContext& ctx, const json& in);
json delete_rule(RequestContext& ctx, const json& in);
json set_rule_priorities(RequestContext& ctx, const json& in);

// targets.cpp
json register_targets(RequestContext& ctx, const json& in);
json deregister_targets(RequestContext& ctx, const json& in);
json describe_target_health(RequestContext& ctx, const json& in);

// tags.cpp
json add_tags(RequestContext& ctx, const json& in);
json remove_tags(RequestContext& ctx, const json& in);
json describe_tags(RequestContext& ctx, const json& in);

// account.cpp
json describe_account_limits(RequestContext& ctx, const json& in);
json describe_ssl_policies(RequestContext& ctx, const json& in);

// --- shared (common.cpp, actions.cpp, account.cpp); lookups run inside a store transaction ---

/// Account quotas ecsd enforces (DescribeAccountLimits reports them).
inline constexpr int kMaxLoadBalancers = 50;         // per type
inline constexpr int kMaxTargetGroups = 3000;
inline constexpr int kMaxListenersPerLoadBalancer = 50;
inline constexpr int kMaxRulesPerLoadBalancer = 100;
inline constexpr int kMaxTargetsPerTargetGroup = 1000;
inline constexpr int kMaxTargetGroupsPerAction = 5;
inline constexpr int kMaxTagsPerResource = 50;

/// The security policy of HTTPS and TLS listeners created without one.
inline constexpr const char* kDefaultSslPolicy = "ELBSecurityPolicy-TLS13-1-2-2021-06";
/// @return true when DescribeSSLPolicies knows `name`.
bool ssl_policy_exists(const std::string& name);

/// @return "arn:aws:elasticloadbalancing:<region>:<account>:<resource>".
std::string elb_arn(const RequestContext& ctx, const std::string& resource);
/// @return false when `arn` is not an ELBv2 ARN of the request's account and region.
bool in_scope(const RequestContext& ctx, const std::string& arn);

/// @throws LoadBalancerNotFound, TargetGroupNotFound, ListenerNotFound, RuleNotFound.
store::LoadBalancerRow require_load_balancer(store::Db& db, const RequestContext& ctx, const std::string& arn);
store::TargetGroupRow require_target_group(store::Db& db, const RequestContext& ctx, const std::string& arn);
store::ListenerRow require_listener(store::Db& db, const RequestContext& ctx, const std::string& arn);
store::RuleRow require_rule(store::Db& db, const RequestContext& ctx, const std::string& arn);

/// ELBv2 tags ([{Key, Value}]) to store tags. @throws DuplicateTagKeys, TooManyTags, ValidationError.
store::Tags tags_from(const json& tags);
/// Store tags to ELBv2 tags.
json tags_json(const store::Tags& tags);
/// Adds tags to a resource, keeping it within kMaxTagsPerResource. @throws TooManyTags.
void put_tags(store::Db& db, const std::string& arn, const store::Tags& tags);

/// @return one page of `items` as {<key>: [...], NextMarker} from the request's Marker and PageSize.
json page(const json& in, const json& items, const char* key);

/// One attribute a load balancer or target group has, and the values it takes.
struct AttributeSpec {
  enum Kind { kBool, kInt, kEnum, kText, kCountOrOff, kPercentOrOff };
  AttributeSpec(std::string key, Kind kind, std::string default_value, long lo = 0, long hi = 0,
                std::vector<std::string> values = {})
      : key(std::move(key)), kind(kind), default_value(std::move(default_value)), lo(lo), hi(hi),
        values(std::move(values)) {}
  std::string key;
  Kind kind;
  std::string default_value;
  long lo = 0, hi = 0;                 // kInt, kCountOrOff, kPercentOrOff
  std::vector<std::string> values;     // kEnum
};
/// @return {key: default} for every spec.
json attribute_defaults(const std::vector<AttributeSpec>& specs);
/// Applies [{Key, Value}] to `current` ({key: value}). @throws ValidationError for an unknown key or
/// a bad value; `what` names the resource in messages ("Load balancer", "Target group").
void apply_attributes(json& current, const json& changes, const std::vector<AttributeSpec>& specs,
                      const std::string& what);
/// @return {key: value} as [{Key, Value}].
json attributes_json(const json& current);

/// Checks and normalizes the actions of a listener or rule on `lb` (listener protocol `protocol`).
/// @param forwards set to the target groups the actions forward to, with weights.
/// @return the actions as ELBv2 returns them (forward actions with ForwardConfig and weights).
json check_actions(store::Db& db, const RequestContext& ctx, const json& actions, const store::LoadBalancerRow& lb,
                   const std::string& protocol, std::vector<store::RuleTargetGroup>& forwards);
/// Sets the target groups a rule forwards to and updates the targets of groups that gained or lost their use.
void set_forwards(store::Db& db, std::int64_t rule_id, const std::vector<store::RuleTargetGroup>& forwards,
                  double now);
/// Deletes a listener with its rules and their tags; targets of groups it used become unused.
void remove_listener(store::Db& db, const store::ListenerRow& listener, double now);

}  // namespace ecsd::services::elbv2
