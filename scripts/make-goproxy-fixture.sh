#!/usr/bin/env bash
# Remakes the files the tests' module proxy (__tests__/support/module-proxy.ts) serves for the
# private module gdp.example/acme/greet v1.2.0, from its source in
# __tests__/fixtures/goproxy/src/greet/, in the GOPROXY layout (what `GOPROXY=file://DIR` reads):
#   __tests__/fixtures/goproxy/gdp.example/acme/greet/@v/{list, v1.2.0.info, v1.2.0.mod, v1.2.0.zip}
# The .zip is a Go module zip (every entry under gdp.example/acme/greet@v1.2.0/, no directory
# entries) made with Info-ZIP's zip, byte for byte the same on every run: fixed file times (in
# UTC), modes and order, no extra fields (-X). Go's h1: hash covers only the names and contents of
# the files, not the zip's bytes; fixtures/go-private/go.sum holds it (remake that with
# `go mod tidy` against the proxy when the source changes, see __tests__/support/README.md).
# Usage: bash scripts/make-goproxy-fixture.sh   (needs zip)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MODULE=gdp.example/acme/greet # all lower case: its escaped path (!x for X) is the same
VERSION=v1.2.0
TIME=2025-01-01T00:00:00Z
SRC=$ROOT/__tests__/fixtures/goproxy/src/greet
OUT=$ROOT/__tests__/fixtures/goproxy/$MODULE/@v

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/$MODULE@$VERSION" "$OUT"
cp "$SRC/go.mod" "$SRC/greet.go" "$work/$MODULE@$VERSION/"
chmod 644 "$work/$MODULE@$VERSION"/*
TZ=UTC touch -d "$TIME" "$work/$MODULE@$VERSION"/*
rm -f "$OUT/$VERSION.zip"
(cd "$work" && find "$MODULE@$VERSION" -type f | LC_ALL=C sort | TZ=UTC zip -q -X -D -@ "$OUT/$VERSION.zip")
cp "$SRC/go.mod" "$OUT/$VERSION.mod"
printf '{"Version":"%s","Time":"%s"}\n' "$VERSION" "$TIME" >"$OUT/$VERSION.info"
printf '%s\n' "$VERSION" >"$OUT/list"
echo "made $OUT: $(cd "$OUT" && ls | tr '\n' ' ')" >&2
