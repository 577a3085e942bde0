#!/usr/bin/env bash
# A third Docker engine reachable over SSH on loopback, for testing `builder-endpoints`
# (remote native build nodes, `docker context create NAME --docker host=ssh://...`):
#   sshd (Debian openssh-server, its own config, host key and pid file, no PAM, public keys only)
#     on 127.0.0.1:2222, user gdpbuilder (group docker), DOCKER_HOST of its sessions set by sshd
#     to this engine, so `docker -H ssh://gdpbuilder@127.0.0.1:2222 ...` talks to it
#   a dockerd on unix:///var/run/gdp-remote/docker.sock (start_engine in lib-env.sh: own
#     data/exec root, pid file, daemon.json with the containerd image store, containerd
#     namespaces, and its own bridge gdp-remote0, 172.31.250.1/24, nothing routed); it pulls the
#     base images from the test environment's anonymous registry like the other engines
#   root's ~/.ssh/config: key, known host and BatchMode for gdpbuilder@127.0.0.1, non-interactive
# Needs what scripts/test-env.sh installs and starts first (packages, containerd).
# Idempotent; with everything up it only checks (well under 2 s). No systemd is needed.
# With --print-env prints the `export` line for the remote endpoint (eval-able).
set -euo pipefail
LOG_TAG=remote-engine
# shellcheck source=lib-env.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib-env.sh"

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
SSH_CONFIG="$HOME/.ssh/config"
MARK_BEGIN='# >>> go-docker-publish remote engine (scripts/remote-engine.sh) >>>'
MARK_END='# <<< go-docker-publish remote engine <<<'

# write_if_changed FILE MODE: stdin to FILE when its content differs; status 0 when it changed
write_if_changed() {
  local file=$1 mode=$2 tmp
  tmp=$(mktemp)
  cat >"$tmp"
  if [ -f "$file" ] && cmp -s "$tmp" "$file"; then rm -f "$tmp"; return 1; fi
  as_root install -m "$mode" "$tmp" "$file"
  rm -f "$tmp"
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

setup_user_and_keys
setup_client_config
start_sshd
start_engine remote "$RUN_DIR" "$REMOTE_DIR" "$BRIDGE" "$BRIDGE_CIDR" true
check_ssh
if [ "${1:-}" = "--print-env" ]; then
  echo "export DOCKER_REMOTE_SSH=$REMOTE_SSH DOCKER_REMOTE_HOST=$REMOTE_HOST"
fi
log "ready: remote engine $REMOTE_HOST, over ssh as $REMOTE_SSH"
