#!/usr/bin/env bash
# README command 2: install what is missing, build, and run the whole test
# suite with ctest.
#   tools/test.sh                               the normal build, in build/
#   tools/test.sh --sanitize address,undefined  an instrumented build, in
#                                               build-sanitize/
#   tools/test.sh --sanitize thread             ThreadSanitizer, in build-tsan/:
#                                               only the tests labelled tsan
#                                               (docs/reliability.md)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=$root/build
build_args=()
cmake_args=()
tsan=false
if [ "${1:-}" = "--sanitize" ]; then
  [ -n "${2:-}" ] || { echo "test.sh: --sanitize needs a list, e.g. address,undefined" >&2; exit 2; }
  build_dir=$root/build-sanitize
  cmake_args=(-DIPC_SANITIZE="$2" -DCMAKE_BUILD_TYPE=Debug)
  if [[ ",$2," == *,thread,* ]]; then
    tsan=true
    build_dir=$root/build-tsan
    build_args=(--target tsan_tests)
  fi
elif [ -n "${1:-}" ]; then
  echo "usage: tools/test.sh [--sanitize address,undefined | --sanitize thread]" >&2
  exit 2
fi

bash "$root/tools/build.sh" "${build_args[@]}" "$build_dir" "${cmake_args[@]}"
cd "$build_dir"
if ! $tsan; then
  ctest -j "$(nproc)" --output-on-failure --timeout 300
  exit
fi

# Every process the tests start (forked children and ipcd too) stops at its
# first report and writes it to tsan-reports/report.<pid>. ipcd's stderr
# goes to files the tests mostly do not show, and a test may never look at
# how a daemon it killed exited: so any report file fails the run, whatever
# ctest says. Options already in TSAN_OPTIONS come after ours and win.
reports=$build_dir/tsan-reports
rm -rf "$reports"
mkdir -p "$reports"
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$root/tests/tsan.supp:log_path=$reports/report${TSAN_OPTIONS:+:$TSAN_OPTIONS}"
status=0
ctest -j "$(nproc)" --output-on-failure --timeout 300 -L '^tsan$' || status=$?
if [ -n "$(ls -A "$reports")" ]; then
  echo "test.sh: ThreadSanitizer reports (tests/tsan.supp says what may be suppressed):" >&2
  for f in "$reports"/*; do
    echo "--- $f" >&2
    cat "$f" >&2
  done
  [ "$status" -ne 0 ] || status=1
fi
exit "$status"
