"""Network modes with real containers: bridge (dynamic and static host ports), host, none and awsvpc
(an ecsd-managed Docker network, the task's containers in one namespace, the private IP reachable)."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from ecsd_harness import (  # noqa: E402
    AWSVPC_NETWORK,
    DockerTestCase,
    busybox_container,
    docker,
    docker_inspect,
    free_port,
    httpd_command,
    main,
)

CLUSTER = "net"


def web(name="web", port=80, body="ok", **extra):
    # httpd as PID 1 ignores SIGTERM; the init process forwards it so the stop is quick.
    return busybox_container(name, command=httpd_command(port, body), linuxParameters={"initProcessEnabled": True},
                             **extra)


class NetworkingTest(DockerTestCase):
    def setUp(self):
        super().setUp()
        self.ecs().create_cluster(clusterName=CLUSTER)

    def register(self, family, *containers, **extra):
        return self.ecs().register_task_definition(
            family=family, containerDefinitions=list(containers), **extra)["taskDefinition"]

    def get_ok(self, url, body="ok"):
        """Poll url until it answers 200 with body (the server may need a moment after the task is RUNNING)."""
        return self.wait_for(lambda: self.http_get(url) == (200, body + "\n"), timeout=20, message=f"GET {url}")

    def stop_and_wait(self, arn):
        self.ecs().stop_task(cluster=CLUSTER, task=arn)
        return self.wait_task(CLUSTER, arn, last_status="STOPPED", timeout=30)

    def test_bridge_dynamic_host_ports_are_reachable(self):
        self.register(
            "dyn",
            web("a", body="from-a", portMappings=[{"containerPort": 80}]),
            web("b", port=8080, body="from-b", portMappings=[{"containerPort": 8080, "hostPort": 0}]),
            networkMode="bridge",
        )
        arn = self.run_task(CLUSTER, "dyn")["taskArn"]
        task = self.wait_task(CLUSTER, arn, last_status="RUNNING")
        ports = {}
        for name, container_port in (("a", 80), ("b", 8080)):
            c = self.container_of(task, name)
            self.assertEqual(len(c["networkBindings"]), 1, c)
            binding = c["networkBindings"][0]
            self.assertEqual(binding["bindIP"], "127.0.0.1")
            self.assertEqual(binding["containerPort"], container_port)
            self.assertEqual(binding["protocol"], "tcp")
            self.assertGreater(binding["hostPort"], 0)
            ports[name] = binding["hostPort"]
            # The engine agrees about the published port.
            self.assertIn(f"127.0.0.1:{binding['hostPort']}", docker("port", c["runtimeId"], f"{container_port}/tcp"))
        self.assertNotEqual(ports["a"], ports["b"])
        self.get_ok(f"http://127.0.0.1:{ports['a']}/", "from-a")
        self.get_ok(f"http://127.0.0.1:{ports['b']}/", "from-b")

        self.stop_and_wait(arn)

    def test_bridge_static_host_port_and_port_conflict(self):
        port = free_port()
        self.register("static", web(portMappings=[{"containerPort": 80, "hostPort": port}]))
        first = self.run_task(CLUSTER, "static")["taskArn"]
        task = self.wait_task(CLUSTER, first, last_status="RUNNING")
        binding = self.container_of(task, "web")["networkBindings"][0]
        self.assertEqual((binding["hostPort"], binding["containerPort"]), (port, 80))
        self.get_ok(f"http://127.0.0.1:{port}/")

        # The one container instance has that port in use: a second copy cannot be placed.
        resp = self.ecs().run_task(cluster=CLUSTER, taskDefinition="static")
        self.assertEqual(resp["tasks"], [])
        self.assertEqual(len(resp["failures"]), 1, resp)
        self.assertEqual(resp["failures"][0]["reason"], "RESOURCE:PORTS_TCP")
        instance = self.ecs().list_container_instances(cluster=CLUSTER)["containerInstanceArns"][0]
        self.assertEqual(resp["failures"][0]["arn"], instance)
        ci = self.ecs().describe_container_instances(cluster=CLUSTER, containerInstances=[instance])
        remaining = {r["name"]: r for r in ci["containerInstances"][0]["remainingResources"]}
        self.assertIn(str(port), remaining["PORTS"]["stringSetValue"])

        # Once the first task stopped, the port is free again.
        self.stop_and_wait(first)
        second = self.run_task(CLUSTER, "static")["taskArn"]
        self.wait_task(CLUSTER, second, last_status="RUNNING")
        self.get_ok(f"http://127.0.0.1:{port}/")
        self.stop_and_wait(second)

    def test_host_network_mode(self):
        port = free_port()
        self.register("hostnet", web(port=port, portMappings=[{"containerPort": port}]), networkMode="host")
        arn = self.run_task(CLUSTER, "hostnet")["taskArn"]
        task = self.wait_task(CLUSTER, arn, last_status="RUNNING")
        c = self.container_of(task, "web")
        self.assertEqual(docker_inspect(c["runtimeId"])["HostConfig"]["NetworkMode"], "host")
        self.assertEqual([(b["containerPort"], b["hostPort"]) for b in c["networkBindings"]], [(port, port)])
        self.get_ok(f"http://127.0.0.1:{port}/")
        self.stop_and_wait(arn)

    def test_none_network_mode_has_only_loopback(self):
        self.register("isolated", busybox_container(command="ls /sys/class/net"), networkMode="none")
        arn = self.run_task(CLUSTER, "isolated")["taskArn"]
        task = self.wait_task(CLUSTER, arn, last_status="STOPPED")
        c = self.container_of(task)
        self.assertEqual(c["exitCode"], 0)
        self.assertEqual(docker_inspect(c["runtimeId"])["HostConfig"]["NetworkMode"], "none")
        self.assertEqual(docker("logs", c["runtimeId"]).split(), ["lo"])

    def test_awsvpc_task_gets_a_private_ip_reachable_from_the_host(self):
        self.register(
            "vpc",
            web("web", body="from-awsvpc"),
            # Shares web's namespace: 127.0.0.1:80 is web's httpd.
            busybox_container(
                "probe", essential=False,
                command="for i in $(seq 1 40); do out=$(timeout 3 wget -qO- http://127.0.0.1:80/) && "
                        "{ echo probe:$out; exit 0; }; sleep 0.25; done; exit 1"),
            networkMode="awsvpc",
        )
        arn = self.run_task(CLUSTER, "vpc", networkConfiguration=AWSVPC_NETWORK)["taskArn"]
        task = self.wait_task(CLUSTER, arn, last_status="RUNNING")
        attachment = task["attachments"][0]
        self.assertEqual(attachment["type"], "ElasticNetworkInterface")
        self.assertEqual(attachment["status"], "ATTACHED")
        details = {d["name"]: d["value"] for d in attachment["details"]}
        ip = details.get("privateIPv4Address")
        self.assertRegex(ip or "", r"^\d+\.\d+\.\d+\.\d+$", attachment)
        self.assertEqual(details["subnetId"], AWSVPC_NETWORK["awsvpcConfiguration"]["subnets"][0])
        self.assertTrue(details["networkInterfaceId"].startswith("eni-"))

        web_c = self.container_of(task, "web")
        self.assertEqual(web_c["networkInterfaces"][0]["privateIpv4Address"], ip)
        self.assertEqual(web_c["networkInterfaces"][0]["attachmentId"], attachment["id"])

        # The task network is ecsd's network of the task's subnet, with the subnet's CIDR (shared by the
        # daemons on this engine, so it carries ecsd.managed but no daemon's label); web holds the namespace.
        net_name = f"ecsd-{details['subnetId']}"
        network = docker_inspect(net_name, kind="network")
        self.assertIsNotNone(network, f"no Docker network {net_name}")
        self.assertEqual(network["Labels"].get("ecsd.managed"), "true")
        self.assertEqual(network["IPAM"]["Config"][0]["Subnet"], "172.31.0.0/20")
        web_info = docker_inspect(web_c["runtimeId"])
        self.assertEqual(web_info["HostConfig"]["NetworkMode"], net_name)
        self.assertEqual(web_info["NetworkSettings"]["Networks"][net_name]["IPAddress"], ip)

        # From the host, over the private IP.
        self.get_ok(f"http://{ip}:80/", "from-awsvpc")
        # From the sidecar, over the shared loopback.
        task = self.wait_task(CLUSTER, arn, lambda t: "exitCode" in self.container_of(t, "probe"))
        probe = self.container_of(task, "probe")
        self.assertEqual(probe["exitCode"], 0, docker("logs", probe["runtimeId"], check=False))
        self.assertEqual(docker("logs", probe["runtimeId"]), "probe:from-awsvpc")
        self.assertEqual(docker_inspect(probe["runtimeId"])["HostConfig"]["NetworkMode"],
                         f"container:{web_c['runtimeId']}")

        task = self.stop_and_wait(arn)
        self.assertEqual(task["attachments"][0]["status"], "DELETED")

    def test_awsvpc_tasks_get_distinct_addresses(self):
        self.register("vpc2", web(body="same"), networkMode="awsvpc")
        resp = self.ecs().run_task(cluster=CLUSTER, taskDefinition="vpc2", count=2,
                                   networkConfiguration=AWSVPC_NETWORK)
        self.assertEqual(resp["failures"], [])
        ips = []
        for t in resp["tasks"]:
            task = self.wait_task(CLUSTER, t["taskArn"], last_status="RUNNING")
            ips.append(self.container_of(task, "web")["networkInterfaces"][0]["privateIpv4Address"])
        self.assertEqual(len(set(ips)), 2, ips)
        for ip in ips:
            self.get_ok(f"http://{ip}:80/", "same")
        for t in resp["tasks"]:
            self.stop_and_wait(t["taskArn"])


if __name__ == "__main__":
    main()
