#!/usr/bin/env bash
# Runs ipc-bench over every transport with --baseline and prints a markdown
# table of channel vs raw mechanism, measured in the same run.
#   bench/run_channels.sh [BIN_DIR] [COUNT] > table.md
# JSON lines are kept in $OUT_JSON (default: bench-results.jsonl in a temp dir).
# ONLY=REGEX keeps the URLs that match it, e.g. ONLY='^(shm|zmq)'.
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
run() {  # URL MODE SIZE COUNT [EXTRA FLAGS]
  "$bin/ipc-bench" --url "$1" --mode "$2" --size "$3" --count "$4" --baseline --json "${@:5}" >> "$out" \
    || echo "run_channels: $1 $2 $3 failed" >&2
}
for url in "${urls[@]}"; do
  [[ -n ${ONLY:-} && ! $url =~ $ONLY ]] && continue
  run "$url" pingpong 64 "$count"
  run "$url" pingpong 4096 "$count"
  run "$url" stream 64 $((count * 4))
  case $url in udp:*|mq:*) ;; *) run "$url" stream 65536 $((count / 10)) ;; esac
  # The shm 1 MiB row also measures the floor (cache-line round trip, and a
  # 1 MiB single-thread memcpy) in the same run, for the memcpy ratio.
  case $url in
    shm:*) run "$url" stream 1M 3000 --floor ;;
    unix:*|pipe:*) run "$url" stream 1M 2000 ;;
  esac
done
python3 "$root/bench/make_table.py" < "$out"
