#!/usr/bin/env bash
# Runs the action's main job locally on the bundled example, like a runner would: a published
# release (v2.3.1) of fixtures/go-app, two images, three platforms, pushed to the local registry
# of the test environment, using the same dist/ bundle. Then prints where the images are, and ends
# with the job summary (main's and post's) as a person reads it: each image's table and where the
# time went, phase by phase.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
eval "$(bash "$ROOT/scripts/test-env.sh" --print-env)"
# The default engine: the classic image store, as on ubuntu-latest
# (DOCKER_HOST=$GDP_CONTAINERD_HOST for the containerd store).
[ -f "$ROOT/dist/index.js" ] || (cd "$ROOT" && npm run bundle)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
touch "$work/output" "$work/state" "$work/summary"
ns="example-$(date +%s)"
export GITHUB_ACTIONS=true GITHUB_EVENT_NAME=release GITHUB_REF=refs/tags/v2.3.1 \
  GITHUB_EVENT_PATH="$ROOT/__tests__/fixtures/events/release-published.json" \
  GITHUB_SHA=$(git -C "$ROOT" rev-parse HEAD 2>/dev/null || echo 0000000000000000000000000000000000000000) \
  GITHUB_REPOSITORY=example/tunnel GITHUB_SERVER_URL=https://github.com GITHUB_RUN_ID=$$ \
  GITHUB_OUTPUT="$work/output" GITHUB_STATE="$work/state" GITHUB_STEP_SUMMARY="$work/summary" \
  GITHUB_WORKSPACE="$ROOT/fixtures/go-app" RUNNER_TEMP="$work"
export INPUT_IMAGES="
- name: $GDP_REGISTRY/$ns/server
  dockerfile: Dockerfile
  smoke: [\"--version\"]
- name: $GDP_REGISTRY/$ns/web
  dockerfile: Dockerfile.web
  smoke: { args: [\"--version\"], expect: \"^panel v2\\\\.3\\\\.1\" }
"
# Input names with a hyphen are not shell identifiers: pass them with env, as the runner does.
inputs=(INPUT_PLATFORMS=linux/amd64,linux/arm64,linux/riscv64 INPUT_SEMVER-TAGS=true INPUT_CACHE=none
  "INPUT_REGISTRY=$GDP_REGISTRY" "INPUT_USERNAME=$GDP_REGISTRY_USER" "INPUT_PASSWORD=$GDP_REGISTRY_PASSWORD"
  "INPUT_BUILD-ARGS=GO_IMAGE=$GDP_BASE_REGISTRY/gdp/golang:local
BASE_IMAGE=$GDP_BASE_REGISTRY/gdp/busybox:local")
status=0
(cd "$ROOT/fixtures/go-app" && env "${inputs[@]}" node "$ROOT/dist/index.js") || status=$?
# The post step, with the state main saved (as the runner passes it: STATE_<name>; main saves it
# each time it changes, and the runner passes the last value).
state_json=$(awk '/^gdpState<</{getline; s=$0} END{print s}' "$work/state")
(cd "$ROOT/fixtures/go-app" && env "${inputs[@]}" STATE_isPost=true STATE_gdpState="$state_json" node "$ROOT/dist/index.js") >/dev/null || true
echo
echo "== where the images are"
for repo in "$ns/server" "$ns/web"; do
  echo "http://$GDP_REGISTRY/v2/$repo/tags/list: $(curl -fsS -u "$GDP_REGISTRY_USER:$GDP_REGISTRY_PASSWORD" "http://127.0.0.1:${GDP_REGISTRY##*:}/v2/$repo/tags/list")"
done
echo "Pull with: docker login $GDP_REGISTRY -u $GDP_REGISTRY_USER && docker run --rm --platform linux/arm64 $GDP_REGISTRY/$ns/server:v2.3.1"
# The job summary is HTML for the run's page: scripts/summary-text.ts lays it out for a terminal.
"$ROOT/node_modules/.bin/ncc" build "$ROOT/scripts/summary-text.ts" -o "$work/summary-text" --target es2022 --quiet
echo
GDP_SUMMARY_TEXT="$work/summary" node "$work/summary-text/index.js"
exit $status
