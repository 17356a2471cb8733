#!/usr/bin/env bash
# ALB data plane benchmark: wrk straight to an upstream, then through an ecsd ALB listener forwarding to
# that same upstream, and (PEER=haproxy) through HAProxy configured the same way, in one run. Prints the
# throughput ratio and the latency each proxy adds (p50, p99). Asserts nothing.
#
#   bench/alb.sh                                   # ~7 min
#   DURATION=20 CONNECTIONS="1 8 32" UPSTREAMS=app CPU_MODES=split bench/alb.sh
#
# Upstreams (UPSTREAMS, default "server app"; add httpd by naming it), each with its own target group and
# listener:
#   server  bench/alb_upstream on loopback: a keep-alive server costing almost nothing per request, the
#           proxy's worst case;
#   app     the same server, statically linked, inside a busybox container on Docker's default bridge,
#           reached at its container IP: an application container with a keep-alive server;
#   httpd   busybox httpd inside a container: answers one request per connection and forks per
#           connection, so every request costs a new upstream connection. wrk closes each of those
#           connections first, so its side keeps one TIME_WAIT entry per request; once they fill the
#           even half of the ephemeral port range that connect() uses (about 14,000 entries on Debian's
#           defaults), every connect() to that address searches the whole range and costs milliseconds
#           of CPU, for wrk and for a proxy measured after it alike. Each httpd measurement therefore
#           first waits (up to 70 s) until fewer than 100 TIME_WAIT entries to the container are left.
#
# CPU placement (CPU_MODES, default "shared split"; each (upstream, connections) point is measured in each):
#   shared  nothing pinned: wrk, the upstream and the proxy share every CPU. On a small machine the proxy
#           then takes CPU away from wrk and the upstream, so no proxy can keep 80 % of direct there.
#   split   the proxy gets a CPU of its own, as a real load balancer has hardware of its own: wrk and the
#           upstream run on CLIENT_CPUS (default: all but the last CPU), the proxy on PROXY_CPUS (default:
#           the last CPU), for the direct run too, so direct and proxied runs give wrk and the upstream the
#           same CPUs. Needs 2 CPUs or more; pins with taskset and docker update --cpuset-cpus.
#
# Environment: BUILD_DIR (default build), DURATION (s per run, default 10), WARMUP (s, default 2),
# CONNECTIONS (wrk -c values, default "1 10 32"; 10 is wrk's own default), WRK_THREADS (wrk -t, default 1),
# BODY_SIZE (response bytes, default 64), ECSD_THREADS (ecsd --threads, default 2), PEER (haproxy or none, default haproxy: HAProxy
# with one thread, as ecsd's data plane has one, and keep-alive on both sides), PYTHON (with boto3;
# default python3), ECSD_BIN (the ecsd binary to measure, default $BUILD_DIR/ecsd: to compare two builds
# back to back). Installs the Debian packages wrk and haproxy (apt-get) only when missing; HAProxy runs
# as a child of this script with its own config, never as a system service. Listens on 127.0.0.1 only;
# stops everything it started, removes its containers and its temp dir on exit.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-build}
case $BUILD_DIR in /*) ;; *) BUILD_DIR=$ROOT/$BUILD_DIR ;; esac
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
CONNECTIONS=${CONNECTIONS:-"1 10 32"}
WRK_THREADS=${WRK_THREADS:-1}
BODY_SIZE=${BODY_SIZE:-64}
ECSD_THREADS=${ECSD_THREADS:-2}
PYTHON=${PYTHON:-python3}
UPSTREAMS=${UPSTREAMS:-"server app"}
PEER=${PEER:-haproxy}
ECSD_BIN=${ECSD_BIN:-$BUILD_DIR/ecsd}
CPU_MODES=${CPU_MODES:-"shared split"}
ALL_CPUS="0-$(($(nproc) - 1))"
PROXY_CPUS=${PROXY_CPUS:-$(($(nproc) - 1))}
CLIENT_CPUS=${CLIENT_CPUS:-"0-$(($(nproc) - 2))"}
for m in $CPU_MODES; do
  case $m in
    shared) ;;
    split) (($(nproc) >= 2)) || { echo "CPU_MODES=split needs 2 CPUs or more" >&2; exit 2; } ;;
    *) echo "unknown CPU mode $m (shared or split)" >&2; exit 2 ;;
  esac
done

PIDS=()
CONTAINERS=()
TMP=$(mktemp -d)
cleanup() {
  local pid
  if ((${#CONTAINERS[@]})); then docker rm -f "${CONTAINERS[@]}" >/dev/null 2>&1 || true; fi
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf -- "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

need_pkg() {  # need_pkg COMMAND PACKAGE
  command -v "$1" >/dev/null && return
  PATH=$PATH:/usr/sbin command -v "$1" >/dev/null && return
  echo "$1 is missing: installing the Debian package $2" >&2
  local sudo=; [[ $(id -u) == 0 ]] || sudo=sudo
  $sudo apt-get install -y -qq "$2" >/dev/null || { echo "could not install $2" >&2; exit 1; }
}
need_pkg wrk wrk
case $PEER in
  haproxy) need_pkg haproxy haproxy; HAPROXY=$(PATH=$PATH:/usr/sbin command -v haproxy) ;;
  none) ;;
  *) echo "unknown PEER $PEER (haproxy or none)" >&2; exit 2 ;;
esac

if [[ ! -f $BUILD_DIR/build.ninja && ! -f $BUILD_DIR/Makefile ]]; then
  cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build "$BUILD_DIR" --target ecsd alb_upstream alb_upstream_static >/dev/null

free_port() {
  "$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

UP_PORT=$(free_port)
API_PORT=$(free_port)
"$BUILD_DIR/bench/alb_upstream" --port "$UP_PORT" --body-size "$BODY_SIZE" >"$TMP/upstream.log" 2>&1 &
PIDS+=($!)
UPSTREAM_PID=$!
"$ECSD_BIN" --port "$API_PORT" --data-dir "$TMP/data" --no-scheduler --log-level warn \
  --threads "$ECSD_THREADS" --registry-port 0 >"$TMP/ecsd.log" 2>&1 &
PIDS+=($!)
ECSD_PID=$!

busybox_image() {
  if ! docker image inspect ecsd-test/busybox:latest >/dev/null 2>&1; then
    bash "$ROOT/tests/integration/make_busybox_image.sh" >/dev/null
  fi
}
container_ip() { docker inspect -f '{{.NetworkSettings.IPAddress}}' "$1"; }
wait_http() {  # wait_http URL: bounded wait until the upstream answers
  local i
  for ((i = 0; i < 100; i++)); do
    curl -sf -o /dev/null --max-time 1 "$1" && return
    sleep 0.1
  done
  echo "upstream $1 never answered" >&2; exit 1
}

# Each upstream: "name host port listener-port peer-port".
TARGETS=()
for u in $UPSTREAMS; do
  case $u in
    server) TARGETS+=("server 127.0.0.1 $UP_PORT $(free_port) $(free_port)") ;;
    app)
      busybox_image
      c=$(docker run -d --label ecsd.bench=alb -v "$BUILD_DIR/bench/alb_upstream_static:/alb_upstream:ro" \
        ecsd-test/busybox:latest /alb_upstream --host 0.0.0.0 --port 80 --body-size "$BODY_SIZE")
      CONTAINERS+=("$c")
      TARGETS+=("app $(container_ip "$c") 80 $(free_port) $(free_port)") ;;
    httpd | container)
      busybox_image
      c=$(docker run -d --label ecsd.bench=alb ecsd-test/busybox:latest sh -c \
        "mkdir -p /www && head -c $BODY_SIZE /dev/zero | tr '\\0' x > /www/index.html && exec httpd -f -p 80 -h /www")
      CONTAINERS+=("$c")
      TARGETS+=("httpd $(container_ip "$c") 80 $(free_port) $(free_port)") ;;
    *) echo "unknown upstream $u" >&2; exit 2 ;;
  esac
done
for t in "${TARGETS[@]}"; do
  read -r _ HOST PORT _ _ <<<"$t"
  wait_http "http://$HOST:$PORT/"
done

if [[ $PEER == haproxy ]]; then
  {
    printf 'global\n  nbthread 1\n  maxconn 4096\n'
    printf 'defaults\n  mode http\n  option http-keep-alive\n  timeout connect 5s\n  timeout client 60s\n  timeout server 60s\n'
    for t in "${TARGETS[@]}"; do
      read -r NAME HOST PORT _ PEER_PORT <<<"$t"
      printf 'frontend f_%s\n  bind 127.0.0.1:%s\n  default_backend b_%s\n' "$NAME" "$PEER_PORT" "$NAME"
      printf 'backend b_%s\n  server s1 %s:%s\n' "$NAME" "$HOST" "$PORT"
    done
  } >"$TMP/haproxy.cfg"
  "$HAPROXY" -f "$TMP/haproxy.cfg" -db >"$TMP/haproxy.log" 2>&1 &
  PIDS+=($!)
  HAPROXY_PID=$!
fi

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
    name, host, port, listen, _ = spec.split()
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

# drain_time_wait HOST: waits (at most 70 s) until fewer than 100 TIME_WAIT entries to HOST remain
drain_time_wait() {
  local i
  for ((i = 0; i < 70; i++)); do
    (($(ss -tan state time-wait dst "$1" | wc -l) < 100)) && return
    sleep 1
  done
}

# cpu_ticks PID: user + system CPU time of the process (all threads), in clock ticks
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# place MODE: pins wrk (through WRK_CPUS), the upstreams and the proxies for CPU mode MODE
place() {
  local client=$ALL_CPUS proxy=$ALL_CPUS pid c
  if [[ $1 == split ]]; then client=$CLIENT_CPUS proxy=$PROXY_CPUS; fi
  WRK_CPUS=$client
  taskset -a -p -c "$client" "$UPSTREAM_PID" >/dev/null
  for c in "${CONTAINERS[@]}"; do docker update --cpuset-cpus "$client" "$c" >/dev/null; done
  for pid in "$ECSD_PID" ${HAPROXY_PID:-}; do taskset -a -p -c "$proxy" "$pid" >/dev/null; done
}

# wrk_run CONNECTIONS URL [PID]: prints "rps p50_us p99_us cpu_us_per_request errors"; the CPU figure is
# the process PID's CPU time during the measured run divided by the requests it served ("-" without PID)
wrk_run() {
  local t0=0 t1=0
  taskset -c "$WRK_CPUS" wrk -t"$WRK_THREADS" -c"$1" -d"${WARMUP}s" "$2" >/dev/null
  [[ -n ${3:-} ]] && t0=$(cpu_ticks "$3")
  taskset -c "$WRK_CPUS" wrk -t"$WRK_THREADS" -c"$1" -d"${DURATION}s" --latency "$2" >"$TMP/wrk.out"
  [[ -n ${3:-} ]] && t1=$(cpu_ticks "$3")
  awk -v ticks=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" -v pid="${3:-}" '
    function us(v) { if (v ~ /us$/) return v + 0; if (v ~ /ms$/) return (v + 0) * 1000; if (v ~ /s$/) return (v + 0) * 1e6; return v }
    / requests in / { n = $1 }
    /Requests\/sec/ { rps = $2 }
    /^ +50%/ { p50 = us($2) }
    /^ +99%/ { p99 = us($2) }
    /Non-2xx|Socket errors/ { err = err $0 }
    END { cpu = (pid == "" || n == 0) ? "-" : sprintf("%.1f", ticks * 1e6 / hz / n)
          printf "%s %s %s %s %s\n", rps, p50, p99, cpu, (err == "" ? "none" : err) }' "$TMP/wrk.out"
}

echo "ALB data plane: wrk -t$WRK_THREADS, ${DURATION}s per run, ${BODY_SIZE}-byte responses, ecsd --threads $ECSD_THREADS, peer $PEER, $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "CPU modes: $CPU_MODES (split: wrk and upstream on CPUs $CLIENT_CPUS, the proxy on CPUs $PROXY_CPUS)"
printf "%-8s %-5s %-6s %-14s %10s %9s %9s %9s %11s %11s %12s\n" "upstream" "conns" "cpus" "path" "req/s" "p50 ms" "p99 ms" "ratio" "added p50" "added p99" "proxy CPU/req"
report() {  # report NAME CONNS LABEL RPS P50 P99 CPU [DIRECT_RPS DIRECT_P50 DIRECT_P99]; MODE is the CPU mode
  awk -v n="$1" -v c="$2" -v m="$MODE" -v l="$3" -v rps="$4" -v p50="$5" -v p99="$6" -v cpu="$7" -v drps="${8:-}" -v dp50="${9:-}" -v dp99="${10:-}" 'BEGIN {
    if (drps == "") printf "%-8s %-5s %-6s %-14s %10.0f %9.3f %9.3f\n", n, c, m, l, rps, p50 / 1000, p99 / 1000
    else printf "%-8s %-5s %-6s %-14s %10.0f %9.3f %9.3f %8.1f %% %+10.3f %+10.3f %9s us\n", n, c, m, l, rps, p50 / 1000, p99 / 1000,
      100 * rps / drps, (p50 - dp50) / 1000, (p99 - dp99) / 1000, cpu
  }'
}
for t in "${TARGETS[@]}"; do
  read -r NAME HOST PORT LISTEN_PORT PEER_PORT <<<"$t"
  for c in $CONNECTIONS; do
    for MODE in $CPU_MODES; do
      place "$MODE"
      [[ $NAME == httpd ]] && drain_time_wait "$HOST"
      read -r D_RPS D_P50 D_P99 _ D_ERR < <(wrk_run "$c" "http://$HOST:$PORT/")
      [[ $NAME == httpd ]] && drain_time_wait "$HOST"
      read -r L_RPS L_P50 L_P99 L_CPU L_ERR < <(wrk_run "$c" "http://127.0.0.1:$LISTEN_PORT/" "$ECSD_PID")
      report "$NAME" "$c" "direct" "$D_RPS" "$D_P50" "$D_P99" -
      report "$NAME" "$c" "ecsd listener" "$L_RPS" "$L_P50" "$L_P99" "$L_CPU" "$D_RPS" "$D_P50" "$D_P99"
      [[ $D_ERR == none && $L_ERR == none ]] || echo "errors: direct: $D_ERR; listener: $L_ERR"
      if [[ $PEER == haproxy ]]; then
        [[ $NAME == httpd ]] && drain_time_wait "$HOST"
        read -r H_RPS H_P50 H_P99 H_CPU H_ERR < <(wrk_run "$c" "http://127.0.0.1:$PEER_PORT/" "$HAPROXY_PID")
        report "$NAME" "$c" "haproxy" "$H_RPS" "$H_P50" "$H_P99" "$H_CPU" "$D_RPS" "$D_P50" "$D_P99"
        [[ $H_ERR == none ]] || echo "errors: haproxy: $H_ERR"
      fi
    done
  done
done
echo "ratio = req/s through the proxy / req/s direct (target >= 80 %); added = proxy minus direct (target p99 < 1 ms);"
echo "proxy CPU/req = the proxy process's user+system CPU time during the run / requests served"
