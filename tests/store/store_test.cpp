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
  EXPECT_EQ(s.schema_version(), 8);  // 1-4, logs (5), ECR (6), deployments (7), task definitions (8)
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

// Db::parse_doc keeps documents read twice: what it returns must always be the stored text's
// document, a copy the caller may change, and a changed row must read as changed.
TEST(StoreTest, ParsedDocumentsAreCopiesOfWhatIsStoredNow) {
  Store s(":memory:");
  Record r = cluster("c1");
  r.doc["padding"] = std::string(400, 'x');  // above parse_doc's size floor
  s.write([&](Db& db) { ClusterRepo(db).insert(kScope, r); });
  for (int i = 0; i < 4; ++i) {
    s.write([&](Db& db) {
      ClusterRepo repo(db);
      auto c = repo.find(kScope, "c1");
      ASSERT_TRUE(c);
      EXPECT_EQ(c->doc["n"], i == 0 ? nlohmann::json() : nlohmann::json(i - 1)) << "read " << i;
      c->doc["scribble"] = "not stored";  // changing a returned copy changes nothing stored or cached
      auto again = repo.find(kScope, "c1");
      EXPECT_FALSE(again->doc.contains("scribble"));
      again->doc["n"] = i;
      repo.update(*again);
    });
  }
  // Many distinct documents, each read twice (more than the cache holds): each read is right.
  s.write([&](Db& db) {
    for (int i = 0; i < 300; ++i) {
      std::string text = nlohmann::json{{"i", i}, {"pad", std::string(1000, 'y')}}.dump();
      EXPECT_EQ(db.parse_doc(text)["i"], i);
      EXPECT_EQ(db.parse_doc(text)["i"], i);
      EXPECT_EQ(db.parse_doc(text)["i"], i);
    }
  });
}

TEST(StoreTest, ClusterKeyHasTheRowWithoutItsDocument) {
  Store s(":memory:");
  Record r = cluster("c1");
  s.write([&](Db& db) { ClusterRepo(db).insert(kScope, r); });
  s.read([&](Db& db) {
    ClusterRepo repo(db);
    auto key = repo.find_key(kScope, "c1");
    ASSERT_TRUE(key);
    EXPECT_EQ(key->id, r.id);
    EXPECT_EQ(key->arn, r.arn);
    EXPECT_EQ(key->name, "c1");
    EXPECT_EQ(key->status, "ACTIVE");
    EXPECT_EQ(key->doc, nlohmann::json::object());
    EXPECT_FALSE(repo.find_key({"000000000000", "eu-west-1"}, "c1"));
    EXPECT_EQ(repo.find(kScope, "c1")->doc["clusterName"], "c1");
  });
}

Record task_definition(const Scope& scope, const std::string& family, int revision) {
  Record r;
  r.name = family;
  r.arn = "arn:aws:ecs:" + scope.region + ":" + scope.account + ":task-definition/" + family + ":" +
          std::to_string(revision);
  r.status = "ACTIVE";
  r.doc = {{"family", family}, {"revision", revision}};
  r.created_at = 1;
  return r;
}

TEST(StoreTest, TaskDefinitionRevisionsAreNeverReused) {
  Store s(":memory:");
  const Scope eu{"000000000000", "eu-west-1"};
  s.write([&](Db& db) {
    TaskDefinitionRepo repo(db);
    EXPECT_EQ(repo.next_revision(kScope, "web"), 1);
    Record r = task_definition(kScope, "web", 1);
    repo.insert(kScope, 1, r);
    EXPECT_EQ(repo.next_revision(kScope, "web"), 2);
    Record r2 = task_definition(kScope, "web", 2);
    repo.insert(kScope, 2, r2);
    // A deleted revision keeps its row, so its number stays taken.
    r2.status = "DELETE_IN_PROGRESS";
    repo.update(r2);
    EXPECT_EQ(repo.next_revision(kScope, "web"), 3);
    EXPECT_EQ(repo.next_revision(kScope, "api"), 1);
    EXPECT_EQ(repo.next_revision(eu, "web"), 1);
  });
}

