"""ECS task definitions: full round trip through the CLI, revisions, describe/list/deregister/delete, validation."""

import copy
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from ecsd_harness import (  # noqa: E402
    ACCOUNT_ID,
    EcsdTestCase,
    assert_subset,
    ec2_task_definition,
    fargate_task_definition,
    main,
    paginate,
    tags_dict,
    td_arn,
)

# A realistic Fargate task definition using most container definition fields; every member given here must
# come back unchanged from DescribeTaskDefinition (ECS may add defaults next to them).
FULL_FARGATE_TD = {
    "family": "web-app",
    "taskRoleArn": f"arn:aws:iam::{ACCOUNT_ID}:role/web-app-task",
    "executionRoleArn": f"arn:aws:iam::{ACCOUNT_ID}:role/ecsTaskExecutionRole",
    "networkMode": "awsvpc",
    "requiresCompatibilities": ["FARGATE"],
    "cpu": "1024",
    "memory": "2048",
    "runtimePlatform": {"cpuArchitecture": "X86_64", "operatingSystemFamily": "LINUX"},
    "ephemeralStorage": {"sizeInGiB": 40},
    "volumes": [
        {"name": "shared-data"},
        {
            "name": "efs-data",
            "efsVolumeConfiguration": {
                "fileSystemId": "fs-0123456789abcdef0",
                "rootDirectory": "/",
                "transitEncryption": "ENABLED",
                "transitEncryptionPort": 2999,
                "authorizationConfig": {"accessPointId": "fsap-0123456789abcdef0", "iam": "ENABLED"},
            },
        },
    ],
    "containerDefinitions": [
        {
            "name": "web",
            "image": "public.ecr.aws/nginx/nginx:1.25-alpine",
            "cpu": 512,
            "memory": 1024,
            "memoryReservation": 512,
            "essential": True,
            "portMappings": [
                {"containerPort": 8080, "hostPort": 8080, "protocol": "tcp", "name": "web-http", "appProtocol": "http"},
                {"containerPort": 9090, "hostPort": 9090, "protocol": "udp"},
            ],
            "entryPoint": ["/docker-entrypoint.sh"],
            "command": ["nginx", "-g", "daemon off;"],
            "workingDirectory": "/usr/share/nginx",
            "environment": [
                {"name": "APP_ENV", "value": "production"},
                {"name": "LOG_LEVEL", "value": "info"},
                {"name": "PORT", "value": "8080"},
            ],
            "environmentFiles": [{"value": "arn:aws:s3:::example-config-bucket/web.env", "type": "s3"}],
            "secrets": [
                {"name": "API_KEY", "valueFrom": f"arn:aws:ssm:us-east-1:{ACCOUNT_ID}:parameter/web/api-key"},
                {
                    "name": "DB_PASSWORD",
                    "valueFrom": f"arn:aws:secretsmanager:us-east-1:{ACCOUNT_ID}:secret:web/db-AbCdEf",
                },
            ],
            "mountPoints": [
                {"sourceVolume": "shared-data", "containerPath": "/usr/share/nginx/html", "readOnly": True},
                {"sourceVolume": "efs-data", "containerPath": "/mnt/efs", "readOnly": False},
            ],
            "dependsOn": [
                {"containerName": "init", "condition": "SUCCESS"},
                {"containerName": "log-router", "condition": "START"},
            ],
            "startTimeout": 120,
            "stopTimeout": 30,
            "user": "101:101",
            "readonlyRootFilesystem": False,
            "ulimits": [{"name": "nofile", "softLimit": 65536, "hardLimit": 65536}],
            "logConfiguration": {
                "logDriver": "awslogs",
                "options": {
                    "awslogs-group": "/ecs/web-app",
                    "awslogs-region": "us-east-1",
                    "awslogs-stream-prefix": "web",
                    "awslogs-create-group": "true",
                },
            },
            "healthCheck": {
                "command": ["CMD-SHELL", "wget -q -O /dev/null http://localhost:8080/ || exit 1"],
                "interval": 15,
                "timeout": 5,
                "retries": 3,
                "startPeriod": 30,
            },
            "dockerLabels": {"com.example.service": "web", "com.example.team": "platform"},
            "linuxParameters": {
                "initProcessEnabled": True,
                "capabilities": {"add": ["SYS_PTRACE"], "drop": ["NET_RAW", "MKNOD"]},
            },
            "systemControls": [{"namespace": "net.core.somaxconn", "value": "1024"}],
            "restartPolicy": {"enabled": True, "ignoredExitCodes": [0], "restartAttemptPeriod": 180},
            "interactive": False,
            "pseudoTerminal": False,
        },
        {
            "name": "init",
            "image": "public.ecr.aws/docker/library/busybox:1.36",
            "cpu": 0,
            "memoryReservation": 64,
            "essential": False,
            "command": ["sh", "-c", "echo ready > /data/index.html"],
            "mountPoints": [{"sourceVolume": "shared-data", "containerPath": "/data", "readOnly": False}],
            "logConfiguration": {
                "logDriver": "awslogs",
                "options": {"awslogs-group": "/ecs/web-app", "awslogs-region": "us-east-1", "awslogs-stream-prefix": "init"},
            },
        },
        {
            "name": "log-router",
            "image": "public.ecr.aws/aws-observability/aws-for-fluent-bit:stable",
            "memoryReservation": 50,
            "essential": True,
            "user": "0",
            "firelensConfiguration": {"type": "fluentbit", "options": {"enable-ecs-log-metadata": "true"}},
        },
    ],
    "tags": [{"key": "app", "value": "web"}, {"key": "env", "value": "prod"}],
}

