#!/usr/bin/env bash
# Benchmark ecsd (and moto's server, when installed, for comparison). Prints figures; asserts nothing.
#
#   bench/run.sh                      # everything, ~2 minutes
#   DURATION=10 WARMUP=2 bench/run.sh # longer runs
#   SKIP_MOTO=1 bench/run.sh          # ecsd only
#
# Environment:
#   BUILD_DIR    build directory (default: build; configured with default options if missing)
#   DURATION     measured seconds per throughput run (default 5)
#   WARMUP       unmeasured seconds before each run (default 1)
#   CONCURRENCY  connection counts to run (default "1 8 32")
#   STARTS       cold starts measured for first-request latency (default 5)
#   SKIP_MOTO    1 to skip the moto comparison
#   PYTHON       interpreter that has moto[server] (default python3)
#
# Everything listens on 127.0.0.1 only. Every process this script starts is killed on exit and
# its temporary data directories are removed.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-build}
case $BUILD_DIR in /*) ;; *) BUILD_DIR=$ROOT/$BUILD_DIR ;; esac
DURATION=${DURATION:-5}
WARMUP=${WARMUP:-1}
CONCURRENCY=${CONCURRENCY:-"1 8 32"}
STARTS=${STARTS:-5}
SKIP_MOTO=${SKIP_MOTO:-0}
PYTHON=${PYTHON:-python3}

ECSD=$BUILD_DIR/ecsd
LOAD=$BUILD_DIR/bench/ecsd_load
TARGET_PREFIX=AmazonEC2ContainerServiceV20141113
AUTH='AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20260101/us-east-1/ecs/aws4_request, SignedHeaders=host, Signature=0'

# Workload bodies. RegisterTaskDefinition uses one family; {n} makes every request's body distinct.
# The service has desiredCount 0 so that ecsd's scheduler never starts a container during the run.
CLUSTER_BODY='{"clusterName":"bench"}'
TASKDEF_BODY='{"family":"bench","containerDefinitions":[{"name":"app","image":"nginx:latest","memory":128,"essential":true}]}'
SERVICE_BODY='{"cluster":"bench","serviceName":"svc","taskDefinition":"bench","desiredCount":0}'
DESCRIBE_BODY='{"cluster":"bench","services":["svc"]}'
REGISTER_TEMPLATE='{"family":"bench","containerDefinitions":[{"name":"app","image":"nginx:latest","memory":128,"essential":true,"environment":[{"name":"N","value":"{n}"}]}]}'

# ---------------------------------------------------------------- cleanup
PIDS=()
TMPDIRS=()
KILLED=()  # servers that were still running STOP_GRACE seconds after SIGTERM
STOP_GRACE=${STOP_GRACE:-2}

# Stops one server started by start_server: SIGTERM, then SIGKILL after STOP_GRACE seconds.
# Each server runs in its own session (setsid), so its process group is exactly what we started.
stop_server() {
  local pid=$1 name=${2:-server} p keep=() waited=0
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null && ((waited < STOP_GRACE * 20)); do sleep 0.05; waited=$((waited + 1)); done
  if kill -0 "$pid" 2>/dev/null; then
    KILLED+=("$name")
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
  for p in "${PIDS[@]}"; do [[ $p == "$pid" ]] || keep+=("$p"); done
  PIDS=("${keep[@]}")
}

cleanup() {
  local pid d
  for pid in "${PIDS[@]}"; do stop_server "$pid"; done
  for d in "${TMPDIRS[@]}"; do rm -rf -- "$d"; done
  TMPDIRS=()
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- helpers
now_us() { local t=${EPOCHREALTIME/./}; echo "$((10#$t))"; }

# A port nobody listens on, below the kernel's ephemeral range (so that no client socket can hold
# it), probed with bash's /dev/tcp.
free_port() {
  local p lo hi=59999
  lo=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 60000)
  ((lo > 21000)) && hi=$((lo - 1))
  for _ in $(seq 100); do
    p=$((20000 + RANDOM % (hi - 20000 + 1)))
    if ! { exec 8<>"/dev/tcp/127.0.0.1/$p"; } 2>/dev/null; then echo "$p"; return 0; fi
    exec 8<&- 8>&-
  done
  echo "no free port found" >&2
  return 1
}

# One HTTP request over bash's /dev/tcp (no fork, so it can poll tightly). Succeeds on a 2xx.
#   probe PORT health            GET /_ecsd/health
#   probe PORT OPERATION BODY    awsJson1.1 POST /
probe() {
  local port=$1 what=$2 body=${3:-} line=
  { exec 9<>"/dev/tcp/127.0.0.1/$port"; } 2>/dev/null || return 1
  if [[ $what == health ]]; then
    printf 'GET /_ecsd/health HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nConnection: close\r\n\r\n' "$port" >&9 2>/dev/null || true
  else
    printf 'POST / HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nContent-Type: application/x-amz-json-1.1\r\nX-Amz-Target: %s.%s\r\nAuthorization: %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s' \
      "$port" "$TARGET_PREFIX" "$what" "$AUTH" "${#body}" "$body" >&9 2>/dev/null || true
  fi
  IFS= read -r -t 5 line <&9 || true
  exec 9<&- 9>&-
  [[ $line =~ ^HTTP/1\.[01]\ 2[0-9][0-9] ]]
}

# wait_ready START_US PORT PID health|OPERATION [BODY]: polls probe with no pause until it succeeds
# and prints the ms since START_US. Returns 1 after TIMEOUT_S seconds, 2 if process PID exited.
wait_ready() {
  local start_us=$1 port=$2 pid=$3 what=$4 body=${5:-} deadline=$(( $1 + ${TIMEOUT_S:-15} * 1000000 )) t rc=0
  trap '' PIPE
  while :; do
    if probe "$port" "$what" "$body"; then
      t=$(now_us)
      awk -v d=$((t - start_us)) 'BEGIN { printf "%.1f\n", d / 1000 }'
      break
    fi
    if ! kill -0 "$pid" 2>/dev/null; then rc=2; break; fi
    t=$(now_us)
    if ((t > deadline)); then rc=1; break; fi
  done
  trap - PIPE
  return "$rc"
}

# start_server NAME CMD... : starts CMD in its own session; sets SERVER_PID, START_US.
start_server() {
  local name=$1
  shift
  START_US=$(now_us)
  setsid "$@" >>"$LOGDIR/$name.log" 2>&1 </dev/null &
  SERVER_PID=$!
  PIDS+=("$SERVER_PID")
}

# start_ecsd DATA_DIR health|OPERATION [BODY]: starts ecsd on a free port and waits for the first
# 2xx answer; sets ECSD_PORT, SERVER_PID and READY_MS (ms from exec). Retries on a new port if the
# daemon exits (a port taken between the probe and the bind).
start_ecsd() {
  local dir=$1 what=$2 body=${3:-} attempt rc
  for attempt in 1 2 3; do
    ECSD_PORT=$(free_port)
    start_server ecsd "$ECSD" --host 127.0.0.1 --port "$ECSD_PORT" --data-dir "$dir" --log-level warn
    rc=0
    READY_MS=$(wait_ready "$START_US" "$ECSD_PORT" "$SERVER_PID" "$what" "$body") || rc=$?
    ((rc == 0)) && return 0
    stop_server "$SERVER_PID" ecsd
    if ((rc == 2)) && grep -q 'in use' "$LOGDIR/ecsd.log"; then continue; fi
    break
  done
  echo "ecsd did not answer $what (wait_ready rc=$rc); log:" >&2
  cat "$LOGDIR/ecsd.log" >&2
  exit 1
}

rss_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$2"; }
num() { local v; v=$(field "$1" "$2"); echo "${v:-0}"; }
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) print "n/a"; else if (NR % 2) print a[(NR + 1) / 2]; else printf "%.1f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
maxof() { tr ' ' '\n' | grep -v '^$' | sort -g | tail -1; }

# One request through the load generator; fails loudly unless it got a 2xx.
call() {
  local port=$1 op=$2 body=$3 out
  out=$("$LOAD" --port "$port" --target "$op" --body "$body" --requests 1 --warmup 0 2>&1) || true
  if [[ $(field errors "$out") != 0 || $(field ops "$out") != 1 ]]; then
    echo "setup call $op failed: $out" >&2
    return 1
  fi
}

setup_workload() {
  local port=$1
  call "$port" CreateCluster "$CLUSTER_BODY"
  call "$port" RegisterTaskDefinition "$TASKDEF_BODY"
  call "$port" CreateService "$SERVICE_BODY"
  call "$port" DescribeServices "$DESCRIBE_BODY"
}

# CPU time (user + system) a process has used so far, in clock ticks.
cpu_ticks() { sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | awk '{ print $12 + $13 }' || echo 0; }
CLK_TCK=$(getconf CLK_TCK)

# run_load SERVER PORT PID OP CONCURRENCY -> RESULT[SERVER,OP,C] holds the ecsd_load line and
# CPU[SERVER,OP,C] the server's CPU time per answered request (warmup included) in microseconds.
declare -A RESULT CPU
run_load() {
  local server=$1 port=$2 pid=$3 op=$4 c=$5 line t0 t1
  local args=(--port "$port" --target "$op" --concurrency "$c" --duration "$DURATION" --warmup "$WARMUP" --label "$server")
  if [[ $op == DescribeServices ]]; then args+=(--body "$DESCRIBE_BODY"); else args+=(--template --body "$REGISTER_TEMPLATE"); fi
  t0=$(cpu_ticks "$pid")
  line=$("$LOAD" "${args[@]}" 2> >(sed 's/^/  /' >&2)) || true
  t1=$(cpu_ticks "$pid")
  echo "  $line"
  RESULT[$server,$op,$c]=$line
  CPU[$server,$op,$c]=$(awk -v d=$((t1 - t0)) -v hz="$CLK_TCK" -v n=$(( $(num ops "$line") + $(num warmup_ops "$line") )) \
    'BEGIN { if (n > 0) printf "%.0f", d / hz * 1e6 / n; else print "n/a" }')
}

# ---------------------------------------------------------------- build
LOGDIR=$(mktemp -d "${TMPDIR:-/tmp}/ecsd-bench.XXXXXX")
TMPDIRS+=("$LOGDIR")
echo "== build ($BUILD_DIR: ecsd ecsd_load)"
if [[ ! -f $BUILD_DIR/CMakeCache.txt ]]; then
  cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$LOGDIR/build.log" 2>&1 || { cat "$LOGDIR/build.log" >&2; exit 1; }
fi
if ! cmake --build "$BUILD_DIR" --target ecsd ecsd_load >>"$LOGDIR/build.log" 2>&1; then
  cat "$LOGDIR/build.log" >&2
  exit 1
fi
echo "  $(tail -1 "$LOGDIR/build.log")"

echo
echo "== machine"
echo "  $(nproc) CPUs: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
echo "  $(awk '/MemTotal/ { printf "%.1f GB RAM", $2 / 1048576 }' /proc/meminfo), kernel $(uname -r)"
echo "  load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
SRC=$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$BUILD_DIR/CMakeCache.txt")
if git -C "$SRC" rev-parse --git-dir >/dev/null 2>&1; then
  REV="commit $(git -C "$SRC" rev-parse --short HEAD)$(git -C "$SRC" diff --quiet HEAD -- src include CMakeLists.txt 2>/dev/null || echo ' + uncommitted changes')"
else
  REV="not a git checkout"
fi
echo "  ecsd $("$ECSD" --version | awk '{ print $2 }') built in $BUILD_DIR from $SRC ($REV)"
echo "  note: the load generator and the server share these CPUs"
if awk -v l="$(cut -d' ' -f1 /proc/loadavg)" -v n="$(nproc)" 'BEGIN { exit !(l > n / 2) }'; then
  echo "  WARNING: the machine is busy (load average above half the CPUs); figures will be low and noisy"
fi

# ---------------------------------------------------------------- (a) first request after start
echo
echo "== ecsd: first request after start ($STARTS cold starts each, fresh data dir, from exec)"
HEALTH_MS=()
LIST_MS=()
for i in $(seq "$STARTS"); do
  for what in health ListClusters; do
    d=$(mktemp -d "${TMPDIR:-/tmp}/ecsd-bench-data.XXXXXX")
    TMPDIRS+=("$d")
    if [[ $what == health ]]; then
      start_ecsd "$d" health
      HEALTH_MS+=("$READY_MS")
    else
      start_ecsd "$d" ListClusters '{}'
      LIST_MS+=("$READY_MS")
    fi
    stop_server "$SERVER_PID" ecsd
  done
done
echo "  GET /_ecsd/health   ms: ${HEALTH_MS[*]}"
echo "  ECS ListClusters    ms: ${LIST_MS[*]}"
ECSD_HEALTH_MED=$(echo "${HEALTH_MS[*]}" | median); ECSD_HEALTH_MAX=$(echo "${HEALTH_MS[*]}" | maxof)
ECSD_LIST_MED=$(echo "${LIST_MS[*]}" | median); ECSD_LIST_MAX=$(echo "${LIST_MS[*]}" | maxof)

# ---------------------------------------------------------------- (b) idle RSS
echo
echo "== ecsd: idle RSS"
d=$(mktemp -d "${TMPDIR:-/tmp}/ecsd-bench-data.XXXXXX")
TMPDIRS+=("$d")
ECSD_DATA=$d
start_ecsd "$d" health
ECSD_PID=$SERVER_PID
ECSD_START_RSS=$(rss_kb "$ECSD_PID" VmRSS)
call "$ECSD_PORT" ListClusters '{}'
call "$ECSD_PORT" DescribeClusters '{}'
sleep 1
ECSD_IDLE_RSS=$(rss_kb "$ECSD_PID" VmRSS)
echo "  $(mb "$ECSD_START_RSS") MB right after start, $(mb "$ECSD_IDLE_RSS") MB idle after a few requests"
setup_workload "$ECSD_PORT"

# ---------------------------------------------------------------- moto, started next to ecsd
MOTO=0
if [[ $SKIP_MOTO == 1 ]]; then
  echo
  echo "== moto: comparison skipped (SKIP_MOTO=1)"
elif ! command -v "$PYTHON" >/dev/null 2>&1 || ! "$PYTHON" -c 'import moto.server, flask, werkzeug' >/dev/null 2>&1; then
  echo
  echo "== moto: not installed (no 'moto[server]' importable from $PYTHON); comparison skipped"
else
  MOTO=1
  MOTO_VERSION=$("$PYTHON" -c 'import moto; print(moto.__version__)')
  echo
  echo "== moto $MOTO_VERSION ($PYTHON -m moto.server, werkzeug threaded server): first request after start, idle RSS"
  MOTO_PORT=$(free_port)
  start_server moto "$PYTHON" -m moto.server -H 127.0.0.1 -p "$MOTO_PORT"
  MOTO_PID=$SERVER_PID
  MOTO_FIRST_MS=$(TIMEOUT_S=60 wait_ready "$START_US" "$MOTO_PORT" "$MOTO_PID" ListClusters '{}') || {
    echo "moto did not start; log:" >&2; cat "$LOGDIR/moto.log" >&2; exit 1; }
  call "$MOTO_PORT" DescribeClusters '{}'
  sleep 1
  MOTO_IDLE_RSS=$(rss_kb "$MOTO_PID" VmRSS)
  echo "  ECS ListClusters after $MOTO_FIRST_MS ms; $(mb "$MOTO_IDLE_RSS") MB idle"
  setup_workload "$MOTO_PORT"
fi

# ---------------------------------------------------------------- (c) throughput, (d) peak RSS
# Each ecsd run is followed directly by the same run against moto, so that both see about the
# same background load when the machine is shared.
echo
echo "== throughput (${DURATION} s per run after ${WARMUP} s warmup)"
for op in DescribeServices RegisterTaskDefinition; do
  for c in $CONCURRENCY; do
    run_load ecsd "$ECSD_PORT" "$ECSD_PID" "$op" "$c"
    if ((MOTO)); then run_load moto "$MOTO_PORT" "$MOTO_PID" "$op" "$c"; fi
  done
done
ECSD_END_RSS=$(rss_kb "$ECSD_PID" VmRSS)
ECSD_PEAK_RSS=$(rss_kb "$ECSD_PID" VmHWM)
ECSD_DB_KB=$(du -sk "$ECSD_DATA" | cut -f1)
kill -0 "$ECSD_PID" 2>/dev/null || echo "  WARNING: ecsd exited during the run (see log below)"
stop_server "$ECSD_PID" ecsd
echo
echo "  ecsd RSS: $(mb "$ECSD_END_RSS") MB after the load, peak (VmHWM) $(mb "$ECSD_PEAK_RSS") MB; data dir $(mb "$ECSD_DB_KB") MB"
if grep -qiE 'error|critical|warn' "$LOGDIR/ecsd.log" 2>/dev/null; then
  echo "  ecsd log (warnings and errors):"
  grep -iE 'error|critical|warn' "$LOGDIR/ecsd.log" | sort | uniq -c | sort -rn | head -20 | sed 's/^/    /'
fi
if ((MOTO)); then
  MOTO_PEAK_RSS=$(rss_kb "$MOTO_PID" VmHWM)
  stop_server "$MOTO_PID" moto
  echo "  moto RSS: peak (VmHWM) $(mb "$MOTO_PEAK_RSS") MB"
fi

# ---------------------------------------------------------------- summary
echo
echo "== summary (load average at end: $(cut -d' ' -f1-3 /proc/loadavg))"
echo
echo "| operation | conc. | ecsd req/s | ecsd p50 ms | ecsd p99 ms | ecsd errors | moto req/s | moto p50 ms | moto p99 ms | moto errors | ecsd/moto |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
MIN_RATIO=
for op in DescribeServices RegisterTaskDefinition; do
  for c in $CONCURRENCY; do
    e=${RESULT[ecsd,$op,$c]:-}
    erps=$(field rps "$e"); ep50=$(field p50_ms "$e"); ep99=$(field p99_ms "$e")
    eerr=$(( $(num errors "$e") + $(num conn_errors "$e") ))
    if ((MOTO)); then
      m=${RESULT[moto,$op,$c]:-}
      mrps=$(field rps "$m"); mp50=$(field p50_ms "$m"); mp99=$(field p99_ms "$m")
      merr=$(( $(num errors "$m") + $(num conn_errors "$m") ))
      ratio=$(awk -v a="${erps:-0}" -v b="${mrps:-0}" 'BEGIN { if (b > 0) printf "%.1fx", a / b; else print "n/a" }')
      [[ $ratio == n/a ]] || MIN_RATIO=$(awk -v r="${ratio%x}" -v m="$MIN_RATIO" 'BEGIN { print (m == "" || r < m) ? r : m }')
    else
      mrps=-; mp50=-; mp99=-; merr=-; ratio=-
    fi
    echo "| $op | $c | $erps | $ep50 | $ep99 | $eerr | $mrps | $mp50 | $mp99 | $merr | $ratio |"
  done
done
echo
echo "errors = non-2xx answers + connection failures, per run."
echo
echo "Server CPU time per request (user + system, warmup included; less sensitive to CPU sharing than req/s):"
echo
echo "| operation | conc. | ecsd CPU us/req | ecsd client CPU s | moto CPU us/req | moto client CPU s | moto/ecsd CPU |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for op in DescribeServices RegisterTaskDefinition; do
  for c in $CONCURRENCY; do
    ecpu=${CPU[ecsd,$op,$c]:-n/a}; ecl=$(field client_cpu_s "${RESULT[ecsd,$op,$c]:-}")
    if ((MOTO)); then
      mcpu=${CPU[moto,$op,$c]:-n/a}; mcl=$(field client_cpu_s "${RESULT[moto,$op,$c]:-}")
      cr=$(awk -v a="$mcpu" -v b="$ecpu" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.1fx", a / b; else print "n/a" }')
    else
      mcpu=-; mcl=-; cr=-
    fi
    echo "| $op | $c | $ecpu | $ecl | $mcpu | $mcl | $cr |"
  done
done
echo
echo "| figure | ecsd | moto |"
echo "|---|---:|---:|"
echo "| first GET /_ecsd/health after exec, median / max of $STARTS (ms) | $ECSD_HEALTH_MED / $ECSD_HEALTH_MAX | - |"
echo "| first ECS ListClusters after exec, median / max of $STARTS (ms) | $ECSD_LIST_MED / $ECSD_LIST_MAX | $( ((MOTO)) && echo "$MOTO_FIRST_MS (1 start)" || echo -) |"
echo "| idle RSS after a few requests (MB) | $(mb "$ECSD_IDLE_RSS") | $( ((MOTO)) && mb "$MOTO_IDLE_RSS" || echo -) |"
echo "| peak RSS, VmHWM (MB) | $(mb "$ECSD_PEAK_RSS") | $( ((MOTO)) && mb "$MOTO_PEAK_RSS" || echo -) |"
echo
echo "targets (read, not asserted):"
if ((MOTO)); then
  echo "  throughput >= 20x moto: lowest ratio ${MIN_RATIO}x"
else
  echo "  throughput >= 20x moto: not measured (moto comparison skipped)"
fi
echo "  idle RSS < 20 MB: $(mb "$ECSD_IDLE_RSS") MB"
echo "  first request < 100 ms after start: health median ${ECSD_HEALTH_MED} ms (max ${ECSD_HEALTH_MAX}), ListClusters median ${ECSD_LIST_MED} ms (max ${ECSD_LIST_MAX})"
n_ecsd=0; n_moto=0
for p in "${KILLED[@]}"; do
  case $p in ecsd) n_ecsd=$((n_ecsd + 1)) ;; moto) n_moto=$((n_moto + 1)) ;; esac
done
echo
echo "shutdown: ecsd was still running ${STOP_GRACE} s after SIGTERM (and got SIGKILL) $n_ecsd time(s), moto $n_moto time(s)"
