#!/usr/bin/env bash
# Zero-copy large messages: a stream of SIZE-byte messages over shm:// in
# which the sender writes every byte of each message and the receiver reads
# every byte (ipc-bench --touch), once with Send/Receive and once with
# Loan/Commit and ReceiveView (--views), alternating ROUNDS times in one
# run; prints the medians and their ratio (docs/benchmarks.md, "Zero-copy").
#   bench/run_views.sh [BIN_DIR] [COUNT]
# Environment: ROUNDS (default 5), SIZES (default "1M 256K 16K"), CAPACITY
# (the ring, default 4M: a message is lent in place up to half of it).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=${1:-$root/build/bin}
count=${2:-3000}
rounds=${ROUNDS:-5}
sizes=${SIZES:-1M 256K 16K}
capacity=${CAPACITY:-4M}
[ -x "$bin/ipc-bench" ] || { echo "run_views: no $bin/ipc-bench; build first" >&2; exit 2; }
echo "run_views: $(nproc) CPUs, kernel $(uname -r), $(date -u +%FT%TZ), ring $capacity" >&2

rate() {  # SIZE [--views]: bytes per second of one run
  "$bin/ipc-bench" --url "shm://ipc-views-$$?capacity=$capacity" --mode stream --size "$1" \
    --count "$count" --touch --json "${@:2}" |
    python3 -c 'import json, sys; print(int(json.load(sys.stdin)["bytes_per_s"]))'
}

printf '%-8s %16s %16s %8s\n' size "copy MB/s" "views MB/s" ratio
for size in $sizes; do
  copies=() views=()
  for _ in $(seq "$rounds"); do
    copies+=("$(rate "$size")")
    views+=("$(rate "$size" --views)")
  done
  python3 - "$size" "${copies[*]}" "${views[*]}" <<'PY'
import statistics, sys
size, copies, views = sys.argv[1], sys.argv[2].split(), sys.argv[3].split()
c = statistics.median(map(int, copies))
v = statistics.median(map(int, views))
print(f"{size:8s} {c / 1e6:16.0f} {v / 1e6:16.0f} {v / c:8.2f}")
PY
done
