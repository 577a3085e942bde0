#!/usr/bin/env bash
# Installs and starts the real test environment of go-docker-publish, the engines users have:
#   Docker Engine 28.5 + buildx 0.29 + containerd 2.1 (Debian sid, pinned at a low priority; the
#     rest of the machine stays on its own release) and QEMU user emulation (binfmt_misc);
#   engine "classic" on the default socket: no daemon.json of its own, the classic image store, as
#     on GitHub's ubuntu-latest;
#   engine "containerd" on unix:///var/run/gdp-containerd/docker.sock: the containerd image store,
#     as on ubuntu-26.04 and fresh Docker 29 installs; its own bridge, data root, exec root;
#   moby/buildkit:buildx-stable-1 in both (made from ../shared/buildkit where it exists), so
#     `buildx create --driver docker-container` starts a real BuildKit without a pull;
#   registries on 127.0.0.1: 5151 and 5152 with basic auth (the tests publish there), 5150
#     anonymous (the base images, as Docker Hub serves them);
#   the base images the fixtures build FROM, in the anonymous registry (scripts/base-images.sh);
#   a third engine reached over SSH for builder-endpoints (scripts/remote-engine.sh).
# Idempotent: with everything up it only checks (about a second). A running engine is never
# restarted unless it is not the one this script wants (another version or image store).
# With --print-env prints shell `export` lines for what it started (eval-able).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib-env.sh
. "$HERE/lib-env.sh"
STATE_DIR=${GDP_ENV_DIR:-/var/lib/go-docker-publish-env}
REGISTRY_PORT=${GDP_REGISTRY_PORT:-5151}
REGISTRY_USER=${GDP_REGISTRY_USER:-gdp}
REGISTRY_PASSWORD=${GDP_REGISTRY_PASSWORD:-gdp-test-password}
# A second registry with other credentials, for tests that publish to two registries.
REGISTRY2_PORT=${GDP_REGISTRY2_PORT:-5152}
REGISTRY2_USER=${GDP_REGISTRY2_USER:-gdp2}
REGISTRY2_PASSWORD=${GDP_REGISTRY2_PASSWORD:-gdp2-other-password}
# Anonymous pulls only: where builders find the base images.
BASE_REGISTRY_PORT=${GDP_BASE_REGISTRY_PORT:-5150}
CLASSIC_HOST=unix:///var/run/docker.sock
CONTAINERD_RUN=/var/run/gdp-containerd
CONTAINERD_HOST=unix://$CONTAINERD_RUN/docker.sock
BUILDKIT_DIR=${GDP_BUILDKIT_DIR:-$HERE/../../shared/buildkit}
# What the engines must be: the Docker 28 of ubuntu-latest and the buildx that reads the gha
# cache service v2 (>= 0.21).
WANT_DOCKER=28.5
WANT_BUILDX=0.29
# Packages from sid: the engine, its CLI and buildx, containerd, and a Go toolchain new enough for
# the fixtures (the machine's own release has Go 1.19). runc stays the machine's own: sid's needs
# a newer libc, which would upgrade the machine's base system.
SID_PACKAGES=(docker.io docker-cli docker-buildx containerd tini-static golang-go golang-src)
SID_SUITES=(sid trixie) # trixie only if sid's index cannot be read (a mirror in mid-sync)

version_ge() { dpkg --compare-versions "${1:-0}" ge "$2"; }
pkg_version() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null | sed 's/^[0-9]*://; s/+.*//'; }

add_suite() {
  local suite=$1
  [ -f "/etc/apt/sources.list.d/gdp-$suite.sources" ] && return 0
  as_root tee "/etc/apt/sources.list.d/gdp-$suite.sources" >/dev/null <<SRC
Types: deb
URIs: $(debian_mirror)
Suites: $suite
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  # Nothing of the machine's own is upgraded from it: only what is named with /$suite below.
  printf 'Package: *\nPin: release n=%s\nPin-Priority: 100\n' "$suite" |
    as_root tee "/etc/apt/preferences.d/gdp-$suite-pin" >/dev/null
  return 1
}

