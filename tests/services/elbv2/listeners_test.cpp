// Tests for the ELBv2 listener handlers (Create/Describe/Modify/DeleteListener) and the actions
// they take, called directly on an in-memory store.
#include "elbv2_fixture.hpp"

namespace ecsd::services::elbv2 {
namespace {

constexpr const char* kCert = "arn:aws:acm:us-east-1:000000000000:certificate/11111111-2222-3333-4444-555555555555";

class ListenersTest : public Elbv2Test {
 protected:
  void SetUp() override {
    Elbv2Test::SetUp();
    lb_ = create_alb("web")["LoadBalancerArn"];
    tg_ = create_tg("web")["TargetGroupArn"];
  }

  json listener(const json& extra) {
    json in = {{"LoadBalancerArn", lb_}, {"Protocol", "HTTP"}, {"Port", 80}, {"DefaultActions", forward_to(tg_)}};
    in.update(extra);
    return create_listener(ctx_, in)["Listeners"][0];
  }

  std::string code_of(const json& extra) {
    return api_error([&] { listener(extra); }).code;
  }

  std::string lb_, tg_;
};

TEST_F(ListenersTest, HttpListenerForwardsWithNormalizedAction) {
  json l = listener(json::object());
  EXPECT_EQ(l["ListenerArn"].get<std::string>().rfind(
                "arn:aws:elasticloadbalancing:us-east-1:000000000000:listener/app/web/", 0),
            0u);
  EXPECT_EQ(l["LoadBalancerArn"], lb_);
  EXPECT_EQ(l["Port"], 80);
  EXPECT_EQ(l["Protocol"], "HTTP");
  EXPECT_FALSE(l.contains("SslPolicy"));
  ASSERT_EQ(l["DefaultActions"].size(), 1u);
  const json& a = l["DefaultActions"][0];
  EXPECT_EQ(a["Type"], "forward");
  EXPECT_EQ(a["TargetGroupArn"], tg_);
  EXPECT_EQ(a["ForwardConfig"]["TargetGroups"][0]["TargetGroupArn"], tg_);
  EXPECT_EQ(a["ForwardConfig"]["TargetGroups"][0]["Weight"], 1);
  EXPECT_EQ(a["ForwardConfig"]["TargetGroupStickinessConfig"]["Enabled"], false);
  json tg = describe_target_groups(ctx_, {{"TargetGroupArns", json::array({tg_})}})["TargetGroups"][0];
  EXPECT_EQ(tg["LoadBalancerArns"], json::array({lb_}));
}

TEST_F(ListenersTest, SamePortIsDuplicateListenerUnlessIdentical) {
  json first = listener(json::object());
  EXPECT_EQ(listener(json::object())["ListenerArn"], first["ListenerArn"]);
  json fixed = json::array({{{"Type", "fixed-response"}, {"FixedResponseConfig", {{"StatusCode", "404"}}}}});
  EXPECT_EQ(code_of({{"DefaultActions", fixed}}), "DuplicateListener");
  EXPECT_NO_THROW(listener({{"Port", 8080}}));
  EXPECT_EQ(describe_listeners(ctx_, {{"LoadBalancerArn", lb_}})["Listeners"].size(), 2u);
}

TEST_F(ListenersTest, HttpsNeedsOneKnownCertificateAndGetsTheDefaultPolicy) {
  EXPECT_EQ(code_of({{"Protocol", "HTTPS"}, {"Port", 443}}), "ValidationError");
  EXPECT_EQ(code_of({{"Protocol", "HTTPS"},
                     {"Port", 443},
                     {"Certificates", json::array({{{"CertificateArn", "arn:aws:acm:eu-west-1:000000000000:certificate/x"}}})}}),
            "CertificateNotFound");
  EXPECT_EQ(code_of({{"Protocol", "HTTPS"}, {"Port", 443}, {"Certificates", json::array({{{"CertificateArn", kCert}}})},
                     {"SslPolicy", "ELBSecurityPolicy-Nope"}}),
            "SSLPolicyNotFound");
  json l = listener({{"Protocol", "HTTPS"}, {"Port", 443}, {"Certificates", json::array({{{"CertificateArn", kCert}}})}});
  EXPECT_EQ(l["SslPolicy"], kDefaultSslPolicy);
  EXPECT_EQ(l["Certificates"], json::array({{{"CertificateArn", kCert}}}));
  EXPECT_EQ(code_of({{"Port", 81}, {"Certificates", json::array({{{"CertificateArn", kCert}}})}}),
            "InvalidConfigurationRequest");
}

TEST_F(ListenersTest, ProtocolsMustSuitTheLoadBalancerType) {
  EXPECT_EQ(code_of({{"Protocol", "TCP"}}), "ValidationError");
  std::string nlb = create_nlb("tcp")["LoadBalancerArn"];
  std::string tcp_tg = create_tg("tcp-tg", "TCP", 5432)["TargetGroupArn"];
  json l = create_listener(ctx_, {{"LoadBalancerArn", nlb}, {"Protocol", "TCP"}, {"Port", 5432},
                                  {"DefaultActions", forward_to(tcp_tg)}})["Listeners"][0];
  EXPECT_EQ(l["Protocol"], "TCP");
  auto e = api_error([&] {
    create_listener(ctx_, {{"LoadBalancerArn", nlb}, {"Protocol", "UDP"}, {"Port", 53}, {"DefaultActions", forward_to(tcp_tg)}});
  });
  EXPECT_EQ(e.code, "UnsupportedProtocol");
  // An ALB forwards to HTTP(S) target groups only, an NLB to TCP/TLS ones.
  EXPECT_EQ(code_of({{"Port", 81}, {"DefaultActions", forward_to(tcp_tg)}}), "IncompatibleProtocols");
  e = api_error([&] {
    create_listener(ctx_, {{"LoadBalancerArn", nlb}, {"Protocol", "TCP"}, {"Port", 80}, {"DefaultActions", forward_to(tg_)}});
  });
  EXPECT_EQ(e.code, "IncompatibleProtocols");
}

TEST_F(ListenersTest, RedirectAndFixedResponseActions) {
  json redirect = listener({{"DefaultActions", json::array({{{"Type", "redirect"},
                                                              {"RedirectConfig",
                                                               {{"Protocol", "HTTPS"}, {"Port", "443"},
                                                                {"StatusCode", "HTTP_301"}}}}})}});
  const json& rc = redirect["DefaultActions"][0]["RedirectConfig"];
  EXPECT_EQ(rc["Protocol"], "HTTPS");
  EXPECT_EQ(rc["Host"], "#{host}");
  EXPECT_EQ(rc["Path"], "/#{path}");
  EXPECT_EQ(rc["Query"], "#{query}");
  EXPECT_EQ(rc["StatusCode"], "HTTP_301");
  json fixed = listener({{"Port", 8080},
                         {"DefaultActions", json::array({{{"Type", "fixed-response"},
                                                          {"FixedResponseConfig",
                                                           {{"StatusCode", "503"}, {"ContentType", "text/plain"},
                                                            {"MessageBody", "down"}}}}})}});
  EXPECT_EQ(fixed["DefaultActions"][0]["FixedResponseConfig"]["MessageBody"], "down");
  EXPECT_EQ(code_of({{"Port", 81},
                     {"DefaultActions", json::array({{{"Type", "redirect"}, {"RedirectConfig", {{"StatusCode", "HTTP_302"}}}}})}}),
            "InvalidLoadBalancerAction");
  EXPECT_EQ(code_of({{"Port", 82},
                     {"DefaultActions", json::array({{{"Type", "fixed-response"},
                                                      {"FixedResponseConfig", {{"StatusCode", "200"}, {"ContentType", "image/png"}}}}})}}),
            "InvalidLoadBalancerAction");
  EXPECT_EQ(code_of({{"Port", 83}, {"DefaultActions", json::array({{{"Type", "authenticate-oidc"}}})}}),
            "InvalidLoadBalancerAction");
}

TEST_F(ListenersTest, WeightedForwardAcrossTargetGroups) {
  std::string blue = create_tg("blue")["TargetGroupArn"], green = create_tg("green")["TargetGroupArn"];
  json l = listener({{"DefaultActions",
                      json::array({{{"Type", "forward"},
                                    {"ForwardConfig",
                                     {{"TargetGroups", json::array({{{"TargetGroupArn", blue}, {"Weight", 80}},
                                                                    {{"TargetGroupArn", green}, {"Weight", 20}}})},
                                      {"TargetGroupStickinessConfig", {{"Enabled", true}, {"DurationSeconds", 60}}}}}}})}});
  const json& a = l["DefaultActions"][0];
  EXPECT_FALSE(a.contains("TargetGroupArn"));
  EXPECT_EQ(a["ForwardConfig"]["TargetGroups"][1]["Weight"], 20);
  EXPECT_EQ(a["ForwardConfig"]["TargetGroupStickinessConfig"]["DurationSeconds"], 60);
  EXPECT_EQ(code_of({{"Port", 81},
                     {"DefaultActions",
                      json::array({{{"Type", "forward"},
                                    {"ForwardConfig", {{"TargetGroups", json::array({{{"TargetGroupArn", blue}, {"Weight", 1000}}})}}}}})}}),
            "ValidationError");
}

TEST_F(ListenersTest, ForwardToMissingTargetGroupIsTargetGroupNotFound) {
  EXPECT_EQ(code_of({{"DefaultActions", forward_to(tg_ + "0")}}), "TargetGroupNotFound");
  EXPECT_EQ(code_of({{"DefaultActions", json::array({{{"Type", "forward"}}})}}), "ValidationError");
}

TEST_F(ListenersTest, TargetGroupServesOneLoadBalancer) {
  listener(json::object());
  std::string other = create_alb("other")["LoadBalancerArn"];
  auto e = api_error([&] { create_http_listener(other, tg_); });
  EXPECT_EQ(e.code, "TargetGroupAssociationLimit");
}

TEST_F(ListenersTest, ModifyListenerChangesPortProtocolAndActions) {
  json l = listener(json::object());
  std::string other_tg = create_tg("other")["TargetGroupArn"];
  json m = modify_listener(ctx_, {{"ListenerArn", l["ListenerArn"]},
                                  {"Port", 443},
                                  {"Protocol", "HTTPS"},
                                  {"Certificates", json::array({{{"CertificateArn", kCert}}})},
                                  {"DefaultActions", forward_to(other_tg)}})["Listeners"][0];
  EXPECT_EQ(m["Port"], 443);
  EXPECT_EQ(m["Protocol"], "HTTPS");
  EXPECT_EQ(m["SslPolicy"], kDefaultSslPolicy);
  EXPECT_EQ(m["DefaultActions"][0]["TargetGroupArn"], other_tg);
  // The old group is no longer attached; the new one is.
  json groups = describe_target_groups(ctx_, {{"TargetGroupArns", json::array({tg_, other_tg})}})["TargetGroups"];
  for (const auto& g : groups)
    EXPECT_EQ(g["LoadBalancerArns"].size(), g["TargetGroupArn"] == other_tg ? 1u : 0u) << g["TargetGroupName"];
  m = modify_listener(ctx_, {{"ListenerArn", l["ListenerArn"]}, {"Protocol", "HTTP"}, {"Port", 80}})["Listeners"][0];
  EXPECT_FALSE(m.contains("Certificates"));
  EXPECT_FALSE(m.contains("SslPolicy"));
  listener({{"Port", 8080}});
  EXPECT_EQ(api_error([&] { modify_listener(ctx_, {{"ListenerArn", l["ListenerArn"]}, {"Port", 8080}}); }).code,
            "DuplicateListener");
  EXPECT_EQ(api_error([&] { modify_listener(ctx_, {{"ListenerArn", l["ListenerArn"]}, {"Protocol", "HTTPS"}}); }).code,
            "ValidationError");
}

TEST_F(ListenersTest, DescribeNeedsALoadBalancerOrListenerArns) {
  json l = listener(json::object());
  EXPECT_EQ(api_error([&] { describe_listeners(ctx_, json::object()); }).code, "ValidationError");
  EXPECT_EQ(api_error([&] {
              describe_listeners(ctx_, {{"LoadBalancerArn", lb_}, {"ListenerArns", json::array({l["ListenerArn"]})}});
            }).code,
            "ValidationError");
  json out = describe_listeners(ctx_, {{"ListenerArns", json::array({l["ListenerArn"]})}});
  EXPECT_EQ(out["Listeners"][0]["DefaultActions"][0]["Type"], "forward");
  EXPECT_EQ(api_error([&] { describe_listeners(ctx_, {{"ListenerArns", json::array({l["ListenerArn"].get<std::string>() + "0"})}}); }).code,
            "ListenerNotFound");
}

TEST_F(ListenersTest, DeleteListenerDetachesTargetGroups) {
  json l = listener(json::object());
  delete_listener(ctx_, {{"ListenerArn", l["ListenerArn"]}});
  EXPECT_TRUE(describe_listeners(ctx_, {{"LoadBalancerArn", lb_}})["Listeners"].empty());
  EXPECT_EQ(api_error([&] { delete_listener(ctx_, {{"ListenerArn", l["ListenerArn"]}}); }).code, "ListenerNotFound");
  EXPECT_NO_THROW(delete_target_group(ctx_, {{"TargetGroupArn", tg_}}));
}

}  // namespace
}  // namespace ecsd::services::elbv2
