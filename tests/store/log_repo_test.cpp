// Tests for the log repo: groups, streams, ordering by (timestamp, id), cursors, scans and expiry.
#include "ecsd/store/log_repo.hpp"

#include <gtest/gtest.h>

namespace ecsd::store {
namespace {

const Scope kScope{"000000000000", "us-east-1"};

class LogRepoTest : public ::testing::Test {
 protected:
  Store store_{":memory:"};
  LogGroupRow group_;
  LogStreamRow a_, b_;
  void SetUp() override {
    store_.write([&](Db& db) {
      LogRepo repo(db);
      group_ = repo.create_group(kScope, "/ecs/app", "arn:aws:logs:us-east-1:000000000000:log-group:/ecs/app", 1000,
                                 nlohmann::json::object());
      a_ = repo.create_stream(group_.id, "ecs/web/1", 1000);
      b_ = repo.create_stream(group_.id, "ecs/web/2", 1001);
    });
  }
  void put(const LogStreamRow& s, std::vector<std::pair<std::int64_t, std::string>> events) {
    store_.write([&](Db& db) { LogRepo(db).append(group_.id, s.id, events, 9000); });
  }
};

TEST_F(LogRepoTest, AppendUpdatesStreamSummaryAndGroupBytes) {
  put(a_, {{100, "one"}, {200, "three"}});
  put(a_, {{50, "early"}});
  store_.read([&](Db& db) {
    auto s = LogRepo(db).find_stream(group_.id, "ecs/web/1");
    ASSERT_TRUE(s);
    EXPECT_EQ(s->first_event_ms, 50);
    EXPECT_EQ(s->last_event_ms, 200);
    EXPECT_EQ(s->last_ingestion_ms, 9000);
    EXPECT_EQ(s->stored_bytes, 13);
    EXPECT_EQ(LogRepo(db).find_group(kScope, "/ecs/app")->stored_bytes, 13);
  });
}

TEST_F(LogRepoTest, StreamEventsPageForwardAndBackwardInTimestampOrder) {
  put(a_, {{100, "a"}, {100, "b"}, {300, "d"}});
  put(a_, {{200, "c"}});  // a later batch with an earlier timestamp sorts by time
  store_.read([&](Db& db) {
    LogRepo repo(db);
    auto first = repo.stream_events(group_.id, a_.id, 0, INT64_MAX, {}, true, false, 2);
    ASSERT_EQ(first.size(), 2u);
    EXPECT_EQ(first[0].message, "a");
    EXPECT_EQ(first[1].message, "b");
    auto next = repo.stream_events(group_.id, a_.id, 0, INT64_MAX, {first[1].ts_ms, first[1].id}, true, false, 10);
    ASSERT_EQ(next.size(), 2u);
    EXPECT_EQ(next[0].message, "c");
    EXPECT_EQ(next[1].message, "d");
    auto tail = repo.stream_events(group_.id, a_.id, 0, INT64_MAX, {}, false, true, 2);
    ASSERT_EQ(tail.size(), 2u);  // the last two, ascending
    EXPECT_EQ(tail[0].message, "c");
    EXPECT_EQ(tail[1].message, "d");
    auto before = repo.stream_events(group_.id, a_.id, 0, INT64_MAX, {tail[0].ts_ms, tail[0].id}, false, false, 10);
    ASSERT_EQ(before.size(), 2u);
    EXPECT_EQ(before[0].message, "a");
    auto window = repo.stream_events(group_.id, a_.id, 100, 300, {}, true, false, 10);
    EXPECT_EQ(window.size(), 3u);  // end is exclusive
  });
}

TEST_F(LogRepoTest, ScanInterleavesStreamsAndStopsAtBudget) {
  put(a_, {{100, "a1"}, {300, "a3"}});
  put(b_, {{200, "b2"}, {400, "b4"}});
  store_.read([&](Db& db) {
    LogRepo repo(db);
    std::vector<std::string> seen;
    auto end = repo.scan_group(group_.id, {}, 0, INT64_MAX, {}, 100, [&](const LogEventRow& e) {
      seen.push_back(e.stream_name + ":" + e.message);
      return true;
    });
    EXPECT_EQ(end.ts_ms, -1);
    EXPECT_EQ(seen, (std::vector<std::string>{"ecs/web/1:a1", "ecs/web/2:b2", "ecs/web/1:a3", "ecs/web/2:b4"}));
    seen.clear();
    auto cut = repo.scan_group(group_.id, {b_.id}, 0, INT64_MAX, {}, 1, [&](const LogEventRow& e) {
      seen.push_back(e.message);
      return true;
    });
    EXPECT_EQ(seen, (std::vector<std::string>{"b2"}));
    EXPECT_EQ(cut.ts_ms, 200);
    seen.clear();
    repo.scan_group(group_.id, {b_.id}, 0, INT64_MAX, cut, 10, [&](const LogEventRow& e) {
      seen.push_back(e.message);
      return true;
    });
    EXPECT_EQ(seen, (std::vector<std::string>{"b4"}));
  });
}

TEST_F(LogRepoTest, ExpireRemovesEventsPastRetentionOnly) {
  const std::int64_t day = 86400000, now = 100 * day;
  put(a_, {{now - 3 * day, "old"}, {now - 1000, "new"}});
  store_.write([&](Db& db) {
    LogRepo repo(db);
    EXPECT_EQ(repo.expire(now), 0);  // no retention: never expire
    repo.set_retention(group_.id, 1);
    EXPECT_EQ(repo.expire(now), 1);
    auto left = repo.stream_events(group_.id, a_.id, 0, INT64_MAX, {}, true, false, 10);
    ASSERT_EQ(left.size(), 1u);
    EXPECT_EQ(left[0].message, "new");
  });
}

TEST_F(LogRepoTest, DeleteGroupRemovesStreamsAndEventsAndResetClears) {
  put(a_, {{1, "x"}});
  store_.write([&](Db& db) { LogRepo(db).delete_group(group_.id); });
  store_.read([&](Db& db) {
    EXPECT_FALSE(LogRepo(db).find_group(kScope, "/ecs/app"));
    EXPECT_FALSE(LogRepo(db).find_stream(group_.id, "ecs/web/1"));
    EXPECT_TRUE(LogRepo(db).stream_events(group_.id, a_.id, 0, INT64_MAX, {}, true, false, 10).empty());
  });
  SetUp();
  store_.reset();
  store_.read([&](Db& db) { EXPECT_TRUE(LogRepo(db).list_groups(kScope, "", "", 10).empty()); });
}

TEST_F(LogRepoTest, ListGroupsByPrefixAndStreamsByLastEvent) {
  put(b_, {{500, "b"}});
  put(a_, {{100, "a"}});
  store_.write([&](Db& db) {
    LogRepo(db).create_group(kScope, "/other", "arn:x", 1, nlohmann::json::object());
  });
  store_.read([&](Db& db) {
    LogRepo repo(db);
    auto groups = repo.list_groups(kScope, "/ecs", "", 10);
    ASSERT_EQ(groups.size(), 1u);
    EXPECT_EQ(groups[0].name, "/ecs/app");
    EXPECT_EQ(repo.list_groups(kScope, "", "/ecs/app", 10).at(0).name, "/other");
    auto by_time = repo.list_streams(group_.id, "", true, true, 0, 10);
    ASSERT_EQ(by_time.size(), 2u);
    EXPECT_EQ(by_time[0].name, "ecs/web/2");
    auto by_name = repo.list_streams(group_.id, "ecs/web/", false, false, 1, 10);
    ASSERT_EQ(by_name.size(), 1u);
    EXPECT_EQ(by_name[0].name, "ecs/web/2");
  });
}

}  // namespace
}  // namespace ecsd::store
