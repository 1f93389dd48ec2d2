#!/usr/bin/env bash
# Installs missing Debian packages, then configures and builds libipc, ipcd,
# the tools, examples and tests into BUILD_DIR (default: build).
#   tools/build.sh [BUILD_DIR] [extra cmake -D options...]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${1:-$root/build}
shift || true

bash "$root/tools/install-deps.sh"
cmake -S "$root" -B "$build_dir" -G Ninja "$@" >/dev/null
cmake --build "$build_dir" -j "$(nproc)"
