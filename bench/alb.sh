#!/usr/bin/env bash
# ALB data plane benchmark: wrk straight to an HTTP server on loopback, then through an ecsd ALB
# listener forwarding to that same server, in one run. Prints throughput ratio and the latency the
# proxy adds (p50, p99). Asserts nothing.
#
#   bench/alb.sh                                   # ~30 s
#   DURATION=20 CONNECTIONS=64 WRK_THREADS=2 bench/alb.sh
#
# Upstreams (UPSTREAMS, default "server container"): "server" is bench/alb_upstream on loopback (a
# keep-alive server costing almost nothing per request, the proxy's worst case); "container" is a busybox
# httpd in a Docker container on the default bridge, reached at its container IP (what the issue names:
# straight to the container vs through the listener). Each gets its own target group and listener.
#
# Environment: BUILD_DIR (default build), DURATION (s per run, default 10), WARMUP (s, default 2),
# CONNECTIONS (wrk -c values, default "1 32"), WRK_THREADS (wrk -t, default 1), BODY_SIZE (response bytes,
# default 64), ECSD_THREADS (ecsd --threads, default 2), PYTHON (with boto3; default python3).
# Installs the Debian package wrk (apt-get) only when it is missing. Listens on 127.0.0.1 only;
# stops everything it started and removes its temp dir on exit.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-build}
case $BUILD_DIR in /*) ;; *) BUILD_DIR=$ROOT/$BUILD_DIR ;; esac
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
CONNECTIONS=${CONNECTIONS:-"1 32"}
WRK_THREADS=${WRK_THREADS:-1}
BODY_SIZE=${BODY_SIZE:-64}
ECSD_THREADS=${ECSD_THREADS:-2}
PYTHON=${PYTHON:-python3}
UPSTREAMS=${UPSTREAMS:-"server container"}

PIDS=()
CONTAINER=
TMP=$(mktemp -d)
cleanup() {
  local pid
  if [[ -n $CONTAINER ]]; then docker rm -f "$CONTAINER" >/dev/null 2>&1 || true; fi
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf -- "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if ! command -v wrk >/dev/null; then
  echo "wrk is missing: installing the Debian package" >&2
  SUDO=; [[ $(id -u) == 0 ]] || SUDO=sudo
  $SUDO apt-get install -y -qq wrk >/dev/null || { echo "could not install wrk" >&2; exit 1; }
fi

if [[ ! -f $BUILD_DIR/build.ninja && ! -f $BUILD_DIR/Makefile ]]; then
  cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build "$BUILD_DIR" --target ecsd alb_upstream >/dev/null

free_port() {
  "$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

UP_PORT=$(free_port)
API_PORT=$(free_port)
"$BUILD_DIR/bench/alb_upstream" --port "$UP_PORT" --body-size "$BODY_SIZE" >"$TMP/upstream.log" 2>&1 &
PIDS+=($!)
"$BUILD_DIR/ecsd" --port "$API_PORT" --data-dir "$TMP/data" --no-scheduler --log-level warn \
  --threads "$ECSD_THREADS" --registry-port 0 >"$TMP/ecsd.log" 2>&1 &
PIDS+=($!)

# Each upstream: "name host port listener-port".
TARGETS=()
for u in $UPSTREAMS; do
  case $u in
    server) TARGETS+=("server 127.0.0.1 $UP_PORT $(free_port)") ;;
    container)
      if ! docker image inspect ecsd-test/busybox:latest >/dev/null 2>&1; then
        bash "$ROOT/tests/integration/make_busybox_image.sh" >/dev/null
      fi
      CONTAINER=$(docker run -d --label ecsd.bench=alb ecsd-test/busybox:latest sh -c \
        "mkdir -p /www && head -c $BODY_SIZE /dev/zero | tr '\\0' x > /www/index.html && exec httpd -f -p 80 -h /www")
      CIP=$(docker inspect -f '{{.NetworkSettings.IPAddress}}' "$CONTAINER")
      TARGETS+=("container $CIP 80 $(free_port)") ;;
    *) echo "unknown upstream $u" >&2; exit 2 ;;
  esac
done

# Control plane: one load balancer; per upstream an ip target group with it as the one target and an
# HTTP listener; wait until every target is healthy.
"$PYTHON" - "$API_PORT" "${TARGETS[@]}" <<'PY'
import sys, time, urllib.request
import boto3
api = sys.argv[1]
for _ in range(200):
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{api}/_ecsd/health", timeout=1)
        break
    except Exception:
        time.sleep(0.05)
kw = dict(endpoint_url=f"http://127.0.0.1:{api}", region_name="us-east-1",
          aws_access_key_id="AKIAIOSFODNN7EXAMPLE", aws_secret_access_key="x")
ec2, elb = boto3.client("ec2", **kw), boto3.client("elbv2", **kw)
subnets = [s["SubnetId"] for s in ec2.describe_subnets()["Subnets"]][:2]
vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
lb = elb.create_load_balancer(Name="bench", Subnets=subnets)["LoadBalancers"][0]["LoadBalancerArn"]
groups = []
for spec in sys.argv[2:]:
    name, host, port, listen = spec.split()
    tg = elb.create_target_group(Name=f"bench-{name}", Protocol="HTTP", Port=int(port), VpcId=vpc, TargetType="ip",
                                 HealthCheckIntervalSeconds=5, HealthCheckTimeoutSeconds=2,
                                 HealthyThresholdCount=2)["TargetGroups"][0]["TargetGroupArn"]
    elb.register_targets(TargetGroupArn=tg, Targets=[{"Id": host, "Port": int(port)}])
    elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=int(listen),
                        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}])
    groups.append(tg)
for tg in groups:
    for _ in range(300):
        h = elb.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"]
        if h and h[0]["TargetHealth"]["State"] == "healthy":
            break
        time.sleep(0.1)
    else:
        sys.exit("target never became healthy")
PY

# wrk_run CONNECTIONS URL: prints "rps p50_us p99_us errors"
wrk_run() {
  wrk -t"$WRK_THREADS" -c"$1" -d"${WARMUP}s" "$2" >/dev/null
  wrk -t"$WRK_THREADS" -c"$1" -d"${DURATION}s" --latency "$2" | awk '
    function us(v) { if (v ~ /us$/) return v + 0; if (v ~ /ms$/) return (v + 0) * 1000; if (v ~ /s$/) return (v + 0) * 1e6; return v }
    /Requests\/sec/ { rps = $2 }
    /^ +50%/ { p50 = us($2) }
    /^ +99%/ { p99 = us($2) }
    /Non-2xx|Socket errors/ { err = err $0 }
    END { printf "%s %s %s %s\n", rps, p50, p99, (err == "" ? "none" : err) }'
}

echo "ALB data plane: wrk -t$WRK_THREADS, ${DURATION}s per run, ${BODY_SIZE}-byte responses, ecsd --threads $ECSD_THREADS, $(nproc) CPUs"
printf "%-10s %-5s %-22s %12s %10s %10s\n" "upstream" "conns" "" "req/s" "p50 ms" "p99 ms"
for t in "${TARGETS[@]}"; do
  read -r NAME HOST PORT LISTEN_PORT <<<"$t"
  for c in $CONNECTIONS; do
    read -r D_RPS D_P50 D_P99 D_ERR < <(wrk_run "$c" "http://$HOST:$PORT/")
    read -r L_RPS L_P50 L_P99 L_ERR < <(wrk_run "$c" "http://127.0.0.1:$LISTEN_PORT/")
    awk -v n="$NAME" -v c="$c" -v drps="$D_RPS" -v dp50="$D_P50" -v dp99="$D_P99" -v lrps="$L_RPS" -v lp50="$L_P50" -v lp99="$L_P99" 'BEGIN {
      printf "%-10s %-5s %-22s %12.0f %10.3f %10.3f\n", n, c, "direct to the upstream", drps, dp50 / 1000, dp99 / 1000
      printf "%-10s %-5s %-22s %12.0f %10.3f %10.3f\n", n, c, "through the listener", lrps, lp50 / 1000, lp99 / 1000
      printf "%-10s %-5s throughput %.1f%% of direct (target >= 80%%); added p50 %+.3f ms, p99 %+.3f ms (target p99 < 1 ms)\n",
        n, c, 100 * lrps / drps, (lp50 - dp50) / 1000, (lp99 - dp99) / 1000
    }'
    [[ $D_ERR == none && $L_ERR == none ]] || echo "errors: direct: $D_ERR; listener: $L_ERR"
  done
done
