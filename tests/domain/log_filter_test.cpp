// Tests for CloudWatch Logs filter patterns: terms, phrases, optional and excluded terms, JSON
// field expressions, regular expressions and rejected syntax.
#include "ecsd/domain/log_filter.hpp"

#include <gtest/gtest.h>

namespace ecsd::domain::logs {
namespace {

bool m(const char* pattern, const char* message) { return FilterPattern(pattern).matches(message); }

TEST(LogFilterTest, EmptyPatternMatchesEverything) {
  EXPECT_TRUE(FilterPattern("").matches_all());
  EXPECT_TRUE(FilterPattern("   ").matches("anything"));
  EXPECT_FALSE(FilterPattern("x").matches_all());
}

TEST(LogFilterTest, EveryTermMustAppearCaseSensitively) {
  EXPECT_TRUE(m("ERROR Exception", "[ERROR] NullPointerException at line 3"));
  EXPECT_FALSE(m("ERROR Exception", "[ERROR] all good"));
  EXPECT_FALSE(m("ERROR", "[error] lower case"));
}

TEST(LogFilterTest, QuotedPhraseMatchesExactly) {
  EXPECT_TRUE(m("\"user logged in\"", "12:00 user logged in from 10.0.0.1"));
  EXPECT_FALSE(m("\"user logged in\"", "user in, logged"));
  EXPECT_TRUE(m("\"a \\\"quoted\\\" word\"", "this is a \"quoted\" word"));
}

TEST(LogFilterTest, OptionalTermsNeedOneOfThem) {
  EXPECT_TRUE(m("?ERROR ?WARN", "WARN disk almost full"));
  EXPECT_TRUE(m("?ERROR ?WARN", "ERROR disk full"));
  EXPECT_FALSE(m("?ERROR ?WARN", "INFO all fine"));
}

TEST(LogFilterTest, ExcludedTermsMustBeAbsent) {
  EXPECT_TRUE(m("ERROR -Exiting", "ERROR retrying"));
  EXPECT_FALSE(m("ERROR -Exiting", "ERROR Exiting now"));
  EXPECT_FALSE(m("ERROR -\"shutting down\"", "ERROR shutting down"));
}

TEST(LogFilterTest, JsonStringEqualityAndWildcards) {
  EXPECT_TRUE(m("{ $.level = \"error\" }", R"({"level":"error","msg":"x"})"));
  EXPECT_FALSE(m("{ $.level = \"error\" }", R"({"level":"info"})"));
  EXPECT_FALSE(m("{ $.level = \"error\" }", "level = error, not JSON"));
  EXPECT_TRUE(m("{ $.user.name = \"ad*\" }", R"({"user":{"name":"admin"}})"));
  EXPECT_TRUE(m("{ $.level != \"error\" }", R"({"level":"info"})"));
  EXPECT_FALSE(m("{ $.missing != \"error\" }", R"({"level":"info"})"));
}

TEST(LogFilterTest, JsonNumbersArraysAndLogic) {
  const char* msg = R"({"status":503,"latency":120.5,"tags":["a","b"],"ok":false,"v":null})";
  EXPECT_TRUE(m("{ $.status >= 500 }", msg));
  EXPECT_FALSE(m("{ $.status < 500 }", msg));
  EXPECT_TRUE(m("{ $.latency > 100 && $.status = 503 }", msg));
  EXPECT_TRUE(m("{ ($.status = 200 || $.status = 503) && $.tags[1] = \"b\" }", msg));
  EXPECT_FALSE(m("{ $.status = 200 || $.tags[5] = \"b\" }", msg));
  EXPECT_TRUE(m("{ $.ok IS FALSE }", msg));
  EXPECT_TRUE(m("{ $.v IS NULL }", msg));
  EXPECT_TRUE(m("{ $.nope NOT EXISTS }", msg));
  EXPECT_FALSE(m("{ $.status NOT EXISTS }", msg));
}

TEST(LogFilterTest, RegexPattern) {
  EXPECT_TRUE(m("%ERR(OR)? [0-9]+%", "x ERR 42"));
  EXPECT_FALSE(m("%^ERR%", "x ERR 42"));
}

TEST(LogFilterTest, InvalidPatternsAreRejected) {
  EXPECT_THROW(FilterPattern("{ $.a = }"), FilterPatternError);
  EXPECT_THROW(FilterPattern("{ $.a > \"x\" }"), FilterPatternError);
  EXPECT_THROW(FilterPattern("{ a = 1 }"), FilterPatternError);
  EXPECT_THROW(FilterPattern("\"unterminated"), FilterPatternError);
  EXPECT_THROW(FilterPattern("[ip, user]"), FilterPatternError);
  EXPECT_THROW(FilterPattern("%([%"), FilterPatternError);
}

TEST(LogFilterTest, GlobMatch) {
  EXPECT_TRUE(glob_match("a*c", "abbbc"));
  EXPECT_TRUE(glob_match("*", ""));
  EXPECT_FALSE(glob_match("a*c", "abcd"));
  EXPECT_TRUE(glob_match("*b*", "abc"));
}

}  // namespace
}  // namespace ecsd::domain::logs
