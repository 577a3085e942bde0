#!/usr/bin/env bash
# A second Docker engine reachable over SSH on loopback, for testing `builder-endpoints`
# (remote native build nodes, `docker context create NAME --docker host=ssh://...`):
#   sshd (Debian openssh-server, its own config, host key and pid file, no PAM, public keys only)
#     on 127.0.0.1:2222, user gdpbuilder (group docker), DOCKER_HOST of its sessions set by sshd
#     to the second engine, so `docker -H ssh://gdpbuilder@127.0.0.1:2222 ...` talks to it
#   dockerd #2 on unix:///var/run/gdp-remote/docker.sock: own data/exec root, pid file and
#     daemon.json (containerd image store), on the system containerd under its own containerd
#     namespaces, no iptables, and its own bridge gdp-remote0 (172.31.250.1/24, nothing routed).
#     Not --bridge=none: a dockerd started with it deletes the host's docker0, the first
#     engine's bridge (same network namespace), and BuildKit's RUN steps need a "bridge" network
#     ("network bridge not found").
#   the base images gdp/golang:local and gdp/busybox:local (all platforms) loaded into it
#   root's ~/.ssh/config: key, known host and BatchMode for gdpbuilder@127.0.0.1, non-interactive
# Needs the first engine of scripts/test-env.sh (containerd, docker group, base images).
# Idempotent; with everything up it only checks (well under 2 s). No systemd is needed.
# With --print-env prints the `export` line for the remote endpoint (eval-able).
set -euo pipefail

STATE_DIR=${GDP_ENV_DIR:-/var/lib/go-docker-publish-env}
REMOTE_DIR="$STATE_DIR/remote"
SSH_PORT=${GDP_REMOTE_SSH_PORT:-2222}
SSH_USER=gdpbuilder
RUN_DIR=/var/run/gdp-remote
BRIDGE=gdp-remote0
BRIDGE_CIDR=${GDP_REMOTE_BRIDGE_CIDR:-172.31.250.1/24}
SOCK="$RUN_DIR/docker.sock"
REMOTE_HOST="unix://$SOCK"
REMOTE_SSH="ssh://$SSH_USER@127.0.0.1:$SSH_PORT"
IMAGES=(gdp/golang:local gdp/busybox:local)
SSH_CONFIG="$HOME/.ssh/config"
MARK_BEGIN='# >>> go-docker-publish remote engine (scripts/remote-engine.sh) >>>'
MARK_END='# <<< go-docker-publish remote engine <<<'

