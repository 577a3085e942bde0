#!/usr/bin/env bash
# Installs and starts the real test environment of go-docker-publish:
#   Docker Engine + buildx + containerd (Debian trixie), dockerd with the containerd image store,
#   QEMU user emulation (binfmt_misc), a local registry with basic auth on 127.0.0.1,
#   and the local base images the fixtures build FROM (nothing can be pulled here).
# Idempotent: a second run with everything up takes a few seconds. It never restarts a dockerd
# that is already answering.
# Prints shell `export` lines for the registry it started (eval-able) with --print-env.
set -euo pipefail

STATE_DIR=${GDP_ENV_DIR:-/var/lib/go-docker-publish-env}
REGISTRY_PORT=${GDP_REGISTRY_PORT:-5151}
REGISTRY_USER=${GDP_REGISTRY_USER:-gdp}
REGISTRY_PASSWORD=${GDP_REGISTRY_PASSWORD:-gdp-test-password}
# A second registry with other credentials, for tests that publish to two registries.
REGISTRY2_PORT=${GDP_REGISTRY2_PORT:-5152}
REGISTRY2_USER=${GDP_REGISTRY2_USER:-gdp2}
REGISTRY2_PASSWORD=${GDP_REGISTRY2_PASSWORD:-gdp2-other-password}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

