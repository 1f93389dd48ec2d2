#!/usr/bin/env bash
# ipcd's durable state log beside Redis's append-only file, in one run on
# one machine, reported as ratios (docs/benchmarks.md, "Durable state").
#   bench/run_ipcd_state.sh [BIN_DIR] [REQUESTS]
#
# Environment: IPCD (the daemon to measure; default BIN_DIR/ipcd), KEYS
# (keys for the restart and snapshot tests; default 1000000), ROUNDS
# (alternating rounds of each comparison and of each restart; default 3), STATE_TMP
# (where the state and AOF directories go; default /var/tmp, which must be
# a disk file system for fsync to mean anything), ONLY (a regular
# expression over the part names always, everysec, restart, snapshot).
#
# 1. always (ROUNDS alternating rounds, medians): ipcd --fsync always
#    against redis-server --appendonly yes
#    --appendfsync always, 50 synchronous clients and 50 clients with 16
#    requests in flight each, counter add / INCR and dict set / SET, in two
#    client shapes, the same for both servers: one process driving the 50
#    connections with an event loop (ipcd-bench --event-loop, and
#    redis-benchmark as it always is), and a process or thread per
#    connection (ipcd-bench's 50 processes, each an ipc::Manager;
#    redis-benchmark --threads 50). The shape decides much on two vCPUs:
#    50 sleepers cost 50 wake-ups per turn of the server's loop.
# 2. everysec: ipcd --fsync everysec against ipcd without --state-dir (two
#    daemons up at once, the loads alternating ROUNDS times; the ratio of
#    medians). The 50-client loads use ipcd-bench --event-loop: the daemon,
#    not 50 client processes, is then what the run is short of, so what
#    the log costs it shows.
# 3. restart: KEYS keys ("key:%012d" = "xxx") loaded into an ipcd dict
#    (--fsync no, see below) and into Redis (appendfsync everysec), then
#    each restarted twice: from the
#    log alone, and after a snapshot (ipcd: --snapshot-after-bytes 4096;
#    Redis: BGREWRITEAOF, whose base file is an RDB preamble). Reported:
#    the load time each logs ("state: loaded ... in N ms"; "DB loaded from
#    append only file: N seconds") and the time from exec until the server
#    answers (ipcctl stats; redis-cli PING answering PONG).
# 4. snapshot: with the KEYS keys in ipcd (--fsync no), one
#    synchronous client sets a key over and over while a snapshot is
#    forked (the log is first filled to just under the size that makes one
#    due), then the same run again with no snapshot; reported: the longest
#    round trip of a request that overlapped the snapshot (fork to
#    "written" log line) against the longest of the run without, and the
#    fork time ipcd logs.
#    Parts 3 and 4 run ipcd with --fsync no, which keeps the disk out of
#    the way of loading the keys; the policy does not change what a
#    restart reads.
#
# Prints one JSON line per measurement, then a table of ratios.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=${1:-$root/build/bin}
requests=${2:-100000}
ipcd=${IPCD:-$bin/ipcd}
keys=${KEYS:-1000000}
rounds=${ROUNDS:-3}
only=${ONLY:-.}
for program in "$ipcd" "$bin/ipcd-bench" "$bin/ipcctl"; do
  [ -x "$program" ] || { echo "run_ipcd_state: no $program; build first" >&2; exit 2; }
done
. "$root/bench/common.sh"
install_redis run_ipcd_state
make_work "${STATE_TMP:-/var/tmp}/ipcd-state-bench.XXXXXX"
fs=$(df -T "$work" | awk 'NR == 2 {print $2}')
echo "run_ipcd_state: $(nproc) CPUs, kernel $(uname -r), state dirs on $fs ($work), $(date -u +%FT%TZ), ipcd $ipcd" >&2
case $fs in tmpfs|ramfs) echo "run_ipcd_state: warning: $work is on $fs; fsync costs nothing there" >&2 ;; esac

results=$work/results.jsonl
: >"$results"
emit() {  # emit JSON: appends a result line (and shows it).
  echo "$1" | tee -a "$results"
}
part() { [[ $1 =~ $only ]]; }

# Stamps each line of stdin with the Unix time it arrived (for part 4).
cat >"$work/stamp.py" <<'PY'
import sys, time
for line in sys.stdin:
    sys.stdout.write(f"{time.time():.6f} {line}")
    sys.stdout.flush()
