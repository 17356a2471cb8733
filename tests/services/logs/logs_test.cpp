// Tests for the CloudWatch Logs handlers, called directly with a fake request context: groups,
// streams, PutLogEvents' batch rules, GetLogEvents' tokens and FilterLogEvents.
#include "ecsd/services/logs/logs.hpp"

#include <gtest/gtest.h>

#include "../handler_test_support.hpp"

namespace ecsd::services::logs {
namespace {

using test_support::api_error;
using test_support::kAccount;
using test_support::kNow;

constexpr std::int64_t kNowMs = static_cast<std::int64_t>(kNow * 1000);

class LogsHandlersTest : public ::testing::Test {
 protected:
  store::Store store_{":memory:"};
  RequestContext ctx_{{kAccount, "us-east-1"}, "AKIDEXAMPLE", "req-1", store_, kNow};

  void SetUp() override {
    create_log_group(ctx_, {{"logGroupName", "/ecs/app"}});
    create_log_stream(ctx_, {{"logGroupName", "/ecs/app"}, {"logStreamName", "s1"}});
    create_log_stream(ctx_, {{"logGroupName", "/ecs/app"}, {"logStreamName", "s2"}});
  }
  json put(const std::string& stream, const std::vector<std::pair<std::int64_t, std::string>>& events) {
    json ev = json::array();
    for (const auto& [ts, m] : events) ev.push_back({{"timestamp", ts}, {"message", m}});
    return put_log_events(ctx_, {{"logGroupName", "/ecs/app"}, {"logStreamName", stream}, {"logEvents", ev}});
  }
  static std::vector<std::string> messages(const json& out) {
    std::vector<std::string> m;
    for (const auto& e : out["events"]) m.push_back(e["message"]);
    return m;
  }
};

TEST_F(LogsHandlersTest, GroupsAndStreamsReportExistenceErrors) {
  EXPECT_EQ(api_error([&] { create_log_group(ctx_, {{"logGroupName", "/ecs/app"}}); }).code,
            "ResourceAlreadyExistsException");
  EXPECT_EQ(api_error([&] { create_log_stream(ctx_, {{"logGroupName", "/ecs/app"}, {"logStreamName", "s1"}}); }).code,
            "ResourceAlreadyExistsException");
  EXPECT_EQ(api_error([&] { delete_log_group(ctx_, {{"logGroupName", "/nope"}}); }).code, "ResourceNotFoundException");
  EXPECT_EQ(api_error([&] { put("nope", {{kNowMs, "x"}}); }).code, "ResourceNotFoundException");
  auto g = describe_log_groups(ctx_, {{"logGroupNamePrefix", "/ecs"}});
  ASSERT_EQ(g["logGroups"].size(), 1u);
  EXPECT_EQ(g["logGroups"][0]["arn"], "arn:aws:logs:us-east-1:000000000000:log-group:/ecs/app:*");
  EXPECT_EQ(g["logGroups"][0]["creationTime"], kNowMs);
}

TEST_F(LogsHandlersTest, DescribeLogGroupsPaginates) {
  for (int i = 0; i < 5; ++i) create_log_group(ctx_, {{"logGroupName", "/p/" + std::to_string(i)}});
  std::vector<std::string> names;
  json in = {{"logGroupNamePrefix", "/p/"}, {"limit", 2}};
  for (int page = 0; page < 10; ++page) {
    auto out = describe_log_groups(ctx_, in);
    for (const auto& g : out["logGroups"]) names.push_back(g["logGroupName"]);
    if (!out.contains("nextToken")) break;
    in["nextToken"] = out["nextToken"];
  }
  EXPECT_EQ(names, (std::vector<std::string>{"/p/0", "/p/1", "/p/2", "/p/3", "/p/4"}));
}

TEST_F(LogsHandlersTest, PutLogEventsEnforcesOrderAndRejectsTooOldAndTooNew) {
  EXPECT_EQ(api_error([&] { put("s1", {{kNowMs, "b"}, {kNowMs - 1, "a"}}); }).code, "InvalidParameterException");
  const std::int64_t day = 86400000;
  auto out = put("s1", {{kNowMs - 15 * day, "old"}, {kNowMs, "ok"}, {kNowMs + 3 * 3600000, "future"}});
  EXPECT_EQ(out["rejectedLogEventsInfo"]["tooOldLogEventEndIndex"], 1);
  EXPECT_EQ(out["rejectedLogEventsInfo"]["tooNewLogEventStartIndex"], 2);
  auto got = get_log_events(ctx_, {{"logGroupName", "/ecs/app"}, {"logStreamName", "s1"}});
  EXPECT_EQ(messages(got), (std::vector<std::string>{"ok"}));
  EXPECT_EQ(api_error([&] { put("s1", {{kNowMs - 2 * day, "a"}, {kNowMs, "b"}}); }).code, "InvalidParameterException");
  std::string big(1048576, 'x');
  EXPECT_EQ(api_error([&] { put("s1", {{kNowMs, big}}); }).code, "InvalidParameterException");
}

TEST_F(LogsHandlersTest, GetLogEventsTokensWalkBothWaysAndRepeatAtTheEnd) {
  put("s1", {{kNowMs - 5, "a"}, {kNowMs - 4, "b"}, {kNowMs - 3, "c"}, {kNowMs - 2, "d"}});
  json in = {{"logGroupName", "/ecs/app"}, {"logStreamName", "s1"}, {"limit", 2}};
  auto last = get_log_events(ctx_, in);  // default: the newest events
  EXPECT_EQ(messages(last), (std::vector<std::string>{"c", "d"}));
  EXPECT_EQ(last["nextForwardToken"].get<std::string>().substr(0, 2), "f/");
  in["nextToken"] = last["nextBackwardToken"];
  EXPECT_EQ(messages(get_log_events(ctx_, in)), (std::vector<std::string>{"a", "b"}));
  in["nextToken"] = last["nextForwardToken"];
  auto end = get_log_events(ctx_, in);
  EXPECT_TRUE(end["events"].empty());
  EXPECT_EQ(end["nextForwardToken"], last["nextForwardToken"]);  // same token at the end of the stream
  put("s1", {{kNowMs - 1, "e"}});
  EXPECT_EQ(messages(get_log_events(ctx_, in)), (std::vector<std::string>{"e"}));
  json head = {{"logGroupName", "/ecs/app"}, {"logStreamName", "s1"}, {"startFromHead", true}, {"limit", 1}};
  EXPECT_EQ(messages(get_log_events(ctx_, head)), (std::vector<std::string>{"a"}));
  head["nextToken"] = "garbage";
  EXPECT_EQ(api_error([&] { get_log_events(ctx_, head); }).code, "InvalidParameterException");
}

TEST_F(LogsHandlersTest, GroupsAreNamedByNameOrIdentifierButNotBoth) {
  put("s1", {{kNowMs, "x"}});
  const std::string arn = "arn:aws:logs:us-east-1:000000000000:log-group:/ecs/app";
  for (const std::string& id : {std::string("/ecs/app"), arn, arn + ":*"}) {
    auto out = get_log_events(ctx_, {{"logGroupIdentifier", id}, {"logStreamName", "s1"}});
    EXPECT_EQ(messages(out), (std::vector<std::string>{"x"})) << id;
  }
  EXPECT_EQ(api_error([&] {
              filter_log_events(ctx_, {{"logGroupName", "/ecs/app"}, {"logGroupIdentifier", arn}});
            }).code,
            "InvalidParameterException");
  EXPECT_EQ(api_error([&] { filter_log_events(ctx_, json::object()); }).code, "InvalidParameterException");
  // Another account's or region's ARN names no group of ours.
  EXPECT_EQ(api_error([&] {
              filter_log_events(ctx_, {{"logGroupIdentifier", "arn:aws:logs:eu-west-1:000000000000:log-group:/ecs/app"}});
            }).code,
            "ResourceNotFoundException");
}

TEST_F(LogsHandlersTest, StreamTokensRoundTrip) {
  auto t = stream_token('b', {1767225600000, 42});
  auto [dir, c] = parse_stream_token(t);
  EXPECT_EQ(dir, 'b');
  EXPECT_EQ(c.ts_ms, 1767225600000);
  EXPECT_EQ(c.id, 42);
  EXPECT_EQ(api_error([] { parse_stream_token("x/123"); }).code, "InvalidParameterException");
}

TEST_F(LogsHandlersTest, FilterLogEventsInterleavesMatchesAndPaginates) {
  put("s1", {{kNowMs - 5, R"({"level":"error","n":1})"}, {kNowMs - 3, "plain ERROR line"}});
  put("s2", {{kNowMs - 4, R"({"level":"info","n":2})"}, {kNowMs - 2, R"({"level":"error","n":3})"}});
  auto all = filter_log_events(ctx_, {{"logGroupName", "/ecs/app"}});
  ASSERT_EQ(all["events"].size(), 4u);
  EXPECT_EQ(all["events"][1]["logStreamName"], "s2");
  auto errors = filter_log_events(ctx_, {{"logGroupName", "/ecs/app"}, {"filterPattern", "{ $.level = \"error\" }"}});
  ASSERT_EQ(errors["events"].size(), 2u);
  EXPECT_EQ(errors["events"][1]["logStreamName"], "s2");
  auto prefix = filter_log_events(ctx_, {{"logGroupName", "/ecs/app"}, {"logStreamNamePrefix", "s1"}, {"filterPattern", "ERROR"}});
  EXPECT_EQ(messages(prefix), (std::vector<std::string>{"plain ERROR line"}));
  std::vector<std::string> ids;
  json in = {{"logGroupName", "/ecs/app"}, {"limit", 1}};
  for (int i = 0; i < 10; ++i) {
    auto page = filter_log_events(ctx_, in);
    for (const auto& e : page["events"]) ids.push_back(e["eventId"]);
    if (!page.contains("nextToken")) break;
    in["nextToken"] = page["nextToken"];
  }
  EXPECT_EQ(ids.size(), 4u);
  EXPECT_EQ(api_error([&] { filter_log_events(ctx_, {{"logGroupName", "/ecs/app"}, {"filterPattern", "{ bad"}}); }).code,
            "InvalidParameterException");
}

TEST_F(LogsHandlersTest, RetentionHidesOldEventsAndTagsRoundTrip) {
  put("s1", {{kNowMs - 3 * 86400000LL, "old"}});
  put("s1", {{kNowMs, "new"}});
  EXPECT_EQ(api_error([&] { put_retention_policy(ctx_, {{"logGroupName", "/ecs/app"}, {"retentionInDays", 2}}); }).code,
            "InvalidParameterException");
  put_retention_policy(ctx_, {{"logGroupName", "/ecs/app"}, {"retentionInDays", 1}});
  EXPECT_EQ(messages(filter_log_events(ctx_, {{"logGroupName", "/ecs/app"}})), (std::vector<std::string>{"new"}));
  EXPECT_EQ(describe_log_groups(ctx_, json::object())["logGroups"][0]["retentionInDays"], 1);
  std::string arn = "arn:aws:logs:us-east-1:000000000000:log-group:/ecs/app";
  tag_resource(ctx_, {{"resourceArn", arn}, {"tags", {{"team", "a"}}}});
  EXPECT_EQ(list_tags_for_resource(ctx_, {{"resourceArn", arn}})["tags"]["team"], "a");
  EXPECT_EQ(list_tags_log_group(ctx_, {{"logGroupName", "/ecs/app"}})["tags"]["team"], "a");
  untag_resource(ctx_, {{"resourceArn", arn}, {"tagKeys", {"team"}}});
  EXPECT_TRUE(list_tags_for_resource(ctx_, {{"resourceArn", arn}})["tags"].empty());
  EXPECT_EQ(api_error([&] { list_tags_for_resource(ctx_, {{"resourceArn", arn + "x"}}); }).code,
            "ResourceNotFoundException");
}

TEST_F(LogsHandlersTest, DescribeLogStreamsOrdersByLastEventTime) {
  put("s2", {{kNowMs - 10, "x"}});
  put("s1", {{kNowMs - 1, "y"}});
  auto out = describe_log_streams(ctx_, {{"logGroupName", "/ecs/app"}, {"orderBy", "LastEventTime"}, {"descending", true}});
  ASSERT_EQ(out["logStreams"].size(), 2u);
  EXPECT_EQ(out["logStreams"][0]["logStreamName"], "s1");
  EXPECT_EQ(out["logStreams"][0]["lastEventTimestamp"], kNowMs - 1);
  EXPECT_EQ(api_error([&] {
              describe_log_streams(ctx_, {{"logGroupName", "/ecs/app"}, {"orderBy", "LastEventTime"},
                                          {"logStreamNamePrefix", "s"}});
            }).code,
            "InvalidParameterException");
}

}  // namespace
}  // namespace ecsd::services::logs
