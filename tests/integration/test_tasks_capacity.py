"""The local container instance: the machine's CPU and memory, resources used by running tasks, RunTask
placement failures (RESOURCE:MEMORY / RESOURCE:CPU), and FARGATE tasks that bypass the instance."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from ecsd_harness import (  # noqa: E402
    AWSVPC_NETWORK,
    DockerTestCase,
    busybox_container,
    docker_inspect,
    main,
)

CLUSTER = "capacity"


def machine_memory_mib():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) // 1024
    raise AssertionError("no MemTotal in /proc/meminfo")


def sleeper(memory, cpu=0, **extra):
    return busybox_container(command="exec sleep 600", memory=memory, cpu=cpu,
                             linuxParameters={"initProcessEnabled": True}, **extra)


def resources(items):
    return {r["name"]: r for r in items}


class CapacityTest(DockerTestCase):
    def setUp(self):
        super().setUp()
        self.ecs().create_cluster(clusterName=CLUSTER)

    def instance(self):
        ecs = self.ecs()
        arns = ecs.list_container_instances(cluster=CLUSTER)["containerInstanceArns"]
        self.assertEqual(len(arns), 1, arns)
        resp = ecs.describe_container_instances(cluster=CLUSTER, containerInstances=arns)
        self.assertEqual(resp["failures"], [])
        return resp["containerInstances"][0]

    def register(self, family, *containers, **extra):
        return self.ecs().register_task_definition(
            family=family, containerDefinitions=list(containers), **extra)["taskDefinition"]

    def stop_and_wait(self, arn):
        self.ecs().stop_task(cluster=CLUSTER, task=arn)
        return self.wait_task(CLUSTER, arn, last_status="STOPPED", timeout=30)

    def test_container_instance_reports_the_machine_and_running_tasks(self):
        ci = self.instance()
        self.assertEqual(ci["status"], "ACTIVE")
        self.assertTrue(ci["agentConnected"])
        registered = resources(ci["registeredResources"])
        self.assertEqual(registered["CPU"]["integerValue"], os.cpu_count() * 1024)
        self.assertEqual(registered["MEMORY"]["integerValue"], machine_memory_mib())
        remaining = resources(ci["remainingResources"])
        self.assertEqual(remaining["CPU"]["integerValue"], registered["CPU"]["integerValue"])
        self.assertEqual(remaining["MEMORY"]["integerValue"], registered["MEMORY"]["integerValue"])
        self.assertEqual(ci["runningTasksCount"], 0)

        self.register("sized", sleeper(memory=96, cpu=256))
        arn = self.run_task(CLUSTER, "sized")["taskArn"]
        task = self.wait_task(CLUSTER, arn, last_status="RUNNING")
        self.assertEqual(task["containerInstanceArn"], ci["containerInstanceArn"])
        ci = self.instance()
        remaining = resources(ci["remainingResources"])
        self.assertEqual(remaining["CPU"]["integerValue"], registered["CPU"]["integerValue"] - 256)
        self.assertEqual(remaining["MEMORY"]["integerValue"], registered["MEMORY"]["integerValue"] - 96)
        self.assertEqual(ci["runningTasksCount"], 1)
        host = docker_inspect(self.container_of(task)["runtimeId"])["HostConfig"]
        self.assertEqual(host["Memory"], 96 * 1024 * 1024)
        self.assertEqual(host["CpuShares"], 256)

        self.stop_and_wait(arn)
        ci = self.instance()
        remaining = resources(ci["remainingResources"])
        self.assertEqual(remaining["MEMORY"]["integerValue"], registered["MEMORY"]["integerValue"])
        self.assertEqual(remaining["CPU"]["integerValue"], registered["CPU"]["integerValue"])
        self.assertEqual(ci["runningTasksCount"], 0)

    def test_run_task_answers_resource_failures(self):
        ci = self.instance()
        registered = resources(ci["registeredResources"])
        total_mem = registered["MEMORY"]["integerValue"]
        total_cpu = registered["CPU"]["integerValue"]

        self.register("too-big", sleeper(memory=total_mem + 1))
        resp = self.ecs().run_task(cluster=CLUSTER, taskDefinition="too-big")
        self.assertEqual(resp["tasks"], [])
        self.assertEqual(resp["failures"], [{"arn": ci["containerInstanceArn"], "reason": "RESOURCE:MEMORY"}])

        self.register("too-busy", sleeper(memory=32, cpu=total_cpu + 1024))
        resp = self.ecs().run_task(cluster=CLUSTER, taskDefinition="too-busy")
        self.assertEqual(resp["tasks"], [])
        self.assertEqual(resp["failures"], [{"arn": ci["containerInstanceArn"], "reason": "RESOURCE:CPU"}])
        self.assertEqual(self.ecs().list_tasks(cluster=CLUSTER)["taskArns"], [])

        # count=3 where only two fit: two tasks and one failure.
        half = total_mem // 2 - 16
        self.register("halves", sleeper(memory=half))
        resp = self.ecs().run_task(cluster=CLUSTER, taskDefinition="halves", count=3)
        self.assertEqual(len(resp["tasks"]), 2, resp)
        self.assertEqual(resp["failures"], [{"arn": ci["containerInstanceArn"], "reason": "RESOURCE:MEMORY"}])
        for t in resp["tasks"]:
            self.wait_task(CLUSTER, t["taskArn"], last_status="RUNNING")
        remaining = resources(self.instance()["remainingResources"])
        self.assertEqual(remaining["MEMORY"]["integerValue"], total_mem - 2 * half)
        for t in resp["tasks"]:
            self.stop_and_wait(t["taskArn"])

    def test_fargate_tasks_are_not_placed_on_the_instance(self):
        total_mem = resources(self.instance()["registeredResources"])["MEMORY"]["integerValue"]
        # An EC2 task takes almost all of the instance's memory...
        self.register("hog", sleeper(memory=total_mem - 64))
        hog = self.run_task(CLUSTER, "hog")["taskArn"]
        self.register("small", sleeper(memory=128))
        resp = self.ecs().run_task(cluster=CLUSTER, taskDefinition="small", launchType="EC2")
        self.assertEqual([f["reason"] for f in resp["failures"]], ["RESOURCE:MEMORY"])
        # ...yet a FARGATE task still runs: Fargate capacity is not the local instance's.
        self.register(
            "serverless", busybox_container(command="exec sleep 600", memory=None,
                                            linuxParameters={"initProcessEnabled": True}),
            networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory="512",
        )
        task = self.run_task(CLUSTER, "serverless", launchType="FARGATE", networkConfiguration=AWSVPC_NETWORK)
        self.assertNotIn("containerInstanceArn", task)
        task = self.wait_task(CLUSTER, task["taskArn"], last_status="RUNNING")
        self.assertEqual(task["launchType"], "FARGATE")
        info = docker_inspect(self.container_of(task)["runtimeId"])
        self.assertIn("AWS_EXECUTION_ENV=AWS_ECS_FARGATE", info["Config"]["Env"])
        self.assertEqual(info["HostConfig"]["Memory"], 512 * 1024 * 1024, "the task-level memory is the limit")
        self.assertEqual(resources(self.instance()["remainingResources"])["MEMORY"]["integerValue"], 64)
        self.stop_and_wait(task["taskArn"])
        self.stop_and_wait(hog)


if __name__ == "__main__":
    main()
