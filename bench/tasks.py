#!/usr/bin/env python3
"""Task start-up latency of ecsd against the raw Docker engine. Prints figures; asserts no timing.

    python3 bench/tasks.py                         # ecsd from $ECSD_BIN or build/ecsd
    python3 bench/tasks.py --ecsd build-bench2/ecsd --runs 10 --services 10,50 --repeat 1

Scenario 1, RunTask -> RUNNING: one busybox task (`exec sleep 3600`, initProcessEnabled, 16 MiB, bridge
network, stopTimeout 2), `run_task(count=1)` then `describe_tasks` every --poll-ms until lastStatus is
RUNNING; the task is stopped (untimed) before the next run. Baselines: the same container created and
started through the Engine API on the unix socket (http.client, one connection per call, as ecsd does)
and through the docker CLI (`docker create --init --memory 16m ...` + `docker start`). The three are
interleaved run by run so that the machine's background load hits them alike.

Scenario 2, CreateService -> steady state: `create_service(desiredCount=N)` until runningCount == N
and deployments[0].rolloutState == COMPLETED (describe_services every 20 ms). Baselines: N containers
created and started through the Engine API, sequentially and with 4 worker threads. Services are then
scaled to 0 and deleted, untimed, and the script waits until none of their containers still runs.

--tap-engine relays ecsd's engine socket through a counting proxy and prints which Engine API calls ecsd
made per task (a diagnosis of where ecsd's time goes; the relay slows ecsd down a little).

Everything the script creates is removed at the end, also on failure or SIGINT/SIGTERM: POST
/_ecsd/reset while the daemon still runs, SIGTERM (then SIGKILL) to the daemon, force-removal of any
container or network still labelled with the daemon's instance id or this run's bench label, and
the temp data dir. Traffic: 127.0.0.1 and the local Docker socket only.

Needs: Python 3, boto3, a Docker engine (bash .ci/docker-up) and the offline image
ecsd-test/busybox:latest (built here with tests/integration/make_busybox_image.sh when missing).
"""

import argparse
import concurrent.futures
import datetime
import http.client
import json
import math
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
IMAGE = "ecsd-test/busybox:latest"
COMMAND = ["sh", "-c", "exec sleep 3600"]
MEMORY_MIB = 16
CLUSTER = "bench"
FAMILY = "bench-sleep"
BENCH_LABEL = "ecsd-bench.run"  # on every baseline container, for cleanup

# Loopback only: no proxy, no ~/.aws files, no instance metadata lookups.
os.environ["NO_PROXY"] = os.environ["no_proxy"] = ",".join(
    x for x in (os.environ.get("NO_PROXY", ""), "127.0.0.1,localhost") if x)
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
os.environ["AWS_CONFIG_FILE"] = os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
for _var in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
    os.environ.pop(_var, None)


def log(msg):
    print(f"[tasks.py {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def loadavg():
    try:
        return "load avg %.2f %.2f %.2f" % os.getloadavg()
    except OSError:
        return "load avg n/a"


# ------------------------------------------------------------------------------------------------
# Statistics
# ------------------------------------------------------------------------------------------------

def pct(values, p):
    """Nearest-rank percentile (p90 of 10 values is the 9th smallest)."""
    s = sorted(values)
    return s[max(0, math.ceil(p / 100 * len(s)) - 1)] if s else float("nan")


def med(values):
    return statistics.median(values) if values else float("nan")


def overhead(x, base):
    return (x - base) / base * 100 if base and base > 0 else float("nan")


def ms(seconds):
    return f"{seconds * 1000:8.1f}"


# ------------------------------------------------------------------------------------------------
# Docker Engine API over the unix socket
# ------------------------------------------------------------------------------------------------

class UnixHTTPConnection(http.client.HTTPConnection):
    """http.client over an AF_UNIX socket (the Engine API's transport)."""

    def __init__(self, path, timeout=120):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self.unix_path)
        self.sock = sock


class EngineError(RuntimeError):
    pass