# EC2/bridge-only members, registered through boto3.
FULL_EC2_TD = {
    "family": "worker",
    "networkMode": "bridge",
    "requiresCompatibilities": ["EC2"],
    "ipcMode": "task",
    "pidMode": "task",
    "memory": "1024",
    "placementConstraints": [{"type": "memberOf", "expression": "attribute:ecs.instance-type =~ t3.*"}],
    "volumes": [
        {"name": "host-logs", "host": {"sourcePath": "/var/log/worker"}},
        {
            "name": "scratch",
            "dockerVolumeConfiguration": {
                "scope": "shared",
                "autoprovision": True,
                "driver": "local",
                "driverOpts": {"type": "tmpfs", "device": "tmpfs"},
                "labels": {"purpose": "scratch"},
            },
        },
    ],
    "containerDefinitions": [
        {
            "name": "worker",
            "image": "registry.example.com/team/worker:2.3.1",
            "repositoryCredentials": {
                "credentialsParameter": f"arn:aws:secretsmanager:us-east-1:{ACCOUNT_ID}:secret:registry-creds-AbCdEf"
            },
            "cpu": 256,
            "memory": 512,
            "essential": True,
            "links": ["cache:redis"],
            "hostname": "worker-1",
            "extraHosts": [{"hostname": "db.internal", "ipAddress": "10.0.0.10"}],
            "dnsServers": ["10.0.0.2"],
            "dnsSearchDomains": ["svc.internal"],
            "privileged": False,
            "dockerSecurityOptions": ["no-new-privileges"],
            "portMappings": [{"containerPort": 8000, "hostPort": 0, "protocol": "tcp"}],
            "mountPoints": [
                {"sourceVolume": "host-logs", "containerPath": "/var/log/app", "readOnly": False},
                {"sourceVolume": "scratch", "containerPath": "/scratch", "readOnly": False},
            ],
            "volumesFrom": [{"sourceContainer": "cache", "readOnly": True}],
            "linuxParameters": {
                "sharedMemorySize": 128,
                "tmpfs": [{"containerPath": "/tmp", "size": 64, "mountOptions": ["rw", "noexec"]}],
                "devices": [{"hostPath": "/dev/fuse", "containerPath": "/dev/fuse", "permissions": ["read", "write"]}],
                "maxSwap": 256,
                "swappiness": 10,
            },
            "logConfiguration": {"logDriver": "json-file", "options": {"max-size": "10m", "max-file": "3"}},
            "resourceRequirements": [{"type": "GPU", "value": "1"}],
        },
        {"name": "cache", "image": "redis:7-alpine", "memory": 256, "essential": False},
    ],
}


