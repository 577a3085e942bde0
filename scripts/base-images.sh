#!/usr/bin/env bash
# Makes the base images the fixtures build FROM, since no image can be pulled here, and pushes
# them to the test environment's anonymous registry ($GDP_BASE_REGISTRY), where every builder
# pulls them as it would from Docker Hub (a docker-container builder cannot see an engine's store):
#   gdp/busybox:local  busybox-static from Debian, one image for each of the 8 platforms
#   gdp/golang:local   Debian's Go toolchain (statically linked) with busybox, for linux/amd64,
#                      and for linux/arm64 and linux/riscv64 when Debian has the same Go version
#                      for them: the Go build stage runs under QEMU for the foreign ones
#                      (fixtures/go-app/Dockerfile.qemu, npm run bench), natively for the host's
# Built on the engine DOCKER_HOST names, which must have the containerd image store (its default
# builder then builds and pushes multi-platform images).
# Foreign-architecture .debs are fetched through a private apt state (the machine's own apt
# configuration is not touched) from sid, trixie and bookworm (sid has no armel; a suite whose
# indexes cannot be read, a mirror in mid-sync, is left out), and kept in $STATE_DIR/apt/debs.
# Idempotent: does nothing when the registry has
# both images as they were last made for these platforms and this Go version.
set -euo pipefail
LOG_TAG=base-images
# shellcheck source=lib-env.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib-env.sh"
STATE_DIR=${GDP_ENV_DIR:-/var/lib/go-docker-publish-env}
REGISTRY=${GDP_BASE_REGISTRY:-localhost:5150}
BUSYBOX_IMAGE=$REGISTRY/gdp/busybox:local
GO_IMAGE=$REGISTRY/gdp/golang:local
# docker arch[/variant] → Debian arch
PLATFORMS=(amd64:amd64 arm64:arm64 arm/v7:armhf arm/v6:armel 386:i386 ppc64le:ppc64el s390x:s390x riscv64:riscv64)
GO_PLATFORMS=(amd64:amd64 arm64:arm64 riscv64:riscv64)
join_by() { local IFS=$1; shift; echo "$*"; }

