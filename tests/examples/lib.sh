# Shared by the example tests, which run the example programs as real,
# separate processes and check what they print. Source it with the bin
# directory as $1:   source "$(dirname "$0")/lib.sh" "$1"
#
# Rules every test here keeps:
#  - every process runs under `timeout`, so nothing can hang the suite;
#  - every path, name and port is private to this run (a mktemp directory,
#    names with the pid in them, port 0 or a probed port with retry);
#  - no sleep stands in for "the other side is ready": a test waits for a
#    line the program prints once it is (receiver --print-url, sender
#    --verbose, ...), and otherwise relies on Connect's own deadline.
set -euo pipefail

bin=${1:?usage: $0 BIN_DIR ...}
work=$(mktemp -d "${TMPDIR:-/tmp}/ipc-example-test.XXXXXX")
uniq="ipc-ex-$$-$RANDOM"  # For abstract socket, shm and mq names.
pids=()                   # Background processes to stop on exit.
# 20 s per process: ample for a loaded machine, and well inside ctest's
# TIMEOUT so a stuck program is reported by the test, not by ctest.
T=(timeout -k 2 20)

cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# wait_for PID FILE TEXT: waits until FILE holds TEXT, a line process PID
# prints once it is ready. Fails when PID exits without printing it, or
# after 10 s. (The short sleeps only pace the polling of FILE.)
wait_for() {
  local pid=$1 file=$2 text=$3 i
  for ((i = 0; i < 500; i++)); do
    grep -qF -- "$text" "$file" 2>/dev/null && return 0
    if ! kill -0 "$pid" 2>/dev/null; then
      grep -qF -- "$text" "$file" 2>/dev/null && return 0
      fail "process $pid exited before printing '$text'; it printed: $(cat "$file" 2>/dev/null)"
    fi
    sleep 0.02
  done
  fail "no '$text' in $file after 10 s"
}

# free_port: a TCP port on 127.0.0.1 that nothing listens on right now, for
# tests where the connecting side must know the port before the listener
# exists. Below the kernel's ephemeral range (32768+), so outgoing
# connections do not take it meanwhile; a listener can still lose it to
# another test, so callers retry when it reports "in use".
free_port() {
  local port
  while :; do
    port=$((20000 + RANDOM % 12000))
    # A connect that fails means nobody listens there.
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return
    fi
  done
}

# same_lines FILE EXPECTED WHAT: FILE must hold exactly EXPECTED.
same_lines() {
  local got
  got=$(cat "$1")
  [ "$got" = "$2" ] || fail "$3: expected:
$2
got:
$got"
}
