"""ELBv2 control plane over awsQuery: load balancers, target groups, listeners, rules, targets, tags,
account limits and SSL policies, through boto3 and the aws CLI (every response is checked against the
model as raw XML by the harness), plus Marker/PageSize paging, error codes as botocore parses them, and the
raw XML shapes."""

import os
import re
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from ecsd_harness import (  # noqa: E402
    ACCOUNT_ID,
    EcsdTestCase,
    main,
    raw_request,
    wait_until,
    xml_child,
)

NS = "{http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/}"
CERT = f"arn:aws:acm:us-east-1:{ACCOUNT_ID}:certificate/11111111-2222-3333-4444-555555555555"


def tags_of(tag_list):
    return {t["Key"]: t["Value"] for t in tag_list}


class Elbv2Case(EcsdTestCase):
    """Helpers shared by the ELBv2 tests: the default VPC's subnets, and resource factories."""

    def setUp(self):
        super().setUp()
        self.elb = self.client("elbv2")
        ec2 = self.client("ec2")
        subnets = [s for s in ec2.describe_subnets()["Subnets"] if s.get("DefaultForAz")]
        subnets.sort(key=lambda s: s["AvailabilityZone"])
        self.assertGreaterEqual(len(subnets), 2, f"default subnets: {subnets}")
        self.subnets = [s["SubnetId"] for s in subnets]
        self.vpc = subnets[0]["VpcId"]

    def alb(self, name, **kw):
        return self.elb.create_load_balancer(Name=name, Subnets=self.subnets[:2], **kw)["LoadBalancers"][0]

    def tg(self, name, protocol="HTTP", port=80, **kw):
        return self.elb.create_target_group(Name=name, Protocol=protocol, Port=port, VpcId=self.vpc, **kw)[
            "TargetGroups"
        ][0]

    def http_listener(self, lb_arn, tg_arn, port=80):
        return self.elb.create_listener(
            LoadBalancerArn=lb_arn,
            Protocol="HTTP",
            Port=port,
            DefaultActions=[{"Type": "forward", "TargetGroupArn": tg_arn}],
        )["Listeners"][0]


