"""Container definition settings reach the real container: command, entryPoint, environment, user,
workingDirectory, dockerLabels, ulimits, readonlyRootFilesystem, volumes and mountPoints, overrides, the
memory hard limit (OOM kill), and the host policy for privileged containers and host paths."""

import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from ecsd_harness import (  # noqa: E402
    DockerTestCase,
    busybox_container,
    docker,
    docker_inspect,
    main,
)

CLUSTER = "config"
OOM_REASON = "OutOfMemoryError: Container killed due to memory usage"


class ContainerConfigTest(DockerTestCase):
    def setUp(self):
        super().setUp()
        self.ecs().create_cluster(clusterName=CLUSTER)

    def register(self, family, *containers, **extra):
        return self.ecs().register_task_definition(
            family=family, containerDefinitions=list(containers), **extra)["taskDefinition"]

    def run_to_completion(self, family, **kw):
        """Run a task whose essential container exits by itself; returns (task, container runtime id, logs)."""
        arn = self.run_task(CLUSTER, family, **kw)["taskArn"]
        task = self.wait_task(CLUSTER, arn, last_status="STOPPED")
        cid = self.container_of(task)["runtimeId"]
        return task, cid, docker("logs", cid)

    def test_command_environment_user_workdir_labels_ulimits(self):
        self.register("settings", busybox_container(
            entryPoint=["sh", "-c"],
            command=['echo "greeting=$GREETING region=$AWS_REGION uid=$(id -u) gid=$(id -g) pwd=$(pwd) '
                     'nofile=$(ulimit -n)"'],
            environment=[{"name": "GREETING", "value": "hello world"}],
            user="65534:65534",
            workingDirectory="/tmp",
            dockerLabels={"team": "core", "com.example.tier": "web"},
            ulimits=[{"name": "nofile", "softLimit": 1000, "hardLimit": 2000}],
        ))
        task, cid, logs = self.run_to_completion("settings")
        self.assertEqual(self.container_of(task)["exitCode"], 0, logs)
        self.assertEqual(logs, "greeting=hello world region=us-east-1 uid=65534 gid=65534 pwd=/tmp nofile=1000")
        info = docker_inspect(cid)
        self.assertEqual(info["Config"]["Entrypoint"], ["sh", "-c"])
        self.assertEqual(info["Config"]["User"], "65534:65534")
        self.assertEqual(info["Config"]["WorkingDir"], "/tmp")
        self.assertEqual(info["Config"]["Labels"]["team"], "core")
        self.assertEqual(info["Config"]["Labels"]["com.example.tier"], "web")
        self.assertEqual(info["HostConfig"]["Ulimits"], [{"Name": "nofile", "Soft": 1000, "Hard": 2000}])
        self.assertIn("GREETING=hello world", info["Config"]["Env"])
        # An essential container that exits 0 still ends the task.
        self.assertEqual(task["stopCode"], "EssentialContainerExited")

    def test_readonly_root_filesystem(self):
        self.register("readonly", busybox_container(
            command="if touch /probe 2>/dev/null; then echo writable; else echo readonly; fi; "
                    "touch /tmp/x 2>/dev/null && echo tmp-writable || echo tmp-readonly",
            readonlyRootFilesystem=True,
        ))
        _task, cid, logs = self.run_to_completion("readonly")
        self.assertEqual(logs.split(), ["readonly", "tmp-readonly"])
        self.assertTrue(docker_inspect(cid)["HostConfig"]["ReadonlyRootfs"])

    def test_container_overrides_command_environment_memory(self):
        self.register("overridden", busybox_container(
            command="echo from-definition $WHO", environment=[{"name": "WHO", "value": "definition"}]))
        task, cid, logs = self.run_to_completion("overridden", overrides={"containerOverrides": [{
            "name": "app",
            "command": ["sh", "-c", "echo from-override $WHO $EXTRA"],
            "environment": [{"name": "WHO", "value": "override"}, {"name": "EXTRA", "value": "more"}],
            "memory": 48,
        }]})
        self.assertEqual(logs, "from-override override more")
        info = docker_inspect(cid)
        self.assertEqual(info["Config"]["Cmd"], ["sh", "-c", "echo from-override $WHO $EXTRA"])
        self.assertEqual(info["HostConfig"]["Memory"], 48 * 1024 * 1024)
        self.assertEqual(task["overrides"]["containerOverrides"][0]["memory"], 48)

    def test_memory_hard_limit_oom_kills_the_container(self):
        self.register("hog", busybox_container(command="x=a; while true; do x=$x$x; done", memory=16))
        arn = self.run_task(CLUSTER, "hog")["taskArn"]
        task = self.wait_task(CLUSTER, arn, last_status="STOPPED", timeout=90)
        c = self.container_of(task)
        self.assertEqual(c.get("reason"), OOM_REASON, task)
        self.assertEqual(c["exitCode"], 137)
        self.assertEqual(task["stopCode"], "EssentialContainerExited")
        info = docker_inspect(c["runtimeId"])
        self.assertTrue(info["State"]["OOMKilled"])
        self.assertEqual(info["HostConfig"]["Memory"], 16 * 1024 * 1024)

    def test_host_volume_under_tmp_is_mounted(self):
        host_dir = tempfile.mkdtemp(prefix="ecsd-it-vol-", dir="/tmp")
        self.addCleanup(shutil.rmtree, host_dir, True)
        with open(os.path.join(host_dir, "in.txt"), "w") as f:
            f.write("from-host\n")
        self.register(
            "hostvol",
            busybox_container(
                command="cat /data/in.txt; echo from-container > /data/out.txt; "
                        "echo x > /ro/probe 2>/dev/null && echo ro-writable || echo ro-readonly",
                mountPoints=[{"sourceVolume": "shared", "containerPath": "/data"},
                             {"sourceVolume": "shared", "containerPath": "/ro", "readOnly": True}]),
            volumes=[{"name": "shared", "host": {"sourcePath": host_dir}}],
        )
        task, cid, logs = self.run_to_completion("hostvol")
        self.assertEqual(self.container_of(task)["exitCode"], 0, logs)
        self.assertEqual(logs.split(), ["from-host", "ro-readonly"])
        with open(os.path.join(host_dir, "out.txt")) as f:
            self.assertEqual(f.read(), "from-container\n")

    def test_host_volume_outside_the_allow_list_is_refused(self):
        for source in ("/etc", "/tmp/.."):
            with self.subTest(sourcePath=source):
                family = "forbidden-" + source.strip("/").replace("/", "-").replace(".", "d")
                self.register(family, busybox_container(command="ls /host",
                                                        mountPoints=[{"sourceVolume": "h", "containerPath": "/host"}]),
                              volumes=[{"name": "h", "host": {"sourcePath": source}}])
                arn = self.run_task(CLUSTER, family)["taskArn"]
                task = self.wait_task(CLUSTER, arn, last_status="STOPPED")
                if task.get("stopCode") != "TaskFailedToStart":
                    c = self.container_of(task)
                    seen = docker("logs", c["runtimeId"], check=False).split() if "runtimeId" in c else []
                    self.fail(f"host path {source!r} was mounted (stopCode {task.get('stopCode')}); "
                              f"the container listed /host as {seen}")
                self.assertTrue(task["stoppedReason"].startswith("CannotCreateContainerError"), task["stoppedReason"])
                self.assertIn("--allow-host-path", task["stoppedReason"])
                self.assertEqual(self.task_containers_on_engine(arn), [], "no container was created")

    def test_privileged_is_refused_by_default(self):
        self.register("priv", busybox_container(command="sleep 1", privileged=True))
        arn = self.run_task(CLUSTER, "priv")["taskArn"]
        task = self.wait_task(CLUSTER, arn, last_status="STOPPED")
        self.assertEqual(task["stopCode"], "TaskFailedToStart")
        self.assertTrue(task["stoppedReason"].startswith("CannotCreateContainerError"), task["stoppedReason"])
        self.assertIn("--allow-privileged", task["stoppedReason"])
        self.assertTrue(self.container_of(task).get("reason", "").startswith("CannotCreateContainerError"))
        self.assertEqual(self.task_containers_on_engine(arn), [])


