"""Tasks as real Docker containers: lifecycle, timestamps, exit codes, stop codes, labels, waiters."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from ecsd_harness import (  # noqa: E402
    BUSYBOX_IMAGE,
    DockerTestCase,
    busybox_container,
    docker,
    docker_inspect,
    main,
)

CLUSTER = "lifecycle"


def sleeper(**extra):
    """Runs until stopped; the init process forwards SIGTERM, so a stop is immediate."""
    return busybox_container(command="exec sleep 600", linuxParameters={"initProcessEnabled": True}, **extra)


class TaskLifecycleTest(DockerTestCase):
    def setUp(self):
        super().setUp()
        self.ecs().create_cluster(clusterName=CLUSTER)

    def register(self, family, *containers, **extra):
        td = self.ecs().register_task_definition(family=family, containerDefinitions=list(containers), **extra)
        return td["taskDefinition"]["taskDefinitionArn"]

    def test_run_task_starts_a_labelled_container_and_stop_task_stops_it(self):
        td_arn = self.register("sleeper", sleeper())
        task = self.run_task(CLUSTER, "sleeper", startedBy="lifecycle-test")
        arn = task["taskArn"]
        self.assertIn(task["lastStatus"], ("PROVISIONING", "PENDING", "RUNNING"))
        self.assertEqual(task["desiredStatus"], "RUNNING")
        self.assertEqual(task["launchType"], "EC2")
        self.assertIn("containerInstanceArn", task)

        task = self.wait_task(CLUSTER, arn, last_status="RUNNING")
        c = self.container_of(task)
        self.assertEqual(c["lastStatus"], "RUNNING")
        self.assertRegex(c["runtimeId"], r"^[0-9a-f]{64}$")
        self.assertNotIn("exitCode", c)
        # Timestamps in lifecycle order (the image is local, so a pull may be skipped).
        for key in ("createdAt", "startedAt"):
            self.assertIn(key, task)
        self.assertLessEqual(task["createdAt"], task["startedAt"])
        if "pullStartedAt" in task:
            self.assertLessEqual(task["createdAt"], task["pullStartedAt"])
            self.assertLessEqual(task["pullStartedAt"], task["pullStoppedAt"])
            self.assertLessEqual(task["pullStoppedAt"], task["startedAt"])
        for key in ("stoppingAt", "stoppedAt", "executionStoppedAt", "stopCode", "stoppedReason"):
            self.assertNotIn(key, task)

        # The engine holds exactly that container, named and labelled the ECS agent's way.
        self.assertEqual(self.task_containers_on_engine(arn), [c["runtimeId"]])
        info = docker_inspect(c["runtimeId"])
        self.assertTrue(info["State"]["Running"])
        task_id = arn.rsplit("/", 1)[1]
        rev = td_arn.rsplit(":", 1)[1]
        self.assertEqual(info["Name"], f"/ecs-sleeper-{rev}-app-{task_id[:20]}")
        labels = info["Config"]["Labels"]
        self.assertEqual(labels["com.amazonaws.ecs.cluster"], CLUSTER)
        self.assertEqual(labels["com.amazonaws.ecs.task-arn"], arn)
        self.assertEqual(labels["com.amazonaws.ecs.container-name"], "app")
        self.assertEqual(labels["com.amazonaws.ecs.task-definition-family"], "sleeper")
        self.assertEqual(labels["com.amazonaws.ecs.task-definition-version"], rev)
        self.assertEqual(labels["ecsd.managed"], "true")
        self.assertEqual(labels["ecsd.instance"], self.daemon.instance_id())
        self.assertEqual(info["Config"]["Image"], BUSYBOX_IMAGE)
        self.assertEqual(info["HostConfig"]["Memory"], 32 * 1024 * 1024)
        self.assertIn("AWS_EXECUTION_ENV=AWS_ECS_EC2", info["Config"]["Env"])

        # list_tasks sees it while running, by cluster, family, startedBy and desired status.
        ecs = self.ecs()
        self.assertEqual(ecs.list_tasks(cluster=CLUSTER)["taskArns"], [arn])
        self.assertEqual(ecs.list_tasks(cluster=CLUSTER, family="sleeper")["taskArns"], [arn])
        self.assertEqual(ecs.list_tasks(cluster=CLUSTER, startedBy="lifecycle-test")["taskArns"], [arn])
        self.assertEqual(ecs.list_tasks(cluster=CLUSTER, desiredStatus="STOPPED")["taskArns"], [])

        stopped = ecs.stop_task(cluster=CLUSTER, task=arn, reason="done testing")["task"]
        self.assertEqual(stopped["desiredStatus"], "STOPPED")
        task = self.wait_task(CLUSTER, arn, last_status="STOPPED", timeout=30)
        self.assertEqual(task["desiredStatus"], "STOPPED")
        self.assertEqual(task["stopCode"], "UserInitiated")
        self.assertEqual(task["stoppedReason"], "done testing")
        for key in ("stoppingAt", "executionStoppedAt", "stoppedAt"):
            self.assertIn(key, task)
        self.assertLessEqual(task["startedAt"], task["stoppingAt"])
        self.assertLessEqual(task["stoppingAt"], task["executionStoppedAt"])
        self.assertLessEqual(task["executionStoppedAt"], task["stoppedAt"])
        c = self.container_of(task)
        self.assertEqual(c["lastStatus"], "STOPPED")
        self.assertIn(c["exitCode"], (137, 143), "SIGTERM through the init process (143) or SIGKILL (137)")
        self.assertFalse(docker_inspect(c["runtimeId"])["State"]["Running"])
        self.assertEqual(ecs.list_tasks(cluster=CLUSTER, desiredStatus="STOPPED")["taskArns"], [arn])
        self.assertEqual(ecs.list_tasks(cluster=CLUSTER)["taskArns"], [])

    def test_sigterm_ignored_waits_stop_timeout_then_kills(self):
        # sh as PID 1 ignores SIGTERM: the stop must wait stopTimeout (2 s) and then SIGKILL.
        self.register("stubborn", busybox_container(command="while true; do sleep 1; done"))
        arn = self.run_task(CLUSTER, "stubborn")["taskArn"]
        self.wait_task(CLUSTER, arn, last_status="RUNNING")
        self.ecs().stop_task(cluster=CLUSTER, task=arn)
        task = self.wait_task(CLUSTER, arn, last_status="STOPPED", timeout=30)
        self.assertEqual(task["stopCode"], "UserInitiated")
        self.assertEqual(self.container_of(task)["exitCode"], 137)
        self.assertGreaterEqual((task["executionStoppedAt"] - task["stoppingAt"]).total_seconds(), 1.5,
                                "the engine was given stopTimeout before SIGKILL")

    def test_stop_right_after_run_leaves_nothing_running(self):
        self.register("hasty", sleeper())
        arns = [self.run_task(CLUSTER, "hasty")["taskArn"] for _ in range(3)]
        for arn in arns:
            self.ecs().stop_task(cluster=CLUSTER, task=arn, reason="changed my mind")
        for arn in arns:
            task = self.wait_task(CLUSTER, arn, last_status="STOPPED", timeout=30)
            self.assertEqual(task["stopCode"], "UserInitiated")
            self.assertEqual(task["stoppedReason"], "changed my mind")
            if "runtimeId" not in self.container_of(task):
                self.assertNotIn("startedAt", task, "no container, so the task never started")
            # Whatever was created is not running, and there is at most one container per task.
            ids = self.task_containers_on_engine(arn)
            self.assertLessEqual(len(ids), 1)
            for cid in ids:
                self.assertFalse(docker_inspect(cid)["State"]["Running"])
        # Nothing starts later either: the next reconcile passes leave them stopped.
        marker = self.run_task(CLUSTER, "hasty")["taskArn"]
        self.wait_task(CLUSTER, marker, last_status="RUNNING")
        running = docker("ps", "-q", "--filter", f"label=ecsd.instance={self.daemon.instance_id()}").split()
        self.assertEqual(len(running), 1, "only the marker task runs")

    def test_exit_code_of_essential_container_stops_the_task(self):
        self.register("exit3", busybox_container(command="exit 3"))
        arn = self.run_task(CLUSTER, "exit3")["taskArn"]
        task = self.wait_task(CLUSTER, arn, last_status="STOPPED")
        self.assertEqual(task["desiredStatus"], "STOPPED")
        self.assertEqual(task["stopCode"], "EssentialContainerExited")
        self.assertEqual(task["stoppedReason"], "Essential container in task exited")
        c = self.container_of(task)
        self.assertEqual(c["exitCode"], 3)
        self.assertEqual(c["lastStatus"], "STOPPED")
        self.assertEqual(docker_inspect(c["runtimeId"])["State"]["ExitCode"], 3)
        self.assertIn("stoppedAt", task)

    def test_non_essential_exit_keeps_the_task_running(self):
        self.register(
            "sidecar-exits",
            sleeper(),
            busybox_container("oneshot", command="exit 7", essential=False),
        )
        arn = self.run_task(CLUSTER, "sidecar-exits")["taskArn"]
        task = self.wait_task(CLUSTER, arn, lambda t: self.container_of(t, "oneshot").get("exitCode") == 7
                              and t["lastStatus"] == "RUNNING")
        self.assertEqual(self.container_of(task, "app")["lastStatus"], "RUNNING")
        self.assertEqual(self.container_of(task, "oneshot")["lastStatus"], "STOPPED")
        self.assertEqual(task["desiredStatus"], "RUNNING")
        self.ecs().stop_task(cluster=CLUSTER, task=arn)
        task = self.wait_task(CLUSTER, arn, last_status="STOPPED", timeout=30)
        self.assertEqual(self.container_of(task, "oneshot")["exitCode"], 7)

    def test_unpullable_image_fails_to_start(self):
        self.register("nopull", busybox_container(image="127.0.0.1:1/nope:latest", command="true"))
        arn = self.run_task(CLUSTER, "nopull")["taskArn"]
        task = self.wait_task(CLUSTER, arn, last_status="STOPPED")
        self.assertEqual(task["stopCode"], "TaskFailedToStart")
        self.assertTrue(task["stoppedReason"].startswith("CannotPullContainerError"), task["stoppedReason"])
        c = self.container_of(task)
        self.assertTrue(c.get("reason", "").startswith("CannotPullContainerError"), c)
        self.assertNotIn("runtimeId", c)
        self.assertIn("pullStartedAt", task)
        self.assertEqual(self.task_containers_on_engine(arn), [])

    def test_run_task_count_starts_that_many_containers(self):
        self.register("many", sleeper())
        resp = self.ecs().run_task(cluster=CLUSTER, taskDefinition="many", count=3)
        self.assertEqual(resp["failures"], [])
        arns = [t["taskArn"] for t in resp["tasks"]]
        self.assertEqual(len(set(arns)), 3)
        ids = set()
        for arn in arns:
            task = self.wait_task(CLUSTER, arn, last_status="RUNNING")
            ids.add(self.container_of(task)["runtimeId"])
            self.assertEqual(self.task_containers_on_engine(arn), [self.container_of(task)["runtimeId"]])
        self.assertEqual(len(ids), 3)

    def test_cli_waiters_tasks_running_and_tasks_stopped(self):
        self.register("waited", sleeper())
        doc = self.aws_ok("ecs", "run-task", "--cluster", CLUSTER, "--task-definition", "waited")
        arn = doc["tasks"][0]["taskArn"]
        self.aws_ok("ecs", "wait", "tasks-running", "--cluster", CLUSTER, "--tasks", arn, timeout=120)
        self.assertEqual(self.describe_task(CLUSTER, arn)["lastStatus"], "RUNNING")
        self.aws_ok("ecs", "stop-task", "--cluster", CLUSTER, "--task", arn, "--reason", "waiter test")
        self.aws_ok("ecs", "wait", "tasks-stopped", "--cluster", CLUSTER, "--tasks", arn, timeout=120)
        doc = self.aws_ok("ecs", "describe-tasks", "--cluster", CLUSTER, "--tasks", arn)
        self.assertEqual(doc["tasks"][0]["lastStatus"], "STOPPED")
        self.assertEqual(doc["tasks"][0]["stoppedReason"], "waiter test")

    def test_tasks_running_waiter_fails_for_a_task_that_stops(self):
        # The tasks-running waiter's failure acceptor: a task that is STOPPED fails the wait at once.
        self.register("quick-exit", busybox_container(command="exit 1"))
        arn = self.run_task(CLUSTER, "quick-exit")["taskArn"]
        self.wait_task(CLUSTER, arn, last_status="STOPPED")
        rc, _doc, err = self.aws("ecs", "wait", "tasks-running", "--cluster", CLUSTER, "--tasks", arn, timeout=60)
        self.assertEqual(rc, 255, err)
        self.assertIn("Waiter TasksRunning failed", err)

    def test_reset_removes_running_containers(self):
        self.register("reset-me", sleeper())
        arn = self.run_task(CLUSTER, "reset-me")["taskArn"]
        cid = self.container_of(self.wait_task(CLUSTER, arn, last_status="RUNNING"))["runtimeId"]
        self.reset()
        self.assertIsNone(docker_inspect(cid), "the reset removes the daemon's containers")
        self.assertEqual(docker("ps", "-aq", "--filter", f"label=ecsd.instance={self.daemon.instance_id()}"), "")


if __name__ == "__main__":
    main()
