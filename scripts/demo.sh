#!/usr/bin/env bash
# The main job end to end on the embedded sandbox: start tharsis-sandbox on a
# free loopback port, plan and apply examples/demo with the real CLI, show the
# run, then stop the sandbox. Run via `make demo` (which builds bin/ first).
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${BIN:-bin}
work=$(mktemp -d)
sandbox_pid=""
cleanup() {
  if [ -n "$sandbox_pid" ]; then kill "$sandbox_pid" 2>/dev/null || true; wait "$sandbox_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

"$BIN/tharsis-sandbox" --port 0 --job-duration "${JOB_DURATION:-1s}" >"$work/sandbox.out" 2>&1 &
sandbox_pid=$!

# Wait for the sandbox to print its endpoint and token.
for _ in $(seq 1 100); do
  grep -q '^export THARSIS_ENDPOINT=' "$work/sandbox.out" 2>/dev/null && break
  if ! kill -0 "$sandbox_pid" 2>/dev/null; then cat "$work/sandbox.out" >&2; echo "tharsis-sandbox did not start" >&2; exit 1; fi
  sleep 0.1
done
eval "$(grep '^export THARSIS_ENDPOINT=' "$work/sandbox.out")"
export THARSIS_CONFIG_DIR="$work/config" # leave the user's ~/.tharsis alone
echo "== sandbox at $THARSIS_ENDPOINT"

echo "== tharsis whoami"
"$BIN/tharsis" whoami

echo "== tharsis plan sandbox/demo (speculative)"
"$BIN/tharsis" plan sandbox/demo --directory-path examples/demo --no-color

echo "== tharsis apply sandbox/demo --auto-approve"
"$BIN/tharsis" apply sandbox/demo --directory-path examples/demo --auto-approve --no-color

echo "== tharsis run list sandbox/demo"
"$BIN/tharsis" run list sandbox/demo --limit 5

echo "== tharsis apply again: no changes"
"$BIN/tharsis" apply sandbox/demo --directory-path examples/demo --auto-approve --no-color -o json | head -20

echo "== demo finished: the sandbox stops now"