class Engine:
    """The few Engine API calls the bench needs; one connection per call, like ecsd's client."""

    def __init__(self):
        host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
        if not host.startswith("unix://"):
            raise SystemExit(f"tasks.py: DOCKER_HOST={host} is not a unix socket; only the local engine is used")
        self.path = host[len("unix://"):]

    def call(self, method, path, body=None, ok=(200, 201, 204, 304), timeout=120):
        conn = UnixHTTPConnection(self.path, timeout=timeout)
        try:
            data = json.dumps(body).encode() if body is not None else None
            headers = {"Content-Type": "application/json"} if data is not None else {}
            conn.request(method, path, body=data, headers=headers)
            resp = conn.getresponse()
            raw = resp.read()
        finally:
            conn.close()
        if resp.status not in ok:
            raise EngineError(f"{method} {path}: HTTP {resp.status}: {raw[:300]!r}")
        if not raw:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            return raw

    def ping(self):
        try:
            return self.call("GET", "/_ping", timeout=5) in (b"OK", "OK")
        except (OSError, EngineError):
            return False

    def image_present(self, image):
        try:
            self.call("GET", "/images/" + urllib.parse.quote(image, safe="") + "/json")
            return True
        except EngineError:
            return False

    def containers(self, labels, running_only=False):
        filters = {"label": list(labels)}
        if running_only:
            filters["status"] = ["running"]
        q = urllib.parse.urlencode({"all": "0" if running_only else "1", "filters": json.dumps(filters)})
        return self.call("GET", "/containers/json?" + q) or []

    def networks(self, labels):
        q = urllib.parse.urlencode({"filters": json.dumps({"label": list(labels)})})
        return self.call("GET", "/networks?" + q) or []

    def inspect(self, cid):
        return self.call("GET", f"/containers/{cid}/json")

    def create(self, labels):
        body = {
            "Image": IMAGE,
            "Cmd": COMMAND,
            "Labels": labels,
            "HostConfig": {"Init": True, "Memory": MEMORY_MIB * 1024 * 1024, "NetworkMode": "bridge"},
        }
        return self.call("POST", "/containers/create", body)["Id"]

    def start(self, cid):
        self.call("POST", f"/containers/{cid}/start")

    def stop(self, cid, t=2):
        self.call("POST", f"/containers/{cid}/stop?t={t}", timeout=t + 60)

    def remove(self, cid):
        self.call("DELETE", f"/containers/{cid}?force=1&v=1", ok=(200, 204, 404))

    def remove_network(self, nid):
        self.call("DELETE", f"/networks/{nid}", ok=(200, 204, 404))


# ------------------------------------------------------------------------------------------------
# --tap-engine: a counting relay between ecsd and the engine socket (diagnosis only; adds latency)
# ------------------------------------------------------------------------------------------------

