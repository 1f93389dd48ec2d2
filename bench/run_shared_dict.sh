#!/usr/bin/env bash
# ipc::SharedDict beside ipcd's dict (over its unix socket and over shm://)
# and Redis, in one run: get and set of a 3-byte value, one synchronous
# caller each (redis-benchmark -c 1), then two processes at once on the
# same dict (-c 2). Rounds alternate the contenders; prints one JSON line
# per measurement, then the medians and the ratios to Redis.
#   bench/run_shared_dict.sh [BIN_DIR] [ROUNDS]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=${1:-$root/build/bin}
rounds=${2:-3}
for program in ipcd ipcd-bench shared-dict-bench; do
  [ -x "$bin/$program" ] || { echo "run_shared_dict: no $bin/$program; build first" >&2; exit 2; }
done

. "$root/bench/common.sh"
install_redis run_shared_dict || { echo "run_shared_dict: needs redis-server" >&2; exit 2; }
make_work "${TMPDIR:-/tmp}/shared-dict-bench.XXXXXX"

shm_url="shm://shared-dict-bench-$$"
"$bin/ipcd" --socket "$work/ipcd.sock" --listen "$shm_url" 2>"$work/ipcd.log" &
pids+=($!)
redis-server --port 0 --unixsocket "$work/redis.sock" --save '' --appendonly no \
  >"$work/redis.log" 2>&1 &
pids+=($!)
wait_for_socket run_shared_dict "$work/ipcd.sock"
wait_for_socket run_shared_dict "$work/redis.sock"

results=$work/results.jsonl
: >"$results"
row() {  # row NAME COMMAND...: runs COMMAND, tags its JSON line with NAME.
  local name=$1
  shift
  "$@" | python3 -c '
import json, sys
line = sys.stdin.read()
r = json.loads(line) if line.startswith("{") else {}
if not r:  # redis-benchmark --csv
    import csv, io
    rows = list(csv.DictReader(io.StringIO(line)))
    r = {"bench": "redis " + rows[0]["test"], "req_per_s": float(rows[0]["rps"])}
r["row"] = sys.argv[1]
r["req_per_s"] = r.get("req_per_s", r.get("requests_per_s"))
print(json.dumps(r))' "$name" | tee -a "$results"
}

for round in $(seq "$rounds"); do
  for op in get set; do
    row "shared dict $op, 1 process" "$bin/shared-dict-bench" --op $op --requests 2000000
    row "shared dict $op, 2 processes" "$bin/shared-dict-bench" --op $op --processes 2 \
      --requests 2000000
    row "ipcd dict $op, unix, 1 client" "$bin/ipcd-bench" --url "unix://$work/ipcd.sock" \
      --socket-only --op dict-$op --requests 50000
    row "ipcd dict $op, shm, 1 client" "$bin/ipcd-bench" --url "$shm_url" --op dict-$op \
      --requests 50000
    row "redis $op, -c 1" redis-benchmark -s "$work/redis.sock" -t $op -c 1 -n 60000 --csv
    row "redis $op, -c 2" redis-benchmark -s "$work/redis.sock" -t $op -c 2 -n 100000 --csv
  done
done

python3 - "$results" <<'PY'
import json, statistics, sys
rates = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    rates.setdefault(r["row"], []).append(r["req_per_s"])
med = {k: statistics.median(v) for k, v in rates.items()}
print(f"\n{'median of rounds':<36} {'req/s':>12} {'/ redis -c 1':>13}")
for op in ("get", "set"):
    base = med[f"redis {op}, -c 1"]
    for k in [k for k in med if f" {op}," in k]:
        print(f"{k:<36} {med[k]:>12,.0f} {med[k] / base:>12.1f}x")
PY