log() { printf '[remote-engine] %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
remote_docker() { docker -H "$REMOTE_HOST" "$@"; }
remote_up() { remote_docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }
# write_if_changed FILE MODE: stdin to FILE when its content differs; status 0 when it changed
write_if_changed() {
  local file=$1 mode=$2 tmp
  tmp=$(mktemp)
  cat >"$tmp"
  if [ -f "$file" ] && cmp -s "$tmp" "$file"; then rm -f "$tmp"; return 1; fi
  as_root install -m "$mode" "$tmp" "$file"
  rm -f "$tmp"
}

install_packages() {
  local need=()
  [ -x /usr/sbin/sshd ] || need+=(openssh-server)
  command -v ip >/dev/null 2>&1 || need+=(iproute2)
  [ ${#need[@]} -eq 0 ] && return 0
  # From trixie like the rest of the environment: openssh-server depends on the exact
  # openssh-client version, which test-env.sh installed from trixie.
  log "installing: ${need[*]}"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq -t trixie --no-install-recommends \
    "${need[@]}" >/dev/null
}

setup_user_and_keys() {
  as_root mkdir -p "$REMOTE_DIR"
  as_root chmod 755 "$REMOTE_DIR"
  getent group docker >/dev/null || as_root groupadd --system docker
  if ! id "$SSH_USER" >/dev/null 2>&1; then
    log "creating user $SSH_USER"
    as_root useradd --create-home --shell /bin/sh --groups docker "$SSH_USER"
  fi
  id -nG "$SSH_USER" | tr ' ' '\n' | grep -qx docker || as_root usermod -aG docker "$SSH_USER"
  # No password, but not locked: without PAM, sshd refuses accounts whose hash starts with '!'.
  if as_root getent shadow "$SSH_USER" | cut -d: -f2 | grep -q '^!'; then
    as_root usermod -p '*' "$SSH_USER"
  fi
  [ -f "$REMOTE_DIR/ssh_host_ed25519_key" ] ||
    as_root ssh-keygen -q -t ed25519 -N '' -C gdp-remote-host -f "$REMOTE_DIR/ssh_host_ed25519_key"
  [ -f "$REMOTE_DIR/id_ed25519" ] ||
    as_root ssh-keygen -q -t ed25519 -N '' -C gdp-remote-client -f "$REMOTE_DIR/id_ed25519"
  local home
  home=$(getent passwd "$SSH_USER" | cut -d: -f6)
  as_root install -d -m 700 -o "$SSH_USER" -g "$SSH_USER" "$home/.ssh"
  if as_root cat "$REMOTE_DIR/id_ed25519.pub" | write_if_changed "$home/.ssh/authorized_keys" 600; then
    as_root chown "$SSH_USER:$SSH_USER" "$home/.ssh/authorized_keys"
  fi
  # Known host entries for the client, from the host key itself (no accept-new prompt, nothing
  # appended to ~/.ssh/known_hosts).
  local hostkey
  hostkey=$(cut -d' ' -f1,2 "$REMOTE_DIR/ssh_host_ed25519_key.pub")
  printf '[127.0.0.1]:%s %s\n[localhost]:%s %s\n' "$SSH_PORT" "$hostkey" "$SSH_PORT" "$hostkey" |
    write_if_changed "$REMOTE_DIR/known_hosts" 644 || true
}

# Root's (the client's) ~/.ssh/config: one marked block, replaced when its content changes.
setup_client_config() {
  local block
  block=$(cat <<CFG
$MARK_BEGIN
Match host 127.0.0.1,localhost user $SSH_USER
  IdentityFile $REMOTE_DIR/id_ed25519
  IdentitiesOnly yes
  UserKnownHostsFile $REMOTE_DIR/known_hosts
  StrictHostKeyChecking yes
  BatchMode yes
  LogLevel ERROR
$MARK_END
CFG
)
  mkdir -p "$HOME/.ssh"
  chmod 700 "$HOME/.ssh"
  touch "$SSH_CONFIG"
  chmod 600 "$SSH_CONFIG"
  local current
  current=$(awk -v b="$MARK_BEGIN" -v e="$MARK_END" '$0==b{p=1} p{print} $0==e{p=0}' "$SSH_CONFIG")
  [ "$current" = "$block" ] && return 0
  # Drop an old block, then append: a Match block must not be followed by the user's own lines.
  awk -v b="$MARK_BEGIN" -v e="$MARK_END" '$0==b{p=1} !p{print} $0==e{p=0}' "$SSH_CONFIG" \
    >"$SSH_CONFIG.tmp"
  { cat "$SSH_CONFIG.tmp"; [ -s "$SSH_CONFIG.tmp" ] && echo; echo "$block"; } >"$SSH_CONFIG"
  rm -f "$SSH_CONFIG.tmp"
}

sshd_running() {
  local pid
  pid=$(cat "$REMOTE_DIR/sshd.pid" 2>/dev/null) || return 1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = sshd ]
}

start_sshd() {
  local changed=0
  write_if_changed "$REMOTE_DIR/sshd_config" 644 <<CFG && changed=1
# sshd of the go-docker-publish remote test engine (scripts/remote-engine.sh); not the system's.
Port $SSH_PORT
ListenAddress 127.0.0.1
HostKey $REMOTE_DIR/ssh_host_ed25519_key
PidFile $REMOTE_DIR/sshd.pid
UsePAM no
PubkeyAuthentication yes
AuthenticationMethods publickey
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
AllowUsers $SSH_USER
AuthorizedKeysFile .ssh/authorized_keys
AllowAgentForwarding no
AllowTcpForwarding no
X11Forwarding no
PrintMotd no
PrintLastLog no
UseDNS no
# buildx and the docker CLI open one ssh connection per API connection, several at once.
MaxStartups 100:30:200
MaxSessions 100
LogLevel INFO
# docker system dial-stdio, run by the docker CLI over ssh, then connects to the second engine.
Match User $SSH_USER
  SetEnv DOCKER_HOST=$REMOTE_HOST
CFG
  if sshd_running; then
    [ $changed = 0 ] && return 0
    log "sshd config changed: restarting sshd"
    as_root kill "$(cat "$REMOTE_DIR/sshd.pid")"
    for _ in $(seq 1 50); do sshd_running || break; sleep 0.1; done
  fi
  as_root install -d -m 755 /run/sshd # privilege separation directory
  as_root /usr/sbin/sshd -t -f "$REMOTE_DIR/sshd_config"
  log "starting sshd on 127.0.0.1:$SSH_PORT"
  # sshd daemonizes itself (closes its stdio, writes PidFile).
  as_root /usr/sbin/sshd -f "$REMOTE_DIR/sshd_config" -E "$REMOTE_DIR/sshd.log" </dev/null
  for _ in $(seq 1 50); do sshd_running && return 0; sleep 0.1; done
  log "sshd did not come up; last lines of $REMOTE_DIR/sshd.log:"
  tail -20 "$REMOTE_DIR/sshd.log" >&2
  exit 1
}

start_dockerd() {
  remote_up && return 0
  [ -S /run/containerd/containerd.sock ] || {
    log "containerd is not running: run scripts/test-env.sh first"
    exit 1
  }
  as_root mkdir -p "$RUN_DIR" "$REMOTE_DIR/docker"
  # The engine's own bridge: dockerd takes an existing one (--bridge) with its address as is.
  if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
    as_root ip link add "$BRIDGE" type bridge
    as_root ip addr add "$BRIDGE_CIDR" dev "$BRIDGE"
  fi
  as_root ip link set "$BRIDGE" up
  echo '{"features":{"containerd-snapshotter":true}}' |
    write_if_changed "$REMOTE_DIR/daemon.json" 644 || true
  # A stale pid file of a dead daemon would stop dockerd from starting.
  local pid
  pid=$(cat "$RUN_DIR/docker.pid" 2>/dev/null || true)
  if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then as_root rm -f "$RUN_DIR/docker.pid"; fi
  log "starting the second dockerd on $REMOTE_HOST"
  as_root setsid nohup /usr/sbin/dockerd \
    --config-file "$REMOTE_DIR/daemon.json" \
    --data-root "$REMOTE_DIR/docker" \
    --exec-root "$RUN_DIR/exec" \
    --pidfile "$RUN_DIR/docker.pid" \
    -H "$REMOTE_HOST" \
    --containerd /run/containerd/containerd.sock \
    --containerd-namespace gdp-remote \
    --containerd-plugins-namespace gdp-remote-plugins \
    --bridge="$BRIDGE" --iptables=false --ip6tables=false --ip-forward=false --ip-masq=false \
    </dev/null >"$REMOTE_DIR/dockerd.log" 2>&1 &
  for _ in $(seq 1 150); do
    remote_up && return 0
    sleep 0.2
  done
  log "second dockerd did not come up; last lines of $REMOTE_DIR/dockerd.log:"
  tail -20 "$REMOTE_DIR/dockerd.log" >&2
  exit 1
}

# The base images, every platform: `docker save` of the containerd image store writes the whole
# index with the content of each platform, and `docker load` keeps it.
load_images() {
  local missing=() image
  for image in "${IMAGES[@]}"; do
    remote_docker image inspect "$image" >/dev/null 2>&1 || missing+=("$image")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  for image in "${missing[@]}"; do
    docker image inspect "$image" >/dev/null 2>&1 || {
      log "$image is not in the first engine: run scripts/test-env.sh first"
      exit 1
    }
  done
  log "loading ${missing[*]} into the second engine"
  docker save "${missing[@]}" | remote_docker load >/dev/null
}

# End to end, as the action will use it: the docker CLI over ssh reaches the second engine.
check_ssh() {
  local root
  root=$(docker -H "$REMOTE_SSH" info --format '{{.DockerRootDir}}' 2>&1) || {
    log "docker over $REMOTE_SSH failed: $root"
    log "last lines of $REMOTE_DIR/sshd.log:"
    tail -20 "$REMOTE_DIR/sshd.log" >&2
    exit 1
  }
  [ "$root" = "$REMOTE_DIR/docker" ] || {
    log "docker over $REMOTE_SSH reached the wrong engine (root dir $root)"
    exit 1
  }
}

install_packages
setup_user_and_keys
setup_client_config
start_sshd
start_dockerd
load_images
check_ssh
if [ "${1:-}" = "--print-env" ]; then
  echo "export DOCKER_REMOTE_SSH=$REMOTE_SSH DOCKER_REMOTE_HOST=$REMOTE_HOST"
fi
log "ready: second engine $REMOTE_HOST, over ssh as $REMOTE_SSH"
