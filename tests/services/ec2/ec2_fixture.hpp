// Shared fixture for the EC2 handler tests: an in-memory store, a request context, and helpers
// that make resources through the handlers (and awsvpc task rows as ECS would write them).
#pragma once
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "../handler_test_support.hpp"
#include "ecsd/common/api_error.hpp"
#include "ecsd/services/ec2/ec2.hpp"
#include "ecsd/store/cluster_repo.hpp"
#include "ecsd/store/store.hpp"
#include "ecsd/store/task_repo.hpp"

namespace ecsd::services::ec2 {

using test_support::api_error;
using test_support::kAccount;
using test_support::kNow;

class Ec2Test : public ::testing::Test {
 protected:
  RequestContext context(const std::string& region, const std::string& account = kAccount) {
    return RequestContext{{account, region}, "AKIDEXAMPLE", "req-1", store_, kNow};
  }

  static json filter(const std::string& name, std::vector<std::string> values) {
    return json::array({{{"Name", name}, {"Values", values}}});
  }

  std::string default_vpc() {
    return describe_vpcs(ctx_, {{"Filters", filter("is-default", {"true"})}})["Vpcs"][0]["VpcId"];
  }

  std::string default_group() {
    return describe_security_groups(
        ctx_, {{"Filters",
                json::array({{{"Name", "group-name"}, {"Values", {"default"}}},
                             {{"Name", "vpc-id"}, {"Values", {default_vpc()}}}})}})["SecurityGroups"][0]["GroupId"];
  }

  json default_subnets() {
    return describe_subnets(ctx_, {{"Filters", filter("default-for-az", {"true"})}})["Subnets"];
  }

  std::string create_group(const std::string& name, const std::string& vpc_id = "") {
    json in = {{"GroupName", name}, {"Description", name + " group"}};
    if (!vpc_id.empty()) in["VpcId"] = vpc_id;
    return create_security_group(ctx_, in)["GroupId"];
  }

  std::string create_vpc_with(const std::string& cidr) {
    return create_vpc(ctx_, {{"CidrBlock", cidr}})["Vpc"]["VpcId"];
  }

  // A task row of an awsvpc task as ECS and the reconciler write it: attachment `status`
  // (PRECREATED, ATTACHED, DELETED) with the ENI details, last status `last_status`.
  std::string add_awsvpc_task(const std::string& subnet_id, const std::vector<std::string>& groups,
                              const std::string& status = "ATTACHED", const std::string& last_status = "RUNNING",
                              const std::string& ip = "172.31.0.10") {
    return store_.write([&](store::Db& db) {
      store::ClusterRepo clusters(db);
      auto cluster = clusters.find(ctx_.scope, "default");
      if (!cluster) {
        store::Record c;
        c.name = "default";
        c.arn = "arn:aws:ecs:" + ctx_.scope.region + ":" + kAccount + ":cluster/default";
        c.status = "ACTIVE";
        c.doc = json::object();
        c.created_at = kNow;
        clusters.insert(ctx_.scope, c);
        cluster = c;
      }
      int n = ++tasks_;
      std::string id = std::to_string(n);
      std::string arn = "arn:aws:ecs:" + ctx_.scope.region + ":" + kAccount + ":task/default/" + id;
      json details = json::array({{{"name", "subnetId"}, {"value", subnet_id}},
                                  {{"name", "networkInterfaceId"}, {"value", "eni-0000000000000000" + id}}});
      if (status != "PRECREATED") {
        details.push_back({{"name", "macAddress"}, {"value", "0a:00:00:00:00:0" + id}});
        details.push_back({{"name", "privateDnsName"}, {"value", "ip-172-31-0-10.ec2.internal"}});
        details.push_back({{"name", "privateIPv4Address"}, {"value", ip}});
      }
      store::TaskRow t;
      t.arn = arn;
      t.name = t.family = "web";
      t.status = last_status;
      t.desired_status = last_status == "STOPPED" ? "STOPPED" : "RUNNING";
      t.cluster_id = cluster->id;
      t.doc = {
          {"taskArn", arn},
          {"lastStatus", last_status},
          {"availabilityZone", ctx_.scope.region + "a"},
          {"connectivityAt", kNow},
          {"attachments",
           json::array(
               {{{"id", "att-" + id}, {"type", "ElasticNetworkInterface"}, {"status", status}, {"details", details}}})},
          {"_ecsd",
           {{"network",
             {{"awsvpcConfiguration", {{"subnets", json::array({subnet_id})}, {"securityGroups", groups}}}}}}}};
      store::TaskRepo(db).insert(ctx_.scope, t, kNow);
      return arn;
    });
  }

  // Marks a task STOPPED with its attachment DELETED, as the reconciler does.
  void stop_task(const std::string& arn) {
    store_.write([&](store::Db& db) {
      store::TaskRepo repo(db);
      auto t = repo.find_by_arn(arn);
      ASSERT_TRUE(t);
      t->status = t->desired_status = "STOPPED";
      t->doc["attachments"][0]["status"] = "DELETED";
      repo.update(*t, kNow);
    });
  }

  store::Store store_{":memory:"};
  RequestContext ctx_ = context("us-east-1");
  int tasks_ = 0;
};

}  // namespace ecsd::services::ec2
