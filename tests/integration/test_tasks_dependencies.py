"""Container ordering (dependsOn START/COMPLETE/SUCCESS/HEALTHY) and Docker health checks with real containers."""

import datetime
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from ecsd_harness import (  # noqa: E402
    DockerTestCase,
    busybox_container,
    docker,
    docker_inspect,
    main,
)

CLUSTER = "deps"
FAST_CHECK = {"interval": 1, "timeout": 2, "retries": 2, "startPeriod": 0}


def engine_time(text):
    """Docker's RFC 3339 timestamps with nanoseconds, as an aware datetime (microsecond precision)."""
    head, _, frac = text.rstrip("Z").partition(".")
    return datetime.datetime.fromisoformat(f"{head}.{(frac + '000000')[:6]}+00:00")


def long_running(name, script="exec sleep 600", **extra):
    """A container whose shell is not PID 1's signal sink: SIGTERM stops it at once."""
    return busybox_container(name, command=script, linuxParameters={"initProcessEnabled": True}, **extra)


class DependsOnTest(DockerTestCase):
    def setUp(self):
        super().setUp()
        self.ecs().create_cluster(clusterName=CLUSTER)

    def register(self, family, *containers, **extra):
        return self.ecs().register_task_definition(
            family=family, containerDefinitions=list(containers), **extra)["taskDefinition"]

    def stop_and_wait(self, arn):
        self.ecs().stop_task(cluster=CLUSTER, task=arn)
        return self.wait_task(CLUSTER, arn, last_status="STOPPED", timeout=30)

    def test_init_container_complete_and_success_before_main(self):
        # "init" writes into a task-scoped volume and exits 0; "app" (SUCCESS) and "audit" (COMPLETE)
        # start only afterwards and read what it wrote.
        self.register(
            "init-then-app",
            busybox_container("init", command="sleep 1; echo prepared-by-init > /shared/config.txt",
                              essential=False,
                              mountPoints=[{"sourceVolume": "shared", "containerPath": "/shared"}]),
            long_running("app", "cat /shared/config.txt; exec sleep 600",
                         mountPoints=[{"sourceVolume": "shared", "containerPath": "/shared"}],
                         dependsOn=[{"containerName": "init", "condition": "SUCCESS"}]),
            long_running("audit", "cat /shared/config.txt; exec sleep 600", essential=False,
                         mountPoints=[{"sourceVolume": "shared", "containerPath": "/shared", "readOnly": True}],
                         dependsOn=[{"containerName": "init", "condition": "COMPLETE"}]),
            volumes=[{"name": "shared"}],
        )
        arn = self.run_task(CLUSTER, "init-then-app")["taskArn"]
        task = self.wait_task(CLUSTER, arn, last_status="RUNNING")
        init, app, audit = (self.container_of(task, n) for n in ("init", "app", "audit"))
        self.assertEqual(init["lastStatus"], "STOPPED")
        self.assertEqual(init["exitCode"], 0)
        self.assertEqual(app["lastStatus"], "RUNNING")
        self.assertEqual(audit["lastStatus"], "RUNNING")
        init_state = docker_inspect(init["runtimeId"])["State"]
        for c in (app, audit):
            state = docker_inspect(c["runtimeId"])["State"]
            self.assertGreaterEqual(engine_time(state["StartedAt"]), engine_time(init_state["FinishedAt"]),
                                    f"{c['name']} started before init finished")
            logs = self.wait_for(lambda: docker("logs", c["runtimeId"]), timeout=10, message=f"{c['name']} output")
            self.assertEqual(logs, "prepared-by-init")
        task = self.stop_and_wait(arn)
        self.assertEqual(task["stopCode"], "UserInitiated")

        # The scratch volume is the task's own Docker volume; the reset must not leave it behind.
        mounts = docker_inspect(app["runtimeId"])["Mounts"]
        volumes = sorted({m["Name"] for m in mounts if m.get("Type") == "volume"})
        self.assertEqual(len(volumes), 1, mounts)
        self.addCleanup(docker, "volume", "rm", "-f", *volumes, check=False)
        self.reset()
        self.assertIsNone(docker_inspect(volumes[0], kind="volume"),
                          f"POST /_ecsd/reset left the task-scoped volume {volumes[0]} on the engine")

    def test_success_condition_fails_the_task_when_init_exits_non_zero(self):
        self.register(
            "init-fails",
            busybox_container("init", command="exit 4", essential=False),
            long_running("app", dependsOn=[{"containerName": "init", "condition": "SUCCESS"}]),
        )
        arn = self.run_task(CLUSTER, "init-fails")["taskArn"]
        task = self.wait_task(CLUSTER, arn, last_status="STOPPED")
        self.assertEqual(task["stopCode"], "TaskFailedToStart")
        self.assertIn("init", task["stoppedReason"])
        self.assertIn("SUCCESS", task["stoppedReason"])
        self.assertEqual(self.container_of(task, "init")["exitCode"], 4)
        app = self.container_of(task, "app")
        self.assertEqual(app["lastStatus"], "STOPPED")
        self.assertNotIn("exitCode", app, "app never ran")
        if "runtimeId" in app:  # created but never started
            self.assertEqual(docker_inspect(app["runtimeId"])["State"]["StartedAt"][:4], "0001")

    def test_start_condition_orders_container_starts(self):
        self.register(
            "start-order",
            long_running("first"),
            long_running("second", dependsOn=[{"containerName": "first", "condition": "START"}]),
        )
        arn = self.run_task(CLUSTER, "start-order")["taskArn"]
        task = self.wait_task(CLUSTER, arn, last_status="RUNNING")
        first = docker_inspect(self.container_of(task, "first")["runtimeId"])["State"]
        second = docker_inspect(self.container_of(task, "second")["runtimeId"])["State"]
        self.assertGreaterEqual(engine_time(second["StartedAt"]), engine_time(first["StartedAt"]))
        self.stop_and_wait(arn)

    def test_healthy_condition_waits_for_the_dependency_health_check(self):
        # "db" turns healthy only once /tmp/ready exists (after ~2 s); "app" must start after that.
        self.register(
            "healthy-order",
            long_running("db", "sleep 2; touch /tmp/ready; exec sleep 600",
                         healthCheck={"command": ["CMD-SHELL", "test -f /tmp/ready"], **FAST_CHECK}),
            long_running("app", dependsOn=[{"containerName": "db", "condition": "HEALTHY"}]),
        )
        arn = self.run_task(CLUSTER, "healthy-order")["taskArn"]
        task = self.wait_task(CLUSTER, arn, lambda t: t["lastStatus"] == "RUNNING"
                              and self.container_of(t, "app")["lastStatus"] == "RUNNING")
        self.assertEqual(self.container_of(task, "db")["healthStatus"], "HEALTHY")
        db = docker_inspect(self.container_of(task, "db")["runtimeId"])["State"]
        app = docker_inspect(self.container_of(task, "app")["runtimeId"])["State"]
        first_pass = min(engine_time(entry["End"]) for entry in db["Health"]["Log"] if entry["ExitCode"] == 0)
        self.assertGreaterEqual(engine_time(app["StartedAt"]), first_pass, "app started before db was healthy")
        self.stop_and_wait(arn)