class EngineTap:
    """Listens on a unix socket in the temp dir and relays every connection to the real engine socket,
    recording each request's method, path (ids and query elided) and duration. ecsd opens one
    connection per call, so connection = request (except the long-lived /events stream)."""

    def __init__(self, upstream, path):
        self._re_id = re.compile(r"/[0-9a-f]{64}")
        self.upstream = upstream
        self.path = path
        self.calls = []  # (start, end, "METHOD /path")
        self._lock = threading.Lock()
        self._srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._srv.bind(path)
        self._srv.listen(128)
        self._stop = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self._stop:
            try:
                client, _ = self._srv.accept()
            except OSError:
                return
            threading.Thread(target=self._relay, args=(client,), daemon=True).start()

    def _relay(self, client):
        t0 = time.monotonic()
        what = "?"
        up = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            up.connect(self.upstream)
            head = client.recv(65536)
            line = head.split(b"\r\n", 1)[0].decode("latin-1", "replace").split(" ")
            if len(line) >= 2:
                path = self._re_id.sub("/{id}", line[1].split("?", 1)[0])
                path = path.split("/", 2)[-1] if path.startswith("/v1.") else path.lstrip("/")
                what = f"{line[0]} /{path}"
            up.sendall(head)
            back = threading.Thread(target=self._pump, args=(up, client), daemon=True)
            back.start()
            self._pump(client, up)
            back.join()
        except OSError:
            pass
        finally:
            for s in (client, up):
                try:
                    s.close()
                except OSError:
                    pass
            with self._lock:
                self.calls.append((t0, time.monotonic(), what))

    @staticmethod
    def _pump(src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def mark(self):
        with self._lock:
            return len(self.calls)

    def summary(self, since, title, per=None, until=None):
        with self._lock:
            calls = self.calls[since:until]
        by = {}
        for t0, t1, what in calls:
            if what.endswith("/events"):
                continue
            n, total = by.get(what, (0, 0.0))
            by[what] = (n + 1, total + (t1 - t0))
        print(f"   engine calls made by ecsd during {title}" + (f" (per task: / {per})" if per else "") + ":")
        for what, (n, total) in sorted(by.items(), key=lambda kv: -kv[1][1]):
            extra = f" {n / per:6.1f}/task" if per else ""
            print(f"     {what:<40} {n:6d} calls{extra}, {total * 1000:9.0f} ms in total, "
                  f"{total / n * 1000:7.1f} ms mean")

    def close(self):
        self._stop = True
        try:
            self._srv.close()
        except OSError:
            pass


def docker_time(s):
    """Engine timestamp ('2026-01-01T00:00:00.123456789Z') -> epoch seconds (µs precision)."""
    if not s or s.startswith("0001-"):
        return None
    s = s.rstrip("Z")
    if "." in s:
        head, frac = s.split(".", 1)
        s = f"{head}.{frac[:6]:0<6}"
    return datetime.datetime.fromisoformat(s).replace(tzinfo=datetime.timezone.utc).timestamp()


def epoch(dt):
    return dt.timestamp() if dt is not None else None


# ------------------------------------------------------------------------------------------------
# The daemon
# ------------------------------------------------------------------------------------------------

def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Daemon:
    def __init__(self, binary, log_level):
        self.binary = binary
        self.log_level = log_level
        self.tmp = tempfile.mkdtemp(prefix="ecsd-bench-tasks-")
        self.data_dir = os.path.join(self.tmp, "data")
        self.log_path = os.path.join(self.tmp, "ecsd.log")
        self.proc = None
        self.port = None
        self.instance_id = None
        self._log = None

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout=15, env=None):
        os.makedirs(self.data_dir, exist_ok=True)
        for _attempt in range(3):  # the probed port can be taken before ecsd binds it
            self.port = free_port()
            self._log = open(self.log_path, "ab")
            self.proc = subprocess.Popen(
                [self.binary, "--host", "127.0.0.1", "--port", str(self.port), "--data-dir", self.data_dir,
                 "--log-level", self.log_level],
                stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True,
                env=env)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and self.proc.poll() is None:
                try:
                    with urllib.request.urlopen(self.endpoint + "/_ecsd/health", timeout=1) as r:
                        health = json.loads(r.read())
                        if r.status == 200 and health.get("status") == "ok":
                            # ecsd holds its store's file lock while it runs: the id comes from health
                            self.instance_id = health.get("instance_id")
                            return
                except (OSError, ValueError):
                    pass
                time.sleep(0.02)
            if self.proc.poll() is None:
                raise RuntimeError(f"ecsd not healthy after {timeout}s\n{self.log_tail()}")
            self._log.close()
        raise RuntimeError(f"ecsd did not start\n{self.log_tail()}")

    def reset(self):
        if self.proc is None or self.proc.poll() is not None:
            return False
        req = urllib.request.Request(self.endpoint + "/_ecsd/reset", data=b"", method="POST")
        try:
            with urllib.request.urlopen(req, timeout=120) as r:
                return 200 <= r.status < 300
        except OSError as e:
            log(f"POST /_ecsd/reset failed: {e}")
            return False

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                log("ecsd still running 20 s after SIGTERM; SIGKILL")
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait(timeout=30)
        if self._log:
            self._log.close()
            self._log = None

    def log_lines(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace").splitlines()
        except OSError:
            return []

    def log_tail(self, n=40):
        return "\n".join(self.log_lines()[-n:])

    def remove_tmp(self):
        shutil.rmtree(self.tmp, ignore_errors=True)


def ecs_client(endpoint):
    import boto3
    from botocore.config import Config

    session = boto3.session.Session(aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
                                    aws_secret_access_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                                    region_name="us-east-1")
    return session.client("ecs", endpoint_url=endpoint,
                          config=Config(retries={"max_attempts": 1, "mode": "standard"}, read_timeout=120,
                                        connect_timeout=5, max_pool_connections=4))


def wait(predicate, timeout, interval, what):
    deadline = time.monotonic() + timeout
    while True:
        v = predicate()
        if v:
            return v
        if time.monotonic() >= deadline:
            raise TimeoutError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


# ------------------------------------------------------------------------------------------------
# Scenario 1: RunTask -> RUNNING
# ------------------------------------------------------------------------------------------------

def ecsd_run_once(ecs, engine, poll):
    t0 = time.monotonic()
    w0 = time.time()
    resp = ecs.run_task(cluster=CLUSTER, taskDefinition=FAMILY, count=1)
    t_call = time.monotonic() - t0
    if resp.get("failures") or not resp.get("tasks"):
        raise RuntimeError(f"run_task failed: {resp.get('failures')}")
    arn = resp["tasks"][0]["taskArn"]
    deadline = t0 + 30
    polls = 0
    while True:
        task = ecs.describe_tasks(cluster=CLUSTER, tasks=[arn])["tasks"][0]
        polls += 1
        now = time.monotonic()
        if task["lastStatus"] == "RUNNING":
            break
        if task["lastStatus"] == "STOPPED" or now > deadline:
            raise RuntimeError(f"task {arn} is {task['lastStatus']} after {now - t0:.1f} s: "
                               f"{task.get('stoppedReason')}")
        time.sleep(poll)
    latency = now - t0
    # Where the time went, from ecsd's task timestamps (ms) and the engine's container times (ns).
    created = epoch(task.get("createdAt"))
    started = epoch(task.get("startedAt"))
    info = engine.inspect(task["containers"][0]["runtimeId"])
    c_created = docker_time(info.get("Created"))
    c_started = docker_time(info["State"].get("StartedAt"))
    parts = {
        "api": t_call,
        "to_engine_create": c_created - created if c_created and created else None,
        "engine_create_start": c_started - c_created if c_started and c_created else None,
        "observe_save": started - c_started if started and c_started else None,
        "poll_lag": (w0 + latency) - started if started else None,
        # When ecsd recorded RUNNING (a describe from then on shows it), without the client's poll lag.
        "recorded": started - w0 if started else None,
    }
    return latency, arn, polls, parts


def ecsd_stop(ecs, arn):
    ecs.stop_task(cluster=CLUSTER, task=arn, reason="bench")
    wait(lambda: ecs.describe_tasks(cluster=CLUSTER, tasks=[arn])["tasks"][0]["lastStatus"] == "STOPPED",
         30, 0.05, f"task {arn} STOPPED")


def api_run_once(engine, labels):
    t0 = time.monotonic()
    cid = engine.create(labels)
    t1 = time.monotonic()
    engine.start(cid)
    t2 = time.monotonic()
    info = engine.inspect(cid)
    parts = {"create": t1 - t0, "start": t2 - t1,
             "engine_create_start": docker_time(info["State"].get("StartedAt")) - docker_time(info.get("Created"))}
    return t2 - t0, cid, parts


def cli_run_once(label_kv):
    t0 = time.monotonic()
    cid = subprocess.run(
        ["docker", "create", "--init", "--memory", f"{MEMORY_MIB}m", "--label", label_kv, IMAGE, *COMMAND],
        check=True, capture_output=True, text=True, timeout=120).stdout.strip()
    subprocess.run(["docker", "start", cid], check=True, capture_output=True, timeout=120)
    return time.monotonic() - t0, cid


def scenario_runtask(ecs, engine, run_label, runs, poll):
    results = {"ecsd": [], "api": [], "cli": []}
    ecsd_parts, api_parts, polls = [], [], []
    labels = {BENCH_LABEL: run_label}
    baseline_ids = []
    load_before = loadavg()
    try:
        for i in range(runs):
            # Interleaved: engine API, CLI, ecsd; every container is stopped (untimed) before the next.
            dt, cid, parts = api_run_once(engine, labels)
            baseline_ids.append(cid)
            results["api"].append(dt)
            api_parts.append(parts)
            engine.stop(cid, 2)
            time.sleep(0.1)

            dt, cid = cli_run_once(f"{BENCH_LABEL}={run_label}")
            baseline_ids.append(cid)
            results["cli"].append(dt)
            engine.stop(cid, 2)
            time.sleep(0.1)

            dt, arn, n, parts = ecsd_run_once(ecs, engine, poll)
            results["ecsd"].append(dt)
            ecsd_parts.append(parts)
            polls.append(n)
            ecsd_stop(ecs, arn)
            time.sleep(0.1)
            log(f"run {i + 1}/{runs}: api {dt_ms(results['api'][-1])}, cli {dt_ms(results['cli'][-1])}, "
                f"ecsd {dt_ms(results['ecsd'][-1])} ms ({n} polls)")
    finally:
        for cid in baseline_ids:
            try:
                engine.remove(cid)
            except (OSError, EngineError) as e:
                log(f"could not remove baseline container {cid[:12]}: {e}")
    return {"results": results, "ecsd_parts": ecsd_parts, "api_parts": api_parts, "polls": polls,
            "load": (load_before, loadavg())}


def dt_ms(s):
    return f"{s * 1000:.0f}"


# ------------------------------------------------------------------------------------------------
# Scenario 2: CreateService -> steady state
# ------------------------------------------------------------------------------------------------

def baseline_many(engine, labels, n, workers):
    def one(_):
        cid = engine.create(labels)
        engine.start(cid)
        return cid

    t0 = time.monotonic()
    if workers <= 1:
        ids = [one(i) for i in range(n)]
    else:
        with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
            ids = list(pool.map(one, range(n)))
    dt = time.monotonic() - t0
    return dt, ids


def remove_all(engine, ids):
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda c: engine.remove(c), ids))


