// ELBv2 listener handlers: CreateListener, DescribeListeners, ModifyListener, DeleteListener.
// A listener's DefaultActions live in its default rule (rules.cpp shows it with IsDefault true),
// so the data plane finds every action of a listener in one place.
//
// HTTPS and TLS listeners take one certificate ARN as-is, standing in for ACM or IAM: an ACM
// ("arn:aws:acm:<region>:<account>:certificate/...") or IAM ("arn:aws:iam::<account>:
// server-certificate/...") ARN of the caller's account; the data plane serves a self-signed
// certificate for it.
#include <set>

#include "ecsd/common/api_error.hpp"
#include "ecsd/common/arn.hpp"
#include "ecsd/common/ids.hpp"
#include "ecsd/domain/elb.hpp"
#include "ecsd/services/elbv2/elbv2.hpp"

namespace ecsd::services::elbv2 {

namespace {

bool secure(const std::string& protocol) { return protocol == "HTTPS" || protocol == "TLS"; }

void check_protocol(const store::LoadBalancerRow& lb, const std::string& protocol) {
  if (lb.type == "application") {
    if (protocol != "HTTP" && protocol != "HTTPS")
      throw ApiError("ValidationError", "Listener protocol '" + protocol + "' must be one of 'HTTP, HTTPS'");
    return;
  }
  if (protocol == "UDP" || protocol == "TCP_UDP")
    throw ApiError("UnsupportedProtocol",
                   "ecsd's network load balancers proxy TCP and TLS listeners only, not '" + protocol + "'");
  if (protocol != "TCP" && protocol != "TLS")
    throw ApiError("ValidationError", "Listener protocol '" + protocol + "' must be one of 'TCP, TLS, UDP, TCP_UDP'");
}

bool known_certificate(const RequestContext& ctx, const std::string& arn_s) {
  auto a = arn::parse(arn_s);
  if (!a || a->account != ctx.scope.account) return false;
  if (a->service == "acm") return a->region == ctx.scope.region && a->resource.rfind("certificate/", 0) == 0;
  return a->service == "iam" && a->resource.rfind("server-certificate/", 0) == 0;
}

// Applies the TLS members of a request (Certificates, SslPolicy, AlpnPolicy, MutualAuthentication)
// to a listener doc for `protocol`; what a plain listener cannot have is dropped or refused.
void apply_tls(const RequestContext& ctx, json& doc, const json& in, const std::string& protocol) {
  if (in.contains("MutualAuthentication") && in["MutualAuthentication"].value("Mode", "off") != "off")
    throw ApiError("InvalidConfigurationRequest", "ecsd does not support mutual TLS authentication");
  if (!secure(protocol)) {
    if (!in.value("Certificates", json::array()).empty() || in.contains("SslPolicy"))
      throw ApiError("InvalidConfigurationRequest",
                     "Certificates and an SSL policy can be specified only for HTTPS and TLS listeners");
    if (in.contains("AlpnPolicy") && !in["AlpnPolicy"].empty())
      throw ApiError("InvalidConfigurationRequest", "An ALPN policy can be specified only for TLS listeners");
    doc.erase("Certificates");
    doc.erase("SslPolicy");
    doc.erase("AlpnPolicy");
    return;
  }
  json certs = in.value("Certificates", json::array());
  if (!certs.empty()) {
    if (certs.size() > 1)
      throw ApiError("TooManyCertificates", "A listener takes exactly one default certificate");
    std::string cert = certs[0].value("CertificateArn", "");
    if (!known_certificate(ctx, cert)) throw ApiError("CertificateNotFound", "Certificate '" + cert + "' not found");
    doc["Certificates"] = json::array({{{"CertificateArn", cert}}});
  }
  if (!doc.contains("Certificates"))
    throw ApiError("ValidationError", "A certificate must be specified for " + protocol + " listeners");
  std::string policy = in.value("SslPolicy", doc.value("SslPolicy", std::string(kDefaultSslPolicy)));
  if (!ssl_policy_exists(policy)) throw ApiError("SSLPolicyNotFound", "SSL policy '" + policy + "' not found");
  doc["SslPolicy"] = policy;
  if (in.contains("AlpnPolicy")) {
    static const std::set<std::string> kAlpn = {"HTTP1Only", "HTTP2Only", "HTTP2Optional", "HTTP2Preferred", "None"};
    if (protocol != "TLS" && !in["AlpnPolicy"].empty())
      throw ApiError("InvalidConfigurationRequest", "An ALPN policy can be specified only for TLS listeners");
    for (const auto& p : in["AlpnPolicy"])
      if (!kAlpn.count(p.get<std::string>()))
        throw ApiError("ALPNPolicyNotFound", "ALPN policy '" + p.get<std::string>() + "' not found");
    doc["AlpnPolicy"] = in["AlpnPolicy"];
  }
}

json view(store::Db& db, const store::ListenerRow& l) {
  json out = l.doc;
  auto rule = store::RuleRepo(db).default_rule(l.id);
  out["DefaultActions"] = rule ? rule->doc.value("Actions", json::array()) : json::array();
  return out;
}

// "listener/app/<lb name>/<lb id>/<id>" from the load balancer's "loadbalancer/app/<name>/<id>".
std::string listener_resource(const store::LoadBalancerRow& lb) {
  auto a = arn::parse(lb.arn);
  return "listener/" + a->resource.substr(std::string("loadbalancer/").size()) + "/" + ids::hex(16);
}

}  // namespace

json create_listener(RequestContext& ctx, const json& in) {
  if (!in.contains("Protocol")) throw ApiError("ValidationError", "A listener protocol must be specified");
  if (!in.contains("Port")) throw ApiError("ValidationError", "A listener port must be specified");
  std::string protocol = in["Protocol"];
  int port = in["Port"];
  store::Tags tags = tags_from(in.value("Tags", json::array()));
  json out = ctx.store.write([&](store::Db& db) {
    auto lb = require_load_balancer(db, ctx, in.at("LoadBalancerArn"));
    check_protocol(lb, protocol);
    json doc = {{"LoadBalancerArn", lb.arn}, {"Port", port}, {"Protocol", protocol}};
    apply_tls(ctx, doc, in, protocol);
    std::vector<store::RuleTargetGroup> forwards;
    json actions = check_actions(db, ctx, in.at("DefaultActions"), lb, protocol, forwards);
    store::ListenerRepo repo(db);
    if (auto existing = repo.find_by_port(lb.id, port)) {
      // Creating the same listener again succeeds (CreateListener is idempotent).
      json mine = doc, theirs = view(db, *existing);
      mine["DefaultActions"] = actions;
      theirs.erase("ListenerArn");
      if (mine != theirs)
        throw ApiError("DuplicateListener", "A listener already exists on port " + std::to_string(port) +
                                                " of load balancer '" + lb.arn + "'");
      return json{{"Listeners", json::array({view(db, *existing)})}};
    }
    if (repo.count(lb.id) >= kMaxListenersPerLoadBalancer)
      throw ApiError("TooManyListeners", "The quota for the number of listeners per load balancer has been reached");
    store::ListenerRow l;
    l.load_balancer_id = lb.id;
    l.arn = elb_arn(ctx, listener_resource(lb));
    l.port = port;
    l.protocol = protocol;
    l.created_at = ctx.now;
    doc["ListenerArn"] = l.arn;
    l.doc = doc;
    repo.insert(l);
    store::RuleRow rule;
    rule.listener_id = l.id;
    rule.arn = elb_arn(ctx, "listener-rule/" + arn::parse(l.arn)->resource.substr(9) + "/" + ids::hex(16));
    rule.created_at = ctx.now;
    rule.doc = {{"Conditions", json::array()}, {"Actions", actions}};
    store::RuleRepo(db).insert(rule);
    set_forwards(db, rule.id, forwards, ctx.now);
    put_tags(db, l.arn, tags);
    return json{{"Listeners", json::array({view(db, l)})}};
  });
  ctx.changed("load-balancer:" + in.at("LoadBalancerArn").get<std::string>());
  return out;
}

json describe_listeners(RequestContext& ctx, const json& in) {
  bool by_lb = in.contains("LoadBalancerArn"), by_arn = in.contains("ListenerArns");
  if (!by_lb && !by_arn)
    throw ApiError("ValidationError", "You must specify either listener ARNs or a load balancer ARN");
  if (by_lb && by_arn)
    throw ApiError("ValidationError", "Listener ARNs and a load balancer ARN cannot be specified at the same time");
  return ctx.store.read([&](store::Db& db) {
    json items = json::array();
    if (by_lb) {
      for (const auto& l : store::ListenerRepo(db).list(require_load_balancer(db, ctx, in["LoadBalancerArn"]).id))
        items.push_back(view(db, l));
    } else {
      std::set<std::string> seen;
      for (const auto& a : in["ListenerArns"].get<std::vector<std::string>>())
        if (seen.insert(a).second) items.push_back(view(db, require_listener(db, ctx, a)));
    }
    return page(in, items, "Listeners");
  });
}

json modify_listener(RequestContext& ctx, const json& in) {
  std::string lb_arn;
  json out = ctx.store.write([&](store::Db& db) {
    store::ListenerRepo repo(db);
    auto l = require_listener(db, ctx, in.at("ListenerArn"));
    auto lb = store::LoadBalancerRepo(db).find_by_id(l.load_balancer_id);
    lb_arn = lb->arn;
    std::string protocol = in.value("Protocol", l.protocol);
    int port = in.value("Port", l.port);
    check_protocol(*lb, protocol);
    if (port != l.port && repo.find_by_port(lb->id, port))
      throw ApiError("DuplicateListener", "A listener already exists on port " + std::to_string(port) +
                                              " of load balancer '" + lb->arn + "'");
    json doc = l.doc;
    if (protocol != l.protocol && !secure(protocol)) doc.erase("AlpnPolicy");
    apply_tls(ctx, doc, in, protocol);
    doc["Port"] = port;
    doc["Protocol"] = protocol;
    // A new protocol may not suit the target groups the default actions forward to: check them again.
    if (in.contains("DefaultActions") || protocol != l.protocol) {
      store::RuleRepo rules(db);
      auto rule = rules.default_rule(l.id);
      std::vector<store::RuleTargetGroup> forwards;
      json actions = check_actions(db, ctx, in.value("DefaultActions", rule->doc.value("Actions", json::array())), *lb,
                                   protocol, forwards);
      rule->doc["Actions"] = actions;
      rules.update(*rule);
      set_forwards(db, rule->id, forwards, ctx.now);
    }
    l.port = port;
    l.protocol = protocol;
    l.doc = doc;
    repo.update(l);
    return json{{"Listeners", json::array({view(db, l)})}};
  });
  ctx.changed("load-balancer:" + lb_arn);
  return out;
}

json delete_listener(RequestContext& ctx, const json& in) {
  std::string lb_arn = ctx.store.write([&](store::Db& db) {
    auto l = require_listener(db, ctx, in.at("ListenerArn"));
    remove_listener(db, l, ctx.now);
    return l.doc.value("LoadBalancerArn", "");
  });
  ctx.changed("load-balancer:" + lb_arn);
  return json::object();
}

}  // namespace ecsd::services::elbv2
