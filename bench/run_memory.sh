#!/usr/bin/env bash
# Resident memory for a million small dict keys: ipcd beside Redis, in one
# run on one machine (docs/benchmarks.md, "Memory").
#   bench/run_memory.sh [BIN_DIR] [KEYS]
# Starts a private ipcd (no state dir) and a private redis-server (no
# persistence), each on a unix socket, reads each one's VmRSS, loads KEYS
# (default 1000000) keys "key:%012d" with the value "xxx" into one ipcd
# dict (ipcd-bench --op dict-set --keys, pipelined) and into one Redis hash
# (HSET through redis-cli --pipe: one object holding every key, as the
# dict is), and reads VmRSS again. Prints one JSON line per server, then
# the growth per key and the ratio ipcd / Redis.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=${1:-$root/build/bin}
keys=${2:-1000000}
for program in ipcd ipcd-bench ipcctl; do
  [ -x "$bin/$program" ] || { echo "run_memory: no $bin/$program; build first" >&2; exit 2; }
done
. "$root/bench/common.sh"
install_redis run_memory
make_work "${TMPDIR:-/tmp}/ipcd-memory.XXXXXX"
echo "run_memory: $(nproc) CPUs, kernel $(uname -r), $(date -u +%FT%TZ), $keys keys" >&2

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

"$bin/ipcd" --socket "$work/ipcd.sock" 2>"$work/ipcd.log" &
ipcd_pid=$!
pids+=("$ipcd_pid")
redis-server --port 0 --unixsocket "$work/redis.sock" --save '' --appendonly no \
  >"$work/redis.log" 2>&1 &
redis_pid=$!
pids+=("$redis_pid")
wait_for_socket run_memory "$work/ipcd.sock"
wait_for_socket run_memory "$work/redis.sock"
"$bin/ipcctl" --url "unix://$work/ipcd.sock" stats >/dev/null
redis-cli -s "$work/redis.sock" ping >/dev/null

ipcd_before=$(rss_kb "$ipcd_pid")
"$bin/ipcd-bench" --url "unix://$work/ipcd.sock" --socket-only --op dict-set \
  --keys "$keys" --requests "$keys" --pipeline 64 >/dev/null
ipcd_after=$(rss_kb "$ipcd_pid")
ipcd_len=$("$bin/ipcctl" --url "unix://$work/ipcd.sock" --json ls bench:dict |
  python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["size"])')

redis_before=$(rss_kb "$redis_pid")
python3 - "$keys" <<'PY' | redis-cli -s "$work/redis.sock" --pipe >/dev/null
import sys
out = sys.stdout
for i in range(int(sys.argv[1])):
    key = f"key:{i:012d}"
    out.write(f"*4\r\n$4\r\nHSET\r\n$10\r\nbench:dict\r\n${len(key)}\r\n{key}\r\n$3\r\nxxx\r\n")
PY
redis_after=$(rss_kb "$redis_pid")
redis_len=$(redis-cli -s "$work/redis.sock" hlen bench:dict)

echo "{\"server\": \"ipcd\", \"keys\": $ipcd_len, \"rss_before_kb\": $ipcd_before, \"rss_after_kb\": $ipcd_after}"
echo "{\"server\": \"redis\", \"keys\": $redis_len, \"rss_before_kb\": $redis_before, \"rss_after_kb\": $redis_after}"
# ipcd-bench's warm-up also sets the key "key": one more.
[ "$ipcd_len" = $((keys + 1)) ] && [ "$redis_len" = "$keys" ] ||
  { echo "run_memory: expected $keys keys, ipcd has $ipcd_len (with \"key\"), Redis $redis_len" >&2; exit 1; }
python3 - "$keys" "$ipcd_before" "$ipcd_after" "$redis_before" "$redis_after" <<'PY'
import sys
keys, ib, ia, rb, ra = map(int, sys.argv[1:])
print(f"growth for {keys} keys: ipcd +{ia - ib} kB ({(ia - ib) * 1024 / keys:.0f} B/key), "
      f"Redis hash +{ra - rb} kB ({(ra - rb) * 1024 / keys:.0f} B/key); ipcd / Redis {(ia - ib) / (ra - rb):.2f}")
PY