def ecsd_service_once(ecs, engine, instance_id, name, n, interval=0.02):
    t0 = time.monotonic()
    ecs.create_service(cluster=CLUSTER, serviceName=name, taskDefinition=FAMILY, desiredCount=n)
    t_call = time.monotonic() - t0
    deadline = t0 + 60 + 3 * n
    first_running_all = None
    describes = 0
    while True:
        svc = ecs.describe_services(cluster=CLUSTER, services=[name])["services"][0]
        describes += 1
        now = time.monotonic()
        deps = svc.get("deployments", [])
        if svc["runningCount"] == n and first_running_all is None:
            first_running_all = now - t0
        if (svc["runningCount"] == n and svc["pendingCount"] == 0 and len(deps) == 1
                and deps[0].get("rolloutState") == "COMPLETED"):
            break
        if now > deadline:
            raise TimeoutError(f"service {name} not steady after {now - t0:.0f} s: running {svc['runningCount']}, "
                               f"pending {svc['pendingCount']}, deployments {deps}")
        time.sleep(interval)
    elapsed = now - t0
    # Task timestamps: when the scheduler created the task rows and when they were RUNNING.
    arns = ecs.list_tasks(cluster=CLUSTER, serviceName=name, desiredStatus="RUNNING", maxResults=100)["taskArns"]
    tasks = []
    for i in range(0, len(arns), 100):
        tasks += ecs.describe_tasks(cluster=CLUSTER, tasks=arns[i:i + 100])["tasks"]
    created = sorted(epoch(t["createdAt"]) for t in tasks)
    started = sorted(epoch(t["startedAt"]) for t in tasks if t.get("startedAt"))
    per_task = sorted(epoch(t["startedAt"]) - epoch(t["createdAt"]) for t in tasks if t.get("startedAt"))
    detail = {
        "create_call": t_call,
        "running_all": first_running_all,
        "describes": describes,
        "created_spread": created[-1] - created[0] if created else None,
        "first_created_to_last_started": started[-1] - created[0] if started and created else None,
        "per_task_median": med(per_task),
        "per_task_max": max(per_task) if per_task else None,
    }
    return elapsed, detail


