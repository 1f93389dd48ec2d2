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
py = json.loads(sys.argv[2])
q = next(r for r in ours if r["bench"].startswith("queue stream"))
print(f"ipc::Queue / multiprocessing.Queue (64 B stream): {q['items_per_s'] / py['items_per_s']:.1f}x")
PY
