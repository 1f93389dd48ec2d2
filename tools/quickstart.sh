#!/usr/bin/env bash
# README command 1: install what is missing, build everything, and run the
# demo of the toolkit on its embedded defaults (no config, no root paths).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$root/tools/build.sh" "$root/build"
exec bash "$root/tools/demo.sh" "$root/build/bin"