PY

# wait_for PATH: up to 60 s for a file or socket to appear.
wait_for() {
  for _ in $(seq 6000); do
    [ -e "$1" ] && return 0
    sleep 0.01
  done
  echo "run_ipcd_state: $1 did not appear" >&2
  return 1
}
now_ms() { date +%s%3N; }

# start_ipcd NAME ARGS...: an ipcd on $work/NAME.sock, its log (each line
# time-stamped) in $work/NAME.log; sets ipcd_pid. Waits until it answers
# and sets ready_ms to the time that took from exec.
start_ipcd() {
  local name=$1
  shift
  rm -f "$work/$name.sock"
  local t0
  t0=$(now_ms)
  "$ipcd" --socket "$work/$name.sock" "$@" \
    2> >(python3 -u "$work/stamp.py" >"$work/$name.log") &
  ipcd_pid=$!
  pids+=("$ipcd_pid")
  until "$bin/ipcctl" --url "unix://$work/$name.sock" stats >/dev/null 2>&1; do
    kill -0 "$ipcd_pid" 2>/dev/null || { echo "run_ipcd_state: ipcd $name exited" >&2; cat "$work/$name.log" >&2; return 1; }
    sleep 0.005
  done
  ready_ms=$(($(now_ms) - t0))
  # The log reaches its file through stamp.py, a little later.
  until grep -q "listening on" "$work/$name.log"; do sleep 0.01; done
}
stop() {  # stop PID: SIGTERM and wait.
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

# start_redis NAME FSYNC: redis-server with appendonly yes in $work/NAME
# (AOF directory $work/NAME/appendonlydir), socket $work/NAME.sock, log
# $work/NAME.redis.log (appended to); sets redis_pid and ready_ms (until
# PING answers PONG, not -LOADING).
start_redis() {
  local name=$1 fsync=$2
  mkdir -p "$work/$name"
  rm -f "$work/$name.sock"
  local t0
  t0=$(now_ms)
  redis-server --port 0 --unixsocket "$work/$name.sock" --dir "$work/$name" \
    --save '' --appendonly yes --appendfsync "$fsync" \
    --auto-aof-rewrite-percentage 0 --logfile "$work/$name.redis.log" \
    --daemonize no >/dev/null 2>&1 &
  redis_pid=$!
  pids+=("$redis_pid")
  until [ "$(redis-cli -s "$work/$name.sock" ping 2>/dev/null)" = PONG ]; do
    kill -0 "$redis_pid" 2>/dev/null || { echo "run_ipcd_state: redis $name exited" >&2; cat "$work/$name.redis.log" >&2; return 1; }
    sleep 0.005
  done
  ready_ms=$(($(now_ms) - t0))
}

# ours ROW SOCKET_NAME ARGS...: one ipcd-bench line, labelled ROW; a run
# that fails (a client that got no answer within its 30 s reply timeout)
# is recorded as such, with ipcd-bench's first complaint.
ours() {
  local row=$1 name=$2 out
  shift 2
  # --socket-only: over the unix socket, as Redis is measured (a Manager
  # would otherwise move to shared memory).
  if out=$("$bin/ipcd-bench" --url "unix://$work/$name.sock" --socket-only "$@" 2>"$work/bench.err"); then
    echo "$out" |
      python3 -c 'import json,sys; r=json.loads(sys.stdin.read()); r["row"]=sys.argv[1]; print(json.dumps(r))' "$row" |
      tee -a "$results"
  else
    python3 -c 'import json,sys; print(json.dumps({"row": sys.argv[1], "bench": "ipcd failed", "requests_per_s": None, "args": sys.argv[2], "error": open(sys.argv[3]).readline().strip()}))' \
      "$row" "$*" "$work/bench.err" | tee -a "$results"
  fi
}
theirs() {  # theirs ROW SOCKET_NAME TEST CLIENTS PIPELINE N [THREADS]
  redis-benchmark -s "$work/$2.sock" -t "$3" -c "$4" -P "$5" -n "$6" --threads "${7:-1}" --csv |
    python3 -c '
import csv, json, sys
rows = list(csv.DictReader(sys.stdin))
print(json.dumps({"row": sys.argv[1], "bench": "redis " + rows[0]["test"],
                  "requests_per_s": round(float(rows[0]["rps"]))}))' "$1" |
    tee -a "$results"
}

# --- 1. fsync always: ipcd against Redis appendfsync always --------------
if part always; then
  mkdir -p "$work/always.state"
  start_ipcd always --state-dir "$work/always.state" --fsync always
  always_pid=$ipcd_pid
  start_redis redis-always always
  redis_always_pid=$redis_pid
  n_sync=$((requests / 2))
  n_pipe=$((requests * 2))
  for _ in $(seq "$rounds"); do
    for shape in loop procs; do
      if [ $shape = loop ]; then mine=(--event-loop); threads=1; else mine=(); threads=50; fi
      ours always_${shape}_c50_incr always --op counter-add --clients 50 --requests "$n_sync" "${mine[@]}"
      theirs always_${shape}_c50_incr redis-always incr 50 1 "$n_sync" $threads
      ours always_${shape}_c50_set always --op dict-set --clients 50 --requests "$n_sync" "${mine[@]}"
      theirs always_${shape}_c50_set redis-always set 50 1 "$n_sync" $threads
      ours always_${shape}_c50_p16_incr always --op counter-add --clients 50 --pipeline 16 --requests "$n_pipe" "${mine[@]}"
      theirs always_${shape}_c50_p16_incr redis-always incr 50 16 "$n_pipe" $threads
      ours always_${shape}_c50_p16_set always --op dict-set --clients 50 --pipeline 16 --requests "$n_pipe" "${mine[@]}"
      theirs always_${shape}_c50_p16_set redis-always set 50 16 "$n_pipe" $threads
    done
  done
  stop "$always_pid"
  stop "$redis_always_pid"
fi

# --- 2. fsync everysec against no state dir -------------------------------
if part everysec; then
  mkdir -p "$work/everysec.state"
  start_ipcd everysec --state-dir "$work/everysec.state" --fsync everysec
  everysec_pid=$ipcd_pid
  start_ipcd memory
  memory_pid=$ipcd_pid
  for round in $(seq "$rounds"); do
    # Each goes first in every other round: what ran just before (the
    # other daemon's heaviest load) weighs on both alike.
    order="memory everysec"
    [ $((round % 2)) -eq 0 ] && order="everysec memory"
    for daemon in $order; do
      ours "${daemon}_c1_incr" "$daemon" --op counter-add --requests $((requests / 2))
      ours "${daemon}_c50_incr" "$daemon" --op counter-add --clients 50 --requests "$requests" --event-loop
      ours "${daemon}_c50_p16_incr" "$daemon" --op counter-add --clients 50 --pipeline 16 --requests $((requests * 5)) --event-loop
      ours "${daemon}_c50_p16_set" "$daemon" --op dict-set --clients 50 --pipeline 16 --requests $((requests * 5)) --event-loop
    done
  done
  stop "$everysec_pid"
  stop "$memory_pid"
fi

# load_time_ms NAME: ipcd's "state: loaded ... in N ms" from NAME.log.
load_time_ms() {
  sed -n 's/.*state: loaded .* in \([0-9]*\) ms from.*/\1/p' "$work/$1.log" | tail -1
}
# redis_load_ms NAME: the last "DB loaded from append only file: S seconds".
redis_load_ms() {
  sed -n 's/.*DB loaded from append only file: \([0-9.]*\) seconds.*/\1/p' \
    "$work/$1.redis.log" | tail -1 | python3 -c 'import sys; print(round(float(sys.stdin.read() or "nan") * 1000))'
}
du_bytes() { du -sb "$1" | cut -f1; }

# --- 3. restart with KEYS keys --------------------------------------------
# restart_ipcd ROW THRESHOLD / restart_redis ROW: one restart, measured.
restart_ipcd() {
  start_ipcd keys --state-dir "$work/keys.state" --fsync no --snapshot-after-bytes "$2"
  emit "{\"row\": \"$1\", \"bench\": \"ipcd restart\", \"loaded_ms\": $(load_time_ms keys), \"ready_ms\": $ready_ms, \"dir_bytes\": $(du_bytes "$work/keys.state"), \"line\": $(grep -h 'state: loaded' "$work/keys.log" | tail -1 | python3 -c 'import json,sys; print(json.dumps(sys.stdin.read().strip()))')}"
  stop "$ipcd_pid"
}
restart_redis() {
  start_redis redis-keys everysec
  emit "{\"row\": \"$1\", \"bench\": \"redis restart\", \"loaded_ms\": $(redis_load_ms redis-keys), \"ready_ms\": $ready_ms, \"dir_bytes\": $(du_bytes "$work/redis-keys/appendonlydir"), \"dbsize\": $(redis-cli -s "$work/redis-keys.sock" dbsize)}"
  stop "$redis_pid"
}
if part restart || part snapshot; then
  # ipcd: loaded through one pipelined connection, log only.
  mkdir -p "$work/keys.state"
  start_ipcd keys --state-dir "$work/keys.state" --fsync no --snapshot-after-bytes 1099511627776
  ours load_keys keys --op dict-set --keys "$keys" --pipeline 64 --requests "$keys" >/dev/null
  # Bytes a bulk-set record takes in the log (for part 4).
  record_bytes=$(( $(stat -c %s "$(ls "$work"/keys.state/log.* | tail -1)") / keys + 1 ))
  stop "$ipcd_pid"
  if part restart; then
    # Redis: the same keys and values through redis-cli --pipe.
    python3 - "$keys" >"$work/keys.resp" <<'PY'
import sys
out = sys.stdout
for i in range(int(sys.argv[1])):
    key = f"key:{i:012d}"
    out.write(f"*3\r\n$3\r\nSET\r\n${len(key)}\r\n{key}\r\n$3\r\nxxx\r\n")
PY
    start_redis redis-keys everysec
    redis-cli -s "$work/redis-keys.sock" --pipe <"$work/keys.resp" >/dev/null
    stop "$redis_pid"
    for _ in $(seq "$rounds"); do
      restart_ipcd restart_log 1099511627776
      restart_redis restart_log
    done
  fi
  # A snapshot: due at once with a 4 KiB threshold.
  start_ipcd keys --state-dir "$work/keys.state" --fsync no --snapshot-after-bytes 4096
  until grep -q "snapshot up to record .* written" "$work/keys.log"; do sleep 0.1; done
  stop "$ipcd_pid"
  if part restart; then
    start_redis redis-keys everysec
    redis-cli -s "$work/redis-keys.sock" bgrewriteaof >/dev/null
    sleep 0.2
    until redis-cli -s "$work/redis-keys.sock" info persistence | grep -q 'aof_rewrite_in_progress:0' &&
          redis-cli -s "$work/redis-keys.sock" info persistence | grep -q 'aof_rewrite_scheduled:0'; do
      sleep 0.1
    done
    stop "$redis_pid"
    for _ in $(seq "$rounds"); do
      restart_ipcd restart_snapshot 4096
      restart_redis restart_snapshot
    done
  fi
fi

# --- 4. a snapshot's pause -------------------------------------------------
if part snapshot; then
  # The next snapshot is due when the log outgrows the snapshot: fill the
  # log to a little short of that, then time single sets across it (a set
  # of "key" is about 45 bytes of log: the snapshot starts about a third of
  # the way through the run).
  snapshot_bytes=$(stat -c %s "$work/keys.state/snapshot")
  start_ipcd keys --state-dir "$work/keys.state" --fsync no --snapshot-after-bytes 1
  log_size() { stat -c %s "$(ls "$work"/keys.state/log.* | tail -1)"; }
  single=$((requests * 3 / 2))
  fill=$(( (snapshot_bytes - single * 15 - $(log_size)) / record_bytes ))
  [ "$fill" -gt 0 ] && "$bin/ipcd-bench" --url "unix://$work/keys.sock" --op dict-set --keys "$keys" --pipeline 64 --requests "$fill" >/dev/null
  fill_log=$(log_size)
  ours snapshot_during keys --op dict-set --requests "$single" --latency-file "$work/during.lat"
  for _ in $(seq 600); do
    grep -q "snapshot up to record .* written" "$work/keys.log" && break
    sleep 0.1
  done
  grep -q "snapshot up to record .* written" "$work/keys.log" ||
    { echo "run_ipcd_state: no snapshot was written during the run" >&2; exit 1; }
  ours snapshot_without keys --op dict-set --requests "$single" --latency-file "$work/without.lat"
  stop "$ipcd_pid"
  python3 - "$work/keys.log" "$work/during.lat" "$work/without.lat" "$snapshot_bytes" "$fill_log" <<'PY' | tee -a "$results"
import json, re, sys
log, during, without, snap_bytes, fill_log = sys.argv[1:]
fork_t = fork_us = done_t = None
for line in open(log):
    t, _, text = line.partition(" ")
    m = re.search(r"writing a snapshot up to record \d+ \(fork took (\d+) us\)", text)
    if m:
        fork_t, fork_us = float(t), int(m.group(1))
    if fork_t is not None and done_t is None and re.search(r"snapshot up to record \d+ written", text):
        done_t = float(t)
def lat(path):
    return [tuple(map(float, l.split())) for l in open(path)]
d = lat(during)
start, end = fork_t - fork_us / 1e6 - 0.002, done_t
inside = [us for t, us in d if t < end and t + us / 1e6 > start]
outside = [us for t, us in d if not (t < end and t + us / 1e6 > start)]
w = sorted(us for _, us in lat(without))
print(json.dumps({"row": "snapshot_pause", "bench": "ipcd snapshot",
    "fork_us": fork_us, "snapshot_s": round(done_t - fork_t, 3),
    "snapshot_file_bytes": int(snap_bytes), "log_bytes_before": int(fill_log),
    "requests_during": len(inside),
    "max_us_during": max(inside) if inside else None,
    "max_us_same_run_outside": max(outside) if outside else None,
    "max_us_without": w[-1], "p999_us_without": w[int(0.999 * len(w))],
    "p50_us_without": w[len(w) // 2],
    "p999_us_during": sorted(inside)[int(0.999 * len(inside))] if inside else None}))
PY
fi

python3 - "$results" <<'PY'
import json, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    who = "redis" if r["bench"].startswith("redis") else "ipcd"
    rows.setdefault(r["row"], {}).setdefault(who, []).append(r)
def rate(row, who):
    runs = rows.get(row, {}).get(who, [])
    if who == "ipcd" and any(r.get("error") for r in runs):
        return "failed"
    return round(statistics.median(r["requests_per_s"] for r in runs)) if runs else None
def show(label, ours, theirs):
    """ours and theirs are medians over the rounds; the ratio is of medians."""
    ok = isinstance(ours, (int, float)) and isinstance(theirs, (int, float))
    ratio = f"{ours / theirs:.2f}" if ok and theirs else "-"
    print(f"{label:<52} {ours or '-':>12} {theirs or '-':>12} {ratio:>8}")
print()
for shape, title in [("loop", "one event-loop client process"),
                     ("procs", "a process (ipcd) / thread (redis) per client")]:
    if not any(k.startswith(f"always_{shape}_") for k in rows):
        continue
    print(f"{'fsync always, ' + title:<52} {'ipcd':>12} {'redis':>12} {'ratio':>8}")
    for row, label in [("c50_incr", "50 clients, counter add vs INCR"),
                       ("c50_set", "50 clients, dict set vs SET"),
                       ("c50_p16_incr", "50 clients, pipeline 16, add vs INCR -P 16"),
                       ("c50_p16_set", "50 clients, pipeline 16, set vs SET -P 16")]:
        row = f"always_{shape}_{row}"
        show(label, rate(row, "ipcd"), rate(row, "redis"))
if any(k.startswith("everysec_") for k in rows):
    print(f"{'ipcd fsync everysec vs no state dir, median req/s':<52} {'everysec':>12} {'memory':>12} {'ratio':>8}")
    for row, label in [("c1_incr", "1 client, counter add"),
                       ("c50_incr", "50 clients, counter add"),
                       ("c50_p16_incr", "50 clients, pipeline 16, counter add"),
                       ("c50_p16_set", "50 clients, pipeline 16, dict set")]:
        show(label, rate("everysec_" + row, "ipcd"), rate("memory_" + row, "ipcd"))
for row, label in [("restart_log", "restart from the log alone"),
                   ("restart_snapshot", "restart after a snapshot / BGREWRITEAOF")]:
    if row in rows:
        for key in ("loaded_ms", "ready_ms"):
            med = lambda who: round(statistics.median(r[key] for r in rows[row].get(who, [{key: 0}])))
            show(f"{label}, {key} (median)", med("ipcd"), med("redis"))
if "snapshot_pause" in rows:
    s = rows["snapshot_pause"]["ipcd"][0]
    print(f"snapshot pause: longest request during the snapshot {s['max_us_during']} us, "
          f"without a snapshot {s['max_us_without']} us "
          f"(ratio {s['max_us_during'] / s['max_us_without']:.1f}); fork took {s['fork_us']} us")
PY