class TaskDefinitionRoundTripTest(EcsdTestCase):
    def assert_round_trip(self, given, td):
        for key, value in given.items():
            if key == "tags":
                continue
            self.assertIn(key, td, f"{key} missing from the task definition")
            assert_subset(self, value, td[key], f"taskDefinition.{key}")

    def test_register_full_definition_with_cli_input_json(self):
        path = os.path.join(self.cli_dir(), "td.json")
        with open(path, "w") as f:
            json.dump(FULL_FARGATE_TD, f, indent=2)

        doc = self.aws_ok("ecs", "register-task-definition", "--cli-input-json", "file://td.json")
        td = doc["taskDefinition"]
        self.assertEqual(td["taskDefinitionArn"], td_arn("web-app", 1))
        self.assertEqual(td["family"], "web-app")
        self.assertEqual(td["revision"], 1)
        self.assertEqual(td["status"], "ACTIVE")
        self.assertIn("registeredAt", td)
        self.assertIn("FARGATE", td.get("compatibilities", []))
        self.assertEqual(tags_dict(doc.get("tags")), {"app": "web", "env": "prod"})
        self.assert_round_trip(FULL_FARGATE_TD, td)

        doc = self.aws_ok("ecs", "describe-task-definition", "--task-definition", "web-app", "--include", "TAGS")
        self.assert_round_trip(FULL_FARGATE_TD, doc["taskDefinition"])
        self.assertEqual(doc["taskDefinition"]["revision"], 1)
        self.assertEqual(tags_dict(doc.get("tags")), {"app": "web", "env": "prod"})

        # The same through boto3: the parsed response also carries every member.
        resp = self.ecs().describe_task_definition(taskDefinition="web-app:1")
        self.assert_round_trip(FULL_FARGATE_TD, resp["taskDefinition"])

    def test_register_full_ec2_definition(self):
        ecs = self.ecs()
        td = ecs.register_task_definition(**FULL_EC2_TD)["taskDefinition"]
        self.assertEqual(td["taskDefinitionArn"], td_arn("worker", 1))
        self.assert_round_trip(FULL_EC2_TD, td)
        described = ecs.describe_task_definition(taskDefinition=td["taskDefinitionArn"])["taskDefinition"]
        self.assert_round_trip(FULL_EC2_TD, described)
        self.assertIn("EC2", described.get("compatibilities", []))

    def test_container_defaults_do_not_change_given_values(self):
        # Only members given are compared; a minimal definition must still describe cleanly.
        ecs = self.ecs()
        given = ec2_task_definition("minimal")
        td = ecs.register_task_definition(**given)["taskDefinition"]
        self.assert_round_trip(given, td)
        (container,) = td["containerDefinitions"]
        self.assertTrue(container.get("essential", True))


class TaskDefinitionRevisionsTest(EcsdTestCase):
    def test_revisions_increment_per_family(self):
        ecs = self.ecs()
        revs = [ecs.register_task_definition(**ec2_task_definition("fam-a"))["taskDefinition"]["revision"]
                for _ in range(3)]
        self.assertEqual(revs, [1, 2, 3])
        other = ecs.register_task_definition(**ec2_task_definition("fam-b"))["taskDefinition"]
        self.assertEqual(other["revision"], 1)
        self.assertEqual(other["taskDefinitionArn"], td_arn("fam-b", 1))

    def test_describe_by_family_revision_and_arn(self):
        ecs = self.ecs()
        for image in ("img:1", "img:2", "img:3"):
            ecs.register_task_definition(**ec2_task_definition("desc", image=image))

        latest = ecs.describe_task_definition(taskDefinition="desc")["taskDefinition"]
        self.assertEqual(latest["revision"], 3)
        self.assertEqual(latest["containerDefinitions"][0]["image"], "img:3")

        second = ecs.describe_task_definition(taskDefinition="desc:2")["taskDefinition"]
        self.assertEqual(second["revision"], 2)
        self.assertEqual(second["containerDefinitions"][0]["image"], "img:2")

        first = ecs.describe_task_definition(taskDefinition=td_arn("desc", 1))["taskDefinition"]
        self.assertEqual(first["revision"], 1)
        self.assertEqual(first["taskDefinitionArn"], td_arn("desc", 1))

        # Without a revision, the latest ACTIVE revision is described.
        ecs.deregister_task_definition(taskDefinition="desc:3")
        self.assertEqual(ecs.describe_task_definition(taskDefinition="desc")["taskDefinition"]["revision"], 2)

    def test_describe_include_tags(self):
        ecs = self.ecs()
        resp = ecs.register_task_definition(
            **ec2_task_definition("tagged"), tags=[{"key": "team", "value": "a"}]
        )
        self.assertEqual(tags_dict(resp.get("tags")), {"team": "a"})
        resp = ecs.describe_task_definition(taskDefinition="tagged", include=["TAGS"])
        self.assertEqual(tags_dict(resp.get("tags")), {"team": "a"})
        arn = resp["taskDefinition"]["taskDefinitionArn"]
        self.assertEqual(tags_dict(ecs.list_tags_for_resource(resourceArn=arn)["tags"]), {"team": "a"})

    def test_describe_unknown(self):
        ecs = self.ecs()
        self.assertClientError(
            "ClientException", ecs.describe_task_definition, taskDefinition="no-such-family",
            message="Unable to describe task definition.",
        )
        ecs.register_task_definition(**ec2_task_definition("exists"))
        self.assertClientError(
            "ClientException", ecs.describe_task_definition, taskDefinition="exists:99",
            message="Unable to describe task definition.",
        )
        err = self.aws_err(
            "ClientException", "ecs", "describe-task-definition", "--task-definition", "no-such-family"
        )
        self.assertIn("Unable to describe task definition.", err)


