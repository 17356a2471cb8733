// Tests for the ELBv2 rule handlers (Create/Describe/Modify/DeleteRule, SetRulePriorities) and
// condition checks, called directly on an in-memory store.
#include "elbv2_fixture.hpp"

namespace ecsd::services::elbv2 {
namespace {

class RulesTest : public Elbv2Test {
 protected:
  void SetUp() override {
    Elbv2Test::SetUp();
    lb_ = create_alb("web")["LoadBalancerArn"];
    tg_ = create_tg("web")["TargetGroupArn"];
    api_tg_ = create_tg("api")["TargetGroupArn"];
    listener_ = create_http_listener(lb_, tg_)["ListenerArn"];
  }

  json rule(int priority, const json& conditions, const json& actions = json()) {
    return create_rule(ctx_, {{"ListenerArn", listener_},
                              {"Priority", priority},
                              {"Conditions", conditions},
                              {"Actions", actions.is_null() ? forward_to(api_tg_) : actions}})["Rules"][0];
  }

  std::string condition_error(const json& conditions) {
    return api_error([&] { rule(99, conditions); }).code;
  }

  json rules() { return describe_rules(ctx_, {{"ListenerArn", listener_}})["Rules"]; }

  std::string lb_, tg_, api_tg_, listener_;
};

TEST_F(RulesTest, ListenerHasItsDefaultRuleLast) {
  json r = rules();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0]["Priority"], "default");
  EXPECT_EQ(r[0]["IsDefault"], true);
  EXPECT_TRUE(r[0]["Conditions"].empty());
  EXPECT_EQ(r[0]["Actions"][0]["TargetGroupArn"], tg_);
  EXPECT_NE(r[0]["RuleArn"].get<std::string>().find(":listener-rule/app/web/"), std::string::npos);
  path_rule(listener_, 20, "/b/*", api_tg_);
  path_rule(listener_, 10, "/a/*", api_tg_);
  r = rules();
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0]["Priority"], "10");
  EXPECT_EQ(r[1]["Priority"], "20");
  EXPECT_EQ(r[2]["Priority"], "default");
}

TEST_F(RulesTest, LegacyAndConfigConditionsAreNormalized) {
  json r = path_rule(listener_, 1, "/api/*", api_tg_);
  const json& c = r["Conditions"][0];
  EXPECT_EQ(c["Field"], "path-pattern");
  EXPECT_EQ(c["Values"], json::array({"/api/*"}));
  EXPECT_EQ(c["PathPatternConfig"]["Values"], json::array({"/api/*"}));
  EXPECT_EQ(r["IsDefault"], false);
  EXPECT_EQ(r["Priority"], "1");
  r = rule(2, json::array({{{"Field", "host-header"}, {"HostHeaderConfig", {{"Values", {"a.example.com", "*.b.example"}}}}},
                           {{"Field", "http-header"},
                            {"HttpHeaderConfig", {{"HttpHeaderName", "X-Env"}, {"Values", json::array({"blue"})}}}},
                           {{"Field", "http-request-method"}, {"HttpRequestMethodConfig", {{"Values", json::array({"GET"})}}}}}));
  EXPECT_EQ(r["Conditions"][0]["Values"], json::array({"a.example.com", "*.b.example"}));
  EXPECT_EQ(r["Conditions"][1]["HttpHeaderConfig"]["HttpHeaderName"], "X-Env");
  EXPECT_FALSE(r["Conditions"][1].contains("Values"));
  r = rule(3, json::array({{{"Field", "query-string"},
                            {"QueryStringConfig", {{"Values", json::array({{{"Key", "v"}, {"Value", "2"}}, {{"Value", "x"}}})}}}},
                           {{"Field", "source-ip"}, {"SourceIpConfig", {{"Values", json::array({"10.0.0.0/8", "::1/128"})}}}}}));
  EXPECT_EQ(r["Conditions"][0]["QueryStringConfig"]["Values"][1], json({{"Value", "x"}}));
  EXPECT_EQ(r["Conditions"][1]["SourceIpConfig"]["Values"][1], "::1/128");
}

