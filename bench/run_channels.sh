#!/usr/bin/env bash
# Runs ipc-bench over every transport with --baseline and prints a markdown
# table of channel vs raw mechanism, measured in the same run.
#   bench/run_channels.sh [BIN_DIR] [COUNT] > table.md
# JSON lines are kept in $OUT_JSON (default: bench-results.jsonl in a temp dir).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=${1:-$root/build/bin}
count=${2:-50000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
out=${OUT_JSON:-$work/bench-results.jsonl}
: > "$out"

urls=(pipe: "fifo://$work/bench.fifo" "unix://$work/bench.sock" "unix://@ipc-bench-$$"
      tcp://127.0.0.1:0 udp://127.0.0.1:0 "shm://ipc-bench-$$" "mq:///ipc-bench-$$"
      "zmq+ipc://$work/bench.zmq" zmq+tcp://127.0.0.1:0)
run() {  # URL MODE SIZE COUNT
  "$bin/ipc-bench" --url "$1" --mode "$2" --size "$3" --count "$4" --baseline --json >> "$out" \
    || echo "run_channels: $1 $2 $3 failed" >&2
}
for url in "${urls[@]}"; do
  run "$url" pingpong 64 "$count"
  run "$url" pingpong 4096 "$count"
  run "$url" stream 64 $((count * 4))
  case $url in udp:*|mq:*) ;; *) run "$url" stream 65536 $((count / 10)) ;; esac
  case $url in shm:*|unix:*|pipe:*) run "$url" stream 1M 2000 ;; esac
done
"$bin/ipc-bench" --url "shm://ipc-bench-floor-$$" --size 64 --count 1000 --floor --json >> "$out"
python3 "$root/bench/make_table.py" < "$out"
