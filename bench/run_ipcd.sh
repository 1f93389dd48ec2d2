#!/usr/bin/env bash
# ipcd beside Redis and Python's multiprocessing.Manager, in one run on one
# machine, reported as ratios (docs/benchmarks.md, "ipcd").
#   bench/run_ipcd.sh [BIN_DIR] [REQUESTS]
#
# Starts a private ipcd and a private redis-server, each on a unix socket in
# a temporary directory (no TCP, no persistence; the ipcd also listens on
# shm://, and the ipcd rows run over both), then runs the same shapes
# of load against both: one synchronous client, 50 clients, 50 clients with
# 16 requests in flight each (redis-benchmark -P 16; ipcd-bench --pipeline
# 16) and batches of 16 calls (ipcd-bench --batch 16; Redis has MULTI, which
# redis-benchmark does not drive, so that row has no Redis figure). Python's
# Manager runs its usual idiom, `with lock: d['count'] += 1`. ipcd-bench uses
# the Manager's defaults (a synchronous client polls up to 20 us for its
# reply before sleeping, backing off when that does not pay); the rows marked
# "reply_spin 0" turn that off.
#
# Installs redis-server and redis-tools from Debian when they are missing
# (needs root or sudo); without them the Redis rows are skipped.
# Prints one JSON line per measurement, then a table of ratios.
# With --state-dir (the durable state log) against Redis with an append-only
# file: bench/run_ipcd_state.sh.
#
# The same Manager on Redis (ipcd-bench --url redis+unix://...: each call one
# FCALL of the Manager's function, docs/redis.md) runs beside raw
# redis-benchmark doing the nearest plain command (INCRBY for counter add,
# HSET and HGET for dict set and get), at 1 and 50 clients: the "Manager on
# Redis" table gives the Manager's throughput as a share of the raw
# command's.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=${1:-$root/build/bin}
requests=${2:-100000}
for program in ipcd ipcd-bench; do
  [ -x "$bin/$program" ] || { echo "run_ipcd: no $bin/$program; build first" >&2; exit 2; }
done

. "$root/bench/common.sh"
install_redis run_ipcd || echo "run_ipcd: could not install Redis; its rows are skipped" >&2
make_work "${TMPDIR:-/tmp}/ipcd-bench.XXXXXX"

shm_url="shm://ipcd-bench-$$"
"$bin/ipcd" --socket "$work/ipcd.sock" --listen "$shm_url" 2>"$work/ipcd.log" &
pids+=($!)
wait_for_socket run_ipcd "$work/ipcd.sock"
url="unix://$work/ipcd.sock"

have_redis=false
if command -v redis-server >/dev/null; then
  redis-server --port 0 --unixsocket "$work/redis.sock" --save '' \
    --appendonly no >"$work/redis.log" 2>&1 &
  pids+=($!)
  wait_for_socket run_ipcd "$work/redis.sock" && have_redis=true
fi

results=$work/results.jsonl
: >"$results"
ours() {  # ours NAME ARGS...: ipcd-bench over the unix socket, then over shm://.
  local name=$1
  shift
  for transport in unix shm; do
    # Over the socket the Managers are kept there (--socket-only); the shm
    # rows name the daemon's shm:// listener (a Manager on the socket would
    # move to shared memory on its own, but the --event-loop load is not a
    # Manager).
    local target=$url only=--socket-only
    [ $transport = shm ] && target=$shm_url only=
    "$bin/ipcd-bench" --url "$target" $only "$@" |
      python3 -c 'import json,sys; r=json.loads(sys.stdin.read()); r["row"]=sys.argv[1]; print(json.dumps(r))' \
        "$name$([ $transport = shm ] && echo @shm)" |
      tee -a "$results"
  done
}
on_redis() {  # on_redis NAME ARGS...: ipcd-bench's Manager on the private Redis.
  $have_redis || return 0
  local name=$1
  shift
  "$bin/ipcd-bench" --url "redis+unix://$work/redis.sock" "$@" |
    python3 -c 'import json,sys; r=json.loads(sys.stdin.read()); r["row"]=sys.argv[1]; r["bench"]="manager-redis " + r["bench"]; print(json.dumps(r))' \
      "$name@redis" | tee -a "$results"
}
raw_redis() {  # raw_redis NAME CLIENTS N COMMAND...: redis-benchmark running COMMAND.
  $have_redis || return 0
  local name=$1 clients=$2 n=$3
  shift 3
  redis-benchmark -s "$work/redis.sock" -c "$clients" -n "$n" --csv "$@" |
    python3 -c '
import csv, json, sys
rows = list(csv.DictReader(sys.stdin))
print(json.dumps({"row": sys.argv[1], "bench": "redis " + rows[0]["test"],
                  "requests_per_s": round(float(rows[0]["rps"]))}))' "$name@raw" |
    tee -a "$results"
}
redis() {  # redis NAME TEST CLIENTS PIPELINE N
  $have_redis || return 0
  redis-benchmark -s "$work/redis.sock" -t "$2" -c "$3" -P "$4" -n "$5" --csv |
    python3 -c '
import csv, json, sys
rows = list(csv.DictReader(sys.stdin))
print(json.dumps({"row": sys.argv[1], "bench": "redis " + rows[0]["test"],
                  "requests_per_s": round(float(rows[0]["rps"]))}))' "$1" |
    tee -a "$results"
}

