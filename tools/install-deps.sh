#!/usr/bin/env bash
# Installs the Debian 12 packages libipc and ipcd need to build, test and
# benchmark, and only those that are missing. Safe to run any number of times.
# Needs root (or sudo) only when something is actually missing.
set -euo pipefail

packages=(
  cmake g++ make ninja-build pkg-config
  libboost-dev
  libhiredis-dev redis-server redis-tools
  libzmq3-dev cppzmq-dev
  libprotobuf-dev protobuf-compiler
  libgtest-dev libgmock-dev libbenchmark-dev
  libsystemd-dev libssl-dev
  iproute2 python3 python3-protobuf python3-pytest
  clang libclang-rt-14-dev
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}" >&2
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo_cmd=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
