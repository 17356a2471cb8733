"""The task metadata endpoint and task role credentials, seen from inside real containers: the variables
ECS sets, v4 (and v3) task and container documents fetched with wget in the container, stats, and the
credentials document, whose keys ecsd accepts and recognises as the task role, including through
botocore's own container credential provider."""

import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from ecsd_harness import (  # noqa: E402
    AWSVPC_NETWORK,
    DockerTestCase,
    busybox_container,
    docker,
    main,
    make_client,
)

CLUSTER = "meta"
ROLE = "arn:aws:iam::000000000000:role/app-task-role"


class TaskMetadataTest(DockerTestCase):
    def setUp(self):
        super().setUp()
        self.ecs().create_cluster(clusterName=CLUSTER)

    def running(self, family, network_mode="bridge", **extra):
        self.ecs().register_task_definition(
            family=family, networkMode=network_mode,
            containerDefinitions=[busybox_container("app", "sleep 600"), busybox_container("side", "sleep 600")],
            **extra)
        kw = {"networkConfiguration": AWSVPC_NETWORK} if network_mode == "awsvpc" else {}
        arn = self.run_task(CLUSTER, family, **kw)["taskArn"]
        task = self.wait_task(CLUSTER, arn, last_status="RUNNING")
        return task, self.container_of(task)["runtimeId"]

    def env(self, cid):
        return dict(line.split("=", 1) for line in docker("exec", cid, "env").splitlines() if "=" in line)

    def fetch(self, cid, variable, suffix=""):
        """wget inside the container (no -T: busybox wget -T crashes)."""
        out = docker("exec", cid, "sh", "-c", f'wget -qO- "${variable}{suffix}"')
        return json.loads(out)

    def test_v4_and_v3_documents_from_inside_the_container(self):
        task, cid = self.running("meta-bridge")
        env = self.env(cid)
        for name in ("ECS_CONTAINER_METADATA_URI", "ECS_CONTAINER_METADATA_URI_V4", "ECS_AGENT_URI"):
            self.assertIn(name, env)
        self.assertEqual(env["AWS_REGION"], "us-east-1")
        self.assertEqual(env["AWS_DEFAULT_REGION"], "us-east-1")
        self.assertNotIn("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", env)  # no taskRoleArn
        self.assertIn("/v4/", env["ECS_CONTAINER_METADATA_URI_V4"])
        self.assertNotIn("127.0.0.1", env["ECS_CONTAINER_METADATA_URI_V4"])

        doc = self.fetch(cid, "ECS_CONTAINER_METADATA_URI_V4", "/task")
        self.assertEqual(doc["TaskARN"], task["taskArn"])
        self.assertEqual(doc["Cluster"], task["clusterArn"])
        self.assertEqual(doc["Family"], "meta-bridge")
        self.assertEqual(doc["Revision"], "1")
        self.assertEqual(doc["KnownStatus"], "RUNNING")
        self.assertEqual(doc["DesiredStatus"], "RUNNING")
        self.assertEqual(doc["LaunchType"], "EC2")
        self.assertEqual(doc["AvailabilityZone"], "us-east-1a")
        by_name = {c["Name"]: c for c in doc["Containers"]}
        self.assertEqual(set(by_name), {"app", "side"})
        app = by_name["app"]
        self.assertEqual(app["DockerId"], cid)
        self.assertTrue(app["DockerName"].startswith("ecs-meta-bridge-1-app-"), app["DockerName"])
        self.assertTrue(app["ImageID"].startswith("sha256:"))
        self.assertEqual(app["Labels"]["com.amazonaws.ecs.task-arn"], task["taskArn"])
        self.assertEqual(app["KnownStatus"], "RUNNING")
        self.assertEqual(app["Limits"]["Memory"], 32)
        self.assertIn("StartedAt", app)
        self.assertEqual(app["Networks"][0]["NetworkMode"], "bridge")
        self.assertTrue(app["Networks"][0]["IPv4Addresses"])

        mine = self.fetch(cid, "ECS_CONTAINER_METADATA_URI_V4")
        self.assertEqual(mine["Name"], "app")
        self.assertEqual(mine["DockerId"], cid)
        side = self.container_of(task, "side")["runtimeId"]
        self.assertEqual(self.fetch(side, "ECS_CONTAINER_METADATA_URI_V4")["Name"], "side")
        v3 = self.fetch(cid, "ECS_CONTAINER_METADATA_URI", "/task")
        self.assertEqual(v3["TaskARN"], task["taskArn"])
        self.assertNotIn("LaunchType", v3)

        stats = self.fetch(cid, "ECS_CONTAINER_METADATA_URI_V4", "/stats")
        self.assertIn("memory_stats", stats)
        task_stats = self.fetch(cid, "ECS_CONTAINER_METADATA_URI_V4", "/task/stats")
        self.assertEqual(set(task_stats), {cid, side})

        # Another task's container cannot guess this one's path.
        bad = subprocess.run(["docker", "exec", cid, "sh", "-c",
                              'wget -qO- "${ECS_CONTAINER_METADATA_URI_V4%/*}/not-a-token/task"'],
                             capture_output=True, text=True)
        self.assertNotEqual(bad.returncode, 0)

    def test_awsvpc_task_reaches_the_endpoint_on_its_subnet_network(self):
        task, cid = self.running("meta-vpc", network_mode="awsvpc", requiresCompatibilities=["EC2"],
                                 taskRoleArn=ROLE)
        doc = self.fetch(cid, "ECS_CONTAINER_METADATA_URI_V4", "/task")
        if os.geteuid() == 0:  # both containers share the task's namespace and its 169.254.170.2
            for c in task["containers"]:
                creds = json.loads(docker("exec", c["runtimeId"], "sh", "-c",
                                          'wget -qO- "http://169.254.170.2$AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"'))
                self.assertEqual(creds["RoleArn"], ROLE)
        self.assertEqual(doc["TaskARN"], task["taskArn"])
        net = {c["Name"]: c for c in doc["Containers"]}["app"]["Networks"][0]
        self.assertEqual(net["NetworkMode"], "awsvpc")
        private_ip = [d["value"] for d in task["attachments"][0]["details"] if d["name"] == "privateIPv4Address"]
        self.assertEqual(net["IPv4Addresses"], private_ip)

    def test_endpoint_answers_again_after_an_ecsd_restart(self):
        task, cid = self.running("meta-restart", taskRoleArn=ROLE)
        before = self.fetch(cid, "AWS_CONTAINER_CREDENTIALS_FULL_URI")
        self.daemon.restart(hard=True)  # the container keeps running with the URLs it was given
        doc = self.fetch(cid, "ECS_CONTAINER_METADATA_URI_V4", "/task")
        self.assertEqual(doc["TaskARN"], task["taskArn"])
        self.assertEqual(self.fetch(cid, "AWS_CONTAINER_CREDENTIALS_FULL_URI")["AccessKeyId"], before["AccessKeyId"])

    def test_task_role_credentials(self):
        task, cid = self.running("meta-role", taskRoleArn=ROLE)
        env = self.env(cid)
        relative = env["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"]
        self.assertTrue(relative.startswith("/v2/credentials/"), relative)
        self.assertTrue(env["AWS_CONTAINER_CREDENTIALS_FULL_URI"].endswith(relative))
        creds = self.fetch(cid, "AWS_CONTAINER_CREDENTIALS_FULL_URI")
        self.assertEqual(set(creds), {"AccessKeyId", "SecretAccessKey", "Token", "Expiration", "RoleArn"})
        self.assertEqual(creds["RoleArn"], ROLE)
        self.assertTrue(creds["AccessKeyId"].startswith("ASIA"))
        self.assertRegex(creds["Expiration"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
        self.assertEqual(self.fetch(cid, "AWS_CONTAINER_CREDENTIALS_FULL_URI")["AccessKeyId"],
                         creds["AccessKeyId"])  # stable for the task
        if os.geteuid() == 0:
            # Where SDKs look: 169.254.170.2 + the relative URI, served inside the container's namespace.
            link_local = json.loads(docker("exec", cid, "sh", "-c",
                                           'wget -qO- "http://169.254.170.2$AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"'))
            self.assertEqual(link_local["AccessKeyId"], creds["AccessKeyId"])
            side = self.container_of(task, "side")["runtimeId"]
            self.assertEqual(self.fetch(side, "AWS_CONTAINER_CREDENTIALS_FULL_URI")["RoleArn"], ROLE)
            on_side = json.loads(docker("exec", side, "sh", "-c",
                                        'wget -qO- "http://169.254.170.2$AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"'))
            self.assertEqual(on_side["AccessKeyId"], creds["AccessKeyId"])
            if shutil.which("nsenter"):
                # botocore's own credential chain, run in the container's network namespace with only
                # the variable ECS sets: it resolves the relative URI against 169.254.170.2.
                pid = docker("inspect", "-f", "{{.State.Pid}}", cid)
                ns_env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
                ns_env.update(AWS_CONTAINER_CREDENTIALS_RELATIVE_URI=relative, AWS_CONFIG_FILE=os.devnull,
                              AWS_SHARED_CREDENTIALS_FILE=os.devnull, AWS_EC2_METADATA_DISABLED="true")
                probe = ("import boto3,json; c=boto3.session.Session().get_credentials().get_frozen_credentials(); "
                         "print(json.dumps([c.access_key, c.secret_key, c.token]))")
                out = subprocess.run(["nsenter", f"--net=/proc/{pid}/ns/net", sys.executable, "-c", probe],
                                     env=ns_env, capture_output=True, text=True, timeout=60)
                self.assertEqual(out.returncode, 0, out.stderr)
                self.assertEqual(json.loads(out.stdout), [creds["AccessKeyId"], creds["SecretAccessKey"],
                                                          creds["Token"]])

        # ecsd accepts the keys and knows them as the task role.
        import boto3
        sts = boto3.client("sts", endpoint_url=self.endpoint, region_name="us-east-1",
                           aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                           aws_session_token=creds["Token"])
        ident = sts.get_caller_identity()
        tid = task["taskArn"].rsplit("/", 1)[1]
        self.assertEqual(ident["Account"], "000000000000")
        self.assertEqual(ident["Arn"], f"arn:aws:sts::000000000000:assumed-role/app-task-role/{tid}")
        ecs = make_client(self.endpoint, "ecs", access_key=creds["AccessKeyId"], secret_key=creds["SecretAccessKey"])
        self.assertIn(task["clusterArn"], ecs.list_clusters()["clusterArns"])

        # botocore's own container provider, on the loopback listener of the same endpoint (botocore accepts
        # a full URI only on loopback or 169.254.170.2/23, so this runs on the host, not in busybox).
        port = env["AWS_CONTAINER_CREDENTIALS_FULL_URI"].split("://", 1)[1].split("/", 1)[0].rsplit(":", 1)[1]
        child_env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        child_env.update(AWS_CONTAINER_CREDENTIALS_FULL_URI=f"http://127.0.0.1:{port}{relative}",
                         AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull,
                         AWS_EC2_METADATA_DISABLED="true", NO_PROXY="127.0.0.1")
        script = ("import boto3,json; s=boto3.session.Session(); c=s.get_credentials(); "
                  f"print(json.dumps([c.method, c.access_key, s.client('sts', endpoint_url='{self.endpoint}', "
                  "region_name='us-east-1').get_caller_identity()['Arn']]))")
        out = subprocess.run([sys.executable, "-c", script], env=child_env, capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        method, key, arn = json.loads(out.stdout)
        self.assertEqual(method, "container-role")
        self.assertEqual(key, creds["AccessKeyId"])
        self.assertEqual(arn, f"arn:aws:sts::000000000000:assumed-role/app-task-role/{tid}")


if __name__ == "__main__":
    main()
