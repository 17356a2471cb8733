"""Concurrency: parallel writers get no throttling/busy errors, gap-free revisions and consistent uniqueness."""

import os
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from ecsd_harness import EcsdTestCase, ec2_task_definition, main, paginate  # noqa: E402

THREADS = 16


class ConcurrencyTest(EcsdTestCase):
    def run_threads(self, work, n=THREADS):
        """Run work(i, client) in n threads, each with its own boto3 client, released together."""
        clients = [self.ecs() for _ in range(n)]  # made up front: client creation is not thread-safe
        barrier = threading.Barrier(n)
        results = [None] * n
        errors = []

        def runner(i):
            try:
                barrier.wait(timeout=30)
                results[i] = work(i, clients[i])
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append((i, repr(exc)))

        threads = [threading.Thread(target=runner, args=(i,), daemon=True) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=300)
        self.assertFalse(any(t.is_alive() for t in threads), "worker threads did not finish")
        return results, errors

    def test_parallel_register_same_family(self):
        per_thread = 8

        def work(_i, ecs):
            return [ecs.register_task_definition(**ec2_task_definition("shared"))["taskDefinition"]["revision"]
                    for _ in range(per_thread)]

        results, errors = self.run_threads(work)
        self.assertEqual(errors, [], "calls failed under concurrency (throttling/busy?)")
        revisions = sorted(r for rs in results for r in rs)
        total = THREADS * per_thread
        self.assertEqual(revisions, list(range(1, total + 1)), "duplicate or missing revisions")
        for rs in results:
            self.assertEqual(rs, sorted(rs), "revisions seen by one client must increase")

        arns, _ = paginate(self.ecs().list_task_definitions, "taskDefinitionArns", familyPrefix="shared")
        self.assertEqual([int(a.rsplit(":", 1)[1]) for a in arns], list(range(1, total + 1)))

    def test_parallel_create_clusters(self):
        def work(i, ecs):
            return [ecs.create_cluster(clusterName=f"c-{i:02d}-{j}")["cluster"]["clusterArn"] for j in range(4)]

        results, errors = self.run_threads(work)
        self.assertEqual(errors, [])
        created = {a for rs in results for a in rs}
        self.assertEqual(len(created), THREADS * 4)
        listed, _ = paginate(self.ecs().list_clusters, "clusterArns")
        self.assertEqual(set(listed), created)

    def test_same_service_name_created_once(self):
        ecs = self.ecs()
        ecs.create_cluster(clusterName="race")
        ecs.register_task_definition(**ec2_task_definition("race"))
        from botocore.exceptions import ClientError

        def work(i, client):
            try:
                client.create_service(cluster="race", serviceName="only-one", taskDefinition="race",
                                      desiredCount=0 if i == 0 else i, launchType="EC2")
                return "created"
            except ClientError as exc:
                return exc.response["Error"]["Code"]

        n = 8
        results, errors = self.run_threads(work, n=n)
        self.assertEqual(errors, [])
        self.assertEqual(results.count("created"), 1, results)
        self.assertEqual(results.count("InvalidParameterException"), n - 1, results)
        self.assertEqual(len(ecs.list_services(cluster="race")["serviceArns"]), 1)

    def test_readers_and_writers(self):
        def work(i, ecs):
            if i % 2:
                for _ in range(10):
                    ecs.register_task_definition(**ec2_task_definition(f"rw-{i}"))
            else:
                for _ in range(10):
                    ecs.list_task_definitions()
                    ecs.list_task_definition_families()
            return True

        results, errors = self.run_threads(work)
        self.assertEqual(errors, [])
        families, _ = paginate(self.ecs().list_task_definition_families, "families")
        self.assertEqual(len(families), THREADS // 2)


if __name__ == "__main__":
    main()
