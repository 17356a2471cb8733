// Shared fixture for the ELBv2 handler tests: an in-memory store whose scope has its default VPC,
// a request context, and helpers that create the usual resources. Handlers are called directly.
#pragma once
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "../handler_test_support.hpp"
#include "ecsd/common/api_error.hpp"
#include "ecsd/domain/networking.hpp"
#include "ecsd/services/elbv2/elbv2.hpp"
#include "ecsd/store/ec2_repo.hpp"
#include "ecsd/store/store.hpp"

namespace ecsd::services::elbv2 {

using test_support::api_error;
using test_support::kAccount;
using test_support::kNow;

class Elbv2Test : public ::testing::Test {
 protected:
  void SetUp() override {
    store_.write([&](store::Db& db) {
      domain::ensure_default_vpc(db, ctx_.scope);
      for (const auto& s : store::SubnetRepo(db).list(ctx_.scope)) {
        subnets_.push_back(s.id);
        zones_.push_back(s.az);
      }
      vpc_ = store::VpcRepo(db).find_default(ctx_.scope)->id;
    });
    ASSERT_GE(subnets_.size(), 2u);
  }

  json create_alb(const std::string& name, const json& extra = json::object()) {
    json in = {{"Name", name}, {"Subnets", json::array({subnets_[0], subnets_[1]})}};
    in.update(extra);
    return create_load_balancer(ctx_, in)["LoadBalancers"][0];
  }

  json create_nlb(const std::string& name) {
    return create_load_balancer(ctx_, {{"Name", name}, {"Type", "network"}, {"Subnets", json::array({subnets_[0]})}})
        ["LoadBalancers"][0];
  }

  json create_tg(const std::string& name, const std::string& protocol = "HTTP", int port = 80,
                 const json& extra = json::object()) {
    json in = {{"Name", name}, {"Protocol", protocol}, {"Port", port}, {"VpcId", vpc_}};
    in.update(extra);
    return create_target_group(ctx_, in)["TargetGroups"][0];
  }

  static json forward_to(const std::string& tg_arn) {
    return json::array({{{"Type", "forward"}, {"TargetGroupArn", tg_arn}}});
  }

  json create_http_listener(const std::string& lb_arn, const std::string& tg_arn, int port = 80) {
    return create_listener(ctx_, {{"LoadBalancerArn", lb_arn},
                                  {"Protocol", "HTTP"},
                                  {"Port", port},
                                  {"DefaultActions", forward_to(tg_arn)}})["Listeners"][0];
  }

  json path_rule(const std::string& listener_arn, int priority, const std::string& path, const std::string& tg_arn) {
    return create_rule(ctx_, {{"ListenerArn", listener_arn},
                              {"Priority", priority},
                              {"Conditions", json::array({{{"Field", "path-pattern"}, {"Values", json::array({path})}}})},
                              {"Actions", forward_to(tg_arn)}})["Rules"][0];
  }

  store::Store store_{":memory:"};
  RequestContext ctx_{{kAccount, "us-east-1"}, "AKIDEXAMPLE", "req-1", store_, kNow};
  std::vector<std::string> subnets_, zones_;
  std::string vpc_;
};

}  // namespace ecsd::services::elbv2
