#!/usr/bin/env python3
"""CloudWatch Logs figures for ecsd. Prints figures; asserts no timing.

    python3 bench/logs.py                       # ecsd from $ECSD_BIN or build/ecsd
    python3 bench/logs.py --lines 200000 --events 1000000

Scenario 1, awslogs ingest: one busybox task with the awslogs driver prints --lines numbered lines as fast
as it can (`seq`); the figure is lines/s from the task reaching RUNNING to the last line being readable
with GetLogEvents. Peer, same run: reading the same container's output back through the Engine API
(GET /containers/{id}/logs, what ecsd's follower reads) — the ceiling any follower could reach.

Scenario 2, FilterLogEvents over --events stored events (10 streams, loaded with PutLogEvents batches of
5,000): latency of (a) a term matching 1 event in 10,000, all pages; (b) a JSON pattern over the newest
minute, all pages; (c) the first page of an unfiltered interleaved read; (d) GetLogEvents, newest 100 of one stream.
Peer, same run: `grep -c` over a file holding the same messages.

Everything is removed at the end, also on failure: POST /_ecsd/reset while the daemon runs, SIGTERM (then
SIGKILL) to the daemon, and the temp data dir. Traffic: 127.0.0.1 and the local Docker socket only.
"""

import argparse
import http.client
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
IMAGE = "ecsd-test/busybox:latest"