install_packages() {
  local need=() sid_need=0
  version_ge "$(pkg_version docker.io)" "$WANT_DOCKER" || sid_need=1
  version_ge "$(pkg_version docker-buildx)" "$WANT_BUILDX" || sid_need=1
  version_ge "$(pkg_version docker-cli)" "$WANT_DOCKER" || sid_need=1
  version_ge "$(pkg_version containerd)" 2.1 || sid_need=1
  version_ge "$(pkg_version golang-go | sed 's/~.*//')" 1.22 || sid_need=1
  have runc || need+=(runc)
  have qemu-aarch64-static || need+=(qemu-user-static)
  have update-binfmts || need+=(binfmt-support)
  [ -x /usr/bin/docker-registry ] || need+=(docker-registry)
  have htpasswd || need+=(apache2-utils)
  [ -x /bin/busybox ] || need+=(busybox-static)
  have curl || need+=(curl)
  have ssh || need+=(openssh-client)
  [ -x /usr/sbin/sshd ] || need+=(openssh-server)
  have ip || need+=(iproute2)
  local cosign_need=0
  version_ge "$(pkg_version cosign)" 3.0 || cosign_need=1
  [ ${#need[@]} -eq 0 ] && [ $sid_need = 0 ] && [ $cosign_need = 0 ] && return 0
  local suite added=0
  for suite in "${SID_SUITES[@]}"; do add_suite "$suite" || added=1; done
  # A failed index (mirror in mid-sync) leaves the others read: go on after the retries.
  if [ $added = 1 ] || [ $sid_need = 1 ] || [ $cosign_need = 1 ] || [ ${#need[@]} -gt 0 ]; then
    apt_retry as_root apt-get update -qq -o Acquire::Retries=3 ||
      log "apt-get update still fails after 3 tries: going on with the indexes that were read"
  fi
  export DEBIAN_FRONTEND=noninteractive
  if [ ${#need[@]} -gt 0 ]; then
    log "installing: ${need[*]}"
    apt_retry as_root apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  fi
  # cosign (signing e2e) is only in sid (3.x): trixie has none to fall back to.
  if [ $cosign_need = 1 ]; then
    log "installing from sid: cosign"
    apt_retry as_root apt-get install -y -qq --no-install-recommends cosign/sid >/dev/null ||
      { log "could not install cosign from sid (its index could not be read?): the signing tests need it"; exit 1; }
  fi
  [ $sid_need = 1 ] || return 0
  for suite in "${SID_SUITES[@]}"; do
    log "installing from $suite: ${SID_PACKAGES[*]}"
    if apt_retry as_root apt-get install -y -qq --no-install-recommends "${SID_PACKAGES[@]/%//$suite}" >/dev/null; then
      [ "$suite" = "${SID_SUITES[0]}" ] || log "WARNING: the engine comes from $suite ($(pkg_version docker.io)), not ${SID_SUITES[0]}: its index could not be read"
      return 0
    fi
  done
  log "could not install ${SID_PACKAGES[*]} from any of ${SID_SUITES[*]}"
  exit 1
}

# The Debian docker-cli is /usr/bin/docker; a client elsewhere earlier on PATH (this machine kind
# ships a bare client in /usr/local/bin) still finds the system buildx plugin.
start_binfmt() {
  if [ ! -e /proc/sys/fs/binfmt_misc/register ]; then
    as_root mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
  fi
  as_root update-binfmts --enable >/dev/null 2>&1 || true
  # Newer qemu-user packages ship systemd binfmt.d files instead (static interpreters, flag F),
  # which we register ourselves where no systemd runs.
  local conf name
  for conf in /usr/lib/binfmt.d/qemu-*.conf; do
    [ -e "$conf" ] || continue
    name=$(basename "$conf" .conf)
    [ -e "/proc/sys/fs/binfmt_misc/$name" ] && continue
    as_root sh -c "cat '$conf' > /proc/sys/fs/binfmt_misc/register" 2>/dev/null || true
  done
  [ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] || { log "qemu-aarch64 not registered in binfmt_misc"; exit 1; }
}

start_containerd() {
  [ -S /run/containerd/containerd.sock ] && ctr version >/dev/null 2>&1 && return 0
  log "starting containerd"
  as_root bash -c 'nohup containerd >/var/log/containerd.log 2>&1 &'
  for _ in $(seq 1 50); do ctr version >/dev/null 2>&1 && return 0; sleep 0.2; done
  log "containerd did not come up"; tail -20 /var/log/containerd.log >&2; exit 1
}

engine_store() { docker -H "$1" info --format '{{json .DriverStatus}}' 2>/dev/null | grep -q io.containerd.snapshotter && echo containerd || echo classic; }

# The first engine, as ubuntu-latest has it: the default socket and bridge (docker0), the classic
# image store. Its daemon.json is one of ours, empty: a /etc/docker/daemon.json left by an older
# set-up (which turned the containerd store on) must not decide the store.
start_classic_engine() {
  local version
  version=$(docker -H "$CLASSIC_HOST" version --format '{{.Server.Version}}' 2>/dev/null || true)
  if [ -n "$version" ]; then
    if [[ $version == "$WANT_DOCKER"* ]] && [ "$(engine_store "$CLASSIC_HOST")" = classic ]; then return 0; fi
    log "the engine on $CLASSIC_HOST is Docker $version with the $(engine_store "$CLASSIC_HOST") image store: replacing it"
    local pid
    pid=$(cat /var/run/docker.pid 2>/dev/null || true)
    if [ -n "$pid" ]; then as_root kill "$pid" 2>/dev/null || true; fi
    for _ in $(seq 1 100); do docker -H "$CLASSIC_HOST" version >/dev/null 2>&1 || break; sleep 0.2; done
  fi
  as_root mkdir -p "$STATE_DIR/engine-classic"
  echo '{}' | as_root tee "$STATE_DIR/engine-classic/daemon.json" >/dev/null
  log "starting dockerd 'classic' on $CLASSIC_HOST"
  as_root setsid nohup /usr/sbin/dockerd --config-file "$STATE_DIR/engine-classic/daemon.json" \
    --containerd=/run/containerd/containerd.sock </dev/null >/var/log/dockerd.log 2>&1 &
  for _ in $(seq 1 150); do
    docker -H "$CLASSIC_HOST" version --format '{{.Server.Version}}' >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  log "dockerd did not come up; last lines of /var/log/dockerd.log:"; tail -20 /var/log/dockerd.log >&2; exit 1
}

# start_registry PORT [USER PASSWORD]: distribution with htpasswd (bcrypt) auth on 127.0.0.1, or
# anonymous without a user.
start_registry() {
  local port=$1 user=${2:-} password=${3:-}
  local dir="$STATE_DIR/registry-$port" auth=() cfg_auth=''
  [ -n "$user" ] && auth=(-u "$user:$password")
  if curl -fsS -o /dev/null "${auth[@]}" "http://127.0.0.1:$port/v2/" 2>/dev/null; then
    return 0
  fi
  mkdir -p "$dir/data"
  if [ -n "$user" ]; then
    htpasswd -Bbn "$user" "$password" >"$dir/htpasswd"
    cfg_auth="auth:
  htpasswd: { realm: gdp-test, path: $dir/htpasswd }"
  fi
  cat >"$dir/config.yml" <<CFG
version: 0.1
log: { level: warn }
storage:
  filesystem: { rootdirectory: $dir/data }
  delete: { enabled: true }
http: { addr: 127.0.0.1:$port }
$cfg_auth
CFG
  log "starting registry on 127.0.0.1:$port${user:+ (user $user)}"
  nohup /usr/bin/docker-registry serve "$dir/config.yml" >"$dir/registry.log" 2>&1 &
  for _ in $(seq 1 50); do
    curl -fsS -o /dev/null "${auth[@]}" "http://127.0.0.1:$port/v2/" 2>/dev/null && return 0
    sleep 0.2
  done
  log "registry on $port did not come up"; cat "$dir/registry.log" >&2; exit 1
}

# The image a docker-container builder starts (buildx tries a pull first, which fails here, then
# uses the local image). On GitHub the real one is pulled; here it is made from ../shared.
buildkit_image() {
  local host=$1
  docker -H "$host" image inspect moby/buildkit:buildx-stable-1 >/dev/null 2>&1 && return 0
  if [ ! -x "$BUILDKIT_DIR/make-image.sh" ]; then
    log "no $BUILDKIT_DIR/make-image.sh: docker-container builders on $host must pull moby/buildkit"
    return 0
  fi
  "$BUILDKIT_DIR/make-image.sh" "$host"
}

mkdir -p "$STATE_DIR" 2>/dev/null || as_root mkdir -p "$STATE_DIR"
install_packages
start_binfmt
start_containerd
start_classic_engine
start_engine containerd "$CONTAINERD_RUN" "$STATE_DIR/engine-containerd" gdp-ctd0 172.31.251.1/24 true
start_registry "$BASE_REGISTRY_PORT"
start_registry "$REGISTRY_PORT" "$REGISTRY_USER" "$REGISTRY_PASSWORD"
start_registry "$REGISTRY2_PORT" "$REGISTRY2_USER" "$REGISTRY2_PASSWORD"
buildkit_image "$CLASSIC_HOST"
buildkit_image "$CONTAINERD_HOST"
GDP_BASE_REGISTRY=localhost:$BASE_REGISTRY_PORT DOCKER_HOST=$CONTAINERD_HOST "$HERE/base-images.sh"
if [ "${1:-}" = "--print-env" ]; then
  echo "export GDP_REGISTRY=localhost:$REGISTRY_PORT GDP_REGISTRY_USER=$REGISTRY_USER GDP_REGISTRY_PASSWORD=$REGISTRY_PASSWORD"
  echo "export GDP_REGISTRY2=localhost:$REGISTRY2_PORT GDP_REGISTRY2_USER=$REGISTRY2_USER GDP_REGISTRY2_PASSWORD=$REGISTRY2_PASSWORD"
  echo "export GDP_BASE_REGISTRY=localhost:$BASE_REGISTRY_PORT GDP_CLASSIC_HOST=$CLASSIC_HOST GDP_CONTAINERD_HOST=$CONTAINERD_HOST"
fi
bash "$HERE/remote-engine.sh" "$@" # third engine over ssh (builder-endpoints tests)
buildkit_image unix:///var/run/gdp-remote/docker.sock # its docker-container builder
bash "$HERE/buildkitd.sh" "$@" # standalone BuildKit on tcp://127.0.0.1:5160 (remote-driver builders)
for host in "$CLASSIC_HOST" "$CONTAINERD_HOST"; do
  log "ready: $host: Docker $(docker -H "$host" version --format '{{.Server.Version}}'), $(engine_store "$host") image store"
done
log "ready: buildx $(docker buildx version | awk '{print $2}'), registries localhost:$REGISTRY_PORT, localhost:$REGISTRY2_PORT, localhost:$BASE_REGISTRY_PORT (base images)"
