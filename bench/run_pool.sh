#!/usr/bin/env bash
# ipc::Pool::Map (pool-bench) against multiprocessing.Pool.map
# (python_pool.py): the same tiny task (square an int), task count, worker
# count and chunksize, in alternating rounds of the same run; each round
# times one map in a pool that already ran it once. Prints each side's min
# and median time and the ratio of the medians, per chunksize: 1, and
# Python's default for map, ceil(TASKS / (4 * WORKERS)).
#   bench/run_pool.sh [BIN_DIR] [TASKS] [WORKERS] [ROUNDS]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=${1:-$root/build/bin}
tasks=${2:-100000}
workers=${3:-$(nproc)}
rounds=${4:-7}
default_chunk=$(( (tasks + 4 * workers - 1) / (4 * workers) ))
for chunk in 1 "$default_chunk"; do
  ours=() py=()
  for _ in $(seq "$rounds"); do
    ours+=("$("$bin/pool-bench" "$tasks" "$workers" "$chunk")")
    py+=("$(python3 "$root/bench/python_pool.py" "$tasks" "$workers" "$chunk")")
  done
  python3 - "$tasks" "$workers" "$chunk" "${#ours[@]}" "${ours[@]}" "${py[@]}" <<'PY'
import json, statistics, sys
tasks, workers, chunk, n = sys.argv[1:5]
rows = [json.loads(line) for line in sys.argv[5:]]
ours = [r["seconds"] for r in rows[:int(n)]]
py = [r["seconds"] for r in rows[int(n):]]
def ms(xs):
    return f"min {min(xs) * 1e3:8.2f} ms  median {statistics.median(xs) * 1e3:8.2f} ms"
print(f"Map of {tasks} tasks, {workers} workers, chunksize {chunk}, {n} rounds:")
print(f"  ipc::Pool::Map            {ms(ours)}")
print(f"  multiprocessing.Pool.map  {ms(py)}")
print(f"  ipc::Pool / multiprocessing.Pool (median time ratio): "
      f"{statistics.median(py) / statistics.median(ours):.1f}x")
PY
done