class TaskDefinitionListTest(EcsdTestCase):
    def register(self, family, n):
        ecs = self.ecs()
        return [ecs.register_task_definition(**ec2_task_definition(family))["taskDefinition"]["taskDefinitionArn"]
                for _ in range(n)]

    def test_list_filters_and_sort(self):
        ecs = self.ecs()
        alpha = self.register("alpha", 3)
        alphabet = self.register("alphabet", 1)
        beta = self.register("beta", 2)

        # Default: ACTIVE, ASC = by family name, then ascending revision.
        arns, _ = paginate(ecs.list_task_definitions, "taskDefinitionArns")
        self.assertEqual(arns, alpha + alphabet + beta)

        # familyPrefix is the full family name for ListTaskDefinitions ("alpha" does not match "alphabet").
        arns, _ = paginate(ecs.list_task_definitions, "taskDefinitionArns", familyPrefix="alpha")
        self.assertEqual(arns, alpha)
        arns, _ = paginate(ecs.list_task_definitions, "taskDefinitionArns", familyPrefix="alpha", sort="DESC")
        self.assertEqual(arns, list(reversed(alpha)))

        ecs.deregister_task_definition(taskDefinition="alpha:2")
        arns, _ = paginate(ecs.list_task_definitions, "taskDefinitionArns", familyPrefix="alpha")
        self.assertEqual(arns, [alpha[0], alpha[2]])
        arns, _ = paginate(ecs.list_task_definitions, "taskDefinitionArns", familyPrefix="alpha", status="INACTIVE")
        self.assertEqual(arns, [alpha[1]])
        arns, _ = paginate(ecs.list_task_definitions, "taskDefinitionArns", status="INACTIVE")
        self.assertEqual(arns, [alpha[1]])

    def test_list_pagination(self):
        ecs = self.ecs()
        expected = self.register("paged", 7)
        arns, sizes = paginate(ecs.list_task_definitions, "taskDefinitionArns", familyPrefix="paged", maxResults=3)
        self.assertEqual(arns, expected)
        self.assertEqual(sizes, [3, 3, 1])

    def test_list_families(self):
        ecs = self.ecs()
        self.register("svc-api", 2)
        self.register("svc-worker", 1)
        self.register("batch", 1)
        ecs.deregister_task_definition(taskDefinition="batch:1")

        def families(**kw):
            items, _ = paginate(ecs.list_task_definition_families, "families", **kw)
            return sorted(items)

        # Without status, families with and without ACTIVE revisions are both listed.
        self.assertEqual(families(), ["batch", "svc-api", "svc-worker"])
        self.assertEqual(families(status="ACTIVE"), ["svc-api", "svc-worker"])
        self.assertEqual(families(status="INACTIVE"), ["batch"])
        # Here familyPrefix really is a prefix.
        self.assertEqual(families(familyPrefix="svc-"), ["svc-api", "svc-worker"])
        self.assertEqual(families(familyPrefix="svc-", maxResults=1), ["svc-api", "svc-worker"])

        doc = self.aws_ok("ecs", "list-task-definition-families", "--family-prefix", "svc", "--status", "ACTIVE")
        self.assertEqual(sorted(doc["families"]), ["svc-api", "svc-worker"])

    def test_invalid_next_token(self):
        from botocore.exceptions import ClientError

        self.register("tok", 2)
        with self.assertRaises(ClientError) as ctx:
            self.ecs().list_task_definitions(nextToken="garbage-token")
        self.assertEqual(ctx.exception.response["ResponseMetadata"]["HTTPStatusCode"], 400)
        self.assertIn(ctx.exception.response["Error"]["Code"], ("InvalidParameterException", "ClientException"))

    def test_list_empty(self):
        resp = self.ecs().list_task_definitions()
        self.assertEqual(resp["taskDefinitionArns"], [])
        self.assertNotIn("nextToken", resp)


