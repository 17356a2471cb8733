#!/usr/bin/env python3
"""How long ecsd's deployments take, and how much --time-scale saves in CI. Prints figures; asserts nothing.

    python3 bench/deployments.py                  # ecsd from $ECSD_BIN or build/ecsd
    python3 bench/deployments.py --scales 1,10,40 --desired 3

For each time scale: a daemon started with --time-scale N, a REPLICA service of --desired busybox httpd
tasks (bridge network, no health check, so ECS's 40 s wait applies), then three timed phases:
  create    CreateService -> one COMPLETED deployment, runningCount == desired
  rolling   UpdateService (revision 2) -> one COMPLETED deployment on revision 2 (min 100 %, max 200 %)
  rollback  UpdateService to a revision whose container exits at once, with the circuit breaker and
            rollback on -> back on revision 2, one COMPLETED deployment
The peer is the same run at scale 1 (real time: what ECS itself documents, 40 s per replacement wave).
Everything runs on 127.0.0.1 and the local Docker engine; the harness removes the daemon, its
containers and its temp dir at the end, also on failure.
"""

import argparse
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
os.environ.setdefault("ECSD_BIN", os.path.join(HERE, "..", "build", "ecsd"))

from ecsd_harness import Daemon, busybox_container, ensure_busybox_image, httpd_command, make_client  # noqa: E402


def wait(predicate, timeout=300):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise SystemExit("timed out")


def measure(scale, desired):
    daemon = Daemon(extra_args=["--time-scale", str(scale)])
    daemon.start()
    try:
        ecs = make_client(daemon.endpoint, "ecs", validate=False)
        ecs.create_cluster(clusterName="bench")
        for body in ("one", "two"):
            ecs.register_task_definition(family="app", networkMode="bridge",
                                         containerDefinitions=[busybox_container("app", command=httpd_command(body=body))])
        ecs.register_task_definition(family="app", networkMode="bridge",
                                     containerDefinitions=[busybox_container("app", command="exit 3")])

        def stable(revision):
            def check():
                s = ecs.describe_services(cluster="bench", services=["app"])["services"][0]
                d = s["deployments"]
                return (len(d) == 1 and d[0]["rolloutState"] == "COMPLETED" and d[0]["taskDefinition"].endswith(
                    f":{revision}") and s["runningCount"] == desired)
            return check

        figures = {}
        t0 = time.time()
        ecs.create_service(cluster="bench", serviceName="app", taskDefinition="app:1", desiredCount=desired,
                           deploymentConfiguration={"deploymentCircuitBreaker": {"enable": True, "rollback": True}})
        wait(stable(1))
        figures["create"] = time.time() - t0
        t0 = time.time()
        ecs.update_service(cluster="bench", service="app", taskDefinition="app:2")
        wait(stable(2))
        figures["rolling"] = time.time() - t0
        t0 = time.time()
        ecs.update_service(cluster="bench", service="app", taskDefinition="app:3")
        wait(stable(2))
        figures["rollback"] = time.time() - t0
        ecs.update_service(cluster="bench", service="app", desiredCount=0)
        return figures
    finally:
        daemon.reset_runtime()
        daemon.cleanup()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scales", default="1,10,40")
    ap.add_argument("--desired", type=int, default=3)
    args = ap.parse_args()
    ensure_busybox_image()
    scales = [float(s) for s in args.scales.split(",")]
    results = {s: measure(s, args.desired) for s in scales}
    base = results.get(1.0)
    print(f"desired={args.desired}, busybox httpd, no health check (ECS's 40 s wait), seconds:")
    print(f"{'scale':>6} {'create':>8} {'rolling':>8} {'rollback':>9}" + ("   rolling vs scale 1" if base else ""))
    for s, f in results.items():
        line = f"{s:>6g} {f['create']:8.1f} {f['rolling']:8.1f} {f['rollback']:9.1f}"
        if base:
            line += f"   {base['rolling'] / f['rolling']:.1f}x faster"
        print(line)


if __name__ == "__main__":
    main()
