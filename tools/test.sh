#!/usr/bin/env bash
# README command 2: install what is missing, build, and run the whole test
# suite with ctest.
#   tools/test.sh                               the normal build, in build/
#   tools/test.sh --sanitize address,undefined  an instrumented build, in
#                                               build-sanitize/
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=$root/build
cmake_args=()
if [ "${1:-}" = "--sanitize" ]; then
  [ -n "${2:-}" ] || { echo "test.sh: --sanitize needs a list, e.g. address,undefined" >&2; exit 2; }
  build_dir=$root/build-sanitize
  cmake_args=(-DIPC_SANITIZE="$2" -DCMAKE_BUILD_TYPE=Debug)
elif [ -n "${1:-}" ]; then
  echo "usage: tools/test.sh [--sanitize address,undefined]" >&2
  exit 2
fi

bash "$root/tools/build.sh" "$build_dir" "${cmake_args[@]}"
cd "$build_dir"
ctest -j "$(nproc)" --output-on-failure --timeout 300