sync_requests=$((requests / 5))
ours sync_incr --op counter-add --requests "$sync_requests"
ours sync_incr_nospin --op counter-add --spin-us 0 --requests "$sync_requests"
redis sync_incr incr 1 1 "$sync_requests"
ours sync_set --op dict-set --requests "$sync_requests"
redis sync_set set 1 1 "$sync_requests"
ours sync_get --op dict-get --requests "$sync_requests"
redis sync_get get 1 1 "$sync_requests"
ours c50_incr --op counter-add --clients 50 --requests "$requests"
redis c50_incr incr 50 1 "$requests"
ours c50_p16_incr --op counter-add --clients 50 --pipeline 16 --requests $((requests * 5))
redis c50_p16_incr incr 50 16 $((requests * 5))
ours c50_p16_set --op dict-set --clients 50 --pipeline 16 --requests $((requests * 5))
redis c50_p16_set set 50 16 $((requests * 5))
ours c1_b16_incr --op counter-add --batch 16 --requests $((requests * 2))
ours locked_increment --op locked-increment --requests $((sync_requests / 4))
ours locked_increment_nospin --op locked-increment --spin-us 0 --requests $((sync_requests / 4))
# The Manager on Redis against the raw commands, alternating.
for round in 1 2; do
  on_redis m_sync_incr --op counter-add --requests "$sync_requests"
  raw_redis m_sync_incr 1 "$sync_requests" INCRBY bench:counter 1
  on_redis m_sync_set --op dict-set --requests "$sync_requests"
  raw_redis m_sync_set 1 "$sync_requests" HSET bench:dict key xxx
  on_redis m_sync_get --op dict-get --requests "$sync_requests"
  raw_redis m_sync_get 1 "$sync_requests" HGET bench:dict key
  on_redis m_c50_incr --op counter-add --clients 50 --requests "$requests"
  raw_redis m_c50_incr 50 "$requests" INCRBY bench:counter 1
  on_redis m_c50_get --op dict-get --clients 50 --requests "$requests"
  raw_redis m_c50_get 50 "$requests" HGET bench:dict key
done

python3 "$root/bench/python_manager.py" $((sync_requests / 4)) |
  python3 -c '
import json, sys
for line in sys.stdin:
    r = json.loads(line)
    r["row"] = "py_" + r["bench"].split()[-1].replace("-", "_")
    print(json.dumps(r))' | tee -a "$results"

python3 - "$results" <<'PY'
import json, sys
rows = {}
both = {}  # Manager-on-Redis rows: every round's rate, per side.
for line in open(sys.argv[1]):
    r = json.loads(line)
    if "@redis" in r["row"] or "@raw" in r["row"]:
        both.setdefault(r["row"], []).append(r["requests_per_s"])
        continue
    rows.setdefault(r["row"], {})["redis" if r["bench"].startswith("redis") else
                                  "python" if r["bench"].startswith("python") else "ipcd"] = r
def rate(row, who):
    return rows.get(row, {}).get(who, {}).get("requests_per_s")
print()
print(f"{'load':<44} {'ipcd req/s':>12} {'redis req/s':>12} {'ipcd/redis':>10} {'ipcd shm':>12} {'shm/redis':>10}")
labels = {
    "sync_incr": "1 client, counter add vs INCR",
    "sync_incr_nospin": "same, reply_spin 0 (client sleeps at once)",
    "sync_set": "1 client, dict set vs SET",
    "sync_get": "1 client, dict get vs GET",
    "c50_incr": "50 clients, counter add vs INCR",
    "c50_p16_incr": "50 clients, pipeline 16, add vs INCR -P 16",
    "c50_p16_set": "50 clients, pipeline 16, set vs SET -P 16",
    "c1_b16_incr": "1 client, batches of 16 counter adds",
}
for row, label in labels.items():
    ours, theirs, shm = rate(row, "ipcd"), rate(row, "redis"), rate(row + "@shm", "ipcd")
    if row == "sync_incr_nospin":
        theirs = rate("sync_incr", "redis")
    ratio = f"{ours / theirs:.2f}" if ours and theirs else "-"
    shm_ratio = f"{shm / theirs:.2f}" if shm and theirs else "-"
    print(f"{label:<44} {ours or '-':>12} {theirs or '-':>12} {ratio:>10} {shm or '-':>12} {shm_ratio:>10}")
if both:
    print()
    print(f"{'Manager on Redis vs the raw command':<44} {'manager req/s':>13} {'raw req/s':>10} {'manager/raw':>11}")
    for row, label in [("m_sync_incr", "1 client, counter add vs INCRBY"),
                       ("m_sync_set", "1 client, dict set vs HSET"),
                       ("m_sync_get", "1 client, dict get vs HGET"),
                       ("m_c50_incr", "50 clients, counter add vs INCRBY"),
                       ("m_c50_get", "50 clients, dict get vs HGET")]:
        ours, raw = both.get(row + "@redis"), both.get(row + "@raw")
        if ours and raw:
            m, r = max(ours), max(raw)  # Best of the rounds on each side.
            print(f"{label:<44} {m:>13} {r:>10} {m / r:>11.2f}")
py = rate("py_locked_increment", "python")
if py:
    for row, label in [("sync_incr", "ipcd counter add"),
                       ("sync_incr_nospin", "ipcd counter add, reply_spin 0"),
                       ("locked_increment", "ipcd locked dict increment"),
                       ("locked_increment_nospin", "ipcd locked dict increment, reply_spin 0")]:
        for suffix, over in (("", "unix"), ("@shm", "shm")):
            ours = rate(row + suffix, "ipcd")
            if ours:
                print(f"{label} over {over} / Python Manager `with lock: d['count'] += 1`: {ours / py:.1f}x")
PY