def ecsd_delete_service(ecs, engine, instance_id, name, timeout=180):
    ecs.update_service(cluster=CLUSTER, service=name, desiredCount=0)
    ecs.delete_service(cluster=CLUSTER, service=name)

    def gone():
        s = ecs.describe_services(cluster=CLUSTER, services=[name])
        inactive = not s["services"] or s["services"][0]["status"] == "INACTIVE"
        running = engine.containers([f"ecsd.instance={instance_id}"], running_only=True)
        return inactive and not running

    wait(gone, timeout, 0.2, f"service {name} INACTIVE with no running container")


def scenario_services(ecs, engine, instance_id, run_label, counts, repeat, tap=None):
    rows = []
    labels = {BENCH_LABEL: run_label}
    for n in counts:
        for rep in range(repeat):
            load_before = loadavg()
            row = {"n": n, "rep": rep + 1}
            for workers, key in ((1, "seq"), (4, "par4")):
                ids = []
                try:
                    dt, ids = baseline_many(engine, labels, n, workers)
                    row[key] = dt
                finally:
                    # untimed: the containers go before the next measurement
                    remove_all(engine, ids or [c["Id"] for c in engine.containers([f"{BENCH_LABEL}={run_label}"])])
                time.sleep(0.5)
            name = f"svc-{n}-{rep + 1}"
            mark = tap.mark() if tap else 0
            row["ecsd"], row["detail"] = ecsd_service_once(ecs, engine, instance_id, name, n)
            row["tap"] = (mark, tap.mark() if tap else 0)
            t_del = time.monotonic()
            ecsd_delete_service(ecs, engine, instance_id, name)
            row["delete"] = time.monotonic() - t_del
            row["load"] = (load_before, loadavg())
            log(f"service {n} #{rep + 1}: api seq {dt_ms(row['seq'])}, api 4 workers {dt_ms(row['par4'])}, "
                f"ecsd {dt_ms(row['ecsd'])} ms; scaled to 0 and deleted in {row['delete']:.1f} s")
            rows.append(row)
            time.sleep(0.5)
    return rows


