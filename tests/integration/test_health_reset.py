"""The daemon's own surface: --help/--version, GET /_ecsd/health, POST /_ecsd/reset and /moto-api/reset."""

import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from ecsd_harness import EcsdTestCase, binary_path, ec2_task_definition, main  # noqa: E402


class CommandLineTest(EcsdTestCase):
    def run_binary(self, *args):
        return subprocess.run([binary_path(), *args], capture_output=True, text=True, timeout=30,
                              stdin=subprocess.DEVNULL)

    def test_version(self):
        proc = self.run_binary("--version")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        _status, health = self.daemon.health()
        self.assertIn(health["version"], proc.stdout + proc.stderr)

    def test_help(self):
        proc = self.run_binary("--help")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        text = proc.stdout + proc.stderr
        for flag in ("--host", "--port", "--data-dir", "--account-id", "--log-level"):
            self.assertIn(flag, text)

    def test_unknown_flag_fails(self):
        proc = self.run_binary("--no-such-flag")
        self.assertNotEqual(proc.returncode, 0)


class HealthTest(EcsdTestCase):
    def test_health(self):
        status, doc = self.daemon.health()
        self.assertEqual(status, 200)
        self.assertEqual(doc["status"], "ok")
        self.assertIsInstance(doc["version"], str)
        self.assertTrue(doc["version"])
        self.assertIsInstance(doc["uptime_seconds"], (int, float))
        self.assertGreaterEqual(doc["uptime_seconds"], 0)
        # The id in the ecsd.instance label of this daemon's containers, stable for its data dir.
        self.assertRegex(doc["instance_id"], r"^[0-9a-f]{16}$")

    def test_health_content_type(self):
        resp = self.raw("GET", "/_ecsd/health")
        self.assertEqual(resp.status, 200)
        self.assertIn("application/json", resp.headers.get("content-type", ""))
        self.assertEqual(resp.json()["status"], "ok")


class ResetTest(EcsdTestCase):
    def populate(self):
        east, west = self.ecs("us-east-1"), self.ecs("eu-west-1")
        east.create_cluster(clusterName="a")
        east.create_cluster(clusterName="b")
        west.create_cluster(clusterName="c")
        east.register_task_definition(**ec2_task_definition("fam"))
        east.register_task_definition(**ec2_task_definition("fam"))
        east.create_service(cluster="a", serviceName="svc", taskDefinition="fam", desiredCount=0, launchType="EC2")
        east.put_account_setting(name="containerInsights", value="enabled")
        self.assertEqual(len(east.list_clusters()["clusterArns"]), 2)
        return east, west

    def assert_empty(self, east, west):
        self.assertEqual(east.list_clusters()["clusterArns"], [])
        self.assertEqual(west.list_clusters()["clusterArns"], [])
        self.assertEqual(east.list_task_definitions()["taskDefinitionArns"], [])
        self.assertEqual(east.list_task_definition_families()["families"], [])
        settings = east.list_account_settings(name="containerInsights", effectiveSettings=True)["settings"]
        self.assertEqual([s["value"] for s in settings], ["disabled"])
        # Revision numbers start over: the family is really gone.
        td = east.register_task_definition(**ec2_task_definition("fam"))["taskDefinition"]
        self.assertEqual(td["revision"], 1)

    def test_ecsd_reset(self):
        east, west = self.populate()
        resp = self.raw("POST", "/_ecsd/reset")
        self.assertTrue(200 <= resp.status < 300, resp)
        self.assert_empty(east, west)

    def test_moto_api_reset(self):
        east, west = self.populate()
        resp = self.raw("POST", "/moto-api/reset")
        self.assertTrue(200 <= resp.status < 300, resp)
        self.assert_empty(east, west)

    def test_reset_with_cluster_then_recreate(self):
        east, _west = self.populate()
        self.reset()
        cluster = east.create_cluster(clusterName="a")["cluster"]
        self.assertEqual(cluster["status"], "ACTIVE")
        self.assertEqual(cluster.get("activeServicesCount", 0), 0)
        self.assertEqual(east.list_services(cluster="a")["serviceArns"], [])


if __name__ == "__main__":
    main()