class LoadBalancerTest(Elbv2Case):
    def test_create_describe_delete_with_boto3(self):
        lb = self.alb("web", Tags=[{"Key": "env", "Value": "dev"}])
        self.assertRegex(
            lb["LoadBalancerArn"], rf"^arn:aws:elasticloadbalancing:us-east-1:{ACCOUNT_ID}:loadbalancer/app/web/[0-9a-f]{{16}}$"
        )
        self.assertRegex(lb["DNSName"], r"^web-\d{10}\.us-east-1\.elb\.localhost$")
        self.assertEqual(lb["State"]["Code"], "active")
        self.assertEqual(lb["Type"], "application")
        self.assertEqual(lb["Scheme"], "internet-facing")
        self.assertEqual(lb["VpcId"], self.vpc)
        self.assertEqual([z["SubnetId"] for z in lb["AvailabilityZones"]], self.subnets[:2])
        self.assertEqual(len(lb["SecurityGroups"]), 1)
        self.assertTrue(lb["CanonicalHostedZoneId"].startswith("Z"))

        got = self.elb.describe_load_balancers(Names=["web"])["LoadBalancers"]
        self.assertEqual(got[0]["LoadBalancerArn"], lb["LoadBalancerArn"])
        self.assertEqual(got[0]["CreatedTime"], lb["CreatedTime"])
        tags = self.elb.describe_tags(ResourceArns=[lb["LoadBalancerArn"]])["TagDescriptions"][0]["Tags"]
        self.assertEqual(tags_of(tags), {"env": "dev"})

        self.elb.get_waiter("load_balancer_available").wait(
            LoadBalancerArns=[lb["LoadBalancerArn"]], WaiterConfig={"Delay": 1, "MaxAttempts": 5}
        )
        self.elb.delete_load_balancer(LoadBalancerArn=lb["LoadBalancerArn"])
        self.assertEqual(self.elb.describe_load_balancers()["LoadBalancers"], [])
        self.elb.delete_load_balancer(LoadBalancerArn=lb["LoadBalancerArn"])  # already gone: succeeds

    def test_internal_and_network_load_balancers(self):
        internal = self.alb("private", Scheme="internal")
        self.assertTrue(internal["DNSName"].startswith("internal-private-"), internal["DNSName"])
        nlb = self.elb.create_load_balancer(Name="tcp", Type="network", Subnets=self.subnets[:1])["LoadBalancers"][0]
        self.assertEqual(nlb["Type"], "network")
        self.assertIn(":loadbalancer/net/tcp/", nlb["LoadBalancerArn"])
        self.assertNotIn("SecurityGroups", nlb)

    def test_cli_create_and_describe(self):
        doc = self.aws_ok("elbv2", "create-load-balancer", "--name", "cli-lb", "--subnets", *self.subnets[:2],
                          "--tags", "Key=team,Value=web")
        lb = doc["LoadBalancers"][0]
        self.assertEqual(lb["LoadBalancerName"], "cli-lb")
        doc = self.aws_ok("elbv2", "describe-load-balancers", "--names", "cli-lb")
        self.assertEqual(doc["LoadBalancers"][0]["DNSName"], lb["DNSName"])
        doc = self.aws_ok("elbv2", "describe-load-balancer-attributes", "--load-balancer-arn", lb["LoadBalancerArn"])
        attrs = {a["Key"]: a["Value"] for a in doc["Attributes"]}
        self.assertEqual(attrs["deletion_protection.enabled"], "false")
        self.assertEqual(attrs["idle_timeout.timeout_seconds"], "60")
        self.assertEqual(attrs["routing.http2.enabled"], "true")
        doc = self.aws_ok("elbv2", "modify-load-balancer-attributes", "--load-balancer-arn", lb["LoadBalancerArn"],
                          "--attributes", "Key=deletion_protection.enabled,Value=true")
        self.assertIn({"Key": "deletion_protection.enabled", "Value": "true"}, doc["Attributes"])
        self.aws_err("OperationNotPermitted", "elbv2", "delete-load-balancer", "--load-balancer-arn",
                     lb["LoadBalancerArn"])

    def test_errors_as_botocore_parses_them(self):
        self.alb("web")
        self.assertClientError("DuplicateLoadBalancerName", self.alb, "web", Scheme="internal")
        self.assertClientError("LoadBalancerNotFound", self.elb.describe_load_balancers, Names=["nope"])
        self.assertClientError("ValidationError", self.elb.create_load_balancer, Name="one-subnet",
                               Subnets=self.subnets[:1])
        self.assertClientError("SubnetNotFound", self.elb.create_load_balancer, Name="bad",
                               Subnets=[self.subnets[0], "subnet-0000000000000000f"])
        self.assertClientError("ValidationError", self.elb.create_load_balancer, Name="-bad-", Subnets=self.subnets[:2])
        # Model constraints are checked before the handler: PageSize is 1..400.
        self.assertClientError("ValidationError", self.client("elbv2", validate=False).describe_load_balancers,
                               PageSize=0)
        err = self.aws_err("DuplicateLoadBalancerName", "elbv2", "create-load-balancer", "--name", "web",
                           "--scheme", "internal", "--subnets", *self.subnets[:2])
        self.assertIn("CreateLoadBalancer", err)

    def test_regions_are_isolated(self):
        lb = self.alb("web")
        other = self.client("elbv2", region="eu-west-1")
        self.assertEqual(other.describe_load_balancers()["LoadBalancers"], [])
        self.assertClientError("LoadBalancerNotFound", other.describe_load_balancer_attributes,
                               LoadBalancerArn=lb["LoadBalancerArn"])