# ------------------------------------------------------------------------------------------------
# Report
# ------------------------------------------------------------------------------------------------

def report_runtask(r, runs, poll):
    res = r["results"]
    print()
    print(f"## 1. RunTask -> RUNNING, {runs} sequential runs (describe_tasks every {poll * 1000:.0f} ms)")
    print(f"   {r['load'][0]} before, {r['load'][1]} after")
    print()
    print("| path                                   | median ms | p90 ms |   min ms |   max ms |")
    print("|----------------------------------------|-----------|--------|----------|----------|")
    names = {"api": "Engine API create+start (unix socket)", "cli": "docker CLI create + start",
             "ecsd": "ecsd run_task -> describe RUNNING"}
    recorded = [p["recorded"] for p in r["ecsd_parts"] if p.get("recorded") is not None]
    rows = [(names[k], res[k]) for k in ("api", "cli", "ecsd")]
    if len(recorded) == len(res["ecsd"]):
        rows.append(("ecsd run_task -> RUNNING recorded", recorded))
    for name, v in rows:
        print(f"| {name:<38} | {ms(med(v))}  |{ms(pct(v, 90))}| {ms(min(v))} | {ms(max(v))} |")
    print()
    e_med, e_p90 = med(res["ecsd"]), pct(res["ecsd"], 90)
    for k, label in (("api", "Engine API"), ("cli", "docker CLI")):
        print(f"   ecsd overhead vs {label:<10}: median {overhead(e_med, med(res[k])):+6.1f} %, "
              f"p90 {overhead(e_p90, pct(res[k], 90)):+6.1f} %")
    if len(recorded) == len(res["ecsd"]):
        print(f"   RUNNING recorded vs Engine API: median {overhead(med(recorded), med(res['api'])):+6.1f} %, "
              f"p90 {overhead(pct(recorded, 90), pct(res['api'], 90)):+6.1f} %   "
              "(task startedAt - time run_task was sent: no poll lag)")
    print()
    print("   ecsd, where the time goes (median ms over the runs; task timestamps have ms resolution):")
    keys = [("api", "RunTask call round trip"),
            ("to_engine_create", "task createdAt -> engine container Created (queue, pass, store writes)"),
            ("engine_create_start", "engine Created -> State.StartedAt"),
            ("observe_save", "engine StartedAt -> task startedAt (observe, store write)"),
            ("poll_lag", "task startedAt -> client saw RUNNING (poll)")]
    for key, label in keys:
        vals = [p[key] for p in r["ecsd_parts"] if p.get(key) is not None]
        print(f"     {label:<72} {ms(med(vals))}")
    print(f"     {'describe_tasks polls per run (median)':<72} {med(r['polls']):8.0f}")
    print("   Engine API baseline (median ms):")
    for key, label in (("create", "POST /containers/create"), ("start", "POST /containers/{id}/start"),
                       ("engine_create_start", "engine Created -> State.StartedAt")):
        print(f"     {label:<72} {ms(med([p[key] for p in r['api_parts']]))}")


