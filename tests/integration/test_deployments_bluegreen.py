"""Native BLUE_GREEN, CANARY and LINEAR deployments with a real ALB: green comes up on the alternate target
group and answers on the test listener before production moves, a PAUSE lifecycle hook holds the deployment
until ContinueServiceDeployment, a Lambda hook is recorded and skipped, production traffic shifts by
rewriting the production rule's weights (all at once or a canary share first), blue stays through the bake
time and is gone afterwards, and StopServiceDeployment during bake puts production back on blue."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from ecsd_harness import busybox_container, free_port, httpd_command, main, td_arn  # noqa: E402
from test_deployments import CLUSTER, DeploymentTestBase, fetch  # noqa: E402

ROLE = "arn:aws:iam::000000000000:role/ecsInfrastructureRoleForLoadBalancers"
LAMBDA = "arn:aws:lambda:us-east-1:000000000000:function:check-green"


class BlueGreenTest(DeploymentTestBase):
    def setUp(self):
        super().setUp()
        self.elb = self.client("elbv2")
        vpc, subnets, self.group = self.default_network()
        self.subnet = subnets[0]
        lb = self.elb.create_load_balancer(Name="bg", Subnets=subnets)["LoadBalancers"][0]["LoadBalancerArn"]
        self.tgs = []
        for name in ("bg-a", "bg-b"):
            tg = self.elb.create_target_group(
                Name=name, Protocol="HTTP", Port=80, VpcId=vpc, TargetType="ip", HealthCheckPath="/",
                HealthCheckIntervalSeconds=5, HealthCheckTimeoutSeconds=2, HealthyThresholdCount=2,
                UnhealthyThresholdCount=2)["TargetGroups"][0]["TargetGroupArn"]
            self.elb.modify_target_group_attributes(
                TargetGroupArn=tg, Attributes=[{"Key": "deregistration_delay.timeout_seconds", "Value": "10"}])
            self.tgs.append(tg)
        self.prod_port, self.test_port = free_port(), free_port()
        self.rules = []
        for port in (self.prod_port, self.test_port):
            listener = self.elb.create_listener(
                LoadBalancerArn=lb, Protocol="HTTP", Port=port,
                DefaultActions=[{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404"}}]
            )["Listeners"][0]["ListenerArn"]
            self.rules.append(self.elb.create_rule(
                ListenerArn=listener, Priority=10,
                Conditions=[{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/*"]}}],
                Actions=[{"Type": "forward", "ForwardConfig": {"TargetGroups": [
                    {"TargetGroupArn": self.tgs[0], "Weight": 100}, {"TargetGroupArn": self.tgs[1], "Weight": 0}]}}]
            )["Rules"][0]["RuleArn"])
        self.ecs().create_cluster(clusterName=CLUSTER)
        for body in ("one", "two"):
            self.ecs().register_task_definition(
                family="web", networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory="512",
                containerDefinitions=[busybox_container(
                    "web", memory=None, portMappings=[{"containerPort": 80}], command=httpd_command(body=body),
                    linuxParameters={"initProcessEnabled": True})])

    def url(self, port):
        return f"http://127.0.0.1:{port}/"

    def create(self, config):
        self.ecs().create_service(
            cluster=CLUSTER, serviceName="web", taskDefinition="web:1", desiredCount=2, launchType="FARGATE",
            networkConfiguration={"awsvpcConfiguration": {"subnets": [self.subnet], "securityGroups": [self.group]}},
            loadBalancers=[{"targetGroupArn": self.tgs[0], "containerName": "web", "containerPort": 80,
                            "advancedConfiguration": {"alternateTargetGroupArn": self.tgs[1],
                                                      "productionListenerRule": self.rules[0],
                                                      "testListenerRule": self.rules[1], "roleArn": ROLE}}],
            deploymentConfiguration=config)
        self.wait_rollout("web", self.stable_on(td_arn("web", 1)), message="first deployment completed")
        self.wait_for(lambda: fetch(self.url(self.prod_port)) == (200, "one") or None, timeout=20,
                      message="production on revision 1")

    def weights(self, rule):
        actions = self.elb.describe_rules(RuleArns=[rule])["Rules"][0]["Actions"]
        return {g["TargetGroupArn"]: g["Weight"] for g in actions[0]["ForwardConfig"]["TargetGroups"]}

    def service_deployment(self):
        sds = self.ecs().list_service_deployments(cluster=CLUSTER, service="web")["serviceDeployments"]
        return self.ecs().describe_service_deployments(
            serviceDeploymentArns=[sds[0]["serviceDeploymentArn"]])["serviceDeployments"][0]

    def bodies(self, port, n):
        return [fetch(self.url(port)) for _ in range(n)]

    def wait_served(self, port, expected, message, n=10, timeout=10):
        """Waits until n requests in a row through the listener on `port` get exactly the bodies `expected`
        (the data plane applies a rule change shortly after the store has it)."""
        self.wait_for(lambda: set(b for _, b in self.bodies(port, n)) == expected or None, timeout=timeout,
                      message=message)

    def test_blue_green_with_test_listener_pause_hook_and_bake(self):
        self.create({"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 1, "lifecycleHooks": [
            {"targetType": "AWS_LAMBDA", "hookTargetArn": LAMBDA, "roleArn": ROLE, "lifecycleStages": ["POST_SCALE_UP"]},
            {"targetType": "PAUSE", "lifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"]}]})
        self.ecs().update_service(cluster=CLUSTER, service="web", taskDefinition="web:2")

        # Paused after the test traffic shift: green answers on the test listener, production is all blue.
        def paused():
            sd = self.service_deployment()
            hooks = [h for h in sd.get("lifecycleHookDetails", []) if h["status"] == "AWAITING_ACTION"]
            return (sd, hooks[0]) if hooks else None
        sd, hook = self.wait_for(paused, timeout=90, message="deployment paused at the PAUSE hook")
        self.assertEqual(sd["lifecycleStage"], "POST_TEST_TRAFFIC_SHIFT")
        self.assertEqual(hook["targetType"], "PAUSE")
        lambda_hook = next(h for h in sd["lifecycleHookDetails"] if h["targetType"] == "AWS_LAMBDA")
        self.assertEqual((lambda_hook["targetArn"], lambda_hook["status"]), (LAMBDA, "SUCCEEDED"))
        self.assertTrue(any("skipped the AWS_LAMBDA lifecycle hook " + LAMBDA in e["message"]
                            for e in self.service()["events"]))
        # The data plane picks up rule changes from the store within a second.
        self.wait_served(self.test_port, {"two"}, "test listener on green")
        self.assertEqual(set(b for _, b in self.bodies(self.prod_port, 10)), {"one"})
        self.assertEqual(self.weights(self.rules[0]), {self.tgs[0]: 100, self.tgs[1]: 0})
        self.assertEqual(self.weights(self.rules[1]), {self.tgs[0]: 0, self.tgs[1]: 100})
        time.sleep(2)  # nothing to wait for: the deployment must NOT move on by itself while paused
        self.assertEqual(self.service_deployment()["lifecycleStage"], "POST_TEST_TRAFFIC_SHIFT", "must stay paused")

        self.assertClientError("InvalidParameterException", self.ecs().continue_service_deployment,
                               serviceDeploymentArn=sd["serviceDeploymentArn"], hookId="not-a-hook")
        self.ecs().continue_service_deployment(serviceDeploymentArn=sd["serviceDeploymentArn"],
                                               hookId=hook["hookId"], action="CONTINUE")
        # All production traffic moves at once; blue stays for the bake time (1 min = 15 s here).
        self.wait_for(lambda: self.weights(self.rules[0]) == {self.tgs[0]: 0, self.tgs[1]: 100} or None, timeout=30,
                      message="production shifted")
        self.wait_for(lambda: set(b for _, b in self.bodies(self.prod_port, 10)) == {"two"} or None, timeout=10,
                      message="production on green")
        s = self.service()
        self.assertEqual([(d["status"], d["runningCount"]) for d in s["deployments"]], [("PRIMARY", 2), ("ACTIVE", 2)])
        self.assertEqual(self.service_deployment()["lifecycleStage"], "BAKE_TIME")
        started = time.time()
        self.aws_ok("ecs", "wait", "services-stable", "--cluster", CLUSTER, "--services", "web")
        s = self.service()
        self.assertEqual(len(s["deployments"]), 1)
        self.assertEqual(s["deployments"][0]["taskDefinition"], td_arn("web", 2))
        self.assertEqual(s["deployments"][0]["rolloutState"], "COMPLETED")
        self.assertGreater(time.time() - started, 5, "blue must stay for the bake time")
        running = self.ecs().list_tasks(cluster=CLUSTER, serviceName="web", desiredStatus="RUNNING")["taskArns"]
        tasks = self.ecs().describe_tasks(cluster=CLUSTER, tasks=running)["tasks"]
        self.assertEqual({t["taskDefinitionArn"] for t in tasks}, {td_arn("web", 2)})
        self.assertEqual(self.service_deployment()["status"], "SUCCESSFUL")
        self.assertEqual(set(b for _, b in self.bodies(self.prod_port, 10)), {"two"})

    def test_canary_splits_production_then_moves_it_all(self):
        self.create({"strategy": "CANARY", "bakeTimeInMinutes": 0,
                     "canaryConfiguration": {"canaryPercent": 30.0, "canaryBakeTimeInMinutes": 2}})
        self.ecs().update_service(cluster=CLUSTER, service="web", taskDefinition="web:2")
        self.wait_for(lambda: self.weights(self.rules[0]) == {self.tgs[0]: 70, self.tgs[1]: 30} or None, timeout=90,
                      message="canary weights on the production rule")
        # The split is in effect once green answers through the production listener at all.
        self.wait_for(lambda: "two" in set(b for _, b in self.bodies(self.prod_port, 20)) or None, timeout=10,
                      message="canary traffic reaches green")
        results = self.bodies(self.prod_port, 300)
        self.assertEqual({s for s, _ in results}, {200})
        share = sum(1 for _, b in results if b == "two") / len(results)
        self.assertGreater(share, 0.15, f"canary share {share}")
        self.assertLess(share, 0.45, f"canary share {share}")
        self.assertEqual(self.service_deployment()["lifecycleStage"], "PRODUCTION_TRAFFIC_SHIFT")
        s = self.wait_rollout("web", self.stable_on(td_arn("web", 2)), timeout=120, message="canary completed")
        self.assertTrue(any(e["message"].endswith(f"shifted 30% of production traffic to (target-group {self.tgs[1]}).")
                            for e in s["events"]))
        self.assertEqual(self.weights(self.rules[0]), {self.tgs[0]: 0, self.tgs[1]: 100})
        self.wait_served(self.prod_port, {"two"}, "production all on green", n=20)

    def test_linear_moves_production_in_steps(self):
        self.create({"strategy": "LINEAR", "bakeTimeInMinutes": 0,
                     "linearConfiguration": {"stepPercent": 50.0, "stepBakeTimeInMinutes": 1}})
        self.ecs().update_service(cluster=CLUSTER, service="web", taskDefinition="web:2")
        seen = []

        def record():
            w = self.weights(self.rules[0])
            if not seen or seen[-1] != w:
                seen.append(w)
            return w == {self.tgs[0]: 0, self.tgs[1]: 100} or None
        self.wait_for(record, timeout=120, message="production fully on green")
        self.assertEqual(seen, [{self.tgs[0]: 100, self.tgs[1]: 0}, {self.tgs[0]: 50, self.tgs[1]: 50},
                                {self.tgs[0]: 0, self.tgs[1]: 100}])
        s = self.wait_rollout("web", self.stable_on(td_arn("web", 2)), timeout=60, message="linear completed")
        shifts = [e["message"] for e in s["events"] if "of production traffic to" in e["message"]]
        self.assertEqual([m.split(" shifted ")[1].split("%")[0] for m in reversed(shifts[:2])], ["50", "100"])

    def test_stop_service_deployment_during_bake_puts_production_back_on_blue(self):
        self.create({"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 30})
        self.ecs().update_service(cluster=CLUSTER, service="web", taskDefinition="web:2")
        self.wait_for(lambda: self.service_deployment().get("lifecycleStage") == "BAKE_TIME" or None, timeout=90,
                      message="bake time")
        self.wait_served(self.prod_port, {"two"}, "production on green during bake")
        sd = self.service_deployment()
        self.ecs().stop_service_deployment(serviceDeploymentArn=sd["serviceDeploymentArn"], stopType="ROLLBACK")
        self.wait_for(lambda: self.weights(self.rules[0]) == {self.tgs[0]: 100, self.tgs[1]: 0} or None, timeout=30,
                      message="production back on blue")
        self.wait_served(self.prod_port, {"one"}, "production traffic back on blue")
        s = self.wait_rollout("web", self.stable_on(td_arn("web", 1)), timeout=60, message="green gone")
        self.assertEqual(s["taskDefinition"], td_arn("web", 1))
        done = self.ecs().describe_service_deployments(serviceDeploymentArns=[sd["serviceDeploymentArn"]])
        done = done["serviceDeployments"][0]
        self.assertEqual(done["status"], "ROLLBACK_SUCCESSFUL")
        self.assertEqual(done["rollback"]["serviceRevisionArn"], sd["sourceServiceRevisions"][0]["arn"])


if __name__ == "__main__":
    main()