TEST_F(RulesTest, BadConditionsAreValidationErrors) {
  EXPECT_EQ(condition_error(json::array()), "ValidationError");
  EXPECT_EQ(condition_error(json::array({{{"Field", "cookie"}, {"Values", json::array({"x"})}}})), "ValidationError");
  EXPECT_EQ(condition_error(json::array({{{"Field", "path-pattern"}, {"Values", json::array({"/a", "/b"})}}})),
            "ValidationError");
  EXPECT_EQ(condition_error(json::array({{{"Field", "http-header"}, {"Values", json::array({"x"})}}})),
            "ValidationError");
  EXPECT_EQ(condition_error(json::array({{{"Field", "source-ip"}, {"SourceIpConfig", {{"Values", json::array({"10.0.0.1"})}}}}})),
            "ValidationError");
  EXPECT_EQ(condition_error(json::array({{{"Field", "http-request-method"},
                                          {"HttpRequestMethodConfig", {{"Values", json::array({"get"})}}}}})),
            "ValidationError");
  EXPECT_EQ(condition_error(json::array({{{"Field", "path-pattern"}, {"Values", json::array({"/a"})}},
                                         {{"Field", "path-pattern"}, {"Values", json::array({"/b"})}}})),
            "ValidationError");
  EXPECT_EQ(condition_error(json::array(
                {{{"Field", "host-header"}, {"HostHeaderConfig", {{"Values", {"a", "b", "c", "d", "e", "f"}}}}}})),
            "ValidationError");
  EXPECT_EQ(condition_error(json::array({{{"Field", "path-pattern"},
                                          {"PathPatternConfig", {{"RegexValues", json::array({"^/a"})}}}}})),
            "InvalidConfigurationRequest");
}

TEST_F(RulesTest, PriorityInUse) {
  path_rule(listener_, 5, "/a", api_tg_);
  auto e = api_error([&] { path_rule(listener_, 5, "/b", api_tg_); });
  EXPECT_EQ(e.code, "PriorityInUse");
}

TEST_F(RulesTest, RuleActionsAttachTheirTargetGroups) {
  json r = path_rule(listener_, 5, "/a", api_tg_);
  json tg = describe_target_groups(ctx_, {{"TargetGroupArns", json::array({api_tg_})}})["TargetGroups"][0];
  EXPECT_EQ(tg["LoadBalancerArns"], json::array({lb_}));
  EXPECT_EQ(api_error([&] { delete_target_group(ctx_, {{"TargetGroupArn", api_tg_}}); }).code, "ResourceInUse");
  delete_rule(ctx_, {{"RuleArn", r["RuleArn"]}});
  tg = describe_target_groups(ctx_, {{"TargetGroupArns", json::array({api_tg_})}})["TargetGroups"][0];
  EXPECT_TRUE(tg["LoadBalancerArns"].empty());
}

TEST_F(RulesTest, DefaultRuleCannotBeDeletedOrMovedButItsActionsCanChange) {
  std::string def = rules()[0]["RuleArn"];
  EXPECT_EQ(api_error([&] { delete_rule(ctx_, {{"RuleArn", def}}); }).code, "OperationNotPermitted");
  EXPECT_EQ(api_error([&] {
              set_rule_priorities(ctx_, {{"RulePriorities", json::array({{{"RuleArn", def}, {"Priority", 1}}})}});
            }).code,
            "OperationNotPermitted");
  EXPECT_EQ(api_error([&] {
              modify_rule(ctx_, {{"RuleArn", def},
                                 {"Conditions", json::array({{{"Field", "path-pattern"}, {"Values", json::array({"/"})}}})}});
            }).code,
            "OperationNotPermitted");
  json fixed = json::array({{{"Type", "fixed-response"}, {"FixedResponseConfig", {{"StatusCode", "404"}}}}});
  json r = modify_rule(ctx_, {{"RuleArn", def}, {"Actions", fixed}})["Rules"][0];
  EXPECT_EQ(r["Actions"][0]["Type"], "fixed-response");
  json l = describe_listeners(ctx_, {{"ListenerArns", json::array({listener_})}})["Listeners"][0];
  EXPECT_EQ(l["DefaultActions"][0]["Type"], "fixed-response");
  EXPECT_NO_THROW(delete_target_group(ctx_, {{"TargetGroupArn", tg_}}));
}