def report_services(rows):
    print()
    print("## 2. CreateService(desiredCount=N) -> steady state (runningCount == N, rolloutState COMPLETED)")
    print()
    print("|  N | run | API seq ms | API 4 workers ms |  ecsd ms | vs seq  | vs 4 workers | load avg (1 min) before/after |")
    print("|----|-----|------------|------------------|----------|---------|--------------|-------------------------------|")
    for r in rows:
        l0 = r["load"][0].split()[2]
        l1 = r["load"][1].split()[2]
        print(f"| {r['n']:>2} | {r['rep']:>3} | {ms(r['seq'])}   | {ms(r['par4'])}         | {ms(r['ecsd'])} "
              f"| {overhead(r['ecsd'], r['seq']):+6.0f}% | {overhead(r['ecsd'], r['par4']):+11.0f}% "
              f"| {l0} / {l1:<23} |")
    print()
    print("   ecsd detail (ms): create_service call, runningCount first == N, spread of the tasks' createdAt,")
    print("   first createdAt -> last startedAt, per task createdAt -> startedAt (median / max), describes polled")
    for r in rows:
        d = r["detail"]
        print(f"     N={r['n']:>2} #{r['rep']}: call {ms(d['create_call'])}, running==N {ms(d['running_all'])}, "
              f"created spread {ms(d['created_spread'])}, first created -> last started "
              f"{ms(d['first_created_to_last_started'])}, per task {ms(d['per_task_median'])} / "
              f"{ms(d['per_task_max'])}, {d['describes']} describes; delete+drain {r['delete']:.1f} s")


# ------------------------------------------------------------------------------------------------
# Main
# ------------------------------------------------------------------------------------------------

def ensure_image(engine):
    if engine.image_present(IMAGE):
        return
    log(f"building {IMAGE} (offline)")
    subprocess.run(["bash", os.path.join(ROOT, "tests", "integration", "make_busybox_image.sh"), IMAGE],
                   check=True, timeout=300)


