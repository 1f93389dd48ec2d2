#!/usr/bin/env bash
# ipc-bench runs over several transports and both modes, and its JSON has
# the documented keys. Timing values are not checked.
set -euo pipefail
bench=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
check() {  # MODE JSON
  python3 - "$1" "$2" <<'PY'
import json, sys
mode, text = sys.argv[1], sys.argv[2]
d = json.loads(text)
for k in ("url", "mode", "size", "count"):
    assert k in d, k
keys = ("rtt_ns",) if mode == "pingpong" else ("msgs_per_s", "bytes_per_s")
for k in keys:
    assert k in d and k in d["baseline"], k
if mode == "pingpong":
    assert set(d["rtt_ns"]) == {"p50", "p99", "p999"}
    assert d["rtt_ns"]["p50"] > 0
else:
    assert d["msgs_per_s"] > 0
assert d["ratio"] > 0
PY
}
for url in "unix://$work/b.sock" pipe: "shm://bench-smoke-$$" "fifo://$work/f" tcp://127.0.0.1:0; do
  for mode in pingpong stream; do
    out=$("$bench" --url "$url" --mode "$mode" --size 64 --count 200 --cpus none --baseline --json)
    check "$mode" "$out" || { echo "bad JSON for $url $mode: $out"; exit 1; }
  done
done
# The zero-copy calls with every byte touched, in place (shm) and copying.
for url in "shm://bench-smoke-views-$$?capacity=1M" "unix://$work/v.sock"; do
  out=$("$bench" --url "$url" --mode stream --size 256K --count 50 --cpus none --touch --views --json)
  python3 -c 'import json, sys; assert json.loads(sys.argv[1])["received"] == 50' "$out" ||
    { echo "bad --views run for $url: $out"; exit 1; }
done
# Errors name the flag.
if "$bench" --url unix:///x --mode pingpong --views 2> "$work/err"; then exit 1; fi
grep -q -- "--views" "$work/err"
if "$bench" --url unix:///x --mode sideways 2> "$work/err"; then exit 1; fi
grep -q -- "--mode" "$work/err"
if "$bench" --url bogus://x --count 10 --cpus none 2> "$work/err"; then exit 1; fi
grep -q "unknown scheme" "$work/err"
echo "ipc-bench smoke OK"
