#!/usr/bin/env bash
# Requests per second against the number of synchronous clients (1, 2, 4,
# 8, 16, 32, 64), counter add / INCR, for ipcd over shared memory (each
# client an ipc::Manager on the unix socket, moved to shm as by default),
# ipcd over the unix socket (ipcd-bench --socket-only) and Redis over its
# unix socket (redis-benchmark -c N), in one run on one machine
# (docs/benchmarks.md, "Clients").
#   bench/run_clients.sh [BIN_DIR] [REQUESTS] [PNG]
# Prints one JSON line per point, then a table; with PNG (and Debian's
# python3-matplotlib, installed when missing), draws the plot there.
# ipcd-bench runs each client in a process of its own, redis-benchmark
# runs them on one thread: the shapes of both tools' usual use.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=${1:-$root/build/bin}
requests=${2:-40000}
png=${3:-}
for program in ipcd ipcd-bench; do
  [ -x "$bin/$program" ] || { echo "run_clients: no $bin/$program; build first" >&2; exit 2; }
done
. "$root/bench/common.sh"
install_redis run_clients
make_work "${TMPDIR:-/tmp}/ipcd-clients.XXXXXX"
echo "run_clients: $(nproc) CPUs, kernel $(uname -r), $(date -u +%FT%TZ)" >&2
"$bin/ipcd" --socket "$work/ipcd.sock" 2>"$work/ipcd.log" &
pids+=($!)
redis-server --port 0 --unixsocket "$work/redis.sock" --save '' --appendonly no \
  >"$work/redis.log" 2>&1 &
pids+=($!)
wait_for_socket run_clients "$work/ipcd.sock"
wait_for_socket run_clients "$work/redis.sock"

results=$work/results.jsonl
: >"$results"
point() {  # point SERVER CLIENTS RATE
  echo "{\"server\": \"$1\", \"clients\": $2, \"requests_per_s\": $3}" | tee -a "$results"
}
rate_of() { python3 -c 'import json, sys; print(round(json.loads(sys.stdin.read().splitlines()[-1])["requests_per_s"]))'; }
for clients in 1 2 4 8 16 32 64; do
  point "ipcd shm" "$clients" "$("$bin/ipcd-bench" --url "unix://$work/ipcd.sock" \
    --op counter-add --clients "$clients" --requests "$requests" | rate_of)"
  point "ipcd unix" "$clients" "$("$bin/ipcd-bench" --url "unix://$work/ipcd.sock" \
    --socket-only --op counter-add --clients "$clients" --requests "$requests" | rate_of)"
  point "redis" "$clients" "$(redis-benchmark -s "$work/redis.sock" -t incr -c "$clients" \
    -n "$requests" --csv | python3 -c 'import csv, sys; print(round(float(list(csv.DictReader(sys.stdin))[0]["rps"])))')"
done

python3 - "$results" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
servers = ["ipcd shm", "ipcd unix", "redis"]
rate = {(r["server"], r["clients"]): r["requests_per_s"] for r in rows}
print(f"\n{'clients':>8} " + " ".join(f"{s:>12}" for s in servers) + f" {'shm/redis':>10} {'unix/redis':>10}")
for c in sorted({r["clients"] for r in rows}):
    shm, unix, redis = (rate.get((s, c), 0) for s in servers)
    print(f"{c:>8} {shm:>12} {unix:>12} {redis:>12} {shm / redis:>10.2f} {unix / redis:>10.2f}")
PY
if [ -n "$png" ]; then
  if ! /usr/bin/python3 -c 'import matplotlib' 2>/dev/null; then
    sudo_cmd=(); [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
    "${sudo_cmd[@]}" apt-get install -y -qq python3-matplotlib >/dev/null
  fi
  /usr/bin/python3 "$root/bench/plot_clients.py" "$png" < "$results"
  echo "run_clients: wrote $png" >&2
fi