def cleanup(daemon, engine, run_label):
    problems = []
    if daemon is not None:
        if daemon.instance_id and not daemon.reset():
            problems.append("POST /_ecsd/reset did not succeed")
        daemon.stop()
    leftovers = []
    try:
        leftovers = [c["Id"] for c in engine.containers([f"{BENCH_LABEL}={run_label}"])]
        if daemon is not None and daemon.instance_id:
            own = [c["Id"] for c in engine.containers([f"ecsd.instance={daemon.instance_id}"])]
            if own:
                problems.append(f"{len(own)} ecsd container(s) left after reset (force-removed)")
            leftovers += own
            for net in engine.networks([f"ecsd.instance={daemon.instance_id}"]):
                problems.append(f"network {net.get('Name')} left after reset (removed)")
                engine.remove_network(net["Id"])
        for cid in leftovers:
            engine.remove(cid)
    except (OSError, EngineError) as e:
        problems.append(f"engine cleanup failed: {e}")
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ecsd", default=os.environ.get("ECSD_BIN") or os.path.join(ROOT, "build", "ecsd"),
                    help="ecsd binary (default $ECSD_BIN or build/ecsd)")
    ap.add_argument("--runs", type=int, default=10, help="RunTask runs (default 10)")
    ap.add_argument("--poll-ms", type=float, default=5, help="describe_tasks poll interval (default 5)")
    ap.add_argument("--services", default="10,50", help="desired counts for CreateService (default 10,50)")
    ap.add_argument("--repeat", type=int, default=1, help="runs per desired count (default 1)")
    ap.add_argument("--skip-runtask", action="store_true")
    ap.add_argument("--skip-services", action="store_true")
    ap.add_argument("--log-level", default="warn", help="ecsd --log-level (default warn)")
    ap.add_argument("--tap-engine", action="store_true",
                    help="relay ecsd's engine socket through a counting tap and print the engine calls it made "
                         "(diagnosis: the relay adds latency, so timings from such a run are not comparable)")
    ap.add_argument("--keep-log", action="store_true", help="copy the daemon log to ./ecsd-bench-tasks.log")
    args = ap.parse_args()

    binary = os.path.abspath(args.ecsd)
    if not os.access(binary, os.X_OK):
        raise SystemExit(f"tasks.py: no ecsd binary at {binary} (build it, or pass --ecsd / set ECSD_BIN)")
    counts = [int(x) for x in args.services.split(",") if x.strip()]
    poll = args.poll_ms / 1000

    # SIGINT (also when inherited as ignored, e.g. from a background job), SIGTERM and SIGHUP all end
    # the run through the finally block below.
    def on_signal(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)

    engine = Engine()
    if not engine.ping():
        raise SystemExit("tasks.py: no Docker engine answers (bash .ci/docker-up)")
    ensure_image(engine)

    run_label = uuid.uuid4().hex[:12]
    daemon = None
    tap = None
    rc = 0
    try:
        version = engine.call("GET", "/version")
        print(f"# ecsd task start-up bench, {time.strftime('%Y-%m-%d %H:%M:%S %Z')}")
        print(f"   host: {os.cpu_count()} CPUs, {loadavg()}; Docker {version.get('Version')} "
              f"({version.get('Os')}/{version.get('Arch')}, kernel {version.get('KernelVersion')})")
        daemon = Daemon(binary, args.log_level)
        env = None
        if args.tap_engine:
            tap = EngineTap(engine.path, os.path.join(daemon.tmp, "engine.sock"))
            env = dict(os.environ, DOCKER_HOST="unix://" + tap.path)
            print("   --tap-engine: ecsd talks to the engine through a Python relay; timings are inflated")
        daemon.start(env=env)
        print(f"   ecsd: {binary}, 127.0.0.1:{daemon.port}, --log-level {args.log_level}, "
              f"instance {daemon.instance_id}")
        ecs = ecs_client(daemon.endpoint)
        ecs.create_cluster(clusterName=CLUSTER)
        ecs.register_task_definition(
            family=FAMILY, networkMode="bridge",
            containerDefinitions=[{
                "name": "app", "image": IMAGE, "command": COMMAND, "memory": MEMORY_MIB, "essential": True,
                "stopTimeout": 2, "linuxParameters": {"initProcessEnabled": True},
            }])
        # One unmeasured warm-up of each path (first container on a fresh daemon, page cache, CLI binary).
        dt, cid, _ = api_run_once(engine, {BENCH_LABEL: run_label})
        engine.remove(cid)
        _, cid = cli_run_once(f"{BENCH_LABEL}={run_label}")
        engine.remove(cid)
        _, arn, _, _ = ecsd_run_once(ecs, engine, poll)
        ecsd_stop(ecs, arn)

        if not args.skip_runtask:
            mark = tap.mark() if tap else 0
            r1 = scenario_runtask(ecs, engine, run_label, args.runs, poll)
            until = tap.mark() if tap else 0
            report_runtask(r1, args.runs, poll)
            if tap:
                tap.summary(mark, "scenario 1 (run, stop, resync)", per=args.runs, until=until)
        if not args.skip_services and counts:
            rows = scenario_services(ecs, engine, daemon.instance_id, run_label, counts, args.repeat, tap)
            report_services(rows)
            if tap:
                for r in rows:
                    tap.summary(r["tap"][0], f"CreateService N={r['n']} #{r['rep']} until steady", per=r["n"],
                                until=r["tap"][1])
        print()
        print(f"   {loadavg()} at the end")
    except KeyboardInterrupt as e:
        log(f"interrupted ({e}); cleaning up")
        rc = 130
    except Exception as e:  # noqa: BLE001 - reported, then cleanup runs
        log(f"FAILED: {type(e).__name__}: {e}")
        if daemon is not None:
            log("daemon log tail:\n" + daemon.log_tail())
        rc = 1
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        problems = cleanup(daemon, engine, run_label)
        if tap:
            tap.close()
        if daemon is not None:
            noisy = [l for l in daemon.log_lines() if " warn " in l or " error " in l or " critical " in l]
            if noisy:
                print(f"\n   ecsd logged {len(noisy)} warning/error line(s); the first ones:")
                for line in noisy[:10]:
                    print("     " + line)
            if args.keep_log:
                shutil.copy(daemon.log_path, "ecsd-bench-tasks.log")
            daemon.remove_tmp()
        for p in problems:
            log(f"cleanup: {p}")
    return rc


if __name__ == "__main__":
    sys.exit(main())