class HealthCheckTest(DockerTestCase):
    def setUp(self):
        super().setUp()
        self.ecs().create_cluster(clusterName=CLUSTER)

    def test_healthy_task(self):
        self.ecs().register_task_definition(family="healthy", containerDefinitions=[
            long_running("app", healthCheck={"command": ["CMD-SHELL", "true"], **FAST_CHECK})])
        arn = self.run_task(CLUSTER, "healthy")["taskArn"]
        task = self.wait_task(CLUSTER, arn, lambda t: t.get("healthStatus") == "HEALTHY")
        self.assertEqual(task["lastStatus"], "RUNNING")
        c = self.container_of(task, "app")
        self.assertEqual(c["healthStatus"], "HEALTHY")
        health = docker_inspect(c["runtimeId"])["Config"]["Healthcheck"]
        self.assertEqual(health["Test"], ["CMD-SHELL", "true"])
        self.assertEqual(health["Interval"], 1_000_000_000)
        self.assertEqual(health["Timeout"], 2_000_000_000)
        self.assertEqual(health["Retries"], 2)
        self.ecs().stop_task(cluster=CLUSTER, task=arn)
        self.wait_task(CLUSTER, arn, last_status="STOPPED", timeout=30)

    def test_unhealthy_task(self):
        self.ecs().register_task_definition(family="unhealthy", containerDefinitions=[
            long_running("app", healthCheck={"command": ["CMD-SHELL", "exit 1"], **FAST_CHECK}),
            long_running("sidecar", essential=False),
        ])
        arn = self.run_task(CLUSTER, "unhealthy")["taskArn"]
        task = self.wait_task(CLUSTER, arn, lambda t: t.get("healthStatus") == "UNHEALTHY")
        self.assertEqual(self.container_of(task, "app")["healthStatus"], "UNHEALTHY")
        # No health check at all: UNKNOWN.
        self.assertEqual(self.container_of(task, "sidecar")["healthStatus"], "UNKNOWN")
        # A standalone task is not replaced: it keeps running, unhealthy.
        self.assertEqual(task["lastStatus"], "RUNNING")
        self.assertEqual(task["desiredStatus"], "RUNNING")
        self.ecs().stop_task(cluster=CLUSTER, task=arn)
        self.wait_task(CLUSTER, arn, last_status="STOPPED", timeout=30)

    def test_non_essential_health_does_not_decide_task_health(self):
        self.ecs().register_task_definition(family="mixed-health", containerDefinitions=[
            long_running("app", healthCheck={"command": ["CMD-SHELL", "true"], **FAST_CHECK}),
            long_running("helper", essential=False, healthCheck={"command": ["CMD-SHELL", "exit 1"], **FAST_CHECK}),
        ])
        arn = self.run_task(CLUSTER, "mixed-health")["taskArn"]
        task = self.wait_task(CLUSTER, arn, lambda t: self.container_of(t, "helper")["healthStatus"] == "UNHEALTHY"
                              and self.container_of(t, "app")["healthStatus"] == "HEALTHY")
        self.assertEqual(task["healthStatus"], "HEALTHY")
        self.ecs().stop_task(cluster=CLUSTER, task=arn)
        self.wait_task(CLUSTER, arn, last_status="STOPPED", timeout=30)


if __name__ == "__main__":
    main()
