"""ECS services: create/describe/list/update/delete, deployments, defaults, errors and tags."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from ecsd_harness import (  # noqa: E402
    ACCOUNT_ID,
    AWSVPC_NETWORK,
    SECURITY_GROUP,
    SUBNET,
    EcsdTestCase,
    fargate_task_definition,
    main,
    paginate,
    tags_dict,
    td_arn,
    wait_until,
)

CLUSTER = "svc-cluster"


def svc_arn(cluster, name, region="us-east-1"):
    return f"arn:aws:ecs:{region}:{ACCOUNT_ID}:service/{cluster}/{name}"


class ServiceTestCase(EcsdTestCase):
    def setUp(self):
        super().setUp()
        ecs = self.ecs()
        ecs.create_cluster(clusterName=CLUSTER)
        ecs.register_task_definition(**fargate_task_definition("web"))  # web:1
        ecs.register_task_definition(**fargate_task_definition("web", cpu="512", memory="1024"))  # web:2

    def create_service(self, name, task_definition="web:1", desired=0, cluster=CLUSTER, ecs=None, **extra):
        ecs = ecs or self.ecs()
        args = dict(
            cluster=cluster, serviceName=name, taskDefinition=task_definition, desiredCount=desired,
            launchType="FARGATE", networkConfiguration=AWSVPC_NETWORK,
        )
        args.update(extra)
        return ecs.create_service(**args)["service"]

    def describe(self, name, cluster=CLUSTER, **kw):
        resp = self.ecs().describe_services(cluster=cluster, services=[name], **kw)
        self.assertEqual(resp["failures"], [], resp)
        self.assertEqual(len(resp["services"]), 1, resp)
        return resp["services"][0]

    def wait_inactive(self, name, cluster=CLUSTER, timeout=30):
        ecs = self.ecs()

        def inactive():
            services = ecs.describe_services(cluster=cluster, services=[name])["services"]
            return services and services[0]["status"] == "INACTIVE"

        wait_until(inactive, timeout=timeout, message=f"service {name} to become INACTIVE")


class CreateServiceTest(ServiceTestCase):
    def test_create_service_response_shape_and_defaults(self):
        svc = self.create_service("api", task_definition="web", desired=1)
        self.assertEqual(svc["serviceName"], "api")
        self.assertEqual(svc["serviceArn"], svc_arn(CLUSTER, "api"))
        self.assertEqual(svc["clusterArn"], f"arn:aws:ecs:us-east-1:{ACCOUNT_ID}:cluster/{CLUSTER}")
        self.assertEqual(svc["status"], "ACTIVE")
        self.assertEqual(svc["desiredCount"], 1)
        self.assertEqual(svc["runningCount"], 0)
        self.assertEqual(svc["pendingCount"], 0)
        self.assertEqual(svc["launchType"], "FARGATE")
        self.assertEqual(svc["schedulingStrategy"], "REPLICA")
        # The family name resolves to the full ARN of its latest ACTIVE revision.
        self.assertEqual(svc["taskDefinition"], td_arn("web", 2))
        self.assertIn("createdAt", svc)

        dc = svc["deploymentConfiguration"]
        self.assertEqual(dc["maximumPercent"], 200)
        self.assertEqual(dc["minimumHealthyPercent"], 100)
        self.assertEqual(dc["deploymentCircuitBreaker"], {"enable": False, "rollback": False})
        self.assertEqual(svc.get("deploymentController", {"type": "ECS"})["type"], "ECS")

        net = svc["networkConfiguration"]["awsvpcConfiguration"]
        self.assertEqual(net["subnets"], [SUBNET])
        self.assertEqual(net["securityGroups"], [SECURITY_GROUP])
        self.assertEqual(net["assignPublicIp"], "DISABLED")

        deployments = svc["deployments"]
        self.assertEqual(len(deployments), 1, deployments)
        dep = deployments[0]
        self.assertEqual(dep["status"], "PRIMARY")
        self.assertTrue(dep["id"].startswith("ecs-svc/"), dep["id"])
        self.assertEqual(dep["taskDefinition"], td_arn("web", 2))
        self.assertEqual(dep["desiredCount"], 1)
        self.assertEqual(dep["launchType"], "FARGATE")
        self.assertIn("createdAt", dep)
        self.assertIn("updatedAt", dep)

    def test_task_definition_forms_resolve_to_arn(self):
        self.assertEqual(self.create_service("by-family", task_definition="web")["taskDefinition"],
                         td_arn("web", 2))
        self.assertEqual(self.create_service("by-revision", task_definition="web:1")["taskDefinition"],
                         td_arn("web", 1))
        self.assertEqual(self.create_service("by-arn", task_definition=td_arn("web", 1))["taskDefinition"],
                         td_arn("web", 1))

    def test_create_service_with_cli(self):
        doc = self.aws_ok(
            "ecs", "create-service", "--cluster", CLUSTER, "--service-name", "cli-svc",
            "--task-definition", "web:1", "--desired-count", "0", "--launch-type", "FARGATE",
            "--network-configuration",
            f"awsvpcConfiguration={{subnets=[{SUBNET}],securityGroups=[{SECURITY_GROUP}],assignPublicIp=DISABLED}}",
        )
        svc = doc["service"]
        self.assertEqual(svc["serviceArn"], svc_arn(CLUSTER, "cli-svc"))
        self.assertEqual(svc["taskDefinition"], td_arn("web", 1))
        self.assertEqual([d["status"] for d in svc["deployments"]], ["PRIMARY"])

        doc = self.aws_ok("ecs", "describe-services", "--cluster", CLUSTER, "--services", "cli-svc")
        self.assertEqual(doc["failures"], [])
        self.assertEqual(doc["services"][0]["serviceName"], "cli-svc")

        doc = self.aws_ok("ecs", "list-services", "--cluster", CLUSTER)
        self.assertEqual(doc["serviceArns"], [svc_arn(CLUSTER, "cli-svc")])

        # The CLI waiter: one PRIMARY deployment and runningCount == desiredCount (0) is stable at once.
        self.aws_ok("ecs", "wait", "services-stable", "--cluster", CLUSTER, "--services", "cli-svc", timeout=60)

    def test_explicit_deployment_configuration(self):
        svc = self.create_service(
            "tuned",
            deploymentConfiguration={
                "maximumPercent": 150,
                "minimumHealthyPercent": 50,
                "deploymentCircuitBreaker": {"enable": True, "rollback": True},
            },
        )
        dc = svc["deploymentConfiguration"]
        self.assertEqual(dc["maximumPercent"], 150)
        self.assertEqual(dc["minimumHealthyPercent"], 50)
        self.assertEqual(dc["deploymentCircuitBreaker"], {"enable": True, "rollback": True})

    def test_duplicate_service_name(self):
        self.create_service("dup", desired=0)
        self.assertClientError(
            "InvalidParameterException", self.create_service, "dup", desired=1,
            message="Creation of service was not idempotent.",
        )
        self.assertEqual(paginate(self.ecs().list_services, "serviceArns", cluster=CLUSTER)[0],
                         [svc_arn(CLUSTER, "dup")])

    def test_same_name_in_other_cluster_is_allowed(self):
        self.ecs().create_cluster(clusterName="other")
        a = self.create_service("shared-name")
        b = self.create_service("shared-name", cluster="other")
        self.assertEqual(a["serviceArn"], svc_arn(CLUSTER, "shared-name"))
        self.assertEqual(b["serviceArn"], svc_arn("other", "shared-name"))

    def test_create_in_unknown_cluster(self):
        self.assertClientError("ClusterNotFoundException", self.create_service, "orphan", cluster="no-cluster")

    def test_create_with_unknown_task_definition(self):
        from botocore.exceptions import ClientError

        with self.assertRaises(ClientError) as ctx:
            self.create_service("bad-td", task_definition="no-such-family:1")
        self.assertIn(ctx.exception.response["Error"]["Code"], ("ClientException", "InvalidParameterException"))
        self.assertEqual(ctx.exception.response["ResponseMetadata"]["HTTPStatusCode"], 400)


class DescribeListServicesTest(ServiceTestCase):
    def test_describe_unknown_names_are_missing(self):
        self.create_service("present")
        resp = self.ecs().describe_services(cluster=CLUSTER, services=["present", "absent"])
        self.assertEqual([s["serviceName"] for s in resp["services"]], ["present"])
        self.assertEqual(len(resp["failures"]), 1, resp)
        self.assertEqual(resp["failures"][0]["reason"], "MISSING")
        self.assertTrue(resp["failures"][0]["arn"].endswith("absent"), resp)

    def test_describe_by_arn(self):
        arn = self.create_service("by-arn")["serviceArn"]
        self.assertEqual(self.describe(arn)["serviceName"], "by-arn")

    def test_describe_at_most_ten_services(self):
        from botocore.exceptions import ClientError

        with self.assertRaises(ClientError) as ctx:
            self.ecs().describe_services(cluster=CLUSTER, services=[f"s{i}" for i in range(11)])
        self.assertEqual(ctx.exception.response["Error"]["Code"], "InvalidParameterException")
        self.assertEqual(ctx.exception.response["ResponseMetadata"]["HTTPStatusCode"], 400)

    def test_describe_unknown_cluster(self):
        self.assertClientError(
            "ClusterNotFoundException", self.ecs().describe_services, cluster="nope", services=["x"]
        )

    def test_list_services_pagination(self):
        names = [f"svc-{i:02d}" for i in range(7)]
        for name in names:
            self.create_service(name)
        arns, sizes = paginate(self.ecs().list_services, "serviceArns", cluster=CLUSTER, maxResults=3)
        self.assertEqual(len(arns), len(set(arns)), arns)
        self.assertEqual(set(arns), {svc_arn(CLUSTER, n) for n in names})
        self.assertTrue(all(s <= 3 for s in sizes), sizes)
        self.assertGreaterEqual(len(sizes), 3, sizes)
        doc = self.aws_ok("ecs", "list-services", "--cluster", CLUSTER, "--page-size", "2")
        self.assertEqual(sorted(doc["serviceArns"]), sorted(svc_arn(CLUSTER, n) for n in names))

    def test_list_services_filters_by_cluster_and_launch_type(self):
        ecs = self.ecs()
        ecs.create_cluster(clusterName="second")
        self.create_service("one")
        self.create_service("two", cluster="second")
        self.assertEqual(ecs.list_services(cluster=CLUSTER)["serviceArns"], [svc_arn(CLUSTER, "one")])
        self.assertEqual(ecs.list_services(cluster="second")["serviceArns"], [svc_arn("second", "two")])
        self.assertEqual(ecs.list_services(cluster=CLUSTER, launchType="EC2")["serviceArns"], [])
        self.assertEqual(ecs.list_services(cluster=CLUSTER, launchType="FARGATE")["serviceArns"],
                         [svc_arn(CLUSTER, "one")])

    def test_list_services_unknown_cluster(self):
        self.assertClientError("ClusterNotFoundException", self.ecs().list_services, cluster="nope")


class UpdateServiceTest(ServiceTestCase):
    def test_update_desired_count(self):
        self.create_service("scale", desired=0)
        svc = self.ecs().update_service(cluster=CLUSTER, service="scale", desiredCount=3)["service"]
        self.assertEqual(svc["desiredCount"], 3)
        self.assertEqual(self.describe("scale")["desiredCount"], 3)
        doc = self.aws_ok("ecs", "update-service", "--cluster", CLUSTER, "--service", "scale", "--desired-count", "0")
        self.assertEqual(doc["service"]["desiredCount"], 0)
        self.assertEqual(self.describe("scale")["desiredCount"], 0)

    def test_update_task_definition_starts_new_deployment(self):
        old = self.create_service("roll", task_definition="web:1", desired=1)
        (old_dep,) = old["deployments"]

        svc = self.ecs().update_service(cluster=CLUSTER, service="roll", taskDefinition="web:2")["service"]
        self.assertEqual(svc["taskDefinition"], td_arn("web", 2))
        by_status = {}
        for dep in svc["deployments"]:
            by_status.setdefault(dep["status"], []).append(dep)
        self.assertEqual(len(by_status.get("PRIMARY", [])), 1, svc["deployments"])
        primary = by_status["PRIMARY"][0]
        self.assertEqual(primary["taskDefinition"], td_arn("web", 2))
        self.assertNotEqual(primary["id"], old_dep["id"])
        active = [d for d in by_status.get("ACTIVE", []) if d["id"] == old_dep["id"]]
        self.assertEqual(len(active), 1, f"old deployment not ACTIVE: {svc['deployments']}")
        self.assertEqual(active[0]["taskDefinition"], td_arn("web", 1))

    def test_update_with_family_resolves_latest(self):
        self.create_service("fam", task_definition="web:1")
        svc = self.ecs().update_service(cluster=CLUSTER, service="fam", taskDefinition="web")["service"]
        self.assertEqual(svc["taskDefinition"], td_arn("web", 2))

    def test_update_unknown_service_and_cluster(self):
        ecs = self.ecs()
        self.assertClientError("ServiceNotFoundException", ecs.update_service,
                               cluster=CLUSTER, service="ghost", desiredCount=1)
        self.assertClientError("ClusterNotFoundException", ecs.update_service,
                               cluster="no-cluster", service="ghost", desiredCount=1)
        self.aws_err("ServiceNotFoundException", "ecs", "update-service", "--cluster", CLUSTER,
                     "--service", "ghost", "--desired-count", "1")


class DeleteServiceTest(ServiceTestCase):
    def test_delete_refused_while_scaled_up(self):
        self.create_service("busy", desired=2)
        self.assertClientError(
            "InvalidParameterException", self.ecs().delete_service, cluster=CLUSTER, service="busy",
            message="The service cannot be stopped while it is scaled above 0.",
        )
        self.assertEqual(self.describe("busy")["status"], "ACTIVE")
        err = self.aws_err("InvalidParameterException", "ecs", "delete-service", "--cluster", CLUSTER,
                           "--service", "busy")
        self.assertIn("The service cannot be stopped while it is scaled above 0.", err)

    def test_force_delete(self):
        self.create_service("forced", desired=2)
        doc = self.aws_ok("ecs", "delete-service", "--cluster", CLUSTER, "--service", "forced", "--force")
        self.assertIn(doc["service"]["status"], ("DRAINING", "INACTIVE"))
        self.assertEqual(doc["service"]["serviceArn"], svc_arn(CLUSTER, "forced"))
        self.wait_inactive("forced")

    def test_delete_after_scaling_to_zero(self):
        ecs = self.ecs()
        self.create_service("gone", desired=1)
        ecs.update_service(cluster=CLUSTER, service="gone", desiredCount=0)
        svc = ecs.delete_service(cluster=CLUSTER, service="gone")["service"]
        self.assertIn(svc["status"], ("DRAINING", "INACTIVE"))
        self.wait_inactive("gone")

        # A deleted service is still described (INACTIVE), not reported as a failure ...
        resp = ecs.describe_services(cluster=CLUSTER, services=["gone"])
        self.assertEqual(resp["failures"], [])
        self.assertEqual([s["status"] for s in resp["services"]], ["INACTIVE"])
        # ... but it is not listed, and it cannot be updated.
        self.assertEqual(ecs.list_services(cluster=CLUSTER)["serviceArns"], [])
        from botocore.exceptions import ClientError

        with self.assertRaises(ClientError) as ctx:
            ecs.update_service(cluster=CLUSTER, service="gone", desiredCount=1)
        self.assertIn(ctx.exception.response["Error"]["Code"], ("ServiceNotActiveException", "ServiceNotFoundException"))

        # Once INACTIVE the name can be used again.
        again = self.create_service("gone")
        self.assertEqual(again["status"], "ACTIVE")
        self.assertEqual(self.describe("gone")["status"], "ACTIVE")

    def test_delete_unknown(self):
        ecs = self.ecs()
        self.assertClientError("ServiceNotFoundException", ecs.delete_service, cluster=CLUSTER, service="ghost")
        self.assertClientError("ClusterNotFoundException", ecs.delete_service, cluster="no-cluster", service="ghost")


class ServiceTagsTest(ServiceTestCase):
    def test_tags(self):
        ecs = self.ecs()
        arn = self.create_service("tagged", tags=[{"key": "team", "value": "api"}])["serviceArn"]
        self.assertEqual(tags_dict(ecs.list_tags_for_resource(resourceArn=arn)["tags"]), {"team": "api"})
        ecs.tag_resource(resourceArn=arn, tags=[{"key": "tier", "value": "gold"}])
        self.assertEqual(tags_dict(ecs.list_tags_for_resource(resourceArn=arn)["tags"]),
                         {"team": "api", "tier": "gold"})
        ecs.untag_resource(resourceArn=arn, tagKeys=["team"])
        self.assertEqual(tags_dict(ecs.list_tags_for_resource(resourceArn=arn)["tags"]), {"tier": "gold"})
        described = self.describe("tagged", include=["TAGS"])
        self.assertEqual(tags_dict(described.get("tags")), {"tier": "gold"})


if __name__ == "__main__":
    main()
