"""The service scheduler with real containers: steady state, self-healing after `docker kill`, replacement of
unhealthy tasks, scale to 0, delete-service (DRAINING -> INACTIVE), and tasks pending until capacity frees."""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from ecsd_harness import (  # noqa: E402
    DockerTestCase,
    busybox_container,
    docker,
    docker_inspect,
    main,
)

CLUSTER = "sched"
FAST_CHECK = {"interval": 1, "timeout": 2, "retries": 2, "startPeriod": 0}


def sleeper(**extra):
    return busybox_container(command="exec sleep 600", linuxParameters={"initProcessEnabled": True}, **extra)


def task_id(arn):
    return arn.rsplit("/", 1)[1]


class ServiceSchedulerTest(DockerTestCase):
    def setUp(self):
        super().setUp()
        self.ecs().create_cluster(clusterName=CLUSTER)

    # -- helpers ---------------------------------------------------------------------------------------

    def register(self, family, *containers, **extra):
        return self.ecs().register_task_definition(
            family=family, containerDefinitions=list(containers), **extra)["taskDefinition"]

    def describe_service(self, name):
        resp = self.ecs().describe_services(cluster=CLUSTER, services=[name])
        self.assertEqual(resp["failures"], [], resp)
        return resp["services"][0]

    def messages(self, name):
        return [e["message"] for e in self.describe_service(name)["events"]]

    def service_tasks(self, name, desired="RUNNING"):
        return self.ecs().list_tasks(cluster=CLUSTER, serviceName=name, desiredStatus=desired)["taskArns"]

    def wait_steady(self, name, count, timeout=60):
        """Wait until the service runs `count` tasks, is steady, and each task has one running container."""
        def check():
            s = self.describe_service(name)
            if not (s["runningCount"] == count and s["pendingCount"] == 0 and len(s["deployments"]) == 1
                    and s["deployments"][0].get("rolloutState") == "COMPLETED"):
                return None
            arns = self.service_tasks(name)
            if len(arns) != count:
                return None
            tasks = self.ecs().describe_tasks(cluster=CLUSTER, tasks=arns)["tasks"] if arns else []
            return s if all(t["lastStatus"] == "RUNNING" for t in tasks) else None
        return self.wait_for(check, timeout=timeout, message=f"service {name} steady with {count} tasks")

    def wait_event(self, name, pattern, timeout=60):
        regex = re.compile(pattern)
        return self.wait_for(lambda: next((m for m in self.messages(name) if regex.search(m)), None),
                             timeout=timeout, message=f"service {name} event matching {pattern!r}")

    def assert_one_container_per_task(self, arns):
        for arn in arns:
            running = docker("ps", "-q", "--filter", f"label=com.amazonaws.ecs.task-arn={arn}")
            self.assertEqual(len(running.split()), 1, f"task {arn}: running containers {running!r}")

    # -- tests ------------------------------------------------------------------------------------------

    def test_service_reaches_steady_state(self):
        self.register("web", sleeper())
        created = self.ecs().create_service(cluster=CLUSTER, serviceName="web", taskDefinition="web",
                                            desiredCount=2, launchType="EC2")["service"]
        deployment_id = created["deployments"][0]["id"]
        # The CLI waiter polls describe-services until one deployment runs desiredCount tasks.
        self.aws_ok("ecs", "wait", "services-stable", "--cluster", CLUSTER, "--services", "web", timeout=120)
        s = self.wait_steady("web", 2)
        self.assertEqual(s["status"], "ACTIVE")
        self.assertEqual(s["deployments"][0]["id"], deployment_id)
        self.assertEqual(s["deployments"][0]["runningCount"], 2)
        self.assertEqual(s["deployments"][0]["status"], "PRIMARY")

        arns = self.service_tasks("web")
        self.assertEqual(len(arns), 2)
        tasks = self.ecs().describe_tasks(cluster=CLUSTER, tasks=arns)["tasks"]
        for t in tasks:
            self.assertEqual(t["group"], "service:web")
            self.assertEqual(t["startedBy"], deployment_id)
        self.assert_one_container_per_task(arns)

        started = self.wait_event("web", r"^\(service web\) has started 2 tasks: ")
        self.assertEqual(sorted(re.findall(r"\(task ([0-9a-f]+)\)", started)), sorted(task_id(a) for a in arns))
        self.assertRegex(started, r"^\(service web\) has started 2 tasks: \(task [0-9a-f]+\) \(task [0-9a-f]+\)\.$")
        self.wait_event("web", r"^\(service web\) has reached a steady state\.$")
        msgs = self.messages("web")
        self.assertLess(msgs.index("(service web) has reached a steady state."), msgs.index(started),
                        "events are newest first")

    def test_service_replaces_a_task_whose_container_was_killed(self):
        self.register("healer", sleeper())
        self.ecs().create_service(cluster=CLUSTER, serviceName="healer", taskDefinition="healer",
                                  desiredCount=2, launchType="EC2")
        self.wait_steady("healer", 2)
        before = self.service_tasks("healer")
        victim = before[0]
        victim_cid = self.container_of(self.describe_task(CLUSTER, victim))["runtimeId"]
        docker("kill", victim_cid)

        stopped = self.wait_task(CLUSTER, victim, last_status="STOPPED")
        self.assertEqual(stopped["stopCode"], "EssentialContainerExited")
        self.assertEqual(stopped["stoppedReason"], "Essential container in task exited")
        self.assertEqual(self.container_of(stopped)["exitCode"], 137)

        s = self.wait_for(lambda: (lambda s: s if set(self.service_tasks("healer")) - set(before) else None)(
            self.describe_service("healer")), message="a replacement task")
        replacement = (set(self.service_tasks("healer")) - set(before)).pop()
        self.wait_event("healer", rf"^\(service healer\) has started 1 tasks: \(task {task_id(replacement)}\)\.$")
        s = self.wait_steady("healer", 2)
        after = self.service_tasks("healer")
        self.assertEqual(sorted(after), sorted([before[1], replacement]))
        self.assertNotIn(victim, after)
        self.assert_one_container_per_task(after)
        self.assertIn(victim, self.service_tasks("healer", desired="STOPPED"))
        self.assertEqual(s["runningCount"], 2)

    def test_service_replaces_an_unhealthy_task(self):
        self.register("checked", sleeper(healthCheck={"command": ["CMD-SHELL", "test ! -f /tmp/sick"], **FAST_CHECK}))
        self.ecs().create_service(cluster=CLUSTER, serviceName="checked", taskDefinition="checked",
                                  desiredCount=1, launchType="EC2")
        self.wait_steady("checked", 1)
        [sick] = self.service_tasks("checked")
        self.assertEqual(self.wait_task(CLUSTER, sick, lambda t: t["healthStatus"] == "HEALTHY")["lastStatus"],
                         "RUNNING")
        docker("exec", self.container_of(self.describe_task(CLUSTER, sick))["runtimeId"], "touch", "/tmp/sick")

        self.wait_event("checked", rf"^\(service checked\) \(task {task_id(sick)}\) failed container health checks\.$")
        stopped = self.wait_task(CLUSTER, sick, last_status="STOPPED", timeout=30)
        self.assertEqual(stopped["stopCode"], "ServiceSchedulerInitiated")
        self.assertEqual(stopped["stoppedReason"], "Task failed container health checks")
        self.assertEqual(self.container_of(stopped)["healthStatus"], "UNHEALTHY")

        self.wait_steady("checked", 1)
        [fresh] = self.service_tasks("checked")
        self.assertNotEqual(fresh, sick)
        self.assertEqual(self.wait_task(CLUSTER, fresh, lambda t: t["healthStatus"] == "HEALTHY")["lastStatus"],
                         "RUNNING")

    def test_scale_to_zero_then_delete_service(self):
        self.register("scaled", sleeper())
        self.ecs().create_service(cluster=CLUSTER, serviceName="scaled", taskDefinition="scaled",
                                  desiredCount=2, launchType="EC2")
        self.wait_steady("scaled", 2)
        arns = self.service_tasks("scaled")
        cids = [self.container_of(self.describe_task(CLUSTER, a))["runtimeId"] for a in arns]

        self.assertClientError("InvalidParameterException", self.ecs().delete_service, cluster=CLUSTER,
                               service="scaled")
        self.ecs().update_service(cluster=CLUSTER, service="scaled", desiredCount=0)
        for arn in arns:
            t = self.wait_task(CLUSTER, arn, last_status="STOPPED", timeout=30)
            self.assertEqual(t["stopCode"], "ServiceSchedulerInitiated")
        for cid in cids:
            self.assertFalse(docker_inspect(cid)["State"]["Running"])
        stopped_event = self.wait_event("scaled", r"^\(service scaled\) has stopped 2 running tasks: ")
        self.assertEqual(sorted(re.findall(r"\(task ([0-9a-f]+)\)", stopped_event)), sorted(map(task_id, arns)))
        self.wait_steady("scaled", 0)
        self.assertEqual(self.service_tasks("scaled"), [])

        deleted = self.aws_ok("ecs", "delete-service", "--cluster", CLUSTER, "--service", "scaled")["service"]
        self.assertIn(deleted["status"], ("DRAINING", "INACTIVE"))
        self.aws_ok("ecs", "wait", "services-inactive", "--cluster", CLUSTER, "--services", "scaled", timeout=120)
        self.assertEqual(self.describe_service("scaled")["status"], "INACTIVE")

    def test_force_delete_drains_running_tasks(self):
        self.register("doomed", sleeper())
        self.ecs().create_service(cluster=CLUSTER, serviceName="doomed", taskDefinition="doomed",
                                  desiredCount=2, launchType="EC2")
        self.wait_steady("doomed", 2)
        arns = self.service_tasks("doomed")
        deleted = self.ecs().delete_service(cluster=CLUSTER, service="doomed", force=True)["service"]
        self.assertEqual(deleted["status"], "DRAINING")
        self.assertEqual(deleted["desiredCount"], 0)
        for arn in arns:
            t = self.wait_task(CLUSTER, arn, last_status="STOPPED", timeout=30)
            self.assertEqual(t["stopCode"], "ServiceSchedulerInitiated")
        s = self.wait_for(lambda: (lambda s: s if s["status"] == "INACTIVE" else None)(self.describe_service("doomed")),
                          message="service INACTIVE")
        self.assertEqual(s["runningCount"], 0)
        self.assertEqual(docker("ps", "-q", "--filter", f"label=ecsd.instance={self.daemon.instance_id()}"), "")

    def test_rolling_update_replaces_tasks_with_the_new_revision(self):
        self.register("rolling", sleeper(environment=[{"name": "VERSION", "value": "1"}]))
        self.register("rolling", sleeper(environment=[{"name": "VERSION", "value": "2"}]))
        self.ecs().create_service(cluster=CLUSTER, serviceName="rolling", taskDefinition="rolling:1",
                                  desiredCount=2, launchType="EC2",
                                  deploymentConfiguration={"minimumHealthyPercent": 100, "maximumPercent": 200})
        self.wait_steady("rolling", 2)
        old = self.service_tasks("rolling")
        old_cids = [self.container_of(self.describe_task(CLUSTER, a))["runtimeId"] for a in old]
        updated = self.ecs().update_service(cluster=CLUSTER, service="rolling", taskDefinition="rolling:2")["service"]
        self.assertEqual(len(updated["deployments"]), 2)
        primary = next(d for d in updated["deployments"] if d["status"] == "PRIMARY")

        s = self.wait_steady("rolling", 2)
        self.assertEqual(s["deployments"][0]["id"], primary["id"])
        self.assertTrue(s["taskDefinition"].endswith("task-definition/rolling:2"))
        new = self.service_tasks("rolling")
        self.assertFalse(set(new) & set(old))
        for arn in new:
            t = self.describe_task(CLUSTER, arn)
            self.assertTrue(t["taskDefinitionArn"].endswith(":2"))
            env = docker_inspect(self.container_of(t)["runtimeId"])["Config"]["Env"]
            self.assertIn("VERSION=2", env)
        for arn in old:
            t = self.wait_task(CLUSTER, arn, last_status="STOPPED", timeout=30)
            self.assertEqual(t["stopCode"], "ServiceSchedulerInitiated")
        # minimumHealthyPercent 100: an old task stopped only after a new one ran.
        first_old_stop = min(self.describe_task(CLUSTER, a)["stoppingAt"] for a in old)
        first_new_start = min(self.describe_task(CLUSTER, a)["startedAt"] for a in new)
        self.assertLessEqual(first_new_start, first_old_stop)
        for cid in old_cids:
            self.assertFalse(docker_inspect(cid)["State"]["Running"])
        self.assert_one_container_per_task(new)

    def test_crash_looping_service_backs_off(self):
        self.register("crasher", busybox_container(command="exit 1"))
        self.ecs().create_service(cluster=CLUSTER, serviceName="crasher", taskDefinition="crasher",
                                  desiredCount=1, launchType="EC2")
        self.wait_event("crasher", r"^\(service crasher\) is unable to consistently start tasks successfully\.")
        stopped = self.service_tasks("crasher", desired="STOPPED")
        self.assertGreaterEqual(len(stopped), 3)
        # Exponential backoff between launches (1 s, 2 s, ...): not a hot loop.
        self.assertLessEqual(len(stopped), 6, f"{len(stopped)} tasks started before the third failure was noticed")
        for t in self.ecs().describe_tasks(cluster=CLUSTER, tasks=stopped[:100])["tasks"]:
            self.assertEqual(t["stopCode"], "EssentialContainerExited")
            self.assertEqual(self.container_of(t)["exitCode"], 1)
        self.ecs().update_service(cluster=CLUSTER, service="crasher", desiredCount=0)
        self.wait_steady("crasher", 0)

    def test_service_task_waits_for_capacity(self):
        ecs = self.ecs()
        [instance] = ecs.list_container_instances(cluster=CLUSTER)["containerInstanceArns"]
        ci = ecs.describe_container_instances(cluster=CLUSTER, containerInstances=[instance])["containerInstances"][0]
        total = {r["name"]: r for r in ci["registeredResources"]}["MEMORY"]["integerValue"]

        # A standalone task takes all but 100 MiB; the service's task needs 200 MiB.
        self.register("hog", sleeper(memory=total - 100))
        hog = self.run_task(CLUSTER, "hog")["taskArn"]
        self.wait_task(CLUSTER, hog, last_status="RUNNING")
        self.register("waiting", sleeper(memory=200))
        ecs.create_service(cluster=CLUSTER, serviceName="waiting", taskDefinition="waiting", desiredCount=1,
                           launchType="EC2")
        event = self.wait_event("waiting", r"^\(service waiting\) was unable to place a task because no container "
                                           r"instance met all of its requirements\.")
        self.assertIn(task_id(instance), event)
        self.assertIn("memory", event)
        s = self.describe_service("waiting")
        self.assertEqual((s["runningCount"], s["pendingCount"]), (0, 0))
        self.assertEqual(self.service_tasks("waiting"), [])

        ecs.stop_task(cluster=CLUSTER, task=hog, reason="make room")
        self.wait_task(CLUSTER, hog, last_status="STOPPED", timeout=30)
        self.wait_steady("waiting", 1)
        self.wait_event("waiting", r"^\(service waiting\) has reached a steady state\.$")
        [placed] = self.service_tasks("waiting")
        self.assertEqual(self.describe_task(CLUSTER, placed)["containerInstanceArn"], instance)


if __name__ == "__main__":
    main()
