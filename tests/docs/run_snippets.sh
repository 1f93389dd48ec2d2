#!/usr/bin/env bash
# Runs each whole-program snippet of README.md and docs/ (extracted by
# extract_snippets.py, built by the docs_snippets_build test) and fails
# unless every one exits 0 within 30 s. A private ipcd listens for the
# Manager snippets: $IPCD_SOCKET points both it and
# ipc::Manager::Connect() (its DefaultUrl()) at a socket in a temporary
# directory, so the snippets run exactly as written.
#   run_snippets.sh IPCD PROGRAMS_TXT BIN_DIR
# PROGRAMS_TXT lists the programs' names (one a line); each is BIN_DIR/docs_NAME.
set -euo pipefail
ipcd=$1
mapfile -t names <"$2"
bin_dir=$3
work=$(mktemp -d "${TMPDIR:-/tmp}/ipc-docs-test.XXXXXX")
ipcd_pid=
cleanup() {
  [ -n "$ipcd_pid" ] && kill "$ipcd_pid" 2>/dev/null && wait "$ipcd_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

export IPCD_SOCKET=$work/ipcd.sock
"$ipcd" --socket "$IPCD_SOCKET" 2>"$work/ipcd.log" &
ipcd_pid=$!
for ((i = 0; i < 500; i++)); do
  [ -S "$IPCD_SOCKET" ] && break
  kill -0 "$ipcd_pid" 2>/dev/null || { cat "$work/ipcd.log" >&2; echo "FAIL: ipcd exited" >&2; exit 1; }
  sleep 0.02
done
[ -S "$IPCD_SOCKET" ] || { echo "FAIL: ipcd did not listen on $IPCD_SOCKET" >&2; exit 1; }

failed=0
for name in "${names[@]}"; do
  program=$bin_dir/docs_$name
  [ -x "$program" ] || { echo "FAIL: $program was not built" >&2; failed=1; continue; }
  # Each runs in its own directory, as a user would run it.
  mkdir -p "$work/$name" && cd "$work/$name"
  if timeout -k 2 30 "$program" >"$work/$name.out" 2>&1; then
    echo "ok   $name: $(tr '\n' ' ' <"$work/$name.out")"
  else
    rc=$?
    echo "FAIL $name (exit $rc):" >&2
    cat "$work/$name.out" >&2
    failed=1
  fi
done
[ "$failed" = 0 ] || { echo "ipcd log:" >&2; cat "$work/ipcd.log" >&2; exit 1; }
echo "docs_snippets_run: ${#names[@]} programs OK"
