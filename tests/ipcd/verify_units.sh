#!/bin/sh
# Checks systemd/ipcd.service.in and ipcd.socket with `systemd-analyze
# verify`, with ExecStart pointing at the ipcd just built. Any warning
# fails the test. Exits 77 (skipped) where systemd-analyze is missing.
# Usage: verify_units.sh SOURCE_DIR IPCD_BINARY WORK_DIR
set -eu
src=$1 ipcd=$2 work=$3
if ! command -v systemd-analyze >/dev/null 2>&1; then
  echo "skipped: systemd-analyze is not installed"
  exit 77
fi
rm -rf "$work" && mkdir -p "$work"
bindir=$(dirname "$ipcd")
sed -e "s|@CMAKE_INSTALL_FULL_BINDIR@|$bindir|" \
    -e "s|@CMAKE_INSTALL_FULL_DOCDIR@|$src/docs|" \
    "$src/systemd/ipcd.service.in" > "$work/ipcd.service"
cp "$src/systemd/ipcd.socket" "$work/ipcd.socket"
if grep -n '@[A-Z_]*@' "$work/ipcd.service"; then
  echo "unsubstituted variable in ipcd.service.in"
  exit 1
fi
status=0
out=$(systemd-analyze verify "$work/ipcd.service" "$work/ipcd.socket" 2>&1) || status=$?
if [ "$status" -ne 0 ] || [ -n "$out" ]; then
  echo "systemd-analyze verify (exit $status):"
  echo "$out"
  exit 1
fi
echo "ipcd.service and ipcd.socket verified"
