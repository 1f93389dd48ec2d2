#!/usr/bin/env bash
# Installs missing Debian packages, then configures and builds libipc, ipcd,
# the tools, examples and tests into BUILD_DIR (default: build).
#   tools/build.sh [--target NAME] [BUILD_DIR] [extra cmake -D options...]
# --target builds only NAME and what it needs (e.g. tsan_tests).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
target=()
if [ "${1:-}" = "--target" ]; then
  [ -n "${2:-}" ] || { echo "build.sh: --target needs a name" >&2; exit 2; }
  target=(--target "$2")
  shift 2
fi
build_dir=${1:-$root/build}
shift || true

bash "$root/tools/install-deps.sh"
cmake -S "$root" -B "$build_dir" -G Ninja "$@" >/dev/null
cmake --build "$build_dir" -j "$(nproc)" "${target[@]}"
