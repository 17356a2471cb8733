"""The ALB data plane with real containers: an ECS service behind an application load balancer,
HTTP through the listener reaching both tasks, rules (fixed-response, redirect), health checks
turning targets healthy, draining on scale-down and 503 with no targets."""

import os
import sys
import threading
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from ecsd_harness import DockerTestCase, busybox_container, docker, free_port, main  # noqa: E402

CLUSTER = "alb"


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def fetch(url, timeout=3.0):
    """GET without proxies or redirects; returns (status, headers, body)."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), NoRedirect())
    try:
        with opener.open(url, timeout=timeout) as resp:
            return resp.status, dict(resp.headers), resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read().decode()


class AlbRoutingTest(DockerTestCase):
    def setUp(self):
        super().setUp()
        self.ec2 = self.client("ec2")
        self.elb = self.client("elbv2")
        vpc, subnets, self.group = self.default_network()
        self.subnet = subnets[0]
        self.lb = self.elb.create_load_balancer(Name="web", Subnets=subnets)["LoadBalancers"][0]
        self.tg = self.elb.create_target_group(
            Name="web-tg", Protocol="HTTP", Port=80, VpcId=vpc, TargetType="ip", HealthCheckPath="/",
            HealthCheckIntervalSeconds=5, HealthCheckTimeoutSeconds=2, HealthyThresholdCount=2,
            UnhealthyThresholdCount=2)["TargetGroups"][0]["TargetGroupArn"]
        self.elb.modify_target_group_attributes(
            TargetGroupArn=self.tg, Attributes=[{"Key": "deregistration_delay.timeout_seconds", "Value": "2"}])
        self.port = free_port()
        self.listener = self.elb.create_listener(
            LoadBalancerArn=self.lb["LoadBalancerArn"], Protocol="HTTP", Port=self.port,
            DefaultActions=[{"Type": "forward", "TargetGroupArn": self.tg}])["Listeners"][0]["ListenerArn"]
        self.ecs().create_cluster(clusterName=CLUSTER)
        self.ecs().register_task_definition(
            family="web", networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory="512",
            containerDefinitions=[busybox_container(
                "web", memory=None, portMappings=[{"containerPort": 80}],
                command="mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 80 -h /www",
                linuxParameters={"initProcessEnabled": True})])

    def url(self, path="/"):
        return f"http://127.0.0.1:{self.port}{path}"

    def health(self):
        return {d["Target"]["Id"]: d["TargetHealth"]["State"]
                for d in self.elb.describe_target_health(TargetGroupArn=self.tg)["TargetHealthDescriptions"]}

    def create_service(self, desired):
        self.ecs().create_service(
            cluster=CLUSTER, serviceName="web", taskDefinition="web", desiredCount=desired, launchType="FARGATE",
            networkConfiguration={"awsvpcConfiguration": {"subnets": [self.subnet], "securityGroups": [self.group]}},
            loadBalancers=[{"targetGroupArn": self.tg, "containerName": "web", "containerPort": 80}],
            healthCheckGracePeriodSeconds=10)

    def test_service_behind_the_load_balancer_gets_traffic_and_drains(self):
        # The listener really listens on its port, and says so.
        self.wait_for(lambda: f'"{self.listener}":{self.port}' in self.http_get(
            f"{self.daemon.endpoint}/_ecsd/listeners")[1] or None, timeout=10, message="listener served")
        # No targets yet: 503, as ELB answers.
        self.assertEqual(self.wait_for(lambda: fetch(self.url())[0] == 503 or None, timeout=10), True)

        self.create_service(2)
        states = self.wait_for(lambda: (lambda h: h if len(h) == 2 and set(h.values()) == {"healthy"} else None)(
            self.health()), timeout=60, message="two healthy targets")
        # The targets are the tasks' private IPs, inside the task's subnet (172.31.0.0/20).
        for ip in states:
            self.assertTrue(ip.startswith("172.31."), ip)
        bodies = set()
        for _ in range(6):
            status, headers, body = fetch(self.url())
            self.assertEqual(status, 200)
            bodies.add(body.strip())
        self.assertEqual(len(bodies), 2, f"round robin should reach both tasks: {bodies}")

        svc = self.wait_for(lambda: (lambda s: s if s["deployments"][0]["rolloutState"] == "COMPLETED" else None)(
            self.ecs().describe_services(cluster=CLUSTER, services=["web"])["services"][0]), timeout=30)
        self.assertEqual(svc["runningCount"], 2)

        # Scale to 0: targets drain, then go; the tasks stop after the deregistration delay.
        self.ecs().update_service(cluster=CLUSTER, service="web", desiredCount=0)
        self.wait_for(lambda: "draining" in self.health().values() or not self.health() or None, timeout=20)
        self.wait_for(lambda: not self.health() or None, timeout=30, message="targets removed after draining")
        self.wait_for(lambda: fetch(self.url())[0] == 503 or None, timeout=10)
        tasks = self.ecs().list_tasks(cluster=CLUSTER, serviceName="web", desiredStatus="STOPPED")["taskArns"]
        self.assertEqual(len(tasks), 2)

    def test_scaling_under_a_steady_request_loop_fails_no_request(self):
        self.create_service(2)
        self.wait_for(lambda: (lambda h: len(h) == 2 and set(h.values()) == {"healthy"} or None)(self.health()),
                      timeout=60, message="two healthy targets")
        results, bodies, stop = [], [], threading.Event()

        def loop():  # sequential GETs, a new connection each, as long as the test scales
            while not stop.is_set():
                try:
                    status, _, body = fetch(self.url(), timeout=5)
                    results.append(status)
                    bodies.append(body.strip())
                except Exception as err:  # noqa: BLE001 - every failure counts
                    results.append(repr(err))

        worker = threading.Thread(target=loop, daemon=True)
        worker.start()
        self.addCleanup(worker.join, 10)
        self.addCleanup(stop.set)

        def running(n):
            svc = self.ecs().describe_services(cluster=CLUSTER, services=["web"])["services"][0]
            h = self.health()
            return svc["runningCount"] == n and len(h) == n and set(h.values()) == {"healthy"} or None

        self.ecs().update_service(cluster=CLUSTER, service="web", desiredCount=4)
        self.wait_for(lambda: running(4), timeout=90, message="four running, healthy tasks")
        seen = len(bodies)
        self.wait_for(lambda: len(set(bodies[seen:])) == 4 or None, timeout=20, message="traffic on all four tasks")

        self.ecs().update_service(cluster=CLUSTER, service="web", desiredCount=1)
        self.wait_for(lambda: running(1), timeout=60, message="one running task left")
        self.wait_for(lambda: len(self.ecs().list_tasks(cluster=CLUSTER, serviceName="web", desiredStatus="STOPPED")[
            "taskArns"]) == 3 or None, timeout=30, message="three tasks stopped")
        time.sleep(1)  # requests keep flowing to the one task left
        stop.set()
        worker.join(10)
        failures = [r for r in results if r != 200]
        self.assertGreater(len(results), 50)
        self.assertEqual(failures, [], f"{len(failures)} of {len(results)} requests failed")
        self.assertEqual(len(set(bodies[-5:])), 1, "the last requests all reach the one task left")

    def test_a_task_failing_its_elb_health_check_is_marked_unhealthy_and_replaced(self):
        self.create_service(1)
        [ip] = self.wait_for(lambda: (lambda h: h if list(h.values()) == ["healthy"] else None)(self.health()),
                             timeout=60, message="a healthy target")
        [arn] = self.ecs().list_tasks(cluster=CLUSTER, serviceName="web")["taskArns"]
        task = self.describe_task(CLUSTER, arn)
        self.wait_for(lambda: self.ecs().describe_services(cluster=CLUSTER, services=["web"])["services"][0][
            "deployments"][0]["rolloutState"] == "COMPLETED" or None, timeout=30, message="steady")
        # The health check path now answers 404: ResponseCodeMismatch, then unhealthy.
        docker("exec", self.container_of(task, "web")["runtimeId"], "rm", "/www/index.html")
        desc = self.wait_for(lambda: (lambda d: d if d and d[0]["TargetHealth"]["State"] == "unhealthy" else None)(
            self.elb.describe_target_health(TargetGroupArn=self.tg)["TargetHealthDescriptions"]),
            timeout=30, message="target unhealthy")
        self.assertEqual(desc[0]["Target"]["Id"], ip)
        self.assertEqual(desc[0]["TargetHealth"]["Reason"], "Target.ResponseCodeMismatch")
        self.assertIn("[404]", desc[0]["TargetHealth"]["Description"])
        stopped = self.wait_task(CLUSTER, arn, last_status="STOPPED", timeout=60)
        self.assertEqual(stopped["stoppedReason"], f"Task failed ELB health checks in (target-group {self.tg})")
        events = [e["message"] for e in self.ecs().describe_services(cluster=CLUSTER, services=["web"])[
            "services"][0]["events"]]
        self.assertTrue(any("failed ELB health checks" in m for m in events), events)
        # A new task takes its place and turns healthy.
        self.wait_for(lambda: (lambda h: h if len(h) == 1 and ip not in h and list(h.values()) == ["healthy"]
                               else None)(self.health()), timeout=90, message="the replacement is healthy")
        self.assertEqual(fetch(self.url())[0], 200)

    def test_rules_and_weights_route_to_services_in_different_target_groups(self):
        vpc = self.ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
        api_tg = self.elb.create_target_group(
            Name="api-tg", Protocol="HTTP", Port=80, VpcId=vpc, TargetType="ip", HealthCheckPath="/",
            HealthCheckIntervalSeconds=5, HealthCheckTimeoutSeconds=2, HealthyThresholdCount=2)[
            "TargetGroups"][0]["TargetGroupArn"]
        self.elb.create_rule(ListenerArn=self.listener, Priority=10,
                             Conditions=[{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/api/*"]}}],
                             Actions=[{"Type": "forward", "TargetGroupArn": api_tg}])
        self.elb.create_rule(ListenerArn=self.listener, Priority=20,
                             Conditions=[{"Field": "host-header", "HostHeaderConfig": {"Values": ["api.example.com"]}}],
                             Actions=[{"Type": "forward", "TargetGroupArn": api_tg}])
        for name, tg in (("web", self.tg), ("api", api_tg)):
            self.ecs().register_task_definition(
                family=name, networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory="512",
                containerDefinitions=[busybox_container(
                    "web", memory=None, portMappings=[{"containerPort": 80}],
                    command=f"mkdir -p /www/api && echo {name} > /www/index.html && echo {name} > /www/api/users "
                            "&& exec httpd -f -p 80 -h /www")])
            self.ecs().create_service(
                cluster=CLUSTER, serviceName=name, taskDefinition=name, desiredCount=1, launchType="FARGATE",
                networkConfiguration={"awsvpcConfiguration": {"subnets": [self.subnet],
                                                              "securityGroups": [self.group]}},
                loadBalancers=[{"targetGroupArn": tg, "containerName": "web", "containerPort": 80}])
        for tg in (self.tg, api_tg):
            self.wait_for(lambda: (lambda d: len(d) == 1 and d[0]["TargetHealth"]["State"] == "healthy" or None)(
                self.elb.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"]),
                timeout=60, message="a healthy target in each group")

        def body(path="/", host=None):
            req = urllib.request.Request(self.url(path), headers={"Host": host} if host else {})
            opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
            with opener.open(req, timeout=5) as resp:
                return resp.read().decode().strip()

        self.assertEqual(body("/api/users"), "api")
        self.assertEqual(body("/", host="api.example.com"), "api")
        self.assertEqual(body("/"), "web")
        self.assertEqual(body("/", host="www.example.com"), "web")

        self.elb.modify_listener(ListenerArn=self.listener, DefaultActions=[{"Type": "forward", "ForwardConfig": {
            "TargetGroups": [{"TargetGroupArn": self.tg, "Weight": 1}, {"TargetGroupArn": api_tg, "Weight": 3}]}}])
        time.sleep(0.5)
        bodies = [body("/") for _ in range(200)]
        share = bodies.count("api") / len(bodies)
        self.assertTrue(0.6 <= share <= 0.9, f"api got {share:.0%} of the requests, configured 75%")
        self.assertEqual(set(bodies), {"web", "api"})

    def test_a_request_in_flight_on_a_draining_target_finishes(self):
        self.elb.modify_target_group_attributes(
            TargetGroupArn=self.tg, Attributes=[{"Key": "deregistration_delay.timeout_seconds", "Value": "6"}])
        # A CGI that answers after 3 s (busybox httpd passes its CRLF header lines through).
        cgi = ("printf '%s\\n' '#!/bin/sh' 'sleep 3' 'printf \"Content-Type: text/plain\\r\\n\\r\\nfinished\\n\"' "
               "> /www/cgi-bin/slow")
        self.ecs().register_task_definition(
            family="web", networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory="512",
            containerDefinitions=[busybox_container(
                "web", memory=None, portMappings=[{"containerPort": 80}],
                command=f"mkdir -p /www/cgi-bin && hostname > /www/index.html && {cgi} && "
                        "chmod +x /www/cgi-bin/slow && exec httpd -f -p 80 -h /www")])
        self.create_service(1)
        self.wait_for(lambda: (lambda h: list(h.values()) == ["healthy"] or None)(self.health()),
                      timeout=60, message="a healthy target")
        result = {}
        slow = threading.Thread(target=lambda: result.update(r=fetch(self.url("/cgi-bin/slow"), timeout=15)))
        slow.start()
        time.sleep(0.5)  # the request is in flight
        self.ecs().update_service(cluster=CLUSTER, service="web", desiredCount=0)
        self.wait_for(lambda: list(self.health().values()) == ["draining"] or None, timeout=10, message="draining")
        # No new request goes to the draining target (once the change reached the listener, within
        # ms): nothing else is registered, so 503.
        self.wait_for(lambda: fetch(self.url())[0] == 503 or None, timeout=2, message="503 while draining")
        slow.join(15)
        status, _, body = result["r"]
        self.assertEqual((status, body.strip()), (200, "finished"))
        self.wait_for(lambda: not self.health() or None, timeout=30, message="target removed after the delay")

    def test_rules_fixed_response_and_redirect(self):
        self.elb.create_rule(
            ListenerArn=self.listener, Priority=10,
            Conditions=[{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/teapot*"]}}],
            Actions=[{"Type": "fixed-response", "FixedResponseConfig": {
                "StatusCode": "418", "ContentType": "text/plain", "MessageBody": "short and stout"}}])
        self.elb.create_rule(
            ListenerArn=self.listener, Priority=20,
            Conditions=[{"Field": "path-pattern", "Values": ["/old/*"]}],
            Actions=[{"Type": "redirect", "RedirectConfig": {
                "Path": "/new/#{path}", "StatusCode": "HTTP_302", "Query": "from=old"}}])
        # The listener picks up rule changes within a moment; each rule may arrive in a different sync.
        status, _, body = self.wait_for(lambda: (lambda r: r if r[0] == 418 else None)(fetch(self.url("/teapot"))),
                                        timeout=10, message="fixed response rule")
        self.assertEqual(body, "short and stout")
        status, headers, _ = self.wait_for(lambda: (lambda r: r if r[0] != 503 else None)(fetch(self.url("/old/page"))),
                                           timeout=10, message="redirect rule")
        self.assertEqual(status, 302)
        self.assertEqual(headers.get("Location"), f"http://127.0.0.1:{self.port}/new/old/page?from=old")
        # Everything else goes to the default action: the group has no targets, so 503.
        self.assertEqual(fetch(self.url("/other"))[0], 503)


if __name__ == "__main__":
    main()
