"""ECS clusters: create/describe/list/update/delete, capacity providers, tags and region scoping."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from ecsd_harness import (  # noqa: E402
    ACCOUNT_ID,
    AWSVPC_NETWORK,
    EcsdTestCase,
    fargate_task_definition,
    main,
    paginate,
    tags_dict,
    wait_until,
)

COUNTS = ("registeredContainerInstancesCount", "runningTasksCount", "pendingTasksCount", "activeServicesCount")


def settings_dict(cluster):
    return {s["name"]: s["value"] for s in cluster.get("settings", [])}


class ClusterCreateDescribeTest(EcsdTestCase):
    def test_create_cluster_response(self):
        ecs = self.ecs()
        cluster = ecs.create_cluster(clusterName="alpha")["cluster"]
        self.assertEqual(cluster["clusterName"], "alpha")
        self.assertEqual(cluster["clusterArn"], f"arn:aws:ecs:us-east-1:{ACCOUNT_ID}:cluster/alpha")
        self.assertEqual(cluster["status"], "ACTIVE")
        for count in COUNTS:
            self.assertEqual(cluster.get(count), 0, f"{count} of a new cluster")

    def test_create_cluster_with_cli(self):
        doc = self.aws_ok("ecs", "create-cluster", "--cluster-name", "cli-cluster", "--tags", "key=team,value=web")
        cluster = doc["cluster"]
        self.assertEqual(cluster["clusterName"], "cli-cluster")
        self.assertEqual(cluster["status"], "ACTIVE")
        self.assertEqual(cluster["clusterArn"], self.arn("cluster/cli-cluster"))

        doc = self.aws_ok("ecs", "describe-clusters", "--clusters", "cli-cluster", "--include", "TAGS")
        self.assertEqual(doc["failures"], [])
        self.assertEqual(len(doc["clusters"]), 1)
        self.assertEqual(tags_dict(doc["clusters"][0]["tags"]), {"team": "web"})

        doc = self.aws_ok("ecs", "list-clusters")
        self.assertEqual(doc["clusterArns"], [self.arn("cluster/cli-cluster")])

    def test_create_without_name_makes_default_cluster(self):
        ecs = self.ecs()
        cluster = ecs.create_cluster()["cluster"]
        self.assertEqual(cluster["clusterName"], "default")
        self.assertEqual(cluster["clusterArn"], self.arn("cluster/default"))
        # DescribeClusters without a cluster list describes the default cluster.
        resp = ecs.describe_clusters()
        self.assertEqual([c["clusterName"] for c in resp["clusters"]], ["default"])
        self.assertEqual(resp["failures"], [])

    def test_describe_default_cluster_when_missing(self):
        resp = self.ecs().describe_clusters()
        self.assertEqual(resp["clusters"], [])
        self.assertEqual(len(resp["failures"]), 1, resp)
        self.assertEqual(resp["failures"][0]["reason"], "MISSING")
        self.assertTrue(resp["failures"][0]["arn"].endswith("cluster/default"), resp)

    def test_create_cluster_twice_returns_same_cluster(self):
        ecs = self.ecs()
        first = ecs.create_cluster(clusterName="twice")["cluster"]
        second = ecs.create_cluster(clusterName="twice")["cluster"]
        self.assertEqual(first["clusterArn"], second["clusterArn"])
        self.assertEqual(second["status"], "ACTIVE")
        self.assertEqual(ecs.list_clusters()["clusterArns"], [first["clusterArn"]])

    def test_describe_by_name_and_arn(self):
        ecs = self.ecs()
        arn = ecs.create_cluster(clusterName="by-arn")["cluster"]["clusterArn"]
        by_name = ecs.describe_clusters(clusters=["by-arn"])["clusters"]
        by_arn = ecs.describe_clusters(clusters=[arn])["clusters"]
        self.assertEqual([c["clusterArn"] for c in by_name], [arn])
        self.assertEqual([c["clusterArn"] for c in by_arn], [arn])
        self.assertEqual(by_arn[0]["clusterName"], "by-arn")

    def test_describe_include_settings_tags_statistics(self):
        ecs = self.ecs()
        ecs.create_cluster(
            clusterName="described",
            tags=[{"key": "env", "value": "test"}, {"key": "owner", "value": "ecsd"}],
            settings=[{"name": "containerInsights", "value": "enabled"}],
        )
        resp = ecs.describe_clusters(clusters=["described"], include=["SETTINGS", "TAGS", "STATISTICS"])
        self.assertEqual(resp["failures"], [])
        (cluster,) = resp["clusters"]
        self.assertEqual(cluster["status"], "ACTIVE")
        self.assertEqual(settings_dict(cluster).get("containerInsights"), "enabled")
        self.assertEqual(tags_dict(cluster.get("tags")), {"env": "test", "owner": "ecsd"})
        self.assertIsInstance(cluster.get("statistics"), list)
        for stat in cluster["statistics"]:
            self.assertIn("name", stat)
            self.assertIn("value", stat)

    def test_describe_unknown_cluster_reports_missing(self):
        ecs = self.ecs()
        ecs.create_cluster(clusterName="known")
        resp = ecs.describe_clusters(clusters=["known", "unknown", self.arn("cluster/unknown-arn")])
        self.assertEqual([c["clusterName"] for c in resp["clusters"]], ["known"])
        failures = sorted(resp["failures"], key=lambda f: f["arn"])
        self.assertEqual(len(failures), 2, resp)
        for failure in failures:
            self.assertEqual(failure["reason"], "MISSING")
        self.assertTrue(failures[0]["arn"].endswith("cluster/unknown"), failures)
        self.assertTrue(failures[1]["arn"].endswith("cluster/unknown-arn"), failures)

    def test_invalid_cluster_name(self):
        self.assertClientError(
            "InvalidParameterException", self.ecs().create_cluster, clusterName="not a valid name!"
        )


class ClusterListTest(EcsdTestCase):
    def test_list_clusters_pagination(self):
        ecs = self.ecs()
        names = [f"page-{i:02d}" for i in range(7)]
        for name in names:
            ecs.create_cluster(clusterName=name)
        expected = {self.arn(f"cluster/{n}") for n in names}

        arns, sizes = paginate(ecs.list_clusters, "clusterArns", maxResults=3)
        self.assertEqual(len(arns), len(set(arns)), f"duplicates across pages: {arns}")
        self.assertEqual(set(arns), expected)
        self.assertTrue(all(size <= 3 for size in sizes), sizes)
        self.assertGreaterEqual(len(sizes), 3, sizes)

        first = ecs.list_clusters(maxResults=3)
        self.assertEqual(len(first["clusterArns"]), 3)
        self.assertIn("nextToken", first)

        # The boto3 paginator and the CLI's automatic pagination see the same set.
        pages = ecs.get_paginator("list_clusters").paginate(PaginationConfig={"PageSize": 2})
        self.assertEqual({a for p in pages for a in p["clusterArns"]}, expected)
        doc = self.aws_ok("ecs", "list-clusters", "--page-size", "2")
        self.assertEqual(sorted(doc["clusterArns"]), sorted(expected))

    def test_invalid_next_token(self):
        from botocore.exceptions import ClientError

        self.ecs().create_cluster(clusterName="tok")
        with self.assertRaises(ClientError) as ctx:
            self.ecs().list_clusters(nextToken="this-is-not-a-token")
        self.assertEqual(ctx.exception.response["ResponseMetadata"]["HTTPStatusCode"], 400)
        self.assertIn(ctx.exception.response["Error"]["Code"], ("InvalidParameterException", "ClientException"))

    def test_list_clusters_empty(self):
        resp = self.ecs().list_clusters()
        self.assertEqual(resp["clusterArns"], [])
        self.assertNotIn("nextToken", resp)

    def test_region_scoping(self):
        east = self.ecs("us-east-1")
        west = self.ecs("eu-west-1")
        east_arn = east.create_cluster(clusterName="regional")["cluster"]["clusterArn"]
        self.assertEqual(east_arn, f"arn:aws:ecs:us-east-1:{ACCOUNT_ID}:cluster/regional")

        self.assertEqual(west.list_clusters()["clusterArns"], [])
        resp = west.describe_clusters(clusters=["regional"])
        self.assertEqual(resp["clusters"], [])
        self.assertEqual([f["reason"] for f in resp["failures"]], ["MISSING"])

        west_arn = west.create_cluster(clusterName="regional")["cluster"]["clusterArn"]
        self.assertEqual(west_arn, f"arn:aws:ecs:eu-west-1:{ACCOUNT_ID}:cluster/regional")
        west.delete_cluster(cluster="regional")
        self.assertEqual(east.list_clusters()["clusterArns"], [east_arn])
        self.assertEqual(east.describe_clusters(clusters=["regional"])["clusters"][0]["status"], "ACTIVE")

        # The CLI signs with --region, so it lands in the same scopes.
        doc = self.aws_ok("ecs", "list-clusters", region="us-east-1")
        self.assertEqual(doc["clusterArns"], [east_arn])
        doc = self.aws_ok("ecs", "list-clusters", region="ap-southeast-2")
        self.assertEqual(doc["clusterArns"], [])


class ClusterUpdateTest(EcsdTestCase):
    def test_update_cluster_settings(self):
        ecs = self.ecs()
        ecs.create_cluster(clusterName="insights")
        cluster = ecs.update_cluster_settings(
            cluster="insights", settings=[{"name": "containerInsights", "value": "enabled"}]
        )["cluster"]
        self.assertEqual(cluster["clusterName"], "insights")
        self.assertEqual(settings_dict(cluster).get("containerInsights"), "enabled")
        described = ecs.describe_clusters(clusters=["insights"], include=["SETTINGS"])["clusters"][0]
        self.assertEqual(settings_dict(described).get("containerInsights"), "enabled")

        cluster = ecs.update_cluster_settings(
            cluster="insights", settings=[{"name": "containerInsights", "value": "disabled"}]
        )["cluster"]
        self.assertEqual(settings_dict(cluster).get("containerInsights"), "disabled")

    def test_update_settings_unknown_cluster(self):
        self.assertClientError(
            "ClusterNotFoundException",
            self.ecs().update_cluster_settings,
            cluster="nope",
            settings=[{"name": "containerInsights", "value": "enabled"}],
        )

    def test_fargate_capacity_providers_exist(self):
        resp = self.ecs().describe_capacity_providers(capacityProviders=["FARGATE", "FARGATE_SPOT"])
        by_name = {cp["name"]: cp for cp in resp["capacityProviders"]}
        self.assertEqual(set(by_name), {"FARGATE", "FARGATE_SPOT"}, resp)
        for cp in by_name.values():
            self.assertEqual(cp["status"], "ACTIVE")

    def test_put_cluster_capacity_providers(self):
        ecs = self.ecs()
        ecs.create_cluster(clusterName="cp")
        strategy = [
            {"capacityProvider": "FARGATE", "weight": 1, "base": 1},
            {"capacityProvider": "FARGATE_SPOT", "weight": 4, "base": 0},
        ]
        cluster = ecs.put_cluster_capacity_providers(
            cluster="cp", capacityProviders=["FARGATE", "FARGATE_SPOT"], defaultCapacityProviderStrategy=strategy
        )["cluster"]
        self.assertEqual(sorted(cluster["capacityProviders"]), ["FARGATE", "FARGATE_SPOT"])
        self.assertEqual(cluster["defaultCapacityProviderStrategy"], strategy)

        described = ecs.describe_clusters(clusters=["cp"])["clusters"][0]
        self.assertEqual(sorted(described["capacityProviders"]), ["FARGATE", "FARGATE_SPOT"])
        self.assertEqual(described["defaultCapacityProviderStrategy"], strategy)

        doc = self.aws_ok(
            "ecs", "put-cluster-capacity-providers", "--cluster", "cp", "--capacity-providers", "FARGATE",
            "--default-capacity-provider-strategy", "capacityProvider=FARGATE,weight=1",
        )
        self.assertEqual(doc["cluster"]["capacityProviders"], ["FARGATE"])
        self.assertEqual(
            [(s["capacityProvider"], s["weight"]) for s in doc["cluster"]["defaultCapacityProviderStrategy"]],
            [("FARGATE", 1)],
        )

    def test_create_cluster_with_capacity_providers(self):
        cluster = self.ecs().create_cluster(
            clusterName="cp-create",
            capacityProviders=["FARGATE_SPOT"],
            defaultCapacityProviderStrategy=[{"capacityProvider": "FARGATE_SPOT", "weight": 1}],
        )["cluster"]
        self.assertEqual(cluster["capacityProviders"], ["FARGATE_SPOT"])
        self.assertEqual(cluster["defaultCapacityProviderStrategy"][0]["capacityProvider"], "FARGATE_SPOT")
        self.assertEqual(cluster["defaultCapacityProviderStrategy"][0]["weight"], 1)

    def test_put_unknown_capacity_provider_fails(self):
        from botocore.exceptions import ClientError

        ecs = self.ecs()
        ecs.create_cluster(clusterName="cp-bad")
        with self.assertRaises(ClientError) as ctx:
            ecs.put_cluster_capacity_providers(
                cluster="cp-bad", capacityProviders=["NO_SUCH_PROVIDER"], defaultCapacityProviderStrategy=[]
            )
        self.assertIn(ctx.exception.response["Error"]["Code"], ("InvalidParameterException", "ClientException"))
        self.assertEqual(ctx.exception.response["ResponseMetadata"]["HTTPStatusCode"], 400)


class ClusterTagTest(EcsdTestCase):
    def test_tag_untag_list(self):
        ecs = self.ecs()
        arn = ecs.create_cluster(clusterName="tagged", tags=[{"key": "a", "value": "1"}])["cluster"]["clusterArn"]
        self.assertEqual(tags_dict(ecs.list_tags_for_resource(resourceArn=arn)["tags"]), {"a": "1"})

        ecs.tag_resource(resourceArn=arn, tags=[{"key": "b", "value": "2"}, {"key": "a", "value": "one"}])
        self.assertEqual(tags_dict(ecs.list_tags_for_resource(resourceArn=arn)["tags"]), {"a": "one", "b": "2"})

        ecs.untag_resource(resourceArn=arn, tagKeys=["a"])
        self.assertEqual(tags_dict(ecs.list_tags_for_resource(resourceArn=arn)["tags"]), {"b": "2"})

        described = ecs.describe_clusters(clusters=[arn], include=["TAGS"])["clusters"][0]
        self.assertEqual(tags_dict(described["tags"]), {"b": "2"})

    def test_tags_with_cli(self):
        arn = self.aws_ok("ecs", "create-cluster", "--cluster-name", "cli-tags")["cluster"]["clusterArn"]
        self.aws_ok("ecs", "tag-resource", "--resource-arn", arn, "--tags", "key=k1,value=v1", "key=k2,value=v2")
        doc = self.aws_ok("ecs", "list-tags-for-resource", "--resource-arn", arn)
        self.assertEqual(tags_dict(doc["tags"]), {"k1": "v1", "k2": "v2"})
        self.aws_ok("ecs", "untag-resource", "--resource-arn", arn, "--tag-keys", "k1")
        doc = self.aws_ok("ecs", "list-tags-for-resource", "--resource-arn", arn)
        self.assertEqual(tags_dict(doc["tags"]), {"k2": "v2"})


class ClusterDeleteTest(EcsdTestCase):
    def test_delete_cluster(self):
        ecs = self.ecs()
        arn = ecs.create_cluster(clusterName="doomed")["cluster"]["clusterArn"]
        cluster = ecs.delete_cluster(cluster="doomed")["cluster"]
        self.assertEqual(cluster["clusterArn"], arn)
        self.assertEqual(cluster["status"], "INACTIVE")
        self.assertNotIn(arn, ecs.list_clusters()["clusterArns"])
        resp = ecs.describe_clusters(clusters=["doomed"])
        # Real ECS keeps describing a deleted cluster as INACTIVE for a while; MISSING is also acceptable.
        for c in resp["clusters"]:
            self.assertEqual(c["status"], "INACTIVE")
        for f in resp["failures"]:
            self.assertEqual(f["reason"], "MISSING")
        self.assertEqual(len(resp["clusters"]) + len(resp["failures"]), 1, resp)

    def test_delete_then_recreate(self):
        ecs = self.ecs()
        ecs.create_cluster(clusterName="phoenix")
        ecs.delete_cluster(cluster="phoenix")
        cluster = ecs.create_cluster(clusterName="phoenix")["cluster"]
        self.assertEqual(cluster["status"], "ACTIVE")
        self.assertEqual(ecs.list_clusters()["clusterArns"], [cluster["clusterArn"]])

    def test_delete_unknown_cluster(self):
        self.assertClientError("ClusterNotFoundException", self.ecs().delete_cluster, cluster="never-was")
        self.aws_err("ClusterNotFoundException", "ecs", "delete-cluster", "--cluster", "never-was")

    def test_delete_refused_while_service_active(self):
        ecs = self.ecs()
        ecs.create_cluster(clusterName="busy")
        ecs.register_task_definition(**fargate_task_definition("busy-td"))
        ecs.create_service(
            cluster="busy", serviceName="svc", taskDefinition="busy-td", desiredCount=0, launchType="FARGATE",
            networkConfiguration=AWSVPC_NETWORK,
        )
        self.assertEqual(ecs.describe_clusters(clusters=["busy"])["clusters"][0]["activeServicesCount"], 1)
        self.assertClientError("ClusterContainsServicesException", ecs.delete_cluster, cluster="busy")
        self.assertEqual(ecs.describe_clusters(clusters=["busy"])["clusters"][0]["status"], "ACTIVE")

        ecs.delete_service(cluster="busy", service="svc")
        wait_until(
            lambda: ecs.describe_services(cluster="busy", services=["svc"])["services"][0]["status"] == "INACTIVE",
            timeout=30, message="service to become INACTIVE",
        )
        self.assertEqual(ecs.delete_cluster(cluster="busy")["cluster"]["status"], "INACTIVE")


if __name__ == "__main__":
    main()
