#!/usr/bin/env bash
# Makes the local base images the fixtures build FROM, since no image can be pulled here:
#   gdp/busybox:local  busybox-static from Debian, one image for each of the 8 platforms
#   gdp/golang:local   Debian's Go toolchain (statically linked) with busybox, for linux/amd64,
#                      linux/arm64 and linux/riscv64: the Go build stage runs under QEMU for the
#                      foreign ones (fixtures/go-app/Dockerfile.qemu), natively for the host's
# Foreign-architecture .debs are fetched through a private apt state (the machine's own apt
# configuration is not touched) and kept in $STATE_DIR/apt/debs. Idempotent: does nothing when
# both images exist and gdp/golang:local carries the label for these platforms and this Go version.
set -euo pipefail
STATE_DIR=${GDP_ENV_DIR:-/var/lib/go-docker-publish-env}
BUSYBOX_IMAGE=gdp/busybox:local
GO_IMAGE=${GDP_GO_IMAGE:-gdp/golang:local}
# docker arch[/variant] → Debian arch
PLATFORMS=(amd64:amd64 arm64:arm64 arm/v7:armhf arm/v6:armel 386:i386 ppc64le:ppc64el s390x:s390x riscv64:riscv64)
GO_PLATFORMS=(amd64:amd64 arm64:arm64 riscv64:riscv64)
GO_LABEL=io.github.go-docker-publish.base-image
log() { printf '[base-images] %s\n' "$*" >&2; }
join_by() { local IFS=$1; shift; echo "$*"; }

# The host's Go: GOROOT (/usr/lib/go-1.24), its Debian package and version. The other
# architectures get the .deb of exactly this version; the arch-independent GOROOT/src, api, lib,
# ... (/usr/share/go-1.24, from golang-1.24-src) are the host's, one layer shared by all platforms.
goroot=$(readlink -f /usr/lib/go)
go_name=$(basename "$goroot")                   # go-1.24
go_pkg="golang-${go_name#go-}-go"               # golang-1.24-go
go_version=$(dpkg-query -W -f='${Version}' "$go_pkg")
go_deb_version=${go_version//:/%3a} # as in .deb file names
go_share="/usr/share/$go_name"
host_arch=$(dpkg --print-architecture)
go_platforms=()
for p in "${GO_PLATFORMS[@]}"; do go_platforms+=("linux/${p%%:*}"); done
go_want="$(join_by , "${go_platforms[@]}") $go_pkg=$go_version"

go_image_current() {
  [ "$(docker image inspect -f "{{index .Config.Labels \"$GO_LABEL\"}}" "$GO_IMAGE" 2>/dev/null)" = "$go_want" ]
}

if docker image inspect "$BUSYBOX_IMAGE" >/dev/null 2>&1 && go_image_current; then
  exit 0
fi

apt_dir="$STATE_DIR/apt"
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/debs"
uri=$(grep -h -m1 '^URIs:' /etc/apt/sources.list.d/debian.sources 2>/dev/null | awk '{print $2}')
[ -n "$uri" ] || uri=$(awk '$1=="deb"{print $2; exit}' /etc/apt/sources.list)
printf 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s trixie main\n' "$uri" >"$apt_dir/sources.list"
apt_opts=(-qq -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache"
  -o "Dir::Etc::SourceList=$apt_dir/sources.list" -o Dir::Etc::SourceParts=/dev/null
  -o Dir::Etc::Preferences=/dev/null -o Dir::Etc::PreferencesParts=/dev/null
  -o APT::Sandbox::User=root)
for p in "${PLATFORMS[@]}"; do apt_opts+=(-o "APT::Architectures::=${p#*:}"); done
apt_updated=
apt_update() { [ -n "$apt_updated" ] || apt-get "${apt_opts[@]}" update; apt_updated=1; }

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
  if [ -z "$apt_updated" ] && ls "$apt_dir/lists/"*_Packages* >/dev/null 2>&1; then
    # The lists we have may be older than the version wanted: update once and retry.
    (cd "$apt_dir/debs" && apt-get "${apt_opts[@]}" download "${want[@]}") 2>/dev/null && return 0
  fi
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

if ! docker image inspect "$BUSYBOX_IMAGE" >/dev/null 2>&1; then
  log "fetching busybox-static for ${#PLATFORMS[@]} architectures"
  apt_update
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
  docker buildx build --builder default --quiet --provenance=false \
    --platform "$(join_by , "${platforms[@]}")" -t "$BUSYBOX_IMAGE" --load "$build_dir" >/dev/null
fi

if ! go_image_current; then
  log "building $GO_IMAGE ($go_pkg $go_version) for ${go_platforms[*]}"
  pkgs=()
  for p in "${GO_PLATFORMS[@]}"; do
    deb_arch=${p#*:}
    [ "$deb_arch" = "$host_arch" ] || pkgs+=("$go_pkg:$deb_arch=$go_version")
    pkgs+=("busybox-static:$deb_arch")
  done
  fetch_debs "${pkgs[@]}"
  ctx="$build_dir/go"
  # Shared by every platform: users, directories.
  mkdir -p "$ctx/common/etc" "$ctx/common/tmp" "$ctx/common/root" "$ctx/common/src"
  chmod 1777 "$ctx/common/tmp"
  echo 'root:x:0:0:root:/root:/bin/sh' >"$ctx/common/etc/passwd"
  echo 'root:x:0:' >"$ctx/common/etc/group"
  for p in "${GO_PLATFORMS[@]}"; do
    docker_arch=${p%%:*} deb_arch=${p#*:}
    root="$ctx/rootfs-$docker_arch"
    busybox_root "$deb_arch" "$root"
    mkdir -p "$root/usr/lib"
    if [ "$deb_arch" = "$host_arch" ]; then
      # GOROOT as Debian lays it out: bin/, pkg/tool/ here, symlinks into /usr/share/go-1.24.
      cp -a "$goroot" "$root/usr/lib/"
    else
      dpkg-deb -x "$apt_dir/debs/${go_pkg}_${go_deb_version}_$deb_arch.deb" "$root/x"
      mv "$root/x/usr/lib/$go_name" "$root/usr/lib/"
      # The few generated files the -go package puts into /usr/share/go-1.24 (over the host's).
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
LABEL $GO_LABEL="$go_want"
DF
  docker buildx build --builder default --quiet --provenance=false --no-cache \
    --build-context "goshare=$go_share" --platform "$(join_by , "${go_platforms[@]}")" \
    -t "$GO_IMAGE" --load "$ctx" >/dev/null
fi
log "base images ready: $BUSYBOX_IMAGE $GO_IMAGE"
