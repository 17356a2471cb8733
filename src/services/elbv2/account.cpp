// ELBv2 account-level handlers: DescribeAccountLimits (the quotas ecsd enforces, under AWS's
// names) and DescribeSSLPolicies (the policies HTTPS and TLS listeners may name; the data plane
// configures OpenSSL from the protocols and ciphers listed here).
#include <algorithm>

#include "ecsd/common/api_error.hpp"
#include "ecsd/services/elbv2/elbv2.hpp"

namespace ecsd::services::elbv2 {

namespace {

struct SslPolicy {
  const char* name;
  std::vector<const char*> protocols, ciphers;
};

const char* const kTls13Ciphers[] = {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
                                     "TLS_CHACHA20_POLY1305_SHA256"};

const std::vector<SslPolicy>& policies() {
  static const std::vector<SslPolicy> kPolicies = [] {
    std::vector<const char*> tls13(std::begin(kTls13Ciphers), std::end(kTls13Ciphers));
    std::vector<const char*> ecdhe_gcm = {"ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
                                          "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384"};
    std::vector<const char*> ecdhe_tls12 = {"ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
                                            "ECDHE-ECDSA-AES128-SHA256",     "ECDHE-RSA-AES128-SHA256",
                                            "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
                                            "ECDHE-ECDSA-AES256-SHA384",     "ECDHE-RSA-AES256-SHA384"};
    auto join = [](std::vector<const char*> a, const std::vector<const char*>& b) {
      a.insert(a.end(), b.begin(), b.end());
      return a;
    };
    std::vector<const char*> tls12_2017 = join(ecdhe_tls12, {"AES128-GCM-SHA256", "AES128-SHA256",
                                                             "AES256-GCM-SHA384", "AES256-SHA256"});
    std::vector<const char*> legacy_2016 = {
        "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES128-SHA256",
        "ECDHE-RSA-AES128-SHA256",       "ECDHE-ECDSA-AES128-SHA",      "ECDHE-RSA-AES128-SHA",
        "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-ECDSA-AES256-SHA384",
        "ECDHE-RSA-AES256-SHA384",       "ECDHE-RSA-AES256-SHA",        "ECDHE-ECDSA-AES256-SHA",
        "AES128-GCM-SHA256",             "AES128-SHA256",               "AES128-SHA",
        "AES256-GCM-SHA384",             "AES256-SHA256",               "AES256-SHA"};
    return std::vector<SslPolicy>{
        {kDefaultSslPolicy, {"TLSv1.2", "TLSv1.3"}, join(tls13, ecdhe_tls12)},
        {"ELBSecurityPolicy-TLS13-1-2-Res-2021-06", {"TLSv1.2", "TLSv1.3"}, join(tls13, ecdhe_gcm)},
        {"ELBSecurityPolicy-TLS13-1-3-2021-06", {"TLSv1.3"}, tls13},
        {"ELBSecurityPolicy-TLS-1-2-2017-01", {"TLSv1.2"}, tls12_2017},
        {"ELBSecurityPolicy-2016-08", {"TLSv1", "TLSv1.1", "TLSv1.2"}, legacy_2016},
    };
  }();
  return kPolicies;
}

json policy_json(const SslPolicy& p) {
  json ciphers = json::array();
  int priority = 0;
  for (const char* c : p.ciphers) ciphers.push_back({{"Name", c}, {"Priority", ++priority}});
  return {{"Name", p.name},
          {"SslProtocols", p.protocols},
          {"Ciphers", ciphers},
          {"SupportedLoadBalancerTypes", {"application", "network"}}};
}

}  // namespace

bool ssl_policy_exists(const std::string& name) {
  const auto& all = policies();
  return std::any_of(all.begin(), all.end(), [&](const SslPolicy& p) { return name == p.name; });
}

json describe_account_limits(RequestContext&, const json& in) {
  const std::pair<const char*, int> kLimits[] = {
      {"application-load-balancers", kMaxLoadBalancers},
      {"network-load-balancers", kMaxLoadBalancers},
      {"listeners-per-application-load-balancer", kMaxListenersPerLoadBalancer},
      {"listeners-per-network-load-balancer", kMaxListenersPerLoadBalancer},
      {"rules-per-application-load-balancer", kMaxRulesPerLoadBalancer},
      {"target-groups", kMaxTargetGroups},
      {"target-groups-per-action-on-application-load-balancer", kMaxTargetGroupsPerAction},
      {"target-groups-per-action-on-network-load-balancer", 1},
      {"targets-per-application-load-balancer", kMaxTargetsPerTargetGroup},  // ecsd counts per target group
      {"targets-per-network-load-balancer", kMaxTargetsPerTargetGroup},
      {"condition-values-per-alb-rule", 5},
  };
  json items = json::array();
  for (const auto& [name, max] : kLimits) items.push_back({{"Name", name}, {"Max", std::to_string(max)}});
  return page(in, items, "Limits");
}

json describe_ssl_policies(RequestContext&, const json& in) {
  std::string type = in.value("LoadBalancerType", "");
  json items = json::array();
  if (in.contains("Names")) {
    for (const auto& n : in["Names"].get<std::vector<std::string>>()) {
      auto it = std::find_if(policies().begin(), policies().end(), [&](const SslPolicy& p) { return n == p.name; });
      if (it == policies().end()) throw ApiError("SSLPolicyNotFound", "SSL policy '" + n + "' not found");
      items.push_back(policy_json(*it));
    }
  } else {
    for (const auto& p : policies()) items.push_back(policy_json(p));
  }
  if (type == "gateway") items = json::array();
  return page(in, items, "SslPolicies");
}

}  // namespace ecsd::services::elbv2
