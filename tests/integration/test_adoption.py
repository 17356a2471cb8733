"""A restarted ecsd adopts the containers it started: after SIGKILL (and after SIGTERM) the same Docker
containers keep running, no duplicates appear, and the daemon still manages them; what happened to them while
it was down (exited, removed) is observed after the restart."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from ecsd_harness import (  # noqa: E402
    AWSVPC_NETWORK,
    DockerTestCase,
    busybox_container,
    docker,
    docker_containers,
    docker_inspect,
    httpd_command,
    main,
)

CLUSTER = "adopt"


def sleeper(**extra):
    return busybox_container(command="exec sleep 600", linuxParameters={"initProcessEnabled": True}, **extra)


class AdoptionTest(DockerTestCase):
    PER_TEST_DAEMON = True

    def setUp(self):
        super().setUp()
        self.ecs().create_cluster(clusterName=CLUSTER)

    def register(self, family, *containers, **extra):
        return self.ecs().register_task_definition(
            family=family, containerDefinitions=list(containers), **extra)["taskDefinition"]

    def engine_containers(self):
        """{task ARN: [container ids]} of every container of this daemon on the engine (any state)."""
        out = {}
        for cid in docker_containers(f"label=ecsd.instance={self.daemon.instance_id()}"):
            info = docker_inspect(cid)
            if info is not None:
                out.setdefault(info["Config"]["Labels"]["com.amazonaws.ecs.task-arn"], []).append(cid)
        return {k: sorted(v) for k, v in out.items()}

    def service_tasks(self, name):
        return sorted(self.ecs().list_tasks(cluster=CLUSTER, serviceName=name)["taskArns"])

    def reconciler_caught_up(self):
        """Run a marker task and wait until it is RUNNING: the restarted daemon's reconciler works again,
        and the passes queued at startup (adoption of everything it knew) came before it."""
        marker = self.run_task(CLUSTER, "marker")["taskArn"]
        self.wait_task(CLUSTER, marker, last_status="RUNNING")
        return marker

    def test_running_tasks_survive_kill_9_and_sigterm_restarts(self):
        self.register("marker", sleeper())
        self.register("solo", sleeper())
        self.register("web", busybox_container("web", command=httpd_command(body="still-here"),
                                               linuxParameters={"initProcessEnabled": True},
                                               portMappings=[{"containerPort": 80}]))
        self.register("vpc", sleeper(), networkMode="awsvpc")
        self.register("svc", sleeper())

        solo = self.run_task(CLUSTER, "solo")["taskArn"]
        web = self.run_task(CLUSTER, "web")["taskArn"]
        vpc = self.run_task(CLUSTER, "vpc", networkConfiguration=AWSVPC_NETWORK)["taskArn"]
        self.ecs().create_service(cluster=CLUSTER, serviceName="svc", taskDefinition="svc", desiredCount=2,
                                  launchType="EC2")
        before = {}
        for arn in (solo, web, vpc):
            before[arn] = self.wait_task(CLUSTER, arn, last_status="RUNNING")
        svc_tasks = self.wait_for(lambda: (lambda a: a if len(a) == 2 else None)(self.service_tasks("svc")),
                                  message="two service tasks")
        for arn in svc_tasks:
            before[arn] = self.wait_task(CLUSTER, arn, last_status="RUNNING")
        self.wait_for(lambda: self.ecs().describe_services(cluster=CLUSTER, services=["svc"])["services"][0]
                      ["runningCount"] == 2, message="service running 2")
        engine_before = self.engine_containers()
        self.assertEqual(set(engine_before), set(before))
        for arn, cids in engine_before.items():
            self.assertEqual(cids, [self.container_of(before[arn], "web" if arn == web else "app")["runtimeId"]])
        port = self.container_of(before[web], "web")["networkBindings"][0]["hostPort"]
        vpc_ip = self.container_of(before[vpc])["networkInterfaces"][0]["privateIpv4Address"]
        events_before = len(self.ecs().describe_services(cluster=CLUSTER, services=["svc"])["services"][0]["events"])

        markers = []
        for how, hard in (("SIGKILL", True), ("SIGTERM", False)):
            with self.subTest(restart=how):
                old_port = self.daemon.port
                self.daemon.restart(hard=hard)
                self.assertNotEqual(self.daemon.port, old_port)
                markers.append(self.reconciler_caught_up())

                # Same containers, still running, nothing duplicated; only the marker tasks are new.
                engine_now = self.engine_containers()
                for arn, cids in engine_before.items():
                    self.assertEqual(engine_now.get(arn), cids, f"containers of {arn} changed after {how}")
                    self.assertTrue(docker_inspect(cids[0])["State"]["Running"])
                self.assertEqual(set(engine_now), set(engine_before) | set(markers))
                for arn, was in before.items():
                    now = self.describe_task(CLUSTER, arn)
                    self.assertEqual(now["lastStatus"], "RUNNING", f"{arn} after {how}")
                    self.assertEqual(now["desiredStatus"], "RUNNING")
                    self.assertEqual(now["startedAt"], was["startedAt"])
                    self.assertNotIn("stopCode", now)
                # The service kept its tasks and started none.
                self.assertEqual(self.service_tasks("svc"), sorted(svc_tasks))
                svc = self.ecs().describe_services(cluster=CLUSTER, services=["svc"])["services"][0]
                self.assertEqual(svc["runningCount"], 2)
                started = [e["message"] for e in svc["events"][: len(svc["events"]) - events_before]
                           if "has started" in e["message"]]
                self.assertEqual(started, [], "the service started tasks after the restart")
                # The published port and the awsvpc address still answer.
                self.wait_for(lambda: self.http_get(f"http://127.0.0.1:{port}/") == (200, "still-here\n"),
                              timeout=20, message="bridge port after restart")
                self.assertEqual(self.container_of(self.describe_task(CLUSTER, web), "web")["networkBindings"][0]
                                 ["hostPort"], port)
                self.assertEqual(self.container_of(self.describe_task(CLUSTER, vpc))["networkInterfaces"][0]
                                 ["privateIpv4Address"], vpc_ip)

        # The restarted daemon still manages the adopted containers.
        self.ecs().stop_task(cluster=CLUSTER, task=solo, reason="after adoption")
        stopped = self.wait_task(CLUSTER, solo, last_status="STOPPED", timeout=30)
        self.assertEqual(stopped["stoppedReason"], "after adoption")
        self.assertEqual(self.container_of(stopped)["runtimeId"], engine_before[solo][0])
        self.assertFalse(docker_inspect(engine_before[solo][0])["State"]["Running"])
        self.ecs().update_service(cluster=CLUSTER, service="svc", desiredCount=1)
        self.wait_for(lambda: len(self.service_tasks("svc")) == 1, message="service scaled to 1")
        stopped_svc = (set(svc_tasks) - set(self.service_tasks("svc"))).pop()
        self.wait_task(CLUSTER, stopped_svc, last_status="STOPPED", timeout=30)
        self.assertFalse(docker_inspect(engine_before[stopped_svc][0])["State"]["Running"])

    def test_changes_while_down_are_observed_after_restart(self):
        self.register("solo", sleeper())
        self.register("svc", sleeper())
        exited = self.run_task(CLUSTER, "solo")["taskArn"]
        removed = self.run_task(CLUSTER, "solo")["taskArn"]
        self.ecs().create_service(cluster=CLUSTER, serviceName="svc", taskDefinition="svc", desiredCount=1,
                                  launchType="EC2")
        cid = {}
        for arn in (exited, removed):
            cid[arn] = self.container_of(self.wait_task(CLUSTER, arn, last_status="RUNNING"))["runtimeId"]
        [svc_task] = self.wait_for(lambda: self.service_tasks("svc"), message="service task")
        cid[svc_task] = self.container_of(self.wait_task(CLUSTER, svc_task, last_status="RUNNING"))["runtimeId"]

        self.daemon.kill()
        docker("kill", cid[exited])           # exits 137 while nobody watches
        docker("rm", "-f", cid[removed])      # disappears altogether
        docker("kill", cid[svc_task])         # the service must replace it
        self.daemon.start()

        t = self.wait_task(CLUSTER, exited, last_status="STOPPED")
        self.assertEqual(t["stopCode"], "EssentialContainerExited")
        self.assertEqual(self.container_of(t)["exitCode"], 137)
        t = self.wait_task(CLUSTER, removed, last_status="STOPPED")
        self.assertEqual(t["stopCode"], "EssentialContainerExited")
        t = self.wait_task(CLUSTER, svc_task, last_status="STOPPED")
        self.assertEqual(t["stopCode"], "EssentialContainerExited")
        replacement = self.wait_for(lambda: [a for a in self.service_tasks("svc") if a != svc_task],
                                    message="replacement service task")
        self.assertEqual(len(replacement), 1)
        self.wait_task(CLUSTER, replacement[0], last_status="RUNNING")
        running = docker_containers(f"label=ecsd.instance={self.daemon.instance_id()}", all_states=False)
        self.assertEqual(len(running), 1, "only the replacement runs")


if __name__ == "__main__":
    main()
