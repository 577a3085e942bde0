#!/usr/bin/env bash
# Makes the local base images the fixtures build FROM, since no image can be pulled here:
#   gdp/busybox:local  busybox-static from Debian, one image for each of the 8 platforms
#   gdp/golang:local   Debian's Go toolchain with the libc it links, for the native platform
# Foreign-architecture .debs are fetched through a private apt state (the machine's own apt
# configuration is not touched). Idempotent: does nothing when both images exist.
set -euo pipefail
STATE_DIR=${GDP_ENV_DIR:-/var/lib/go-docker-publish-env}
BUSYBOX_IMAGE=gdp/busybox:local
GO_IMAGE=gdp/golang:local
# docker arch[/variant] → Debian arch
PLATFORMS=(amd64:amd64 arm64:arm64 arm/v7:armhf arm/v6:armel 386:i386 ppc64le:ppc64el s390x:s390x riscv64:riscv64)
log() { printf '[base-images] %s\n' "$*" >&2; }

if docker image inspect "$BUSYBOX_IMAGE" >/dev/null 2>&1 && docker image inspect "$GO_IMAGE" >/dev/null 2>&1; then
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

build_dir=$(mktemp -d)
trap 'rm -rf "$build_dir"' EXIT

if ! docker image inspect "$BUSYBOX_IMAGE" >/dev/null 2>&1; then
  log "fetching busybox-static for ${#PLATFORMS[@]} architectures"
  apt-get "${apt_opts[@]}" update
  pkgs=()
  for p in "${PLATFORMS[@]}"; do
    deb_arch=${p#*:}
    ls "$apt_dir/debs"/busybox-static_*_"$deb_arch".deb >/dev/null 2>&1 || pkgs+=("busybox-static:$deb_arch")
  done
  if [ ${#pkgs[@]} -gt 0 ]; then (cd "$apt_dir/debs" && apt-get "${apt_opts[@]}" download "${pkgs[@]}"); fi
  applets=$(/bin/busybox --list)
  platforms=()
  for p in "${PLATFORMS[@]}"; do
    docker_arch=${p%%:*} deb_arch=${p#*:}
    root="$build_dir/rootfs-${docker_arch//\//}"
    mkdir -p "$root/x" "$root/bin" "$root/tmp" "$root/etc" "$root/root"
    dpkg-deb -x "$apt_dir/debs"/busybox-static_*_"$deb_arch".deb "$root/x"
    mv "$root/x/bin/busybox" "$root/bin/busybox" 2>/dev/null || mv "$root/x/usr/bin/busybox" "$root/bin/busybox"
    rm -rf "$root/x"
    for a in $applets; do [ "$a" = busybox ] || ln -s busybox "$root/bin/$a"; done
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
    --platform "$(IFS=,; echo "${platforms[*]}")" -t "$BUSYBOX_IMAGE" --load "$build_dir" >/dev/null
fi

if ! docker image inspect "$GO_IMAGE" >/dev/null 2>&1; then
  goroot=$(readlink -f /usr/lib/go)
  log "importing $GO_IMAGE from $goroot"
  root="$build_dir/go-rootfs"
  mkdir -p "$root/bin" "$root/usr/lib" "$root/tmp" "$root/etc" "$root/root" "$root/src"
  # Debian links parts of GOROOT into /usr/share/go-*: copy what the links point to.
  cp -aL "$goroot" "$root/usr/lib/"
  ln -s "$(basename "$goroot")" "$root/usr/lib/go"
  cp /bin/busybox "$root/bin/busybox"
  for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -sf busybox "$root/bin/$a"; done
  # The libc the toolchain's binaries link (Debian's go and its tools may be dynamic).
  for f in "$goroot/bin/go" "$goroot/pkg/tool/"*/*; do
    ldd "$f" 2>/dev/null | awk '/=>/ {print $3} /ld-linux/ {print $1}' || true
  done | sort -u | while read -r lib; do
    [ -e "$lib" ] && cp --parents -L "$lib" "$root" || true
  done
  echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
  echo 'root:x:0:' >"$root/etc/group"
  tar -C "$root" -c . | docker import \
    --change 'ENV PATH=/usr/lib/go/bin:/bin' --change 'ENV GOTOOLCHAIN=local' \
    --change 'ENV GOFLAGS=-mod=mod' --change 'ENV HOME=/root' --change 'ENV GOPROXY=off' \
    --change 'WORKDIR /src' - "$GO_IMAGE" >/dev/null
fi
log "base images ready: $BUSYBOX_IMAGE $GO_IMAGE"
