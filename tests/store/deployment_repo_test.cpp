// Service deployment and revision rows: filters, newest-first order, optimistic updates, reset.
#include "ecsd/store/deployment_repo.hpp"

#include <gtest/gtest.h>

namespace ecsd::store {
namespace {

Record sd(const std::string& arn, const std::string& status, double created) {
  Record r;
  r.arn = arn;
  r.name = "arn:aws:ecs:us-east-1:000000000000:service/c/s";
  r.status = status;
  r.doc = {{"serviceDeploymentArn", arn}, {"status", status}};
  r.created_at = created;
  return r;
}

TEST(ServiceDeploymentRepoTest, ListsNewestFirstWithStatusAndTimeFilters) {
  Store store(":memory:");
  store.write([](Db& db) {
    ServiceDeploymentRepo repo(db);
    for (auto [arn, status, t] : std::vector<std::tuple<std::string, std::string, double>>{
             {"a", "SUCCESSFUL", 10}, {"b", "ROLLBACK_SUCCESSFUL", 20}, {"c", "IN_PROGRESS", 30}}) {
      Record r = sd(arn, status, t);
      repo.insert(r, t);
    }
    ServiceDeploymentQuery q;
    q.service_arn = "arn:aws:ecs:us-east-1:000000000000:service/c/s";
    auto all = repo.list(q);
    ASSERT_EQ(all.size(), 3u);
    EXPECT_EQ(all[0].arn, "c");
    EXPECT_EQ(all[2].arn, "a");
    q.statuses = {"SUCCESSFUL", "IN_PROGRESS"};
    auto some = repo.list(q);
    ASSERT_EQ(some.size(), 2u);
    EXPECT_EQ(some[0].arn, "c");
    EXPECT_EQ(some[1].arn, "a");
    q.statuses = {"SUCCESSFUL"};  // a prefix of ROLLBACK_SUCCESSFUL's tail must not match it
    EXPECT_EQ(repo.list(q).size(), 1u);
    q.statuses.clear();
    q.created_after = 15;
    q.created_before = 25;
    auto window = repo.list(q);
    ASSERT_EQ(window.size(), 1u);
    EXPECT_EQ(window[0].arn, "b");
    q = {};
    q.service_arn = "arn:aws:ecs:us-east-1:000000000000:service/c/s";
    q.before_id = all[0].id;  // the next page
    q.limit = 1;
    auto page = repo.list(q);
    ASSERT_EQ(page.size(), 1u);
    EXPECT_EQ(page[0].arn, "b");
  });
}

TEST(ServiceDeploymentRepoTest, StaleUpdatesConflictAndResetClearsEverything) {
  Store store(":memory:");
  store.write([](Db& db) {
    ServiceDeploymentRepo repo(db);
    Record r = sd("a", "IN_PROGRESS", 1);
    repo.insert(r, 1);
    Record stale = *repo.find_by_arn("a");
    r.status = "SUCCESSFUL";
    repo.update(r, 2);
    EXPECT_EQ(repo.find_by_arn("a")->status, "SUCCESSFUL");
    EXPECT_THROW(repo.update(stale, 3), ConflictError);
    Record rev;
    rev.arn = "rev";
    rev.name = "svc";
    rev.doc = {{"taskDefinition", "td"}};
    repo.insert_revision(rev);
    EXPECT_EQ(repo.find_revision("rev")->doc["taskDefinition"], "td");
  });
  store.reset();
  store.read([](Db& db) {
    EXPECT_FALSE(ServiceDeploymentRepo(db).find_by_arn("a"));
    EXPECT_FALSE(ServiceDeploymentRepo(db).find_revision("rev"));
  });
}

}  // namespace
}  // namespace ecsd::store
