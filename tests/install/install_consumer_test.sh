#!/usr/bin/env bash
# Installs the build tree into a temporary prefix, then builds and runs a tiny
# program against it twice: with find_package(libipc) and with pkg-config.
set -euo pipefail
build_dir=$1
consumer_src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cmake --install "$build_dir" --prefix "$work/prefix" >/dev/null

cmake -S "$consumer_src" -B "$work/cmake-build" -G Ninja \
  -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/cmake-build" >/dev/null
out=$("$work/cmake-build/consumer")
[ "$out" = "consumer: ping" ] || { echo "find_package consumer printed: $out"; exit 1; }

pc_dir=$(dirname "$(find "$work/prefix" -name libipc.pc | head -n1)")
flags=$(PKG_CONFIG_PATH="$pc_dir" pkg-config --cflags --libs libipc)
# shellcheck disable=SC2086
g++ -std=c++20 "$consumer_src/main.cc" -o "$work/consumer-pc" $flags
out=$("$work/consumer-pc")
[ "$out" = "consumer: ping" ] || { echo "pkg-config consumer printed: $out"; exit 1; }
echo "install_consumer: find_package and pkg-config consumers OK"
