#!/usr/bin/env bash
# The demo behind README command 1, run after the build: the same sender and
# receiver programs over every channel transport, then ipcd on its default
# socket with scenario S8 run against it; one line per step saying what
# happened.
#   tools/demo.sh [BIN_DIR]      (default: build/bin next to this script)
# Works in a private temporary directory and removes all it made. Exits
# non-zero if an ipcd step failed or a reliable transport lost, reordered or
# refused anything
# (udp is best effort: a loss there is reported, not failed). Every program
# runs under `timeout`, so the demo cannot hang.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=${1:-$root/build/bin}
for program in sender receiver; do
  [ -x "$bin/$program" ] || { echo "demo: no $bin/$program; build first" >&2; exit 2; }
done
work=$(mktemp -d "${TMPDIR:-/tmp}/ipc-demo.XXXXXX")
receiver_pid=
cleanup() {
  [ -n "$receiver_pid" ] && kill "$receiver_pid" 2>/dev/null
  [ -n "${ipcd_pid:-}" ] && kill "$ipcd_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
name="ipc-demo-$$"  # For names that live outside $work (abstract, shm, mq).
count=5
seq -f "message %g" 1 $count > "$work/messages"
T=(timeout -k 1 10)
failures=0

# report LABEL RELIABLE SENDER_OK: one line on what arrived, compared with
# what was sent; the programs' own error lines follow, indented.
report() {
  local label=$1 reliable=$2 sender_ok=$3 got verdict
  got=$(grep -c '' "$work/got")
  if [ "$sender_ok" = yes ] && cmp -s "$work/messages" "$work/got"; then
    verdict="sent $count, received $got in order  OK"
  elif [ "$reliable" = no ] && [ "$sender_ok" = yes ]; then
    verdict="sent $count, received $got (best effort: losses allowed)  OK"
  else
    verdict="sent $([ "$sender_ok" = yes ] && echo $count || echo "?"), received $got  FAILED"
    failures=$((failures + 1))
  fi
  printf '  %-46s %s\n' "$label" "$verdict"
  sed 's/^/      /' "$work/errors"
}

# run_pair URL [RELIABLE]: receiver first, then the sender, on the URL the
# receiver reports (for tcp/udp port 0, the port the system chose).
run_pair() {
  local url=$1 reliable=${2:-yes} sender_ok=yes i
  : > "$work/got"
  : > "$work/errors"
  rm -f "$work/url"
  "${T[@]}" "$bin/receiver" "$url" --count $count --timeout 3 --print-url \
    > "$work/got" 2> "$work/url" &
  receiver_pid=$!
  # The receiver prints its URL once it listens. The sender would wait for
  # it anyway, except on udp, where datagrams sent too early are lost.
  for ((i = 0; i < 300; i++)); do
    [ -s "$work/url" ] && break
    kill -0 "$receiver_pid" 2>/dev/null || break
    sleep 0.01
  done
  local target
  target=$(head -n 1 "$work/url" 2> /dev/null)
  [[ $target == *://* && $target != receiver:* ]] || target=$url
  "${T[@]}" "$bin/sender" "$target" < "$work/messages" 2>> "$work/errors" || sender_ok=no
  wait "$receiver_pid"
  receiver_pid=
  grep -vxF -- "$target" "$work/url" >> "$work/errors"
  report "$target" "$reliable" "$sender_ok"
}

echo "libipc demo: sender -> receiver over every transport, $count messages each"

# pipe: the shell's pipe between the two programs is the channel.
: > "$work/errors"
sender_ok=yes
"${T[@]}" "$bin/sender" 'pipe:?wfd=1' < "$work/messages" 2>> "$work/errors" |
  "${T[@]}" "$bin/receiver" 'pipe:?rfd=0' > "$work/got" 2>> "$work/errors" || sender_ok=no
report "pipe:  (sender 'pipe:?wfd=1' | receiver 'pipe:?rfd=0')" yes $sender_ok

run_pair "fifo://$work/demo.fifo"
run_pair "unix://$work/demo.sock"
run_pair "unix://@$name"
run_pair "tcp://127.0.0.1:0"
run_pair "shm://$name"
run_pair "mq:///$name"
run_pair "zmq+ipc://$work/demo.zmq"
run_pair "zmq+tcp://127.0.0.1:0"
run_pair "udp://127.0.0.1:0" no

# ---------------------------------------------------------------------------
# ipcd: the daemon on its default socket (no configuration), scenario S8
# against it — 10 processes counting down a shared dict under a lock, then
# with an atomic counter — and a clean SIGTERM shutdown. A daemon already
# running on that socket is used and left running.
echo
echo "ipcd demo: the manager daemon on its default socket"
ipcd_pid=
ipcd_step() {  # ipcd_step LABEL COMMAND...: one line, OK or FAILED + output.
  local label=$1 out
  shift
  if out=$("$@" 2>&1); then
    printf '  %-46s %s  OK\n' "$label" "$(tail -n 1 <<<"$out")"
  else
    printf '  %-46s FAILED\n' "$label"
    sed 's/^/      /' <<<"$out"
    failures=$((failures + 1))
  fi
}
if "${T[@]}" "$bin/ipcctl" stats >/dev/null 2>&1; then
  echo "  (an ipcd is already running on the default socket; using it)"
else
  "$bin/ipcd" 2> "$work/ipcd.log" &
  ipcd_pid=$!
  for ((i = 0; i < 300; i++)); do
    "${T[@]}" "$bin/ipcctl" stats >/dev/null 2>&1 && break
    kill -0 "$ipcd_pid" 2>/dev/null || break
    sleep 0.02
  done
  printf '  %-46s pid %s\n' "ipcd started" "$ipcd_pid"
fi
ipcd_step "S8: 10 processes, dict + lock" "${T[@]}" "$bin/s08_manager_dict"
ipcd_step "S8: 10 processes, atomic counter" "${T[@]}" "$bin/s08_manager_dict" --counter
ipcd_step "ipcctl counter add demo:hits 5" "${T[@]}" "$bin/ipcctl" counter add demo:hits 5
if [ -n "$ipcd_pid" ]; then
  kill -TERM "$ipcd_pid"
  if wait "$ipcd_pid"; then
    printf '  %-46s %s\n' "ipcd stopped by SIGTERM" "exit 0  OK"
  else
    printf '  %-46s %s\n' "ipcd stopped by SIGTERM" "exit $?  FAILED"
    sed 's/^/      /' "$work/ipcd.log"
    failures=$((failures + 1))
  fi
  ipcd_pid=
fi

if [ $failures -ne 0 ]; then
  echo "demo: $failures step(s) FAILED"
  exit 1
fi
echo "demo: all OK"
