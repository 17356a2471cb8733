"""Durability: every acknowledged write survives SIGKILL; SIGTERM exits 0 and keeps the data too."""

import os
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from ecsd_harness import (  # noqa: E402
    ACCOUNT_ID,
    AWSVPC_NETWORK,
    EcsdTestCase,
    ec2_task_definition,
    fargate_task_definition,
    free_port,
    main,
    paginate,
    tags_dict,
)


class DurabilityTest(EcsdTestCase):
    PER_TEST_DAEMON = True

    def populate(self):
        east, west = self.ecs("us-east-1"), self.ecs("eu-west-1")
        east.create_cluster(clusterName="prod", tags=[{"key": "env", "value": "prod"}],
                            settings=[{"name": "containerInsights", "value": "enabled"}])
        east.create_cluster(clusterName="staging")
        east.put_cluster_capacity_providers(
            cluster="staging", capacityProviders=["FARGATE", "FARGATE_SPOT"],
            defaultCapacityProviderStrategy=[{"capacityProvider": "FARGATE_SPOT", "weight": 2}],
        )
        west.create_cluster(clusterName="eu-prod")
        for _ in range(3):
            east.register_task_definition(**fargate_task_definition("api", tags=[{"key": "app", "value": "api"}]))
        east.deregister_task_definition(taskDefinition="api:1")
        east.register_task_definition(**ec2_task_definition("batch"))
        east.create_service(cluster="prod", serviceName="api", taskDefinition="api:2", desiredCount=0,
                            launchType="FARGATE", networkConfiguration=AWSVPC_NETWORK,
                            tags=[{"key": "team", "value": "core"}])
        east.create_service(cluster="prod", serviceName="batch", taskDefinition="batch", desiredCount=0,
                            launchType="EC2")
        east.update_service(cluster="prod", service="api", taskDefinition="api:3")
        east.put_account_setting(name="containerInsights", value="enabled")

    def verify(self):
        east, west = self.ecs("us-east-1"), self.ecs("eu-west-1")
        clusters, _ = paginate(east.list_clusters, "clusterArns")
        self.assertEqual(sorted(clusters), [f"arn:aws:ecs:us-east-1:{ACCOUNT_ID}:cluster/prod",
                                            f"arn:aws:ecs:us-east-1:{ACCOUNT_ID}:cluster/staging"])
        self.assertEqual(west.list_clusters()["clusterArns"], [f"arn:aws:ecs:eu-west-1:{ACCOUNT_ID}:cluster/eu-prod"])

        prod = east.describe_clusters(clusters=["prod"], include=["TAGS", "SETTINGS"])["clusters"][0]
        self.assertEqual(prod["status"], "ACTIVE")
        self.assertEqual(tags_dict(prod["tags"]), {"env": "prod"})
        self.assertEqual({s["name"]: s["value"] for s in prod["settings"]}["containerInsights"], "enabled")
        staging = east.describe_clusters(clusters=["staging"])["clusters"][0]
        self.assertEqual(sorted(staging["capacityProviders"]), ["FARGATE", "FARGATE_SPOT"])
        self.assertEqual(staging["defaultCapacityProviderStrategy"][0]["capacityProvider"], "FARGATE_SPOT")

        tds, _ = paginate(east.list_task_definitions, "taskDefinitionArns", familyPrefix="api")
        self.assertEqual([t.rsplit(":", 1)[1] for t in tds], ["2", "3"])
        inactive, _ = paginate(east.list_task_definitions, "taskDefinitionArns", familyPrefix="api", status="INACTIVE")
        self.assertEqual([t.rsplit(":", 1)[1] for t in inactive], ["1"])
        described = east.describe_task_definition(taskDefinition="api:3", include=["TAGS"])
        self.assertEqual(described["taskDefinition"]["cpu"], "256")
        self.assertEqual(tags_dict(described.get("tags")), {"app": "api"})
        self.assertEqual(east.describe_task_definition(taskDefinition="api:1")["taskDefinition"]["status"], "INACTIVE")

        services = east.describe_services(cluster="prod", services=["api", "batch"], include=["TAGS"])
        self.assertEqual(services["failures"], [])
        by_name = {s["serviceName"]: s for s in services["services"]}
        api = by_name["api"]
        self.assertEqual(api["status"], "ACTIVE")
        self.assertTrue(api["taskDefinition"].endswith("task-definition/api:3"))
        self.assertEqual(tags_dict(api.get("tags")), {"team": "core"})
        primary = [d for d in api["deployments"] if d["status"] == "PRIMARY"]
        self.assertEqual(len(primary), 1, api["deployments"])
        self.assertTrue(primary[0]["taskDefinition"].endswith("task-definition/api:3"))
        self.assertEqual(by_name["batch"]["launchType"], "EC2")

        settings = east.list_account_settings(name="containerInsights", effectiveSettings=True)["settings"]
        self.assertEqual([s["value"] for s in settings], ["enabled"])

    def test_sigkill_keeps_acknowledged_writes(self):
        self.populate()
        self.verify()
        self.daemon.kill()
        self.daemon.start()
        self.verify()
        # The revision sequence continues where it stopped.
        td = self.ecs().register_task_definition(**fargate_task_definition("api"))["taskDefinition"]
        self.assertEqual(td["revision"], 4)

    def test_sigterm_exits_zero_and_keeps_data(self):
        self.populate()
        rc = self.daemon.stop()
        self.assertEqual(rc, 0, f"ecsd exited with {rc} on SIGTERM\n{self.daemon.log_tail()}")
        self.daemon.start()
        self.verify()
        self.assertEqual(self.daemon.stop(), 0)

    def test_burst_of_writes_then_sigkill(self):
        ecs = self.ecs()
        for i in range(40):
            ecs.create_cluster(clusterName=f"burst-{i:02d}")
        revisions = [ecs.register_task_definition(**ec2_task_definition("burst"))["taskDefinition"]["revision"]
                     for _ in range(60)]
        self.assertEqual(revisions, list(range(1, 61)))
        # Kill right after the last acknowledged write.
        self.daemon.kill()
        self.daemon.start()
        ecs = self.ecs()
        clusters, _ = paginate(ecs.list_clusters, "clusterArns")
        self.assertEqual(len(clusters), 40)
        tds, _ = paginate(ecs.list_task_definitions, "taskDefinitionArns", familyPrefix="burst")
        self.assertEqual(len(tds), 60)
        self.assertTrue(tds[-1].endswith("burst:60"))

    def test_deletes_survive_sigkill(self):
        ecs = self.ecs()
        ecs.create_cluster(clusterName="keep")
        ecs.create_cluster(clusterName="drop")
        ecs.register_task_definition(**ec2_task_definition("fam"))
        ecs.register_task_definition(**ec2_task_definition("fam"))
        ecs.deregister_task_definition(taskDefinition="fam:1")
        ecs.delete_cluster(cluster="drop")
        self.daemon.kill()
        self.daemon.start()
        ecs = self.ecs()
        self.assertEqual(ecs.list_clusters()["clusterArns"], [f"arn:aws:ecs:us-east-1:{ACCOUNT_ID}:cluster/keep"])
        self.assertEqual(ecs.describe_task_definition(taskDefinition="fam:1")["taskDefinition"]["status"], "INACTIVE")
        self.assertEqual(ecs.describe_task_definition(taskDefinition="fam")["taskDefinition"]["revision"], 2)

    def test_reset_survives_restart(self):
        ecs = self.ecs()
        ecs.create_cluster(clusterName="wiped")
        self.reset()
        self.daemon.kill()
        self.daemon.start()
        self.assertEqual(self.ecs().list_clusters()["clusterArns"], [])

    def test_second_daemon_on_the_same_data_dir_is_refused(self):
        # The running daemon holds its store: a second one on the same --data-dir must not start and
        # share (and later adopt) its containers; it exits non-zero saying why, and the first serves on.
        self.ecs().create_cluster(clusterName="first")
        second = subprocess.run(
            [self.daemon.binary, "--host", "127.0.0.1", "--port", str(free_port()), "--registry-port", "0",
             "--no-scheduler", "--data-dir", self.daemon.data_dir, "--log-level", "warn"],
            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
        self.assertNotEqual(second.returncode, 0, second.stdout + second.stderr)
        self.assertIn("in use by another process", second.stdout + second.stderr)
        self.assertEqual([a.rsplit("/", 1)[1] for a in self.ecs().list_clusters()["clusterArns"]], ["first"])
        # Once the first has stopped, the data dir is free again.
        self.daemon.kill()
        self.daemon.start()
        self.assertEqual(len(self.ecs().list_clusters()["clusterArns"]), 1)

    def test_sigterm_is_prompt_when_idle(self):
        # Idle keep-alive connections (boto3 pools them) are not in-flight requests and must not hold up exit.
        self.ecs().list_clusters()
        started = time.monotonic()
        rc = self.daemon.stop(timeout=30)
        elapsed = time.monotonic() - started
        self.assertEqual(rc, 0)
        self.assertLess(elapsed, 5.0, f"SIGTERM with nothing in flight took {elapsed:.1f}s to exit")

    def test_sigkill_during_concurrent_writes_keeps_every_acknowledged_write(self):
        from botocore.exceptions import BotoCoreError, ClientError

        clients = [self.ecs() for _ in range(8)]
        acked, lock, stop = [], threading.Lock(), threading.Event()
        unexpected = []

        def writer(ecs):
            while not stop.is_set():
                try:
                    rev = ecs.register_task_definition(**ec2_task_definition("inflight"))["taskDefinition"]["revision"]
                except (BotoCoreError, ClientError, OSError) as exc:
                    if not stop.is_set():
                        unexpected.append(repr(exc))
                    return
                with lock:
                    acked.append(rev)

        threads = [threading.Thread(target=writer, args=(c,), daemon=True) for c in clients]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 60
        while len(acked) < 80 and time.monotonic() < deadline and not unexpected:
            time.sleep(0.01)
        stop.set()
        self.daemon.kill()  # requests are still in flight here
        for t in threads:
            t.join(timeout=60)
        self.assertEqual(unexpected, [], "writes failed before the kill")
        self.assertGreaterEqual(len(acked), 80)
        self.assertEqual(len(acked), len(set(acked)), "a revision number was handed out twice")

        self.daemon.start()
        arns, _ = paginate(self.ecs().list_task_definitions, "taskDefinitionArns", familyPrefix="inflight")
        present = [int(a.rsplit(":", 1)[1]) for a in arns]
        missing = sorted(set(acked) - set(present))
        self.assertEqual(missing, [], "acknowledged revisions lost by SIGKILL")
        self.assertEqual(present, list(range(1, len(present) + 1)), "revisions after restart have gaps")

    def test_repeated_kill_restart_cycles(self):
        for i in range(3):
            self.ecs().create_cluster(clusterName=f"cycle-{i}")
            self.daemon.kill()
            self.daemon.start()
            self.assertEqual(len(self.ecs().list_clusters()["clusterArns"]), i + 1)


if __name__ == "__main__":
    main()