log() { printf '[test-env] %s\n' "$*" >&2; }
have() { command -v "$1" >/dev/null 2>&1; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

install_packages() {
  local need=()
  [ -x /usr/sbin/dockerd ] || need+=(docker.io)
  [ -x /usr/libexec/docker/cli-plugins/docker-buildx ] || need+=(docker-buildx)
  [ -x /usr/bin/docker ] || need+=(docker-cli)
  have containerd || need+=(containerd)
  have runc || need+=(runc)
  have qemu-aarch64-static || need+=(qemu-user-static)
  have update-binfmts || need+=(binfmt-support)
  [ -d /usr/libexec/qemu-binfmt ] || need+=(qemu-user-binfmt)
  [ -x /usr/bin/docker-registry ] || need+=(docker-registry)
  have htpasswd || need+=(apache2-utils)
  [ -x /bin/busybox ] || need+=(busybox-static)
  [ -x /usr/lib/go/bin/go ] || need+=(golang-go)
  have curl || need+=(curl)
  have ssh || need+=(openssh-client)
  [ ${#need[@]} -eq 0 ] && return 0
  log "installing: ${need[*]}"
  if [ ! -f /etc/apt/sources.list.d/trixie.sources ]; then
    # Same mirror as the machine's own Debian source.
    local uri
    uri=$(grep -h -m1 '^URIs:' /etc/apt/sources.list.d/debian.sources 2>/dev/null | awk '{print $2}')
    [ -n "$uri" ] || uri=$(awk '$1=="deb"{print $2; exit}' /etc/apt/sources.list 2>/dev/null)
    as_root tee /etc/apt/sources.list.d/trixie.sources >/dev/null <<SRC
Types: deb
URIs: $uri
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
    as_root tee /etc/apt/preferences.d/trixie-pin >/dev/null <<'PIN'
Package: *
Pin: release n=trixie
Pin-Priority: 100
PIN
  fi
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq -t trixie --no-install-recommends \
    "${need[@]}" >/dev/null
}

# The Debian docker-cli is /usr/bin/docker; a client elsewhere earlier on PATH (this machine kind
# ships a bare client in /usr/local/bin) still finds the system buildx plugin.
start_binfmt() {
  if [ ! -e /proc/sys/fs/binfmt_misc/register ]; then
    as_root mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
  fi
  # binfmt-support's database first; trixie's qemu-user-binfmt ships systemd binfmt.d files
  # instead (static interpreters, flag F), which we register ourselves where no systemd runs.
  as_root update-binfmts --enable >/dev/null 2>&1 || true
  local conf name
  for conf in /usr/lib/binfmt.d/qemu-*.conf; do
    [ -e "$conf" ] || continue
    name=$(basename "$conf" .conf)
    [ -e "/proc/sys/fs/binfmt_misc/$name" ] && continue
    as_root sh -c "cat '$conf' > /proc/sys/fs/binfmt_misc/register" 2>/dev/null || true
  done
  [ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] || { log "qemu-aarch64 not registered in binfmt_misc"; exit 1; }
}

start_dockerd() {
  if docker version --format '{{.Server.Version}}' >/dev/null 2>&1; then return 0; fi
  as_root mkdir -p /etc/docker
  if [ ! -f /etc/docker/daemon.json ]; then
    echo '{"features":{"containerd-snapshotter":true}}' | as_root tee /etc/docker/daemon.json >/dev/null
  fi
  if ! pgrep -x containerd >/dev/null; then
    log "starting containerd"
    as_root bash -c 'nohup containerd >/var/log/containerd.log 2>&1 &'
    for _ in $(seq 1 50); do [ -S /run/containerd/containerd.sock ] && break; sleep 0.2; done
  fi
  log "starting dockerd"
  as_root bash -c 'nohup dockerd --containerd=/run/containerd/containerd.sock >/var/log/dockerd.log 2>&1 &'
  for _ in $(seq 1 150); do
    docker version --format '{{.Server.Version}}' >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  log "dockerd did not come up; last lines of /var/log/dockerd.log:"; tail -20 /var/log/dockerd.log >&2; exit 1
}

# start_registry PORT USER PASSWORD: distribution 2.8 with htpasswd (bcrypt) auth on 127.0.0.1.
start_registry() {
  local port=$1 user=$2 password=$3
  local dir="$STATE_DIR/registry-$port"
  if curl -fsS -o /dev/null -u "$user:$password" "http://127.0.0.1:$port/v2/" 2>/dev/null; then
    return 0
  fi
  mkdir -p "$dir/data"
  htpasswd -Bbn "$user" "$password" >"$dir/htpasswd"
  cat >"$dir/config.yml" <<CFG
version: 0.1
log: { level: warn }
storage:
  filesystem: { rootdirectory: $dir/data }
  delete: { enabled: true }
http: { addr: 127.0.0.1:$port }
auth:
  htpasswd: { realm: gdp-test, path: $dir/htpasswd }
CFG
  log "starting registry on 127.0.0.1:$port"
  nohup /usr/bin/docker-registry serve "$dir/config.yml" >"$dir/registry.log" 2>&1 &
  for _ in $(seq 1 50); do
    curl -fsS -o /dev/null -u "$user:$password" "http://127.0.0.1:$port/v2/" 2>/dev/null && return 0
    sleep 0.2
  done
  log "registry on $port did not come up"; cat "$dir/registry.log" >&2; exit 1
}

# Base images, made with `docker import` since nothing can be pulled:
#   gdp/busybox:local  busybox-static (a shell and coreutils), one image per platform arch
#   gdp/golang:local   Debian's Go toolchain plus the libc it links (native platform only)
base_images() {
  "$HERE/base-images.sh"
}

mkdir -p "$STATE_DIR" 2>/dev/null || as_root mkdir -p "$STATE_DIR"
install_packages
start_binfmt
start_dockerd
start_registry "$REGISTRY_PORT" "$REGISTRY_USER" "$REGISTRY_PASSWORD"
start_registry "$REGISTRY2_PORT" "$REGISTRY2_USER" "$REGISTRY2_PASSWORD"
base_images
if [ "${1:-}" = "--print-env" ]; then
  echo "export GDP_REGISTRY=localhost:$REGISTRY_PORT GDP_REGISTRY_USER=$REGISTRY_USER GDP_REGISTRY_PASSWORD=$REGISTRY_PASSWORD"
  echo "export GDP_REGISTRY2=localhost:$REGISTRY2_PORT GDP_REGISTRY2_USER=$REGISTRY2_USER GDP_REGISTRY2_PASSWORD=$REGISTRY2_PASSWORD"
fi
bash "$HERE/remote-engine.sh" "$@" # second engine over ssh (builder-endpoints tests)
log "ready: docker $(docker version --format '{{.Server.Version}}'), registries localhost:$REGISTRY_PORT and localhost:$REGISTRY2_PORT"
