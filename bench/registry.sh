#!/usr/bin/env bash
# Push and pull of a ~100 MB multi-layer image: ecsd's ECR registry against Debian's docker-registry
# (Docker Distribution 2.8) on loopback, in the same run, with the same docker engine. Prints the times
# and the ecsd/distribution ratio. See bench/README.md ("Registry").
#
# Env: BUILD_DIR (default build), ROUNDS (default 3), LAYERS (default 4), LAYER_MB (default 25),
#      INSTALL=0 to skip `apt-get install docker-registry` when it is missing.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(dirname "$HERE")"
BUILD_DIR="${BUILD_DIR:-$REPO/build}"
ROUNDS="${ROUNDS:-3}"
LAYERS="${LAYERS:-4}"
LAYER_MB="${LAYER_MB:-25}"
ECSD="$BUILD_DIR/ecsd"

docker info >/dev/null 2>&1 || { echo "registry bench: no Docker engine (bash .ci/docker-up)" >&2; exit 1; }
if [ ! -x "$ECSD" ]; then
  cmake --build "$BUILD_DIR" --target ecsd >/dev/null
fi
if ! command -v docker-registry >/dev/null 2>&1; then
  if [ "${INSTALL:-1}" = 1 ]; then
    echo "registry bench: installing Debian's docker-registry (Docker Distribution) for the comparison"
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo -n"
    # The package's service would listen on :5000; a policy-rc.d (unless one exists) keeps it stopped.
    made_policy=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
      $SUDO sh -c 'printf "#!/bin/sh\nexit 101\n" > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d'
      made_policy=1
    fi
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q docker-registry >/dev/null 2>&1 || true
    if [ "$made_policy" = 1 ]; then $SUDO rm -f /usr/sbin/policy-rc.d; fi
  fi
  command -v docker-registry >/dev/null 2>&1 || { echo "registry bench: docker-registry missing" >&2; exit 1; }
fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
TMP="$(mktemp -d)"
ECSD_PID=""; DIST_PID=""
IMAGES=()
cleanup() {
  for ref in "${IMAGES[@]}"; do docker rmi -f "$ref" >/dev/null 2>&1 || true; done
  for pid in $ECSD_PID $DIST_PID; do kill "$pid" 2>/dev/null || true; done
  for pid in $ECSD_PID $DIST_PID; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT INT TERM
export DOCKER_CONFIG="$TMP/docker-config"
mkdir -p "$DOCKER_CONFIG"

API_PORT="$(free_port)"; REG_PORT="$(free_port)"; DIST_PORT="$(free_port)"
"$ECSD" --port "$API_PORT" --registry-port "$REG_PORT" --data-dir "$TMP/ecsd" --no-scheduler --log-level warn \
  >"$TMP/ecsd.log" 2>&1 &
ECSD_PID=$!
cat >"$TMP/dist.yml" <<YML
version: 0.1
log: {level: error}
storage:
  filesystem: {rootdirectory: $TMP/dist}
  delete: {enabled: true}
http: {addr: 127.0.0.1:$DIST_PORT}
YML
docker-registry serve "$TMP/dist.yml" >"$TMP/dist.log" 2>&1 &
DIST_PID=$!
for _ in $(seq 100); do
  curl -fs "http://127.0.0.1:$API_PORT/_ecsd/health" >/dev/null 2>&1 && curl -fs "http://127.0.0.1:$DIST_PORT/v2/" >/dev/null 2>&1 && break
  sleep 0.1
done

export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_DEFAULT_REGION=us-east-1 AWS_CONFIG_FILE=/dev/null \
  AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true
aws() { command aws --endpoint-url "http://127.0.0.1:$API_PORT" "$@"; }
ECSD_REPO="$(aws ecr create-repository --repository-name bench/app --query repository.repositoryUri --output text)"
aws ecr get-login-password | docker login --username AWS --password-stdin "${ECSD_REPO%%/*}" >/dev/null
DIST_REPO="127.0.0.1:$DIST_PORT/bench/app"

now() { date +%s.%N; }
timed() { local t0; t0=$(now); "$@" >/dev/null; python3 -c "print(f'{$(now) - $t0:.3f}')"; }

declare -A SUM=([push_ecsd]=0 [push_dist]=0 [pull_ecsd]=0 [pull_dist]=0)
add() { SUM[$1]=$(python3 -c "print(${SUM[$1]} + $2)"); }

echo "registry bench: $ROUNDS round(s), image = busybox + $LAYERS random layers of $LAYER_MB MB"
printf '%-6s %10s %10s %10s %10s\n' round push_ecsd push_dist pull_ecsd pull_dist
for round in $(seq "$ROUNDS"); do
  # A fresh image each round: random (incompressible) layers, so every push uploads everything.
  local_tag="ecsd-bench-registry:$round-$$"
  df=$(printf 'FROM ecsd-test/busybox:latest\n'; for l in $(seq "$LAYERS"); do
    printf 'RUN head -c %d /dev/urandom > /layer%d\n' $((LAYER_MB * 1024 * 1024)) "$l"; done)
  id=$(echo "$df" | docker build -q -t "$local_tag" - 2>/dev/null)
  IMAGES+=("$id" "$local_tag" "$ECSD_REPO:r$round" "$DIST_REPO:r$round")
  docker tag "$local_tag" "$ECSD_REPO:r$round"
  docker tag "$local_tag" "$DIST_REPO:r$round"
  # Alternate who goes first, so neither always gets the warm page cache.
  if [ $((round % 2)) = 1 ]; then order="ecsd dist"; else order="dist ecsd"; fi
  declare -A T=()
  for who in $order; do
    if [ "$who" = ecsd ]; then T[push_ecsd]=$(timed docker push "$ECSD_REPO:r$round");
    else T[push_dist]=$(timed docker push "$DIST_REPO:r$round"); fi
  done
  docker rmi -f "$id" >/dev/null  # every tag and the random layers
  for who in $order; do
    if [ "$who" = ecsd ]; then T[pull_ecsd]=$(timed docker pull "$ECSD_REPO:r$round"); docker rmi -f "$ECSD_REPO:r$round" >/dev/null
    else T[pull_dist]=$(timed docker pull "$DIST_REPO:r$round"); docker rmi -f "$DIST_REPO:r$round" >/dev/null; fi
  done
  printf '%-6s %10s %10s %10s %10s\n' "$round" "${T[push_ecsd]}" "${T[push_dist]}" "${T[pull_ecsd]}" "${T[pull_dist]}"
  for k in push_ecsd push_dist pull_ecsd pull_dist; do add "$k" "${T[$k]}"; done
done
python3 - "${SUM[push_ecsd]}" "${SUM[push_dist]}" "${SUM[pull_ecsd]}" "${SUM[pull_dist]}" "$ROUNDS" <<'PY'
import sys
pe, pd, le, ld, n = map(float, sys.argv[1:])
print(f"mean push: ecsd {pe/n:.2f}s  distribution {pd/n:.2f}s  ratio {pe/pd:.2f}x (target <= 1.2x)")
print(f"mean pull: ecsd {le/n:.2f}s  distribution {ld/n:.2f}s  ratio {le/ld:.2f}x (target <= 1.2x)")
PY
docker logout "${ECSD_REPO%%/*}" >/dev/null 2>&1 || true