class PagingTest(Elbv2Case):
    def test_cli_auto_pagination_follows_next_marker(self):
        # Pages hold at most 400 items (PageSize's maximum, and the default): 401 groups take two requests,
        # which the CLI joins. (--page-size cannot shrink pages here: ELBv2's limit key is itself called
        # PageSize, so aws CLI v1 takes --page-size as that parameter and turns auto-pagination off.)
        names = {f"tg-{i:03d}" for i in range(401)}
        for n in sorted(names):
            self.tg(n)
        doc = self.aws_ok("elbv2", "describe-target-groups")
        self.assertEqual(len(doc["TargetGroups"]), 401)
        self.assertEqual({g["TargetGroupName"] for g in doc["TargetGroups"]}, names)
        self.assertNotIn("NextMarker", doc)
        doc = self.aws_ok("elbv2", "describe-target-groups", "--page-size", "2")
        self.assertEqual(len(doc["TargetGroups"]), 2)
        self.assertTrue(doc["NextMarker"])
        # --max-items cuts a page short; the CLI's NextToken resumes inside it.
        doc = self.aws_ok("elbv2", "describe-target-groups", "--max-items", "3")
        self.assertEqual([g["TargetGroupName"] for g in doc["TargetGroups"]], ["tg-000", "tg-001", "tg-002"])
        self.assertIn("NextToken", doc)
        rest = self.aws_ok("elbv2", "describe-target-groups", "--max-items", "2", "--starting-token", doc["NextToken"])
        self.assertEqual([g["TargetGroupName"] for g in rest["TargetGroups"]], ["tg-003", "tg-004"])

    def test_boto3_paginators(self):
        for i in range(5):
            self.alb(f"lb-{i}")
        pages = list(self.elb.get_paginator("describe_load_balancers").paginate(PaginationConfig={"PageSize": 2}))
        self.assertEqual([len(p["LoadBalancers"]) for p in pages], [2, 2, 1])
        self.assertEqual(len({lb["LoadBalancerName"] for p in pages for lb in p["LoadBalancers"]}), 5)
        self.assertTrue(pages[0]["NextMarker"])
        self.assertNotIn("NextMarker", pages[-1])
        policies = list(self.elb.get_paginator("describe_ssl_policies").paginate(PaginationConfig={"PageSize": 1}))
        self.assertGreaterEqual(len(policies), 4)

    def test_unknown_marker_is_a_validation_error(self):
        self.assertClientError("ValidationError", self.elb.describe_load_balancers, Marker="not-a-marker")


class TargetGroupTest(Elbv2Case):
    def test_defaults_and_modify(self):
        tg = self.tg("web", HealthCheckPath="/health")
        self.assertEqual(tg["HealthCheckProtocol"], "HTTP")
        self.assertEqual(tg["HealthCheckPort"], "traffic-port")
        self.assertEqual(tg["HealthCheckPath"], "/health")
        self.assertEqual(tg["HealthCheckIntervalSeconds"], 30)
        self.assertEqual(tg["HealthCheckTimeoutSeconds"], 5)
        self.assertEqual(tg["HealthyThresholdCount"], 5)
        self.assertEqual(tg["UnhealthyThresholdCount"], 2)
        self.assertEqual(tg["Matcher"], {"HttpCode": "200"})
        self.assertEqual(tg["TargetType"], "instance")
        self.assertEqual(tg["LoadBalancerArns"], [])
        tcp = self.tg("tcp", protocol="TCP", port=5432, TargetType="ip")
        self.assertEqual(tcp["HealthCheckProtocol"], "TCP")
        self.assertEqual(tcp["HealthCheckTimeoutSeconds"], 10)
        self.assertNotIn("Matcher", tcp)

        mod = self.elb.modify_target_group(TargetGroupArn=tg["TargetGroupArn"], HealthCheckIntervalSeconds=10,
                                           Matcher={"HttpCode": "200-299"})["TargetGroups"][0]
        self.assertEqual(mod["HealthCheckIntervalSeconds"], 10)
        self.assertEqual(mod["Matcher"]["HttpCode"], "200-299")

        attrs = {a["Key"]: a["Value"] for a in
                 self.elb.describe_target_group_attributes(TargetGroupArn=tg["TargetGroupArn"])["Attributes"]}
        self.assertEqual(attrs["deregistration_delay.timeout_seconds"], "300")
        self.assertEqual(attrs["stickiness.enabled"], "false")
        self.assertEqual(attrs["stickiness.type"], "lb_cookie")
        self.assertEqual(attrs["load_balancing.algorithm.type"], "round_robin")
        self.assertEqual(attrs["slow_start.duration_seconds"], "0")
        out = self.elb.modify_target_group_attributes(
            TargetGroupArn=tg["TargetGroupArn"],
            Attributes=[{"Key": "load_balancing.algorithm.type", "Value": "least_outstanding_requests"},
                        {"Key": "deregistration_delay.timeout_seconds", "Value": "10"}],
        )["Attributes"]
        self.assertIn({"Key": "load_balancing.algorithm.type", "Value": "least_outstanding_requests"}, out)

    def test_cli_create_with_health_check_and_errors(self):
        doc = self.aws_ok("elbv2", "create-target-group", "--name", "cli-tg", "--protocol", "HTTP", "--port", "8080",
                          "--vpc-id", self.vpc, "--target-type", "ip", "--health-check-path", "/health",
                          "--matcher", "HttpCode=200-399")
        tg = doc["TargetGroups"][0]
        self.assertEqual(tg["HealthCheckPath"], "/health")
        self.assertEqual(tg["Port"], 8080)
        self.aws_err("DuplicateTargetGroupName", "elbv2", "create-target-group", "--name", "cli-tg", "--protocol",
                     "HTTP", "--port", "9090", "--vpc-id", self.vpc)
        self.aws_err("ValidationError", "elbv2", "create-target-group", "--name", "novpc", "--protocol", "HTTP",
                     "--port", "80")
        self.aws_err("TargetGroupNotFound", "elbv2", "describe-target-groups", "--names", "nope")

    def test_delete_in_use_is_resource_in_use(self):
        lb = self.alb("web")
        tg = self.tg("web")
        listener = self.http_listener(lb["LoadBalancerArn"], tg["TargetGroupArn"])
        self.assertClientError("ResourceInUse", self.elb.delete_target_group, TargetGroupArn=tg["TargetGroupArn"])
        got = self.elb.describe_target_groups(LoadBalancerArn=lb["LoadBalancerArn"])["TargetGroups"]
        self.assertEqual(got[0]["LoadBalancerArns"], [lb["LoadBalancerArn"]])
        self.elb.delete_listener(ListenerArn=listener["ListenerArn"])
        self.elb.delete_target_group(TargetGroupArn=tg["TargetGroupArn"])
        self.assertEqual(self.elb.describe_target_groups()["TargetGroups"], [])