class TaskDefinitionManyRevisionsTest(EcsdTestCase):
    def test_cli_auto_paginates_past_100(self):
        ecs = self.ecs()
        for i in range(105):
            td = ecs.register_task_definition(**ec2_task_definition("many"))["taskDefinition"]
            self.assertEqual(td["revision"], i + 1)
        expected = [td_arn("many", r) for r in range(1, 106)]

        # One page is at most 100 (ECS's default and maximum page size).
        first = ecs.list_task_definitions(familyPrefix="many")
        self.assertLessEqual(len(first["taskDefinitionArns"]), 100)
        self.assertIn("nextToken", first)

        # The aws CLI follows nextToken on its own.
        doc = self.aws_ok("ecs", "list-task-definitions")
        self.assertEqual(doc["taskDefinitionArns"], expected)
        self.assertNotIn("nextToken", doc)
        doc = self.aws_ok("ecs", "list-task-definitions", "--family-prefix", "many", "--sort", "DESC")
        self.assertEqual(doc["taskDefinitionArns"], list(reversed(expected)))
        doc = self.aws_ok("ecs", "list-task-definitions", "--family-prefix", "many", "--page-size", "30")
        self.assertEqual(doc["taskDefinitionArns"], expected)


class TaskDefinitionLifecycleTest(EcsdTestCase):
    def test_deregister(self):
        ecs = self.ecs()
        ecs.register_task_definition(**ec2_task_definition("dereg"))
        td = ecs.deregister_task_definition(taskDefinition="dereg:1")["taskDefinition"]
        self.assertEqual(td["status"], "INACTIVE")
        self.assertEqual(td["taskDefinitionArn"], td_arn("dereg", 1))
        self.assertIn("deregisteredAt", td)
        # Still describable by revision.
        described = ecs.describe_task_definition(taskDefinition="dereg:1")["taskDefinition"]
        self.assertEqual(described["status"], "INACTIVE")
        # Registering again continues the revision sequence.
        self.assertEqual(ecs.register_task_definition(**ec2_task_definition("dereg"))["taskDefinition"]["revision"], 2)

        doc = self.aws_ok("ecs", "deregister-task-definition", "--task-definition", "dereg:2")
        self.assertEqual(doc["taskDefinition"]["status"], "INACTIVE")

    def test_deregister_unknown(self):
        from botocore.exceptions import ClientError

        with self.assertRaises(ClientError) as ctx:
            self.ecs().deregister_task_definition(taskDefinition="ghost:1")
        self.assertIn(ctx.exception.response["Error"]["Code"], ("ClientException", "InvalidParameterException"))
        self.assertEqual(ctx.exception.response["ResponseMetadata"]["HTTPStatusCode"], 400)

    def test_delete_task_definitions(self):
        from botocore.exceptions import ClientError

        ecs = self.ecs()
        for _ in range(3):
            ecs.register_task_definition(**ec2_task_definition("del"))
        ecs.deregister_task_definition(taskDefinition="del:1")
        ecs.deregister_task_definition(taskDefinition="del:2")

        resp = ecs.delete_task_definitions(taskDefinitions=["del:1", td_arn("del", 2)])
        self.assertEqual(resp.get("failures", []), [])
        deleted = sorted(resp["taskDefinitions"], key=lambda t: t["revision"])
        self.assertEqual([t["taskDefinitionArn"] for t in deleted], [td_arn("del", 1), td_arn("del", 2)])
        for t in deleted:
            self.assertEqual(t["status"], "DELETE_IN_PROGRESS")

        # An ACTIVE revision is not deleted (reported as a failure or refused outright).
        try:
            resp = ecs.delete_task_definitions(taskDefinitions=["del:3"])
            self.assertEqual(resp.get("taskDefinitions", []), [])
            self.assertEqual(len(resp["failures"]), 1, resp)
            self.assertTrue(resp["failures"][0]["arn"].endswith("del:3"), resp)
        except ClientError as exc:
            self.assertIn(exc.response["Error"]["Code"], ("ClientException", "InvalidParameterException"))
        self.assertEqual(ecs.describe_task_definition(taskDefinition="del:3")["taskDefinition"]["status"], "ACTIVE")

        # Deleted revisions are not ACTIVE or INACTIVE any more; revision numbers are never reused.
        inactive, _ = paginate(ecs.list_task_definitions, "taskDefinitionArns", familyPrefix="del", status="INACTIVE")
        self.assertEqual(inactive, [])
        self.assertEqual(ecs.register_task_definition(**ec2_task_definition("del"))["taskDefinition"]["revision"], 4)