# The host's Go: GOROOT (/usr/lib/go-1.27), its Debian package and version. The other
# architectures get the .deb of exactly this version; the arch-independent GOROOT/src, api, lib,
# ... (/usr/share/go-1.27, from golang-1.27-src) are the host's, one layer shared by all platforms.
goroot=$(readlink -f /usr/lib/go)
go_name=$(basename "$goroot")                   # go-1.27
go_pkg="golang-${go_name#go-}-go"               # golang-1.27-go
go_version=$(dpkg-query -W -f='${Version}' "$go_pkg")
go_deb_version=${go_version//:/%3a} # as in .deb file names
go_share="/usr/share/$go_name"
host_arch=$(dpkg --print-architecture)
want_file="$STATE_DIR/base-images.want"
busybox_want="busybox ${#PLATFORMS[@]} platforms"
go_want="$go_pkg=$go_version"
# What is in the registry, as this script last pushed it (the registry's data lives in STATE_DIR).
in_registry() {
  curl -fsS -o /dev/null -H 'Accept: application/vnd.oci.image.index.v1+json' \
    "http://${REGISTRY/localhost/127.0.0.1}/v2/${1%:*}/manifests/${1##*:}" 2>/dev/null
}
current() { grep -qxF "$1" "$want_file" 2>/dev/null && in_registry "$2"; }
if current "$busybox_want" "${BUSYBOX_IMAGE#*/}" && current "$go_want" "${GO_IMAGE#*/}"; then
  exit 0
fi

apt_dir="$STATE_DIR/apt"
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/debs"
uri=$(debian_mirror)
# Every suite that may hold the host's Go version, sid first; a suite whose index cannot be read
# (mirror in mid-sync) is left out after the retries, and the others still serve.
for suite in sid trixie bookworm; do
  printf 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s %s main\n' "$uri" "$suite"
done >"$apt_dir/sources.list"
apt_opts=(-qq -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache"
  -o "Dir::Etc::SourceList=$apt_dir/sources.list" -o Dir::Etc::SourceParts=/dev/null
  -o Dir::Etc::Preferences=/dev/null -o Dir::Etc::PreferencesParts=/dev/null
  -o APT::Sandbox::User=root -o Acquire::Retries=3)
for p in "${PLATFORMS[@]}"; do apt_opts+=(-o "APT::Architectures::=${p#*:}"); done
apt_updated=
apt_update() {
  [ -n "$apt_updated" ] && return 0
  apt_updated=1
  apt_retry apt-get "${apt_opts[@]}" update ||
    log "some package indexes could not be read after 3 tries: going on with the others"
}

# fetch_debs PKG:ARCH[=VERSION]...: downloads into $apt_dir/debs those not there yet.
fetch_debs() {
  local want=() spec name arch version
  for spec in "$@"; do
    name=${spec%%:*} arch=${spec#*:} arch=${arch%%=*} version=
    [[ $spec == *=* ]] && version=${spec#*=}
    version=${version//:/%3a} # .deb file names carry the epoch as %3a
    compgen -G "$apt_dir/debs/${name}_${version:-*}_$arch.deb" >/dev/null || want+=("$spec")
  done
  [ ${#want[@]} -gt 0 ] || return 0
  log "fetching ${want[*]}"
  apt_update
  (cd "$apt_dir/debs" && apt-get "${apt_opts[@]}" download "${want[@]}")
}

# busybox_root DEB_ARCH DIR: busybox-static of that arch and its applet links in DIR/bin.
busybox_root() {
  local deb_arch=$1 root=$2 a
  mkdir -p "$root/x" "$root/bin"
  dpkg-deb -x "$apt_dir/debs"/busybox-static_*_"$deb_arch".deb "$root/x"
  mv "$root/x/bin/busybox" "$root/bin/busybox" 2>/dev/null || mv "$root/x/usr/bin/busybox" "$root/bin/busybox"
  rm -rf "$root/x"
  for a in $applets; do [ "$a" = busybox ] || ln -sf busybox "$root/bin/$a"; done
}

build_dir=$(mktemp -d)
trap 'rm -rf "$build_dir"' EXIT
applets=$(/bin/busybox --list)

# push_image NAME WANT BUILDX_ARGS...: builds for several platforms and pushes; records WANT.
push_image() {
  local name=$1 want=$2
  shift 2
  docker buildx build --builder default --quiet --provenance=false \
    --output "type=image,name=$name,push=true" "$@" >/dev/null
  local key=${want%%[ =]*}
  { grep -v "^$key[ =]" "$want_file" 2>/dev/null || true; echo "$want"; } >"$want_file.tmp"
  mv "$want_file.tmp" "$want_file"
}

if ! current "$busybox_want" "${BUSYBOX_IMAGE#*/}"; then
  log "fetching busybox-static for ${#PLATFORMS[@]} architectures"
  pkgs=()
  for p in "${PLATFORMS[@]}"; do pkgs+=("busybox-static:${p#*:}"); done
  fetch_debs "${pkgs[@]}"
  platforms=()
  for p in "${PLATFORMS[@]}"; do
    docker_arch=${p%%:*} deb_arch=${p#*:}
    root="$build_dir/rootfs-${docker_arch//\//}"
    busybox_root "$deb_arch" "$root"
    mkdir -p "$root/tmp" "$root/etc" "$root/root"
    echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
    echo 'root:x:0:' >"$root/etc/group"
    platforms+=("linux/$docker_arch")
  done
  cat >"$build_dir/Dockerfile" <<'DF'
FROM scratch
ARG TARGETARCH
ARG TARGETVARIANT
COPY rootfs-${TARGETARCH}${TARGETVARIANT}/ /
ENV PATH=/bin
CMD ["/bin/sh"]
DF
  log "building $BUSYBOX_IMAGE for ${platforms[*]}"
  push_image "$BUSYBOX_IMAGE" "$busybox_want" --platform "$(join_by , "${platforms[@]}")" "$build_dir"
fi

if ! current "$go_want" "${GO_IMAGE#*/}"; then
  go_arches=()
  for p in "${GO_PLATFORMS[@]}"; do
    deb_arch=${p#*:}
    pkgs=("busybox-static:$deb_arch")
    [ "$deb_arch" = "$host_arch" ] || pkgs+=("$go_pkg:$deb_arch=$go_version")
    # A foreign toolchain of exactly the host's version may be missing from the indexes read:
    # the image is then made without that platform, and the next run tries again.
    if fetch_debs "${pkgs[@]}"; then
      go_arches+=("$p")
    else
      log "WARNING: no $go_pkg $go_version for $deb_arch: $GO_IMAGE is made without linux/${p%%:*} (npm run bench needs it)"
    fi
  done
  go_platforms=()
  for p in "${go_arches[@]}"; do go_platforms+=("linux/${p%%:*}"); done
  log "building $GO_IMAGE ($go_pkg $go_version) for ${go_platforms[*]}"
  ctx="$build_dir/go"
  # Shared by every platform: users, directories.
  mkdir -p "$ctx/common/etc" "$ctx/common/tmp" "$ctx/common/root" "$ctx/common/src"
  chmod 1777 "$ctx/common/tmp"
  echo 'root:x:0:0:root:/root:/bin/sh' >"$ctx/common/etc/passwd"
  echo 'root:x:0:' >"$ctx/common/etc/group"
  for p in "${go_arches[@]}"; do
    docker_arch=${p%%:*} deb_arch=${p#*:}
    root="$ctx/rootfs-$docker_arch"
    busybox_root "$deb_arch" "$root"
    mkdir -p "$root/usr/lib"
    if [ "$deb_arch" = "$host_arch" ]; then
      # GOROOT as Debian lays it out: bin/, pkg/tool/ here, symlinks into /usr/share/go-1.27.
      cp -a "$goroot" "$root/usr/lib/"
    else
      dpkg-deb -x "$apt_dir/debs/${go_pkg}_${go_deb_version}_$deb_arch.deb" "$root/x"
      mv "$root/x/usr/lib/$go_name" "$root/usr/lib/"
      # The few generated files the -go package puts into /usr/share/go-1.27 (over the host's).
      mkdir -p "$root/usr/share"
      mv "$root/x/usr/share/$go_name" "$root/usr/share/"
      rm -rf "$root/x"
    fi
    ln -s "$go_name" "$root/usr/lib/go"
    if [ "$deb_arch" = "$host_arch" ]; then
      # The libc the host's toolchain binaries link, should they be dynamic (Debian's are static).
      for f in "$goroot/bin/go" "$goroot/pkg/tool/"*/*; do
        ldd "$f" 2>/dev/null | awk '/=>/ {print $3} /ld-linux/ {print $1}' || true
      done | sort -u | while read -r lib; do
        if [ -e "$lib" ]; then cp --parents -L "$lib" "$root" || true; fi
      done
    fi
  done
  cat >"$ctx/Dockerfile" <<DF
FROM scratch
COPY --from=goshare / /usr/share/$go_name/
COPY common/ /
ARG TARGETARCH
COPY rootfs-\${TARGETARCH}/ /
ENV PATH=/usr/lib/go/bin:/bin GOTOOLCHAIN=local GOFLAGS=-mod=mod HOME=/root GOPROXY=off
WORKDIR /src
DF
  complete=$go_want
  [ ${#go_arches[@]} = ${#GO_PLATFORMS[@]} ] || complete="$go_want (partial)"
  push_image "$GO_IMAGE" "$complete" --no-cache --build-context "goshare=$go_share" \
    --platform "$(join_by , "${go_platforms[@]}")" "$ctx"
fi
log "base images ready: $BUSYBOX_IMAGE $GO_IMAGE"
