"""Deployments as ECS does them, with real containers: a rolling update behind a real ALB listener under a
steady request loop (no failed request, task counts within minimumHealthyPercent/maximumPercent at every
sample, `aws ecs wait services-stable` returning after it), the circuit breaker rolling back a crashing
revision and a revision that never turns healthy, StopServiceDeployment (ROLLBACK), and the service
deployment/revision APIs. The daemon runs with --time-scale so ECS's waits pass in seconds."""

import os
import sys
import threading
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from ecsd_harness import DockerTestCase, busybox_container, free_port, httpd_command, main, td_arn  # noqa: E402

CLUSTER = "deploy"
TIME_SCALE = 4


def fetch(url, timeout=3.0):
    """GET without proxies; returns (status, body) with status 0 on a connection error."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=timeout) as resp:
            return resp.status, resp.read().decode().strip()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()
    except OSError as err:
        return 0, str(err)


class RequestLoop(threading.Thread):
    """GETs `url` back to back until stopped; records (status, body) of every request."""

    def __init__(self, url):
        super().__init__(daemon=True)
        self.url = url
        self.results = []
        self.halt = threading.Event()

    def run(self):
        while not self.halt.is_set() and len(self.results) < 100000:
            self.results.append(fetch(self.url))
            time.sleep(0.01)

    def stop(self):
        self.halt.set()
        self.join(10)


class DeploymentTestBase(DockerTestCase):
    DAEMON_ARGS = ("--time-scale", str(TIME_SCALE))

    def service(self, name="web"):
        return self.ecs().describe_services(cluster=CLUSTER, services=[name])["services"][0]

    def wait_rollout(self, name, predicate, timeout=90, message="rollout"):
        state = {}

        def check():
            s = self.service(name)
            state["s"] = s
            return s if predicate(s) else None

        try:
            return self.wait_for(check, timeout=timeout, message=message)
        except AssertionError as exc:
            s = state.get("s") or {}
            raise AssertionError(f"{exc}\ndeployments: {s.get('deployments')}\n"
                                 f"events: {[e['message'] for e in s.get('events', [])[:12]]}") from None

    @staticmethod
    def stable_on(revision_arn):
        return lambda s: (len(s["deployments"]) == 1 and s["deployments"][0]["rolloutState"] == "COMPLETED"
                          and s["deployments"][0]["taskDefinition"] == revision_arn
                          and s["runningCount"] == s["desiredCount"])


class RollingUpdateBehindListenerTest(DeploymentTestBase):
    def setUp(self):
        super().setUp()
        self.elb = self.client("elbv2")
        vpc, subnets, self.group = self.default_network()
        self.subnet = subnets[0]
        lb = self.elb.create_load_balancer(Name="web", Subnets=subnets)["LoadBalancers"][0]
        self.tg = self.elb.create_target_group(
            Name="web-tg", Protocol="HTTP", Port=80, VpcId=vpc, TargetType="ip", HealthCheckPath="/",
            HealthCheckIntervalSeconds=5, HealthCheckTimeoutSeconds=2, HealthyThresholdCount=2,
            UnhealthyThresholdCount=2)["TargetGroups"][0]["TargetGroupArn"]
        # 10 s of draining is 2.5 s at the test's time scale: longer than the data plane's 1 s store sync.
        self.elb.modify_target_group_attributes(
            TargetGroupArn=self.tg, Attributes=[{"Key": "deregistration_delay.timeout_seconds", "Value": "10"}])
        self.port = free_port()
        self.elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=self.port,
                                 DefaultActions=[{"Type": "forward", "TargetGroupArn": self.tg}])
        self.ecs().create_cluster(clusterName=CLUSTER)
        for body in ("one", "two"):
            self.ecs().register_task_definition(
                family="web", networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory="512",
                containerDefinitions=[busybox_container(
                    "web", memory=None, portMappings=[{"containerPort": 80}], command=httpd_command(body=body),
                    linuxParameters={"initProcessEnabled": True})])

    def test_rolling_update_has_no_failed_request_and_stays_within_min_max(self):
        desired, max_pct, min_pct = 3, 150, 100
        self.ecs().create_service(
            cluster=CLUSTER, serviceName="web", taskDefinition="web:1", desiredCount=desired, launchType="FARGATE",
            networkConfiguration={"awsvpcConfiguration": {"subnets": [self.subnet], "securityGroups": [self.group]}},
            loadBalancers=[{"targetGroupArn": self.tg, "containerName": "web", "containerPort": 80}],
            healthCheckGracePeriodSeconds=20,
            deploymentConfiguration={"maximumPercent": max_pct, "minimumHealthyPercent": min_pct})
        self.wait_rollout("web", self.stable_on(td_arn("web", 1)), message="first deployment completed")
        url = f"http://127.0.0.1:{self.port}/"
        self.wait_for(lambda: fetch(url) == (200, "one") or None, timeout=20, message="traffic on revision 1")

        loop = RequestLoop(url)
        loop.start()
        try:
            updated = self.ecs().update_service(cluster=CLUSTER, service="web", taskDefinition="web:2")["service"]
            new_id = next(d["id"] for d in updated["deployments"] if d["status"] == "PRIMARY")
            self.assertRegex(new_id, r"^ecs-svc/\d{19}$")
            samples = []
            deadline = time.time() + 120
            while time.time() < deadline:
                s = self.service()
                samples.append(s)
                if self.stable_on(td_arn("web", 2))(s):
                    break
                time.sleep(0.2)
            else:
                self.fail(f"rollout did not finish: {samples[-1]['deployments']}")
            time.sleep(1)
        finally:
            loop.stop()

        # ECS's arithmetic: at most floor(3 * 150%) = 4 tasks, never fewer than ceil(3 * 100%) = 3 running.
        max_tasks, min_healthy = desired * max_pct // 100, -(-desired * min_pct // 100)
        for s in samples:
            total = sum(d["runningCount"] + d["pendingCount"] for d in s["deployments"])
            self.assertLessEqual(total, max_tasks, s["deployments"])
            self.assertGreaterEqual(s["runningCount"], min_healthy, s["deployments"])
        self.assertTrue(any(len(s["deployments"]) == 2 for s in samples), "never saw PRIMARY and ACTIVE together")
        both = next(s for s in samples if len(s["deployments"]) == 2)
        self.assertEqual([d["status"] for d in both["deployments"]], ["PRIMARY", "ACTIVE"])
        self.assertEqual(both["deployments"][0]["rolloutState"], "IN_PROGRESS")
        self.assertEqual(both["deployments"][0]["rolloutStateReason"], f"ECS deployment {new_id} in progress.")

        failed = [r for r in loop.results if r[0] != 200]
        self.assertGreater(len(loop.results), 50, "the request loop barely ran")
        self.assertEqual(failed, [], f"{len(failed)} of {len(loop.results)} requests failed")
        bodies = [b for _, b in loop.results]
        self.assertEqual(bodies[0], "one")
        self.assertEqual(bodies[-1], "two")

        final = samples[-1]
        self.assertEqual(final["deployments"][0]["id"], new_id)
        self.assertEqual(final["deployments"][0]["rolloutStateReason"], f"ECS deployment {new_id} completed.")
        messages = [e["message"] for e in final["events"]]
        self.assertIn(f"(service web) (deployment {new_id}) deployment completed.", messages)
        # Old tasks were drained from the target group before they stopped.
        stopped = self.ecs().list_tasks(cluster=CLUSTER, serviceName="web", desiredStatus="STOPPED")["taskArns"]
        self.assertEqual(len(stopped), desired)

        # The service deployment history and revisions.
        sds = self.ecs().list_service_deployments(cluster=CLUSTER, service="web")["serviceDeployments"]
        self.assertEqual([sd["status"] for sd in sds], ["SUCCESSFUL", "SUCCESSFUL"])
        for sd in sds:
            self.assertRegex(sd["serviceDeploymentArn"],
                             r"^arn:aws:ecs:us-east-1:000000000000:service-deployment/deploy/web/\w+$")
        full = self.ecs().describe_service_deployments(serviceDeploymentArns=[sds[0]["serviceDeploymentArn"]])
        sd = full["serviceDeployments"][0]
        self.assertEqual(sd["targetServiceRevision"]["arn"], sds[0]["targetServiceRevisionArn"])
        self.assertEqual(sd["targetServiceRevision"]["runningTaskCount"], desired)
        self.assertEqual(sd["deploymentCircuitBreaker"]["status"], "DISABLED")
        self.assertEqual(len(sd["sourceServiceRevisions"]), 1)
        revs = self.ecs().describe_service_revisions(
            serviceRevisionArns=[sds[0]["targetServiceRevisionArn"], sd["sourceServiceRevisions"][0]["arn"],
                                 "arn:aws:ecs:us-east-1:000000000000:service-revision/deploy/web/1"])
        self.assertEqual([r["taskDefinition"] for r in revs["serviceRevisions"]],
                         [td_arn("web", 2), td_arn("web", 1)])
        self.assertRegex(revs["serviceRevisions"][0]["serviceRevisionArn"],
                         r"^arn:aws:ecs:us-east-1:000000000000:service-revision/deploy/web/\d{19}$")
        self.assertEqual(revs["serviceRevisions"][0]["loadBalancers"][0]["targetGroupArn"], self.tg)
        self.assertEqual([f["reason"] for f in revs["failures"]], ["MISSING"])


class CircuitBreakerTest(DeploymentTestBase):
    def setUp(self):
        super().setUp()
        self.ecs().create_cluster(clusterName=CLUSTER)
        self.ecs().register_task_definition(
            family="app", networkMode="bridge", containerDefinitions=[busybox_container("app", command="sleep 600")])

    def create(self, desired=2, rollback=True):
        self.ecs().create_service(
            cluster=CLUSTER, serviceName="app", taskDefinition="app:1", desiredCount=desired,
            deploymentConfiguration={"deploymentCircuitBreaker": {"enable": True, "rollback": rollback}})
        return self.wait_rollout("app", self.stable_on(td_arn("app", 1)), message="first deployment completed")

    def assert_rolled_back(self, first_id, failed_revision):
        s = self.wait_rollout("app", self.stable_on(td_arn("app", 1)), timeout=120, message="rolled back")
        messages = [e["message"] for e in s["events"]]
        failed_id = next(m.split("(deployment ")[1].split(")")[0] for m in messages
                         if m.endswith("deployment failed: tasks failed to start."))
        self.assertIn(f"(service app) rolling back to deployment {first_id}.", messages)
        self.assertLess(messages.index(f"(service app) rolling back to deployment {first_id}."),
                        messages.index(f"(service app) (deployment {failed_id}) deployment failed: tasks failed to "
                                       "start."), "events are newest first")
        self.assertNotEqual(s["deployments"][0]["id"], first_id)
        self.assertEqual(s["taskDefinition"], td_arn("app", 1))
        # The service deployment that failed was rolled back, with the breaker's figures.
        sds = self.ecs().list_service_deployments(cluster=CLUSTER, service="app")["serviceDeployments"]
        self.assertEqual(sds[0]["status"], "ROLLBACK_SUCCESSFUL")
        sd = self.ecs().describe_service_deployments(
            serviceDeploymentArns=[sds[0]["serviceDeploymentArn"]])["serviceDeployments"][0]
        self.assertEqual(sd["deploymentCircuitBreaker"]["status"], "TRIGGERED")
        self.assertEqual(sd["deploymentCircuitBreaker"]["threshold"], 3)
        self.assertGreaterEqual(sd["deploymentCircuitBreaker"]["failureCount"], 3)
        self.assertEqual(sd["rollback"]["reason"], "ECS deployment circuit breaker: tasks failed to start.")
        rev = self.ecs().describe_service_revisions(serviceRevisionArns=[sd["rollback"]["serviceRevisionArn"]])
        self.assertEqual(rev["serviceRevisions"][0]["taskDefinition"], td_arn("app", 1))
        target = self.ecs().describe_service_revisions(serviceRevisionArns=[sd["targetServiceRevision"]["arn"]])
        self.assertEqual(target["serviceRevisions"][0]["taskDefinition"], failed_revision)
        # Every task still running is on revision 1.
        running = self.ecs().list_tasks(cluster=CLUSTER, serviceName="app", desiredStatus="RUNNING")["taskArns"]
        tasks = self.ecs().describe_tasks(cluster=CLUSTER, tasks=running)["tasks"]
        self.assertEqual({t["taskDefinitionArn"] for t in tasks}, {td_arn("app", 1)})
        return s

    def watch_failure(self):
        """Waits for the rollback entry and checks the failed one as ECS shows it meanwhile."""
        def rolling_back(s):
            return any(d["rolloutStateReason"].startswith("ECS deployment circuit breaker: rolling back to")
                       for d in s["deployments"])
        return self.wait_rollout("app", rolling_back, timeout=90, message="circuit breaker rollback")

    def test_crashing_revision_trips_the_breaker_and_rolls_back(self):
        first_id = self.create()["deployments"][0]["id"]
        self.ecs().register_task_definition(
            family="app", networkMode="bridge", containerDefinitions=[busybox_container("app", command="exit 3")])
        self.ecs().update_service(cluster=CLUSTER, service="app", taskDefinition="app:2")
        s = self.watch_failure()
        primary = s["deployments"][0]
        self.assertEqual(primary["status"], "PRIMARY")
        self.assertEqual(primary["taskDefinition"], td_arn("app", 1))
        self.assertEqual(primary["rolloutState"], "IN_PROGRESS")
        self.assertEqual(primary["rolloutStateReason"],
                         f"ECS deployment circuit breaker: rolling back to deploymentId {first_id}.")
        self.assert_rolled_back(first_id, td_arn("app", 2))

    def test_revision_that_never_turns_healthy_rolls_back(self):
        first_id = self.create()["deployments"][0]["id"]
        self.ecs().register_task_definition(
            family="app", networkMode="bridge", containerDefinitions=[busybox_container(
                "app", command="sleep 600",
                healthCheck={"command": ["CMD-SHELL", "exit 1"], "interval": 5, "timeout": 2, "retries": 1})])
        self.ecs().update_service(cluster=CLUSTER, service="app", taskDefinition="app:2")
        self.watch_failure()
        s = self.assert_rolled_back(first_id, td_arn("app", 2))
        self.assertTrue(any(e["message"].endswith("failed container health checks.") for e in s["events"]))

    def test_breaker_without_rollback_fails_the_deployment(self):
        self.create(rollback=False)
        self.ecs().register_task_definition(
            family="app", networkMode="bridge", containerDefinitions=[busybox_container("app", command="exit 3")])
        self.ecs().update_service(cluster=CLUSTER, service="app", taskDefinition="app:2")
        s = self.wait_rollout("app", lambda s: s["deployments"][0]["rolloutState"] == "FAILED", timeout=90,
                              message="deployment FAILED")
        primary = s["deployments"][0]
        self.assertEqual(primary["taskDefinition"], td_arn("app", 2))
        self.assertEqual(primary["rolloutStateReason"], "ECS deployment circuit breaker: tasks failed to start.")
        self.assertGreaterEqual(primary["failedTasks"], 3)
        # The old revision keeps serving: nothing of revision 1 was stopped (minimumHealthyPercent 100).
        self.assertEqual([d["taskDefinition"] for d in s["deployments"]], [td_arn("app", 2), td_arn("app", 1)])
        self.assertEqual(s["deployments"][1]["runningCount"], 2)
        sds = self.ecs().list_service_deployments(cluster=CLUSTER, service="app", status=["STOPPED"])
        self.assertEqual(len(sds["serviceDeployments"]), 1, sds)

    def test_stop_service_deployment_rolls_back(self):
        first_id = self.create(rollback=False)["deployments"][0]["id"]
        # Breaker off for this one: a revision that never turns healthy would roll out forever.
        self.ecs().update_service(cluster=CLUSTER, service="app", deploymentConfiguration={
            "deploymentCircuitBreaker": {"enable": False, "rollback": False}})
        self.ecs().register_task_definition(
            family="app", networkMode="bridge", containerDefinitions=[busybox_container(
                "app", command="sleep 600",
                healthCheck={"command": ["CMD-SHELL", "exit 1"], "interval": 60, "timeout": 2, "retries": 10})])
        self.ecs().update_service(cluster=CLUSTER, service="app", taskDefinition="app:2")
        sds = self.ecs().list_service_deployments(cluster=CLUSTER, service="app", status=["IN_PROGRESS"])
        (sd,) = sds["serviceDeployments"]
        self.assertClientError("InvalidParameterException", self.ecs().stop_service_deployment,
                               serviceDeploymentArn=sd["serviceDeploymentArn"], stopType="ABORT")
        self.assertEqual(self.ecs().stop_service_deployment(serviceDeploymentArn=sd["serviceDeploymentArn"],
                                                            stopType="ROLLBACK")["serviceDeploymentArn"],
                         sd["serviceDeploymentArn"])
        s = self.wait_rollout("app", self.stable_on(td_arn("app", 1)), timeout=90, message="rolled back")
        self.assertIn(f"(service app) rolling back to deployment {first_id}.", [e["message"] for e in s["events"]])
        done = self.ecs().describe_service_deployments(serviceDeploymentArns=[sd["serviceDeploymentArn"]])
        self.assertEqual(done["serviceDeployments"][0]["status"], "ROLLBACK_SUCCESSFUL")
        # A finished service deployment cannot be stopped; an unknown one does not exist.
        self.assertClientError("ConflictException", self.ecs().stop_service_deployment,
                               serviceDeploymentArn=sd["serviceDeploymentArn"])
        self.assertClientError("ServiceDeploymentNotFoundException", self.ecs().stop_service_deployment,
                               serviceDeploymentArn=sd["serviceDeploymentArn"] + "x")


class ServicesStableWaiterTest(DeploymentTestBase):
    def test_aws_ecs_wait_services_stable_returns_after_a_rollout(self):
        self.ecs().create_cluster(clusterName=CLUSTER)
        for body in ("one", "two"):
            self.ecs().register_task_definition(
                family="app", networkMode="bridge",
                containerDefinitions=[busybox_container("app", command=httpd_command(body=body))])
        self.aws_ok("ecs", "create-service", "--cluster", CLUSTER, "--service-name", "app", "--task-definition",
                    "app:1", "--desired-count", "2")
        self.aws_ok("ecs", "wait", "services-stable", "--cluster", CLUSTER, "--services", "app")
        self.aws_ok("ecs", "update-service", "--cluster", CLUSTER, "--service", "app", "--task-definition", "app:2")
        # Right after the update the service has two deployments: the waiter must not return yet.
        s = self.service("app")
        self.assertEqual(len(s["deployments"]), 2)
        started = time.time()
        self.aws_ok("ecs", "wait", "services-stable", "--cluster", CLUSTER, "--services", "app")
        s = self.service("app")
        self.assertEqual(len(s["deployments"]), 1, s["deployments"])
        self.assertEqual(s["deployments"][0]["taskDefinition"], td_arn("app", 2))
        self.assertEqual(s["runningCount"], 2)
        # No health checks: the new tasks counted only after ECS's 40 s (10 s at time scale 4).
        self.assertGreaterEqual(time.time() - started, 40 / TIME_SCALE - 1)


class TaskSetsTest(DeploymentTestBase):
    """The EXTERNAL deployment controller: tools drive the deployment with task sets."""

    def task_sets(self, **kw):
        return {ts["id"]: ts for ts in self.ecs().describe_task_sets(cluster=CLUSTER, service="ext", **kw)["taskSets"]}

    def running_by_definition(self):
        arns = self.ecs().list_tasks(cluster=CLUSTER, serviceName="ext", desiredStatus="RUNNING")["taskArns"]
        tasks = self.ecs().describe_tasks(cluster=CLUSTER, tasks=arns)["tasks"] if arns else []
        out = {}
        for t in tasks:
            if t["lastStatus"] == "RUNNING":
                out[t["taskDefinitionArn"]] = out.get(t["taskDefinitionArn"], 0) + 1
        return out

    def test_task_sets_scale_switch_primary_and_drain(self):
        self.ecs().create_cluster(clusterName=CLUSTER)
        for body in ("one", "two"):
            self.ecs().register_task_definition(
                family="app", networkMode="bridge",
                containerDefinitions=[busybox_container("app", command=httpd_command(body=body))])
        svc = self.ecs().create_service(cluster=CLUSTER, serviceName="ext", desiredCount=2,
                                        deploymentController={"type": "EXTERNAL"})["service"]
        self.assertEqual(svc["taskSets"], [])
        self.assertEqual(svc["deployments"], [])
        blue = self.ecs().create_task_set(cluster=CLUSTER, service="ext", taskDefinition="app:1", externalId="blue",
                                          scale={"unit": "PERCENT", "value": 100.0})["taskSet"]
        self.assertRegex(blue["id"], r"^ecs-svc/\d{19}$")
        self.assertEqual(blue["taskSetArn"],
                         f"arn:aws:ecs:us-east-1:000000000000:task-set/{CLUSTER}/ext/{blue['id']}")
        self.assertEqual((blue["status"], blue["computedDesiredCount"]), ("ACTIVE", 2))
        primary = self.ecs().update_service_primary_task_set(cluster=CLUSTER, service="ext",
                                                             primaryTaskSet=blue["taskSetArn"])["taskSet"]
        self.assertEqual(primary["status"], "PRIMARY")
        self.wait_for(lambda: self.task_sets()[blue["id"]]["stabilityStatus"] == "STEADY_STATE" or None,
                      message="blue task set steady")
        self.assertEqual(self.running_by_definition(), {td_arn("app", 1): 2})

        green = self.ecs().create_task_set(cluster=CLUSTER, service="ext", taskDefinition="app:2",
                                           scale={"unit": "PERCENT", "value": 50.0})["taskSet"]
        self.assertEqual(green["computedDesiredCount"], 1)
        self.wait_for(lambda: self.running_by_definition() == {td_arn("app", 1): 2, td_arn("app", 2): 1} or None,
                      message="green at 50%")
        self.ecs().update_task_set(cluster=CLUSTER, service="ext", taskSet=green["id"],
                                   scale={"unit": "PERCENT", "value": 100.0})
        self.ecs().update_service_primary_task_set(cluster=CLUSTER, service="ext", primaryTaskSet=green["id"])
        sets = self.task_sets()
        self.assertEqual((sets[blue["id"]]["status"], sets[green["id"]]["status"]), ("ACTIVE", "PRIMARY"))
        self.assertEqual(self.service("ext")["taskDefinition"], td_arn("app", 2))
        self.assertClientError("InvalidParameterException", self.ecs().delete_task_set,
                               cluster=CLUSTER, service="ext", taskSet=green["id"])
        self.assertEqual(self.ecs().delete_task_set(cluster=CLUSTER, service="ext",
                                                    taskSet=blue["taskSetArn"])["taskSet"]["status"], "DRAINING")
        self.wait_for(lambda: self.running_by_definition() == {td_arn("app", 2): 2} or None, message="blue drained")
        self.wait_for(lambda: list(self.task_sets()) == [green["id"]] or None, message="blue task set gone")
        described = self.ecs().describe_task_sets(cluster=CLUSTER, service="ext",
                                                  taskSets=[green["id"], blue["id"]], include=["TAGS"])
        self.assertEqual([ts["id"] for ts in described["taskSets"]], [green["id"]])
        self.assertEqual([f["reason"] for f in described["failures"]], ["MISSING"])
        self.assertClientError("TaskSetNotFoundException", self.ecs().update_task_set, cluster=CLUSTER, service="ext",
                               taskSet=blue["id"], scale={"unit": "PERCENT", "value": 10.0})
        s = self.wait_rollout("ext", lambda s: s["runningCount"] == 2 and s["pendingCount"] == 0, message="counts")
        self.assertEqual(s["taskSets"][0]["runningCount"], 2)

        # Task sets are for EXTERNAL services only.
        self.ecs().create_service(cluster=CLUSTER, serviceName="rolling", taskDefinition="app:1", desiredCount=0)
        self.assertClientError("InvalidParameterException", self.ecs().create_task_set, cluster=CLUSTER,
                               service="rolling", taskDefinition="app:1")


class ClockEndpointTest(DeploymentTestBase):
    def test_clock_endpoint_reports_and_changes_the_time_scale(self):
        r = self.raw("GET", "/_ecsd/clock")
        self.assertEqual((r.status, r.json()), (200, {"scale": TIME_SCALE}))
        try:
            r = self.raw("POST", "/_ecsd/clock", body=b'{"scale": 25}')
            self.assertEqual((r.status, r.json()), (200, {"scale": 25}))
            self.assertEqual(self.raw("GET", "/_ecsd/clock").json(), {"scale": 25})
            for bad in (b'{"scale": 0}', b'{"scale": -1}', b'{"scale": "fast"}', b"not json", b"{}"):
                r = self.raw("POST", "/_ecsd/clock", body=bad)
                self.assertEqual(r.status, 400, bad)
            self.assertEqual(self.raw("GET", "/_ecsd/clock").json(), {"scale": 25})
            # Timestamps stay wall-clock whatever the scale.
            created = self.ecs().create_cluster(clusterName="clock")["cluster"]
            self.ecs().register_task_definition(family="t", containerDefinitions=[busybox_container("t")])
            td = self.ecs().describe_task_definition(taskDefinition="t")["taskDefinition"]
            self.assertLess(abs(td["registeredAt"].timestamp() - time.time()), 60, created)
        finally:
            self.raw("POST", "/_ecsd/clock", body=f'{{"scale": {TIME_SCALE}}}'.encode())


if __name__ == "__main__":
    main()
