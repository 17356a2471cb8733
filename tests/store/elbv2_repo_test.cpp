// Tests for the ELBv2 repos: cascades, default rules, priority moves and drained targets.
#include "ecsd/store/elbv2_repo.hpp"

#include <gtest/gtest.h>

namespace ecsd::store {
namespace {

const Scope kScope{"000000000000", "us-east-1"};

class Elbv2RepoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_.write([&](Db& db) {
      LoadBalancerRow lb;
      lb.name = "web";
      lb.arn = "arn:lb";
      lb.type = "application";
      lb.dns_name = "web-1.us-east-1.elb.localhost";
      lb.status = "active";
      lb.doc = {{"LoadBalancerName", "web"}};
      lb.attributes = {{"idle_timeout.timeout_seconds", "60"}};
      LoadBalancerRepo(db).insert(kScope, lb);
      lb_id_ = lb.id;
      TargetGroupRow tg;
      tg.name = "tg";
      tg.arn = "arn:tg";
      tg.protocol = "HTTP";
      tg.target_type = "ip";
      tg.doc = {{"Port", 80}};
      tg.attributes = json::object();
      TargetGroupRepo(db).insert(kScope, tg);
      tg_id_ = tg.id;
      ListenerRow l;
      l.load_balancer_id = lb.id;
      l.arn = "arn:listener";
      l.port = 80;
      l.protocol = "HTTP";
      l.doc = json::object();
      ListenerRepo(db).insert(l);
      listener_id_ = l.id;
      RuleRepo rules(db);
      for (std::optional<int> p : {std::optional<int>(), std::optional<int>(1), std::optional<int>(2)}) {
        RuleRow r;
        r.listener_id = l.id;
        r.priority = p;
        r.arn = "arn:rule/" + (p ? std::to_string(*p) : std::string("default"));
        r.doc = {{"Conditions", json::array()}, {"Actions", json::array()}};
        rules.insert(r);
        rules.set_target_groups(r.id, {{tg.id, 1}});
      }
    });
  }

  using json = nlohmann::json;
  Store store_{":memory:"};
  std::int64_t lb_id_ = 0, tg_id_ = 0, listener_id_ = 0;
};

TEST_F(Elbv2RepoTest, RulesListByPriorityWithTheDefaultLast) {
  store_.read([&](Db& db) {
    auto rules = RuleRepo(db).list(listener_id_);
    ASSERT_EQ(rules.size(), 3u);
    EXPECT_EQ(rules[0].priority, 1);
    EXPECT_EQ(rules[1].priority, 2);
    EXPECT_TRUE(rules[2].is_default());
    EXPECT_EQ(RuleRepo(db).default_rule(listener_id_)->arn, "arn:rule/default");
    EXPECT_EQ(RuleRepo(db).count_for_load_balancer(lb_id_), 2);
    EXPECT_EQ(TargetGroupRepo(db).load_balancer_arns(tg_id_), std::vector<std::string>{"arn:lb"});
  });
}

TEST_F(Elbv2RepoTest, SetPrioritiesSwapsWithoutConflict) {
  store_.write([&](Db& db) {
    RuleRepo rules(db);
    auto one = rules.find_by_priority(listener_id_, 1), two = rules.find_by_priority(listener_id_, 2);
    rules.set_priorities({{one->id, 2}, {two->id, 1}});
    EXPECT_EQ(rules.find_by_priority(listener_id_, 1)->arn, "arn:rule/2");
    EXPECT_EQ(rules.find_by_priority(listener_id_, 2)->arn, "arn:rule/1");
  });
}

TEST_F(Elbv2RepoTest, DeletingTheLoadBalancerCascadesToListenersAndRules) {
  store_.write([&](Db& db) {
    LoadBalancerRepo(db).remove(lb_id_);
    EXPECT_FALSE(ListenerRepo(db).find_by_arn("arn:listener"));
    EXPECT_FALSE(RuleRepo(db).find_by_arn("arn:rule/1"));
    EXPECT_TRUE(TargetGroupRepo(db).load_balancer_arns(tg_id_).empty());
    EXPECT_TRUE(TargetGroupRepo(db).all_in_use().empty());
    TargetGroupRepo(db).remove(tg_id_);  // no rule references it any more
  });
}

TEST_F(Elbv2RepoTest, TargetsAreUniquePerIdAndPortAndDrainedOnesGo) {
  store_.write([&](Db& db) {
    TargetRepo targets(db);
    TargetRow t;
    t.target_group_id = tg_id_;
    t.target_id = "10.0.0.1";
    t.port = 80;
    t.state = "draining";
    t.drain_until = 100;
    targets.insert(t);
    TargetRow same = t;
    EXPECT_THROW(targets.insert(same), SqliteError);
    TargetRow other = t;
    other.port = 81;
    other.state = "healthy";
    targets.insert(other);
    EXPECT_EQ(targets.remove_drained(99), 0);
    EXPECT_EQ(targets.remove_drained(100), 1);
    EXPECT_EQ(targets.count(tg_id_), 1);
    EXPECT_EQ(targets.find(tg_id_, "10.0.0.1", 81)->state, "healthy");
  });
}

TEST_F(Elbv2RepoTest, ResetEmptiesTheElbTables) {
  store_.reset();
  store_.read([&](Db& db) {
    EXPECT_TRUE(LoadBalancerRepo(db).list(kScope).empty());
    EXPECT_TRUE(TargetGroupRepo(db).list(kScope).empty());
  });
}

}  // namespace
}  // namespace ecsd::store