TEST(StoreTest, TaskDefinitionFoundByArnOnlyInItsOwnScope) {
  Store s(":memory:");
  s.write([&](Db& db) {
    TaskDefinitionRepo repo(db);
    Record r = task_definition(kScope, "web", 1);
    repo.insert(kScope, 1, r);
    auto found = repo.find_by_arn("arn:aws:ecs:us-east-1:000000000000:task-definition/web:1");
    ASSERT_TRUE(found);
    EXPECT_EQ(found->id, r.id);
    EXPECT_EQ(found->doc["revision"], 1);
    EXPECT_FALSE(repo.find_by_arn("arn:aws:ecs:eu-west-1:000000000000:task-definition/web:1"));
    EXPECT_FALSE(repo.find_by_arn("arn:aws:ecs:us-east-1:111111111111:task-definition/web:1"));
    EXPECT_FALSE(repo.find_by_arn("arn:aws-cn:ecs:us-east-1:000000000000:task-definition/web:1"));
    EXPECT_FALSE(repo.find_by_arn("arn:aws:ecs:us-east-1:000000000000:task-definition/web:2"));
    EXPECT_FALSE(repo.find_by_arn("arn:aws:ecs:us-east-1:000000000000:task-definition/web"));
    EXPECT_FALSE(repo.find_by_arn("arn:aws:ecs:us-east-1:000000000000:task-definition/web:x"));
    EXPECT_FALSE(repo.find_by_arn("arn:aws:ecs:us-east-1:000000000000:service/c/web:1"));
    EXPECT_FALSE(repo.find_by_arn("web:1"));
    EXPECT_FALSE(repo.find_by_arn(""));
  });
}

// Migration 8 rebuilds task_definitions and drops the family counters: a store written by an
// earlier ecsd keeps its task definitions, and revisions continue after the highest one.
TEST(StoreTest, Migration8KeepsTaskDefinitionsOfAnOlderStore) {
  auto dir = std::filesystem::temp_directory_path() / ("ecsd-store-m8-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::string path = (dir / "ecsd.db").string();
  {
    // The two tables as migration 1 made them, at schema version 7 (the tables of migrations 2-7
    // are not touched by migration 8).
    Db old(path);
    old.exec(R"sql(
CREATE TABLE task_definitions (
  id INTEGER PRIMARY KEY,
  account TEXT NOT NULL, region TEXT NOT NULL, family TEXT NOT NULL, revision INTEGER NOT NULL,
  arn TEXT NOT NULL UNIQUE, status TEXT NOT NULL, doc TEXT NOT NULL, registered_at REAL NOT NULL,
  UNIQUE(account, region, family, revision));
CREATE TABLE task_definition_families (
  account TEXT NOT NULL, region TEXT NOT NULL, family TEXT NOT NULL, last_revision INTEGER NOT NULL,
  PRIMARY KEY(account, region, family));
INSERT INTO task_definitions VALUES
  (1, '000000000000', 'us-east-1', 'web', 1, 'arn:aws:ecs:us-east-1:000000000000:task-definition/web:1',
   'INACTIVE', '{"family":"web","revision":1}', 1),
  (7, '000000000000', 'us-east-1', 'web', 2, 'arn:aws:ecs:us-east-1:000000000000:task-definition/web:2',
   'ACTIVE', '{"family":"web","revision":2}', 2);
INSERT INTO task_definition_families VALUES ('000000000000', 'us-east-1', 'web', 2);
PRAGMA user_version=7;
)sql");
  }
  {
    Store s(path);
    EXPECT_EQ(s.schema_version(), 8);
    s.write([&](Db& db) {
      TaskDefinitionRepo repo(db);
      auto web2 = repo.find_by_arn("arn:aws:ecs:us-east-1:000000000000:task-definition/web:2");
      ASSERT_TRUE(web2);
      EXPECT_EQ(web2->id, 7);
      EXPECT_EQ(web2->status, "ACTIVE");
      EXPECT_EQ(web2->doc["revision"], 2);
      EXPECT_EQ(repo.find(kScope, "web", 1)->status, "INACTIVE");
      EXPECT_EQ(repo.next_revision(kScope, "web"), 3);
      auto& st = db.prepare("SELECT count(*) FROM sqlite_master WHERE name='task_definition_families'");
      ASSERT_TRUE(st.step());
      EXPECT_EQ(st.int64(0), 0);
      st.reset();
    });
  }
  std::filesystem::remove_all(dir);
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
