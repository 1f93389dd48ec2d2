#!/usr/bin/env bash
# Runs sync-bench and the Python multiprocessing.Queue comparison in one go
# and prints the JSON lines plus the Queue ratio.
#   bench/run_sync.sh [BIN_DIR] [ITEMS]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=${1:-$root/build/bin}
items=${2:-200000}
ours=$("$bin/sync-bench" --items "$items")
echo "$ours"
py=$(python3 "$root/bench/python_queue.py" "$items")
echo "$py"
python3 - "$ours" "$py" <<'PY'
import json, sys
ours = [json.loads(l) for l in sys.argv[1].splitlines()]
py = [json.loads(l) for l in sys.argv[2].splitlines()]
def get(rows, prefix):
    return next(r for r in rows if r["bench"].startswith(prefix))
q, pq = get(ours, "queue stream"), get(py, "multiprocessing.Queue stream")
print(f"ipc::Queue / multiprocessing.Queue (64 B stream): {q['items_per_s'] / pq['items_per_s']:.1f}x")
r, pr = get(ours, "queue round trip"), get(py, "multiprocessing.Queue round trip")
print(f"multiprocessing.Queue / ipc::Queue (64 B round trip time): {pr['rtt_us'] / r['rtt_us']:.1f}x")
PY