class ListenerAndRuleTest(Elbv2Case):
    def test_cli_listener_rules_and_priorities(self):
        lb = self.alb("web")["LoadBalancerArn"]
        web = self.tg("web")["TargetGroupArn"]
        api = self.tg("api")["TargetGroupArn"]
        doc = self.aws_ok("elbv2", "create-listener", "--load-balancer-arn", lb, "--protocol", "HTTP", "--port", "80",
                          "--default-actions", f"Type=forward,TargetGroupArn={web}")
        listener = doc["Listeners"][0]
        action = listener["DefaultActions"][0]
        self.assertEqual(action["TargetGroupArn"], web)
        self.assertEqual(action["ForwardConfig"]["TargetGroups"], [{"TargetGroupArn": web, "Weight": 1}])
        self.aws_err("DuplicateListener", "elbv2", "create-listener", "--load-balancer-arn", lb, "--protocol", "HTTP",
                     "--port", "80", "--default-actions", "Type=fixed-response,FixedResponseConfig={StatusCode=404}")

        larn = listener["ListenerArn"]
        doc = self.aws_ok("elbv2", "create-rule", "--listener-arn", larn, "--priority", "10",
                          "--conditions", "Field=path-pattern,Values=/api/*",
                          "--actions", f"Type=forward,TargetGroupArn={api}")
        r10 = doc["Rules"][0]
        self.assertEqual(r10["Priority"], "10")
        self.assertEqual(r10["Conditions"][0]["PathPatternConfig"]["Values"], ["/api/*"])
        doc = self.aws_ok("elbv2", "create-rule", "--listener-arn", larn, "--priority", "20",
                          "--conditions", '[{"Field":"host-header","HostHeaderConfig":{"Values":["api.example.com"]}}]',
                          "--actions", f"Type=forward,TargetGroupArn={api}")
        r20 = doc["Rules"][0]
        self.aws_err("PriorityInUse", "elbv2", "create-rule", "--listener-arn", larn, "--priority", "10",
                     "--conditions", "Field=path-pattern,Values=/x", "--actions", f"Type=forward,TargetGroupArn={api}")

        rules = self.aws_ok("elbv2", "describe-rules", "--listener-arn", larn)["Rules"]
        self.assertEqual([r["Priority"] for r in rules], ["10", "20", "default"])
        self.assertEqual([r["IsDefault"] for r in rules], [False, False, True])

        self.aws_ok("elbv2", "set-rule-priorities", "--rule-priorities",
                    f"RuleArn={r10['RuleArn']},Priority=20", f"RuleArn={r20['RuleArn']},Priority=10")
        rules = self.aws_ok("elbv2", "describe-rules", "--listener-arn", larn)["Rules"]
        self.assertEqual(rules[0]["RuleArn"], r20["RuleArn"])

        doc = self.aws_ok("elbv2", "modify-rule", "--rule-arn", r10["RuleArn"],
                          "--conditions", "Field=path-pattern,Values=/v2/*")
        self.assertEqual(doc["Rules"][0]["Conditions"][0]["Values"], ["/v2/*"])
        self.aws_err("OperationNotPermitted", "elbv2", "delete-rule", "--rule-arn", rules[-1]["RuleArn"])
        self.aws_ok("elbv2", "delete-rule", "--rule-arn", r10["RuleArn"])
        self.aws_err("RuleNotFound", "elbv2", "describe-rules", "--rule-arns", r10["RuleArn"])

    def test_condition_kinds_and_weighted_forward(self):
        lb = self.alb("web")["LoadBalancerArn"]
        blue, green = self.tg("blue")["TargetGroupArn"], self.tg("green")["TargetGroupArn"]
        listener = self.http_listener(lb, blue)["ListenerArn"]
        rule = self.elb.create_rule(
            ListenerArn=listener,
            Priority=1,
            Conditions=[
                {"Field": "http-header", "HttpHeaderConfig": {"HttpHeaderName": "X-Canary", "Values": ["1"]}},
                {"Field": "http-request-method", "HttpRequestMethodConfig": {"Values": ["GET", "HEAD"]}},
                {"Field": "query-string", "QueryStringConfig": {"Values": [{"Key": "v", "Value": "2"}]}},
                {"Field": "source-ip", "SourceIpConfig": {"Values": ["10.0.0.0/8"]}},
            ],
            Actions=[{"Type": "forward", "ForwardConfig": {
                "TargetGroups": [{"TargetGroupArn": blue, "Weight": 90}, {"TargetGroupArn": green, "Weight": 10}],
                "TargetGroupStickinessConfig": {"Enabled": True, "DurationSeconds": 300}}}],
        )["Rules"][0]
        fields = [c["Field"] for c in rule["Conditions"]]
        self.assertEqual(fields, ["http-header", "http-request-method", "query-string", "source-ip"])
        weights = {t["TargetGroupArn"]: t["Weight"] for t in rule["Actions"][0]["ForwardConfig"]["TargetGroups"]}
        self.assertEqual(weights, {blue: 90, green: 10})
        self.assertClientError("ValidationError", self.elb.create_rule, ListenerArn=listener, Priority=2,
                               Conditions=[{"Field": "http-header", "Values": ["x"]}],
                               Actions=[{"Type": "forward", "TargetGroupArn": blue}])
        redirect = self.elb.create_rule(
            ListenerArn=listener, Priority=3, Conditions=[{"Field": "path-pattern", "Values": ["/old/*"]}],
            Actions=[{"Type": "redirect", "RedirectConfig": {"Path": "/new/#{path}", "StatusCode": "HTTP_301"}}],
        )["Rules"][0]
        self.assertEqual(redirect["Actions"][0]["RedirectConfig"]["Host"], "#{host}")

    def test_https_listener_and_ssl_policies(self):
        lb = self.alb("web")["LoadBalancerArn"]
        tg = self.tg("web")["TargetGroupArn"]
        self.assertClientError("ValidationError", self.elb.create_listener, LoadBalancerArn=lb, Protocol="HTTPS",
                               Port=443, DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}])
        listener = self.elb.create_listener(LoadBalancerArn=lb, Protocol="HTTPS", Port=443,
                                            Certificates=[{"CertificateArn": CERT}],
                                            DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}])["Listeners"][0]
        self.assertEqual(listener["SslPolicy"], "ELBSecurityPolicy-TLS13-1-2-2021-06")
        self.assertEqual(listener["Certificates"], [{"CertificateArn": CERT}])
        policies = self.elb.describe_ssl_policies(Names=[listener["SslPolicy"]])["SslPolicies"]
        self.assertIn("TLSv1.3", policies[0]["SslProtocols"])
        self.assertEqual(policies[0]["Ciphers"][0]["Priority"], 1)
        self.assertClientError("SSLPolicyNotFound", self.elb.describe_ssl_policies, Names=["nope"])
        mod = self.elb.modify_listener(ListenerArn=listener["ListenerArn"], SslPolicy="ELBSecurityPolicy-2016-08")
        self.assertEqual(mod["Listeners"][0]["SslPolicy"], "ELBSecurityPolicy-2016-08")
        self.assertClientError("ListenerNotFound", self.elb.describe_listeners,
                               ListenerArns=[listener["ListenerArn"] + "0"])

    def test_unsupported_protocols_and_incompatible_target_groups(self):
        nlb = self.elb.create_load_balancer(Name="tcp", Type="network", Subnets=self.subnets[:1])["LoadBalancers"][0]
        tcp = self.tg("tcp", protocol="TCP", port=5432)["TargetGroupArn"]
        self.assertClientError("UnsupportedProtocol", self.elb.create_listener,
                               LoadBalancerArn=nlb["LoadBalancerArn"], Protocol="UDP", Port=53,
                               DefaultActions=[{"Type": "forward", "TargetGroupArn": tcp}])
        alb = self.alb("web")["LoadBalancerArn"]
        self.assertClientError("IncompatibleProtocols", self.http_listener, alb, tcp)


