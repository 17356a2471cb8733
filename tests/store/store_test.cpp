// Store tests: migrations, WAL on disk, durability across reopen, repos, transactions.
#include "ecsd/store/store.hpp"

#include <filesystem>

#include <gtest/gtest.h>

#include "ecsd/store/cluster_repo.hpp"
#include "ecsd/store/service_repo.hpp"
#include "ecsd/store/tag_repo.hpp"
#include "ecsd/store/task_definition_repo.hpp"

namespace ecsd::store {
namespace {

const Scope kScope{"000000000000", "us-east-1"};

Record cluster(const std::string& name) {
  Record r;
  r.name = name;
  r.arn = "arn:aws:ecs:us-east-1:000000000000:cluster/" + name;
  r.status = "ACTIVE";
  r.doc = {{"clusterName", name}};
  r.created_at = 1;
  return r;
}

TEST(StoreTest, MigrationsApplyOnOpen) {
  Store s(":memory:");
  EXPECT_EQ(s.schema_version(), 7);  // 1-4, logs (5), ECR (6), deployments (7)
}

TEST(StoreTest, FileDatabaseUsesWalAndSurvivesReopen) {
  auto dir = std::filesystem::temp_directory_path() / ("ecsd-store-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::string path = (dir / "ecsd.db").string();
  {
    Store s(path);
    s.write([](Db& db) {
      Record r = cluster("c1");
      ClusterRepo(db).insert(kScope, r);
    });
    EXPECT_TRUE(std::filesystem::exists(path + "-wal"));
    auto mode = s.read([](Db& db) {
      auto& st = db.prepare("PRAGMA journal_mode");
      std::string m = st.step() ? st.text(0) : "";
      st.reset();
      return m;
    });
    EXPECT_EQ(mode, "wal");
  }
  {
    Store s(path);
    auto c = s.read([](Db& db) { return ClusterRepo(db).find(kScope, "c1"); });
    ASSERT_TRUE(c);
    EXPECT_EQ(c->doc["clusterName"], "c1");
  }
  std::filesystem::remove_all(dir);
}

TEST(StoreTest, WriteRollsBackWhenTheHandlerThrows) {
  Store s(":memory:");
  EXPECT_THROW(s.write([](Db& db) {
    Record r = cluster("c1");
    ClusterRepo(db).insert(kScope, r);
    throw std::runtime_error("boom");
  }),
               std::runtime_error);
  EXPECT_FALSE(s.read([](Db& db) { return ClusterRepo(db).find(kScope, "c1"); }));
}

TEST(StoreTest, OptimisticUpdateDetectsStaleVersions) {
  Store s(":memory:");
  s.write([](Db& db) {
    ClusterRepo repo(db);
    Record r = cluster("c1");
    repo.insert(kScope, r);
    Record stale = r;
    r.doc["x"] = 1;
    repo.update(r);
    EXPECT_EQ(r.version, 2);
    EXPECT_THROW(repo.update(stale), ConflictError);
  });
}

TEST(StoreTest, ClustersAreScopedByAccountAndRegion) {
  Store s(":memory:");
  s.write([](Db& db) {
    Record r = cluster("c1");
    ClusterRepo(db).insert(kScope, r);
  });
  s.read([](Db& db) {
    ClusterRepo repo(db);
    EXPECT_TRUE(repo.find(kScope, "c1"));
    EXPECT_FALSE(repo.find({"000000000000", "eu-west-1"}, "c1"));
    EXPECT_EQ(repo.list_active({"000000000000", "eu-west-1"}, 0, 10).size(), 0u);
  });
}

TEST(StoreTest, TaskDefinitionRevisionsAreNeverReused) {
  Store s(":memory:");
  s.write([](Db& db) {
    TaskDefinitionRepo repo(db);
    EXPECT_EQ(repo.next_revision(kScope, "web"), 1);
    EXPECT_EQ(repo.next_revision(kScope, "web"), 2);
    EXPECT_EQ(repo.next_revision(kScope, "api"), 1);
    EXPECT_EQ(repo.next_revision({"000000000000", "eu-west-1"}, "web"), 1);
  });
}

TEST(StoreTest, TaskDefinitionListingOrdersAndFilters) {
  Store s(":memory:");
  s.write([](Db& db) {
    TaskDefinitionRepo repo(db);
    for (const char* fam : {"b", "a", "b"}) {
      int rev = repo.next_revision(kScope, fam);
      Record r;
      r.name = fam;
      r.arn = std::string("arn:td/") + fam + ":" + std::to_string(rev);
      r.status = rev == 1 && std::string(fam) == "b" ? "INACTIVE" : "ACTIVE";
      r.doc = nlohmann::json::object();
      repo.insert(kScope, rev, r);
    }
  });
  s.read([](Db& db) {
    TaskDefinitionRepo repo(db);
    TaskDefinitionQuery q;
    auto all = repo.list(kScope, q);
    ASSERT_EQ(all.size(), 3u);
    EXPECT_EQ(all[0].arn, "arn:td/a:1");
    EXPECT_EQ(all[2].arn, "arn:td/b:2");
    q.status = "ACTIVE";
    q.descending = true;
    auto active = repo.list(kScope, q);
    ASSERT_EQ(active.size(), 2u);
    EXPECT_EQ(active[0].arn, "arn:td/b:2");
    EXPECT_EQ(repo.families(kScope, "", "ALL", 0, 10), (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(repo.families(kScope, "b", "ACTIVE", 0, 10), (std::vector<std::string>{"b"}));
    EXPECT_TRUE(repo.families(kScope, "", "INACTIVE", 0, 10).empty());
    auto latest = repo.find_latest_active(kScope, "b");
    EXPECT_TRUE(latest && latest->arn == "arn:td/b:2");
  });
}

TEST(StoreTest, TagsUpsertAndRemove) {
  Store s(":memory:");
  s.write([](Db& db) {
    TagRepo tags(db);
    tags.put("arn:x", {{"a", "1"}, {"b", "2"}});
    tags.put("arn:x", {{"a", "3"}});
    tags.remove("arn:x", {"b"});
    EXPECT_EQ(tags.get("arn:x"), (Tags{{"a", "3"}}));
  });
}

TEST(StoreTest, ResetDeletesEverything) {
  Store s(":memory:");
  s.write([](Db& db) {
    Record r = cluster("c1");
    ClusterRepo(db).insert(kScope, r);
    TagRepo(db).put(r.arn, {{"k", "v"}});
  });
  s.reset();
  s.read([](Db& db) {
    EXPECT_FALSE(ClusterRepo(db).find(kScope, "c1"));
    EXPECT_TRUE(TagRepo(db).get("arn:aws:ecs:us-east-1:000000000000:cluster/c1").empty());
  });
}

TEST(StoreTest, ASecondStoreOnTheSameFileIsRefusedWhileTheFirstIsOpen) {
  auto dir = std::filesystem::temp_directory_path() / ("ecsd-store-lock-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::string path = (dir / "ecsd.db").string();
  {
    Store first(path);
    try {
      Store second(path);
      ADD_FAILURE() << "a second store opened a file the first one holds";
    } catch (const SqliteError& e) {
      EXPECT_NE(std::string(e.what()).find("in use by another process"), std::string::npos) << e.what();
    }
    // The first one still works.
    first.write([](Db& db) {
      Record r = cluster("c1");
      ClusterRepo(db).insert(kScope, r);
    });
  }
  Store reopened(path);  // free again once the first one is closed
  EXPECT_TRUE(reopened.read([](Db& db) { return ClusterRepo(db).find(kScope, "c1"); }));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ecsd::store
