#!/usr/bin/env bash
# Long shm:// streams, many times over, with and without spinning: every run
# must finish. A run that outlives its timeout is a lost wake-up (both ends
# asleep with data pending) and is counted as a hang.
#   tests/soak/shm_stream_soak.sh [BUILD_DIR] [RUNS] [MESSAGES]
# Defaults: build, 200 runs, 2,000,000 64-byte messages per run.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${1:-$root/build}
runs=${2:-200}
count=${3:-2000000}
bench=$build/bin/ipc-bench
[ -x "$bench" ] || { echo "shm_stream_soak: $bench not built" >&2; exit 2; }

status=0
for options in "?spin_us=0" "" "?spin_us=0&capacity=4K" "?capacity=4K"; do
  hangs=0 failures=0
  for ((i = 0; i < runs; i++)); do
    url="shm://soak-$$-$i$options"
    timeout 60 "$bench" --url "$url" --mode stream --size 64 --count "$count" >/dev/null 2>&1
    rc=$?
    if [ $rc -eq 124 ]; then hangs=$((hangs + 1)); elif [ $rc -ne 0 ]; then failures=$((failures + 1)); fi
  done
  printf 'shm stream %-26s runs %4d x %d messages: hangs %d, failures %d\n' \
    "'${options:-default}'" "$runs" "$count" "$hangs" "$failures"
  [ $hangs -eq 0 ] && [ $failures -eq 0 ] || status=1
done
exit $status