class TargetTest(Elbv2Case):
    def test_register_describe_deregister_and_drain(self):
        lb = self.alb("web")["LoadBalancerArn"]
        tg = self.tg("web", TargetType="ip")["TargetGroupArn"]
        self.elb.register_targets(TargetGroupArn=tg, Targets=[{"Id": "10.0.0.1"}, {"Id": "10.0.0.2", "Port": 8080}])
        health = self.elb.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"]
        self.assertEqual([h["TargetHealth"]["State"] for h in health], ["unused", "unused"])
        self.assertEqual(health[0]["TargetHealth"]["Reason"], "Target.NotInUse")
        self.assertEqual(health[1]["HealthCheckPort"], "8080")

        self.http_listener(lb, tg)
        health = self.elb.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"]
        self.assertEqual([h["TargetHealth"]["State"] for h in health], ["initial", "initial"])
        self.assertEqual(health[0]["TargetHealth"]["Reason"], "Elb.RegistrationInProgress")

        self.elb.modify_target_group_attributes(
            TargetGroupArn=tg, Attributes=[{"Key": "deregistration_delay.timeout_seconds", "Value": "1"}])
        self.elb.deregister_targets(TargetGroupArn=tg, Targets=[{"Id": "10.0.0.1"}])
        one = self.elb.describe_target_health(TargetGroupArn=tg, Targets=[{"Id": "10.0.0.1"}])
        self.assertEqual(one["TargetHealthDescriptions"][0]["TargetHealth"]["State"], "draining")
        self.assertEqual(one["TargetHealthDescriptions"][0]["TargetHealth"]["Reason"],
                         "Target.DeregistrationInProgress")
        # After the deregistration delay the target is gone: botocore's waiter sees "unused".
        self.elb.get_waiter("target_deregistered").wait(
            TargetGroupArn=tg, Targets=[{"Id": "10.0.0.1"}], WaiterConfig={"Delay": 1, "MaxAttempts": 10})
        gone = self.elb.describe_target_health(TargetGroupArn=tg, Targets=[{"Id": "10.0.0.1"}])
        self.assertEqual(gone["TargetHealthDescriptions"][0]["TargetHealth"]["Reason"], "Target.NotRegistered")
        wait_until(lambda: len(self.elb.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"]) == 1,
                   timeout=5, message="drained target to leave")

    def test_cli_targets_and_invalid_target(self):
        tg = self.tg("web", TargetType="ip")["TargetGroupArn"]
        self.aws_ok("elbv2", "register-targets", "--target-group-arn", tg, "--targets", "Id=127.0.0.1,Port=8080")
        doc = self.aws_ok("elbv2", "describe-target-health", "--target-group-arn", tg)
        self.assertEqual(doc["TargetHealthDescriptions"][0]["Target"], {"Id": "127.0.0.1", "Port": 8080})
        self.aws_err("InvalidTarget", "elbv2", "register-targets", "--target-group-arn", tg, "--targets", "Id=8.8.8.8")
        self.aws_err("TargetGroupNotFound", "elbv2", "describe-target-health", "--target-group-arn", tg + "0")
        self.aws_ok("elbv2", "deregister-targets", "--target-group-arn", tg, "--targets", "Id=127.0.0.1,Port=8080")
        doc = self.aws_ok("elbv2", "describe-target-health", "--target-group-arn", tg)
        self.assertEqual(doc["TargetHealthDescriptions"], [])


class TagsAndAccountTest(Elbv2Case):
    def test_tags_on_every_kind(self):
        lb = self.alb("web")["LoadBalancerArn"]
        tg = self.tg("web")["TargetGroupArn"]
        listener = self.http_listener(lb, tg)["ListenerArn"]
        rules = self.elb.describe_rules(ListenerArn=listener)["Rules"]
        arns = [lb, tg, listener, rules[0]["RuleArn"]]
        self.elb.add_tags(ResourceArns=arns, Tags=[{"Key": "owner", "Value": "me"}, {"Key": "tier", "Value": "1"}])
        self.elb.remove_tags(ResourceArns=[lb], TagKeys=["tier"])
        got = {d["ResourceArn"]: tags_of(d["Tags"]) for d in
               self.elb.describe_tags(ResourceArns=arns)["TagDescriptions"]}
        self.assertEqual(got[lb], {"owner": "me"})
        self.assertEqual(got[listener], {"owner": "me", "tier": "1"})
        self.assertClientError("DuplicateTagKeys", self.elb.add_tags, ResourceArns=[lb],
                               Tags=[{"Key": "a", "Value": "1"}, {"Key": "a", "Value": "2"}])
        self.assertClientError("TooManyTags", self.elb.add_tags, ResourceArns=[lb],
                               Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(50)])
        self.aws_err("LoadBalancerNotFound", "elbv2", "describe-tags", "--resource-arns", lb + "0")

    def test_account_limits(self):
        doc = self.aws_ok("elbv2", "describe-account-limits")
        limits = {lim["Name"]: lim["Max"] for lim in doc["Limits"]}
        self.assertEqual(limits["application-load-balancers"], "50")
        self.assertEqual(limits["target-groups"], "3000")