class PermissiveHostPolicyTest(DockerTestCase):
    """A daemon started with --allow-privileged and --allow-host-path."""

    ALLOWED_DIR = None

    @classmethod
    def setUpClass(cls):
        # Outside /tmp and the data dir, which are always allowed.
        parent = "/var/tmp" if os.access("/var/tmp", os.W_OK) else os.path.expanduser("~")
        cls.ALLOWED_DIR = tempfile.mkdtemp(prefix="ecsd-it-allowed-", dir=parent)
        cls.addClassCleanup(shutil.rmtree, cls.ALLOWED_DIR, True)
        cls.DAEMON_ARGS = ("--allow-privileged", "--allow-host-path", cls.ALLOWED_DIR)
        super().setUpClass()

    def setUp(self):
        super().setUp()
        self.ecs().create_cluster(clusterName=CLUSTER)

    def test_privileged_container_runs_when_allowed(self):
        self.ecs().register_task_definition(family="priv", containerDefinitions=[
            busybox_container(command="exec sleep 600", privileged=True,
                              linuxParameters={"initProcessEnabled": True})])
        arn = self.run_task(CLUSTER, "priv")["taskArn"]
        task = self.wait_task(CLUSTER, arn, lambda t: t["lastStatus"] in ("RUNNING", "STOPPED"))
        c = self.container_of(task)
        # ecsd created the container privileged; a sandboxed engine (rootless, nested) may still refuse to start it.
        self.assertIn("runtimeId", c, task)
        self.assertTrue(docker_inspect(c["runtimeId"])["HostConfig"]["Privileged"])
        if task["lastStatus"] == "STOPPED":
            self.assertEqual(task["stopCode"], "TaskFailedToStart")
            self.assertTrue(task["stoppedReason"].startswith("CannotStartContainerError"), task["stoppedReason"])
            self.skipTest(f"this Docker engine cannot start privileged containers: {task['stoppedReason']}")
        self.ecs().stop_task(cluster=CLUSTER, task=arn)
        self.wait_task(CLUSTER, arn, last_status="STOPPED", timeout=30)

    def test_allowed_host_path_is_mounted(self):
        self.ecs().register_task_definition(
            family="allowed",
            containerDefinitions=[busybox_container(command="echo hi > /data/hello.txt",
                                                    mountPoints=[{"sourceVolume": "v", "containerPath": "/data"}])],
            volumes=[{"name": "v", "host": {"sourcePath": self.ALLOWED_DIR}}],
        )
        arn = self.run_task(CLUSTER, "allowed")["taskArn"]
        task = self.wait_task(CLUSTER, arn, last_status="STOPPED")
        self.assertEqual(self.container_of(task)["exitCode"], 0, task)
        with open(os.path.join(self.ALLOWED_DIR, "hello.txt")) as f:
            self.assertEqual(f.read(), "hi\n")


if __name__ == "__main__":
    main()
