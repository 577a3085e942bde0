# Shared by scripts/test-env.sh, base-images.sh and remote-engine.sh (sourced, not run):
# logging, root, apt with retries across suites, and extra dockerd engines that never touch the
# first engine's bridge, data, exec root or socket.

log() { printf '[%s] %s\n' "${LOG_TAG:-test-env}" "$*" >&2; }
have() { command -v "$1" >/dev/null 2>&1; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# The machine's own Debian mirror.
debian_mirror() {
  local uri
  uri=$(grep -h -m1 '^URIs:' /etc/apt/sources.list.d/debian.sources 2>/dev/null | awk '{print $2}')
  [ -n "$uri" ] || uri=$(awk '$1=="deb"{print $2; exit}' /etc/apt/sources.list 2>/dev/null)
  echo "${uri:-http://deb.debian.org/debian}"
}

# apt_retry CMD...: an apt command, tried 3 times with a pause: a mirror in mid-sync serves an
# index with the wrong size for a few minutes ("File has unexpected size ... Mirror sync in
# progress?"); Acquire::Retries covers dropped connections, not that.
apt_retry() {
  local i
  for i in 1 2 3; do
    "$@" && return 0
    [ "$i" = 3 ] || { log "apt failed (try $i of 3): again in $((i * 10)) s"; sleep $((i * 10)); }
  done
  return 1
}

# A dockerd next to the first one, in the same network namespace, with nothing of its own shared:
# start_engine NAME SOCKET_DIR DATA_DIR BRIDGE CIDR CONTAINERD_STORE(true|false) [EXTRA_ARGS...]
# Its own bridge (never --bridge=none: a dockerd started with it deletes the first engine's
# docker0), data root, exec root, pid file, socket, daemon.json and containerd namespaces, on the
# system containerd; no iptables (nothing is routed out of its bridge). Idempotent.
start_engine() {
  local name=$1 run_dir=$2 data_dir=$3 bridge=$4 cidr=$5 store=$6
  shift 6
  local sock="unix://$run_dir/docker.sock"
  docker -H "$sock" version --format '{{.Server.Version}}' >/dev/null 2>&1 && return 0
  [ -S /run/containerd/containerd.sock ] || { log "containerd is not running"; exit 1; }
  as_root mkdir -p "$run_dir" "$data_dir/docker"
  if ! ip link show "$bridge" >/dev/null 2>&1; then
    as_root ip link add "$bridge" type bridge
    as_root ip addr add "$cidr" dev "$bridge"
  fi
  as_root ip link set "$bridge" up
  if [ "$store" = true ]; then
    echo '{"features":{"containerd-snapshotter":true}}'
  else
    echo '{"features":{"containerd-snapshotter":false}}'
  fi | as_root tee "$data_dir/daemon.json" >/dev/null
  # A stale pid file of a dead daemon would stop dockerd from starting.
  local pid
  pid=$(cat "$run_dir/docker.pid" 2>/dev/null || true)
  if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then as_root rm -f "$run_dir/docker.pid"; fi
  log "starting dockerd '$name' on $sock (containerd image store: $store)"
  as_root setsid nohup /usr/sbin/dockerd \
    --config-file "$data_dir/daemon.json" \
    --data-root "$data_dir/docker" \
    --exec-root "$run_dir/exec" \
    --pidfile "$run_dir/docker.pid" \
    -H "$sock" \
    --containerd /run/containerd/containerd.sock \
    --containerd-namespace "gdp-$name" \
    --containerd-plugins-namespace "gdp-$name-plugins" \
    --bridge="$bridge" --iptables=false --ip6tables=false --ip-forward=false --ip-masq=false \
    "$@" </dev/null >"$data_dir/dockerd.log" 2>&1 &
  for _ in $(seq 1 150); do
    docker -H "$sock" version --format '{{.Server.Version}}' >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  log "dockerd '$name' did not come up; last lines of $data_dir/dockerd.log:"
  tail -20 "$data_dir/dockerd.log" >&2
  exit 1
}