class RawXmlTest(Elbv2Case):
    """The raw awsQuery XML, as a non-botocore client would read it."""

    def query(self, **params):
        body = urllib.parse.urlencode({"Version": "2015-12-01", **params})
        return raw_request(self.endpoint, "POST", "/", body,
                           {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
                           sign_service="elasticloadbalancing")

    def test_describe_load_balancers_xml(self):
        lb = self.alb("web")
        resp = self.query(Action="DescribeLoadBalancers", **{"Names.member.1": "web"})
        self.assertEqual(resp.status, 200, resp)
        root = resp.xml()
        self.assertEqual(root.tag, NS + "DescribeLoadBalancersResponse")
        result = xml_child(root, "DescribeLoadBalancersResult")
        members = list(xml_child(result, "LoadBalancers"))
        self.assertEqual([m.tag for m in members], [NS + "member"])
        self.assertEqual(xml_child(members[0], "LoadBalancerArn").text, lb["LoadBalancerArn"])
        self.assertEqual(xml_child(xml_child(members[0], "State"), "Code").text, "active")
        created = xml_child(members[0], "CreatedTime").text
        self.assertRegex(created, r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
        zones = xml_child(members[0], "AvailabilityZones")
        self.assertEqual(len(list(zones)), 2)
        rid = xml_child(xml_child(root, "ResponseMetadata"), "RequestId").text
        self.assertTrue(rid)
        self.assertEqual(resp.headers.get("x-amzn-requestid"), rid)

    def test_error_xml(self):
        resp = self.query(Action="DescribeTargetGroups", **{"Names.member.1": "nope"})
        self.assertEqual(resp.status, 400)
        root = resp.xml()
        self.assertEqual(root.tag, NS + "ErrorResponse")
        err = xml_child(root, "Error")
        self.assertEqual(xml_child(err, "Type").text, "Sender")
        self.assertEqual(xml_child(err, "Code").text, "TargetGroupNotFound")
        self.assertIn("nope", xml_child(err, "Message").text)
        self.assertTrue(xml_child(root, "RequestId").text)

    def test_unimplemented_operation_says_so(self):
        resp = self.query(Action="DescribeTrustStores")
        self.assertEqual(resp.status, 501)
        self.assertEqual(xml_child(xml_child(resp.xml(), "Error"), "Code").text, "NotImplemented")


if __name__ == "__main__":
    main()
