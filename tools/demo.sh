#!/usr/bin/env bash
# The demo behind README command 1: the sender/receiver pair over every
# transport, with a line per transport saying what happened.
#   tools/demo.sh [BIN_DIR]      (default: build/bin)
# Uses a private temporary directory; removes everything it made; exits
# non-zero if a reliable transport lost, reordered or refused anything.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=${1:-$root/build/bin}
work=$(mktemp -d "${TMPDIR:-/tmp}/ipc-demo.XXXXXX")
trap 'rm -rf "$work"' EXIT
count=5
messages=$(seq -f "message %g" 1 $count)
failures=0

report() {  # URL RECEIVED_FILE RELIABLE
  local url=$1 got=$2 reliable=$3 n
  n=$(grep -c . "$got" || true)
  if [ "$(cat "$got")" = "$messages" ]; then
    printf '  %-44s sent %d, received %d in order  OK\n' "$url" $count "$n"
  elif [ "$reliable" = no ] && [ "$n" -gt 0 ]; then
    printf '  %-44s sent %d, received %d (best effort)  OK\n' "$url" $count "$n"
  else
    printf '  %-44s sent %d, received %d  FAILED\n' "$url" $count "$n"
    failures=$((failures + 1))
  fi
}

run_pair() {  # URL [RELIABLE]
  local url=$1 reliable=${2:-yes}
  : > "$work/err"
  timeout 20 "$bin/receiver" "$url" --count $count --timeout 5 --print-url \
    > "$work/got" 2> "$work/url" &
  local receiver=$!
  if [ "$reliable" = no ]; then
    # A datagram sent before the receiver is bound is simply lost: wait for
    # the receiver to say where it listens.
    for _ in $(seq 200); do [ -s "$work/url" ] && break; sleep 0.01; done
  fi
  echo "$messages" | timeout 20 "$bin/sender" "$url" 2>> "$work/err"
  wait $receiver
  grep -v "^$url\$" "$work/url" >> "$work/err"
  report "$url" "$work/got" "$reliable"
  [ -s "$work/err" ] && sed 's/^/      /' "$work/err"
}

echo "libipc demo: sender | receiver over every transport ($count messages each)"
echo "$messages" | timeout 20 "$bin/sender" 'pipe:?wfd=1' | timeout 20 "$bin/receiver" 'pipe:?rfd=0' > "$work/got"
report "pipe: (sender 'pipe:?wfd=1' | receiver 'pipe:?rfd=0')" "$work/got" yes
run_pair "fifo://$work/demo.fifo"
run_pair "unix://$work/demo.sock"
run_pair "unix://@ipc-demo-$$"
run_pair "shm://ipc-demo-$$"
run_pair "mq:///ipc-demo-$$"
run_pair "zmq+ipc://$work/demo.zmq"
port2=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
run_pair "zmq+tcp://127.0.0.1:$port2"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
run_pair "tcp://127.0.0.1:$port"
run_pair "udp://127.0.0.1:$port" no

# (ipcd: later steps of the demo start the manager daemon here.)

if [ $failures -ne 0 ]; then
  echo "demo: $failures transport(s) FAILED"
  exit 1
fi
echo "demo: all transports OK"