def log(msg):
    print(msg, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Daemon:
    def __init__(self, binary):
        self.tmp = tempfile.mkdtemp(prefix="ecsd-bench-logs-")
        self.port = free_port()
        self.log = open(os.path.join(self.tmp, "ecsd.log"), "wb")
        self.proc = subprocess.Popen(
            [binary, "--host", "127.0.0.1", "--port", str(self.port), "--data-dir", os.path.join(self.tmp, "data"),
             "--log-level", "warn"], stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        self.endpoint = f"http://127.0.0.1:{self.port}"
        deadline = time.time() + 20
        while True:
            try:
                with urllib.request.urlopen(self.endpoint + "/_ecsd/health", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.time() > deadline or self.proc.poll() is not None:
                raise SystemExit("ecsd did not start; log in " + self.tmp)
            time.sleep(0.05)

    def close(self):
        try:
            if self.proc.poll() is None:
                req = urllib.request.Request(self.endpoint + "/_ecsd/reset", method="POST", data=b"")
                urllib.request.urlopen(req, timeout=60).read()
        except OSError:
            pass
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


def clients(endpoint):
    import boto3
    from botocore.config import Config
    s = boto3.session.Session(aws_access_key_id="AKIDBENCH", aws_secret_access_key="x", region_name="us-east-1")
    cfg = Config(retries={"max_attempts": 1}, read_timeout=300)
    return s.client("ecs", endpoint_url=endpoint, config=cfg), s.client("logs", endpoint_url=endpoint, config=cfg)


def engine_logs_seconds(container_id):
    """Reads the whole output of a container through the Engine API; returns (seconds, bytes)."""

    class UnixConn(http.client.HTTPConnection):
        def connect(self):
            self.sock = socket.socket(socket.AF_UNIX)
            self.sock.connect("/var/run/docker.sock")

    t = time.perf_counter()
    conn = UnixConn("docker", timeout=300)
    conn.request("GET", f"/v1.41/containers/{container_id}/logs?stdout=1&stderr=1&timestamps=1")
    body = conn.getresponse().read()
    conn.close()
    return time.perf_counter() - t, len(body)


def ingest(ecs, logs, lines):
    ecs.create_cluster(clusterName="bench")
    ecs.register_task_definition(family="chatty", networkMode="bridge", containerDefinitions=[{
        "name": "app", "image": IMAGE, "essential": True, "memory": 64,
        "command": ["sh", "-c", f"seq 1 {lines}; sleep 3600"],
        "logConfiguration": {"logDriver": "awslogs", "options": {
            "awslogs-group": "/bench/chatty", "awslogs-region": "us-east-1", "awslogs-stream-prefix": "ecs",
            "awslogs-create-group": "true"}}}])
    t0 = time.perf_counter()
    task = ecs.run_task(cluster="bench", taskDefinition="chatty")["tasks"][0]
    arn, tid = task["taskArn"], task["taskArn"].rsplit("/", 1)[1]
    while True:
        task = ecs.describe_tasks(cluster="bench", tasks=[arn])["tasks"][0]
        if task["lastStatus"] == "RUNNING":
            break
        if task["lastStatus"] == "STOPPED":
            raise SystemExit(f"task stopped: {task.get('stoppedReason')}")
        time.sleep(0.02)
    t_running = time.perf_counter()
    stream = f"ecs/app/{tid}"
    last = None
    while last != str(lines):
        try:
            ev = logs.get_log_events(logGroupName="/bench/chatty", logStreamName=stream, limit=1)["events"]
            last = ev[-1]["message"] if ev else None
        except logs.exceptions.ResourceNotFoundException:
            pass
        if time.perf_counter() - t_running > 600:
            raise SystemExit("ingest did not finish in 10 minutes")
        time.sleep(0.01)
    t_done = time.perf_counter()
    cid = task["containers"][0]["runtimeId"]
    peer_s, peer_bytes = engine_logs_seconds(cid)
    ecs.stop_task(cluster="bench", task=arn)
    return t_running - t0, t_done - t_running, peer_s, peer_bytes


def load_events(logs, total, streams=10, batch=5000):
    logs.create_log_group(logGroupName="/bench/big")
    for s in range(streams):
        logs.create_log_stream(logGroupName="/bench/big", logStreamName=f"s{s}")
    now = int(time.time() * 1000)
    start = now - 3600 * 1000  # one hour of events, evenly spread, ending now
    per_stream = total // streams
    step = max(1, 3600 * 1000 // per_stream)
    messages = []
    t = time.perf_counter()
    for s in range(streams):
        for off in range(0, per_stream, batch):
            events = []
            for i in range(off, min(off + batch, per_stream)):
                n = s * per_stream + i
                if n % 10000 == 7:
                    m = f'{{"level":"error","n":{n},"msg":"needle {n} found"}}'
                else:
                    m = f'{{"level":"info","n":{n},"msg":"request handled in {n % 97} ms path=/api/v1/items"}}'
                events.append({"timestamp": start + i * step, "message": m})
                messages.append(m)
            logs.put_log_events(logGroupName="/bench/big", logStreamName=f"s{s}", logEvents=events)
    return time.perf_counter() - t, messages, now


def timed(fn, repeat):
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return statistics.median(out)


def all_pages(logs, **kw):
    n, pages, token = 0, 0, None
    while True:
        args = dict(kw)
        if token:
            args["nextToken"] = token
        page = logs.filter_log_events(**args)
        n += len(page["events"])
        pages += 1
        token = page.get("nextToken")
        if not token:
            return n, pages


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ecsd", default=os.environ.get("ECSD_BIN") or os.path.join(ROOT, "build", "ecsd"))
    ap.add_argument("--lines", type=int, default=100000)
    ap.add_argument("--events", type=int, default=1000000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--skip-ingest", action="store_true")
    args = ap.parse_args()

    d = Daemon(args.ecsd)
    try:
        ecs, logs = clients(d.endpoint)
        if not args.skip_ingest:
            start_s, ingest_s, peer_s, peer_bytes = ingest(ecs, logs, args.lines)
            log(f"awslogs ingest: {args.lines} lines stored in {ingest_s:.2f} s after RUNNING "
                f"({args.lines / ingest_s:,.0f} lines/s; RunTask->RUNNING {start_s:.2f} s)")
            log(f"  peer, Engine API logs read of the same output: {peer_bytes / 1e6:.1f} MB in {peer_s:.2f} s "
                f"({args.lines / peer_s:,.0f} lines/s); ecsd at {peer_s / ingest_s:.2f}x of that ceiling")

        load_s, messages, now = load_events(logs, args.events)
        log(f"PutLogEvents bulk load: {len(messages):,} events in {load_s:.1f} s "
            f"({len(messages) / load_s:,.0f} events/s, batches of 5,000)")
        path = os.path.join(d.tmp, "messages.txt")
        with open(path, "w") as f:
            f.write("\n".join(messages) + "\n")
        needles = sum(1 for m in messages if "needle" in m)

        found = {}
        def rare():
            found["rare"] = all_pages(logs, logGroupName="/bench/big", filterPattern="needle")
        def json_recent():
            found["json"] = all_pages(logs, logGroupName="/bench/big", startTime=now - 60000,
                                      filterPattern='{ $.level = "info" && $.n < 500000 }')
        def first_page():
            logs.filter_log_events(logGroupName="/bench/big", limit=100)
        def newest():
            logs.get_log_events(logGroupName="/bench/big", logStreamName="s3", limit=100)
        rare_s = timed(rare, args.repeat)
        json_s = timed(json_recent, args.repeat)
        first_s = timed(first_page, args.repeat)
        newest_s = timed(newest, args.repeat)
        grep_s = timed(lambda: subprocess.run(["grep", "-c", "needle", path], capture_output=True), args.repeat)
        n, pages = found["rare"]
        log(f"FilterLogEvents over {len(messages):,} events (median of {args.repeat}):")
        log(f"  term matching {n} events (expected {needles}), all {pages} pages: {rare_s * 1000:.0f} ms "
            f"({len(messages) / rare_s / 1e6:.2f} M events scanned/s)")
        log(f"    peer, grep -c over the same messages in a file: {grep_s * 1000:.0f} ms "
            f"(ecsd/grep = {rare_s / grep_s:.1f}x)")
        log(f"  {{ $.level = \"info\" && $.n < 500000 }} on the newest minute, all pages ({found['json'][0]} matches): "
            f"{json_s * 1000:.1f} ms")
        log(f"  first page, 100 interleaved events, no pattern: {first_s * 1000:.1f} ms")
        log(f"  GetLogEvents newest 100 of one stream: {newest_s * 1000:.1f} ms")
        db = os.path.join(d.tmp, "data", "ecsd.db")
        size = sum(os.path.getsize(db + s) for s in ("", "-wal") if os.path.exists(db + s))
        log(f"  store size: {size / 1e6:.0f} MB ({size / len(messages):.0f} bytes/event)")
    finally:
        d.close()


if __name__ == "__main__":
    main()
