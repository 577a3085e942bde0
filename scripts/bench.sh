#!/usr/bin/env bash
# npm run bench: sets up the test environment (scripts/test-env.sh), bundles scripts/bench.ts with
# ncc into a temporary directory and runs it. Uses the committed dist/index.js (no npm run bundle).
# Progress goes to stderr, the machine, the Markdown table and the total wall time to stdout.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export BENCH_T0_MS=$(($(date +%s%N) / 1000000))
bash "$ROOT/scripts/test-env.sh" >&2
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$ROOT/node_modules/.bin/ncc" build "$ROOT/scripts/bench.ts" -o "$out" --target es2022 --quiet >&2
cd "$ROOT"
# The engine with the containerd image store (the bench's rows build several platforms with the
# docker driver).
export DOCKER_HOST=${GDP_CONTAINERD_HOST:-unix:///var/run/gdp-containerd/docker.sock}
GDP_ROOT="$ROOT" node "$out/index.js" "$@"
