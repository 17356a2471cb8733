// ALB rule evaluation: wildcards, conditions, matchers and redirects.
#include "ecsd/alb/rules.hpp"

#include <gtest/gtest.h>

namespace ecsd::alb {
namespace {

using nlohmann::json;

RequestFacts request(std::string path, std::string host = "app.example.com", std::string method = "GET") {
  RequestFacts r;
  r.path = std::move(path);
  r.host = std::move(host);
  r.method = std::move(method);
  r.source_ip = "127.0.0.1";
  return r;
}

TEST(AlbRulesTest, WildcardsMatchAsElbDoes) {
  EXPECT_TRUE(wildcard_match("/api/*", "/api/v1/users", false));
  EXPECT_TRUE(wildcard_match("/img/?.png", "/img/a.png", false));
  EXPECT_FALSE(wildcard_match("/img/?.png", "/img/ab.png", false));
  EXPECT_FALSE(wildcard_match("/API/*", "/api/x", false));
  EXPECT_TRUE(wildcard_match("*.EXAMPLE.com", "app.example.com", true));
  EXPECT_TRUE(wildcard_match("*", "", false));
}

TEST(AlbRulesTest, EveryConditionMustHold) {
  json conds = json::parse(R"([
    {"Field": "path-pattern", "PathPatternConfig": {"Values": ["/api/*"]}},
    {"Field": "host-header", "Values": ["app.example.com"]},
    {"Field": "http-request-method", "HttpRequestMethodConfig": {"Values": ["GET", "HEAD"]}}])");
  EXPECT_TRUE(matches(conds, request("/api/x", "app.example.com:8080")));
  EXPECT_FALSE(matches(conds, request("/web/x")));
  EXPECT_FALSE(matches(conds, request("/api/x", "other.example.com")));
  EXPECT_FALSE(matches(conds, request("/api/x", "app.example.com", "POST")));
}

TEST(AlbRulesTest, HeaderAndQueryStringConditions) {
  RequestFacts r = request("/");
  r.headers["x-env"] = "Staging";
  r.query = "version=2&debug=true";
  EXPECT_TRUE(matches(json::parse(R"([{"Field": "http-header", "HttpHeaderConfig": {"HttpHeaderName": "X-Env",
                                      "Values": ["staging"]}}])"), r));
  EXPECT_TRUE(matches(json::parse(R"([{"Field": "query-string", "QueryStringConfig": {"Values": [
                                      {"Key": "version", "Value": "2"}]}}])"), r));
  EXPECT_FALSE(matches(json::parse(R"([{"Field": "query-string", "QueryStringConfig": {"Values": [
                                       {"Key": "version", "Value": "3"}]}}])"), r));
}

TEST(AlbRulesTest, MatcherCodesAndRanges) {
  EXPECT_TRUE(status_matches("200", 200));
  EXPECT_FALSE(status_matches("200", 204));
  EXPECT_TRUE(status_matches("200-299", 204));
  EXPECT_TRUE(status_matches("200,302", 302));
  EXPECT_FALSE(status_matches("200,302", 301));
}

TEST(AlbRulesTest, RedirectLocationSubstitutesRequestParts) {
  RequestFacts r = request("/old/page");
  r.query = "a=1";
  json rc = json::parse(R"({"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"})");
  EXPECT_EQ(redirect_location(rc, r, "HTTP", 80), "https://app.example.com/old/page?a=1");
  json path = json::parse(R"({"Path": "/new/#{path}", "Query": "from=old"})");
  EXPECT_EQ(redirect_location(path, r, "HTTP", 8080), "http://app.example.com:8080/new/old/page?from=old");
}

}  // namespace
}  // namespace ecsd::alb
