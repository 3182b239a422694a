#!/usr/bin/env bash
# make bench: build the CLI as released and the harness, then run every
# benchmark side by side against an in-process sandbox and print one table.
# Not part of `make test` or CI. Results and the machine: docs/benchmarks.md.
#
# Environment:
#   BENCH_SCALE=1      size factor of the large and monorepo trees (5,000 files /
#                      about 1 GB at 1), the upload (200 MB) and the log volume
#                      (10 MiB); 0.1 is the quick mode
#   BENCH_WAIT=60s     how long a run is kept queued while requests are counted
#                      (the targets are for 60s; other values are reported only)
#   BENCH_ONLY=        comma-separated groups: startup,e2e,logs,wait,upload,pack
#   BENCH_MARKDOWN=    also write the table as Markdown to this file
#   BENCH_KEEP=        keep the scratch directory (trees, slugs) instead of removing it
#
# Quick mode: BENCH_SCALE=0.1 BENCH_WAIT=10s make bench (under a minute; the
# full run takes 6 to 8 minutes).
set -euo pipefail
cd "$(dirname "$0")/.."

install_pkg() { # install_pkg DEBIAN-PACKAGE (root with apt only)
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "bench: installing $1" >&2
    apt-get update -qq && apt-get install -y -qq "$1" >/dev/null
  else
    echo "bench: the Debian package $1 is needed" >&2
    exit 1
  fi
}
command -v curl >/dev/null 2>&1 || install_pkg curl
[ -x /usr/bin/time ] || install_pkg time # GNU time: peak memory of each child

work=$(mktemp -d "${TMPDIR:-/tmp}/tharsis-bench.XXXXXX")
if [ -z "${BENCH_KEEP:-}" ]; then
  trap 'rm -rf "$work"' EXIT
else
  echo "bench: scratch directory kept in $work" >&2
fi

echo "building..." >&2
make --no-print-directory build BIN="$work/bin" >/dev/null
go build -trimpath -o "$work/bin/tharsis-bench" ./cmd/tharsis-bench

args=(all -tharsis "$work/bin/tharsis" -work "$work/run" -scale "${BENCH_SCALE:-1}" -wait "${BENCH_WAIT:-60s}")
[ -n "${BENCH_ONLY:-}" ] && args+=(-only "$BENCH_ONLY")
[ -n "${BENCH_MARKDOWN:-}" ] && args+=(-markdown "$BENCH_MARKDOWN")
mkdir -p "$work/run"
"$work/bin/tharsis-bench" "${args[@]}"