class FargateValidationTest(EcsdTestCase):
    def test_fargate_requires_awsvpc(self):
        ecs = self.ecs()
        args = fargate_task_definition("fg-net", networkMode="bridge")
        self.assertClientError("ClientException", ecs.register_task_definition, message="awsvpc", **args)
        args = fargate_task_definition("fg-net")
        del args["networkMode"]
        self.assertClientError("ClientException", ecs.register_task_definition, message="awsvpc", **args)

    def test_fargate_requires_task_cpu_and_memory(self):
        ecs = self.ecs()
        args = fargate_task_definition("fg-size")
        del args["cpu"]
        self.assertClientError("ClientException", ecs.register_task_definition, message="cpu", **args)
        args = fargate_task_definition("fg-size")
        del args["memory"]
        self.assertClientError("ClientException", ecs.register_task_definition, message="memory", **args)

    def test_invalid_fargate_cpu_memory_combinations(self):
        ecs = self.ecs()
        for cpu, memory in (("256", "4096"), ("512", "512"), ("1024", "1024"), ("4096", "4096"), ("300", "512")):
            with self.subTest(cpu=cpu, memory=memory):
                self.assertClientError(
                    "ClientException", ecs.register_task_definition,
                    message="No Fargate configuration exists for given values",
                    **fargate_task_definition("fg-combo", cpu=cpu, memory=memory),
                )
        self.assertEqual(ecs.list_task_definitions(familyPrefix="fg-combo")["taskDefinitionArns"], [])

    def test_valid_fargate_cpu_memory_combinations(self):
        ecs = self.ecs()
        combos = (("256", "512"), ("256", "2048"), ("512", "4096"), ("1024", "3072"), ("2048", "16384"),
                  ("4096", "30720"))
        for i, (cpu, memory) in enumerate(combos, start=1):
            with self.subTest(cpu=cpu, memory=memory):
                td = ecs.register_task_definition(**fargate_task_definition("fg-ok", cpu=cpu, memory=memory))
                td = td["taskDefinition"]
                self.assertEqual((td["cpu"], td["memory"]), (cpu, memory))
                self.assertEqual(td["revision"], i)
                self.assertEqual(td["networkMode"], "awsvpc")
                self.assertEqual(td["requiresCompatibilities"], ["FARGATE"])

    def test_ec2_container_needs_memory(self):
        args = ec2_task_definition("no-mem")
        del args["containerDefinitions"][0]["memory"]
        self.assertClientError("ClientException", self.ecs().register_task_definition, message="memory", **args)

    def test_invalid_fargate_with_cli(self):
        body = copy.deepcopy(fargate_task_definition("fg-cli", cpu="256", memory="8192"))
        err = self.aws_err("ClientException", "ecs", "register-task-definition", "--cli-input-json", json.dumps(body))
        self.assertIn("No Fargate configuration exists for given values", err)


if __name__ == "__main__":
    main()
