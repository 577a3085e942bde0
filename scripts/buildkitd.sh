#!/usr/bin/env bash
# A standalone BuildKit daemon on a loopback TCP port, reached the way a `remote`-driver builder
# reaches BuildKit on Kubernetes or a build service (`docker buildx create --driver remote
# tcp://127.0.0.1:PORT`), for the tests of a builder the workflow set up itself:
#   where ../shared/buildkit/buildkitd.gz exists (this machine kind): that buildkitd (v0.32.2),
#     unpacked into $STATE_DIR/buildkitd/bin, run as root with the host's runc (OCI worker, host
#     network as a docker-container builder with --driver-opt network=host has, no containerd
#     worker), state in $STATE_DIR/buildkitd/root, log in $STATE_DIR/buildkitd/buildkitd.log;
#   elsewhere (GitHub): the moby/buildkit:buildx-stable-1 image as a privileged container
#     `gdp-buildkitd` with host networking, on the classic engine, with the same flags.
# Both listen on tcp://127.0.0.1:$GDP_BUILDKITD_PORT (default 5160), plain TCP without TLS (loopback
# only). Ready when `buildctl debug workers` answers. Idempotent: with the daemon up it only checks.
# Usage: buildkitd.sh [--print-env | --stop]
#   --print-env  also prints `export GDP_BUILDKITD_ADDR=tcp://127.0.0.1:PORT` (eval-able)
#   --stop       stops the daemon this script started (either kind) and exits
set -euo pipefail
LOG_TAG=buildkitd
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib-env.sh
. "$HERE/lib-env.sh"
STATE_DIR=${GDP_ENV_DIR:-/var/lib/go-docker-publish-env}
BUILDKIT_DIR=${GDP_BUILDKIT_DIR:-$HERE/../../shared/buildkit}
PORT=${GDP_BUILDKITD_PORT:-5160}
ADDR=tcp://127.0.0.1:$PORT
DIR=$STATE_DIR/buildkitd
PID_FILE=$DIR/buildkitd.pid
LOG_FILE=$DIR/buildkitd.log
CONTAINER=gdp-buildkitd
IMAGE=moby/buildkit:buildx-stable-1
# The OCI worker only (the system containerd serves the engines; its namespaces stay theirs), on
# the host network so that RUN steps reach services on 127.0.0.1 (a module proxy, registries).
FLAGS=(--addr "$ADDR" --oci-worker=true --containerd-worker=false --oci-worker-net=host)

local_binary() { [ -f "$BUILDKIT_DIR/buildkitd.gz" ]; }

# ready: whether a BuildKit (either kind) answers on ADDR, asked with the buildctl at hand: the
# unpacked one, else the one in the running container, else the image's in a one-off container.
ready() {
  if [ -x "$DIR/bin/buildctl" ]; then
    "$DIR/bin/buildctl" --addr "$ADDR" debug workers >/dev/null 2>&1
  elif [ "$(docker container inspect -f '{{.State.Running}}' "$CONTAINER" 2>/dev/null)" = true ]; then
    docker exec "$CONTAINER" buildctl --addr "$ADDR" debug workers >/dev/null 2>&1
  else
    docker run --rm --pull never --network host --entrypoint buildctl "$IMAGE" --addr "$ADDR" debug workers >/dev/null 2>&1
  fi
}

port_taken() { ss -ltnH "sport = :$PORT" 2>/dev/null | grep -q .; }

wait_ready() {
  for _ in $(seq 1 100); do
    ready && return 0
    sleep 0.2
  done
  log "BuildKit did not answer on $ADDR; last lines of its log:"
  if local_binary; then tail -20 "$LOG_FILE" >&2; else docker logs --tail 20 "$CONTAINER" >&2 || true; fi
  exit 1
}

stop() {
  local pid
  pid=$(cat "$PID_FILE" 2>/dev/null || true)
  if [ -n "$pid" ] && as_root kill -0 "$pid" 2>/dev/null; then
    log "stopping buildkitd (pid $pid) on $ADDR"
    as_root kill "$pid"
    for _ in $(seq 1 50); do as_root kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  fi
  as_root rm -f "$PID_FILE"
  if docker container inspect "$CONTAINER" >/dev/null 2>&1; then
    log "removing container $CONTAINER"
    docker rm -f -v "$CONTAINER" >/dev/null
  fi
}

start_local() {
  as_root mkdir -p "$DIR/bin" "$DIR/root"
  local b
  for b in buildkitd buildctl; do
    if [ ! -x "$DIR/bin/$b" ] || [ "$BUILDKIT_DIR/$b.gz" -nt "$DIR/bin/$b" ]; then
      gzip -dc "$BUILDKIT_DIR/$b.gz" | as_root tee "$DIR/bin/$b.tmp" >/dev/null
      as_root chmod 755 "$DIR/bin/$b.tmp"
      as_root mv "$DIR/bin/$b.tmp" "$DIR/bin/$b"
    fi
  done
  ready && return 0
  have runc || { log "runc not found (apt-get install runc): buildkitd's OCI worker needs it"; exit 1; }
  if port_taken; then
    log "127.0.0.1:$PORT is taken by something that is not BuildKit: set GDP_BUILDKITD_PORT"
    exit 1
  fi
  log "starting buildkitd ($("$DIR/bin/buildkitd" --version | awk '{print $3}')) on $ADDR, state in $DIR/root"
  # Its own session (a Ctrl-C of the caller does not reach it); the pid is buildkitd's own (exec).
  # shellcheck disable=SC2016 # $$ and $0 are the inner shell's
  as_root setsid sh -c 'echo $$ >"$0"; exec "$@"' "$PID_FILE" \
    "$DIR/bin/buildkitd" "${FLAGS[@]}" --root "$DIR/root" </dev/null >"$LOG_FILE" 2>&1 &
  wait_ready
}

start_container() {
  if port_taken; then
    ready && return 0
    log "127.0.0.1:$PORT is taken by something that is not BuildKit: set GDP_BUILDKITD_PORT"
    exit 1
  fi
  docker rm -f -v "$CONTAINER" >/dev/null 2>&1 || true
  log "starting $IMAGE as container $CONTAINER (privileged, host network) on $ADDR"
  docker run --detach --name "$CONTAINER" --privileged --network host "$IMAGE" "${FLAGS[@]}" >/dev/null
  wait_ready
}

case "${1:-}" in
  --stop)
    stop
    exit 0
    ;;
esac
mkdir -p "$STATE_DIR" 2>/dev/null || as_root mkdir -p "$STATE_DIR"
if local_binary; then start_local; else start_container; fi
if [ "${1:-}" = "--print-env" ]; then
  echo "export GDP_BUILDKITD_ADDR=$ADDR"
fi
