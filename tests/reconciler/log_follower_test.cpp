// Tests for the awslogs pieces that need no engine: options, stream names, multi-line joining,
// and the log group check before a container starts.
#include "ecsd/reconciler/log_follower.hpp"

#include <gtest/gtest.h>

#include "ecsd/store/log_repo.hpp"
#include "../fakes/fake_runtime.hpp"

namespace ecsd::reconciler {
namespace {

using nlohmann::json;

runtime::LogLine line(std::int64_t ms, const std::string& text) { return {false, ms * 1000000, text}; }

TEST(LogFollowerTest, ReadsAwslogsOptionsAndNamesStreamsLikeEcs) {
  json def = {{"name", "web"},
              {"logConfiguration",
               {{"logDriver", "awslogs"},
                {"options", {{"awslogs-group", "/ecs/app"}, {"awslogs-stream-prefix", "ecs"}, {"awslogs-create-group", "true"}}}}}};
  auto cfg = awslogs_config(def);
  ASSERT_TRUE(cfg);
  EXPECT_EQ(cfg->group, "/ecs/app");
  EXPECT_TRUE(cfg->create_group);
  EXPECT_EQ(awslogs_stream(*cfg, "web", "abc123", "d0cker"), "ecs/web/abc123");
  cfg->stream_prefix.clear();
  EXPECT_EQ(awslogs_stream(*cfg, "web", "abc123", "d0cker"), "d0cker");
  EXPECT_FALSE(awslogs_config({{"name", "x"}, {"logConfiguration", {{"logDriver", "json-file"}}}}));
  EXPECT_FALSE(awslogs_config({{"name", "x"}}));
}

TEST(LogFollowerTest, OneEventPerLineWithoutAPattern) {
  MultilineJoiner j("");
  std::vector<MultilineJoiner::Event> out;
  j.add(line(1, "a"), 1, 1, out);
  j.add(line(2, "b"), 2, 1, out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[1].message, "b");
  EXPECT_EQ(out[1].ts_ms, 2);
}

TEST(LogFollowerTest, DatetimeFormatJoinsContinuationLines) {
  AwslogsConfig cfg;
  cfg.datetime_format = "%Y-%m-%d %H:%M:%S";
  MultilineJoiner j(multiline_regex(cfg));
  std::vector<MultilineJoiner::Event> out;
  j.add(line(1, "2026-01-01 10:00:00 ERROR boom"), 1, 1, out);
  j.add(line(2, "  at frame one"), 2, 1, out);
  j.add(line(3, "  at frame two"), 3, 1, out);
  EXPECT_TRUE(out.empty());  // still waiting: more continuation lines may come
  j.add(line(4, "2026-01-01 10:00:01 INFO next"), 4, 1, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].message, "2026-01-01 10:00:00 ERROR boom\n  at frame one\n  at frame two");
  EXPECT_EQ(out[0].ts_ms, 1);
  EXPECT_EQ(out[0].last_ns, 3);
  j.flush(0, out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[1].message, "2026-01-01 10:00:01 INFO next");
}

TEST(LogFollowerTest, MultilinePatternAndIdleFlush) {
  AwslogsConfig cfg;
  cfg.multiline_pattern = "INFO|ERROR";
  MultilineJoiner j(multiline_regex(cfg));
  std::vector<MultilineJoiner::Event> out;
  j.add(line(10, "ERROR x"), 10, 1, out);
  j.add(line(11, "detail"), 11, 1, out);
  j.flush(5 * 1000000, out);  // the last line is newer than the idle cutoff
  EXPECT_TRUE(out.empty());
  j.flush(12 * 1000000, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].message, "ERROR x\ndetail");
}

TEST(LogFollowerTest, PrepareCreatesTheGroupOnlyWhenAllowed) {
  store::Store st(":memory:");
  fakes::FakeRuntime rt;
  LogFollowers f(st, rt);
  store::Scope scope{"000000000000", "us-east-1"};
  AwslogsConfig cfg;
  cfg.group = "/ecs/missing";
  std::string why = f.prepare(scope, cfg);
  EXPECT_NE(why.find("The specified log group does not exist"), std::string::npos) << why;
  cfg.create_group = true;
  EXPECT_EQ(f.prepare(scope, cfg), "");
  st.read([&](store::Db& db) { EXPECT_TRUE(store::LogRepo(db).find_group(scope, "/ecs/missing")); });
}

}  // namespace
}  // namespace ecsd::reconciler