TEST_F(RulesTest, ModifyRuleReplacesConditionsOrActions) {
  json r = path_rule(listener_, 5, "/a", api_tg_);
  json m = modify_rule(ctx_, {{"RuleArn", r["RuleArn"]},
                              {"Conditions", json::array({{{"Field", "path-pattern"}, {"Values", json::array({"/z/*"})}}})}})
               ["Rules"][0];
  EXPECT_EQ(m["Conditions"][0]["Values"][0], "/z/*");
  EXPECT_EQ(m["Actions"][0]["TargetGroupArn"], api_tg_);
  m = modify_rule(ctx_, {{"RuleArn", r["RuleArn"]}, {"Actions", forward_to(tg_)}})["Rules"][0];
  EXPECT_EQ(m["Actions"][0]["TargetGroupArn"], tg_);
  EXPECT_EQ(m["Priority"], "5");
  EXPECT_EQ(api_error([&] { modify_rule(ctx_, {{"RuleArn", r["RuleArn"].get<std::string>() + "0"}, {"Actions", forward_to(tg_)}}); }).code,
            "RuleNotFound");
}

TEST_F(RulesTest, SetRulePrioritiesSwapsAndChecks) {
  std::string a = path_rule(listener_, 1, "/a", api_tg_)["RuleArn"];
  std::string b = path_rule(listener_, 2, "/b", api_tg_)["RuleArn"];
  std::string c = path_rule(listener_, 3, "/c", api_tg_)["RuleArn"];
  json out = set_rule_priorities(
      ctx_, {{"RulePriorities", json::array({{{"RuleArn", a}, {"Priority", 2}}, {{"RuleArn", b}, {"Priority", 1}}})}});
  ASSERT_EQ(out["Rules"].size(), 2u);
  EXPECT_EQ(out["Rules"][0]["Priority"], "2");
  json r = rules();
  EXPECT_EQ(r[0]["RuleArn"], b);
  EXPECT_EQ(r[1]["RuleArn"], a);
  EXPECT_EQ(api_error([&] {
              set_rule_priorities(ctx_, {{"RulePriorities", json::array({{{"RuleArn", a}, {"Priority", 3}}})}});
            }).code,
            "PriorityInUse");
  EXPECT_EQ(api_error([&] {
              set_rule_priorities(ctx_, {{"RulePriorities",
                                          json::array({{{"RuleArn", a}, {"Priority", 9}}, {{"RuleArn", c}, {"Priority", 9}}})}});
            }).code,
            "ValidationError");
}

TEST_F(RulesTest, NetworkListenersTakeNoRules) {
  std::string nlb = create_nlb("tcp")["LoadBalancerArn"];
  std::string tcp_tg = create_tg("tcp", "TCP", 80)["TargetGroupArn"];
  std::string l = create_listener(ctx_, {{"LoadBalancerArn", nlb}, {"Protocol", "TCP"}, {"Port", 80},
                                         {"DefaultActions", forward_to(tcp_tg)}})["Listeners"][0]["ListenerArn"];
  auto e = api_error([&] { path_rule(l, 1, "/", tcp_tg); });
  EXPECT_EQ(e.code, "UnsupportedProtocol");
  EXPECT_EQ(describe_rules(ctx_, {{"ListenerArn", l}})["Rules"].size(), 1u);
}

TEST_F(RulesTest, DescribeRulesPagesAndNeedsAListenerOrArns) {
  for (int i = 1; i <= 4; ++i) path_rule(listener_, i, "/" + std::to_string(i), api_tg_);
  json first = describe_rules(ctx_, {{"ListenerArn", listener_}, {"PageSize", 3}});
  EXPECT_EQ(first["Rules"].size(), 3u);
  ASSERT_TRUE(first.contains("NextMarker"));
  json second = describe_rules(ctx_, {{"ListenerArn", listener_}, {"PageSize", 3}, {"Marker", first["NextMarker"]}});
  EXPECT_EQ(second["Rules"].size(), 2u);
  EXPECT_EQ(second["Rules"][1]["IsDefault"], true);
  EXPECT_FALSE(second.contains("NextMarker"));
  EXPECT_EQ(api_error([&] { describe_rules(ctx_, json::object()); }).code, "ValidationError");
}

TEST_F(RulesTest, TooManyRules) {
  for (int i = 1; i <= kMaxRulesPerLoadBalancer; ++i) path_rule(listener_, i, "/" + std::to_string(i), api_tg_);
  EXPECT_EQ(api_error([&] { path_rule(listener_, 1000, "/x", api_tg_); }).code, "TooManyRules");
}

}  // namespace
}  // namespace ecsd::services::elbv2
