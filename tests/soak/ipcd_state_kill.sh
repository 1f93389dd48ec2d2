#!/usr/bin/env bash
# SIGKILL of ipcd under load, many times over: runs the kill test of
# tests/ipcd/state_kill_test.cc for ITERATIONS kills per fsync policy and
# prints a summary table (iterations, iterations with violations,
# violations). Exit status 0 when there were none.
#   tests/soak/ipcd_state_kill.sh [BUILD_DIR] [ITERATIONS] [POLICIES]
# Defaults: build, 1000, "always" (e.g. "always everysec no" for all three;
# a SIGKILL loses no acknowledged change under any of them). The seed is
# IPCD_STATE_KILL_SEED or random, and printed; a failing iteration's line
# says how to repeat it alone.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${1:-$root/build}
iterations=${2:-1000}
policies=${3:-always}
bin=$(find "$build" -type f -name ipcd_state_kill_test -perm -u+x 2>/dev/null | head -n 1)
[ -n "$bin" ] || { echo "ipcd_state_kill: no ipcd_state_kill_test under $build" >&2; exit 2; }
seed=${IPCD_STATE_KILL_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
logs=$(mktemp -d /tmp/ipcd-state-kill-XXXXXX)

status=0
table=()
for policy in $policies; do
  log=$logs/$policy.log
  # The test's own watchdog: generous, ~10 s a kill at worst.
  IPCD_STATE_KILL_ITERATIONS=$iterations IPCD_STATE_KILL_SEED=$seed \
    IPCD_STATE_KILL_FSYNC=$policy IPC_TEST_TIMEOUT_S=$((iterations * 10 + 60)) \
    "$bin" --gtest_filter='StateKillTest.*' >"$log" 2>&1
  rc=$?
  summary=$(grep '^state kill summary:' "$log" | tail -n 1)
  field() { sed -n "s/.* $1 \([0-9.]*\).*/\1/p" <<<"$summary"; }
  done_iterations=$(field iterations) failed=$(field failed_iterations)
  violations=$(field violations) seconds=$(field seconds)
  if [ -z "$summary" ]; then
    done_iterations=$(grep -c '^iteration ' "$log") failed="?" violations="?" seconds="?"
  fi
  result=ok
  if [ $rc -ne 0 ] || [ "$failed" != 0 ]; then
    result="FAILED (exit $rc, log $log)"
    status=1
    grep -E '^iteration .*VIOLATION' "$log" | head -n 5 >&2
  fi
  table+=("$(printf '%-9s %10s %18s %11s %9s  %s' "$policy" "$done_iterations" "$failed" \
    "$violations" "$seconds" "$result")")
done

echo "ipcd state kill soak, seed $seed"
printf '%-9s %10s %18s %11s %9s  %s\n' fsync iterations "failed iterations" violations seconds result
for row in "${table[@]}"; do echo "$row"; done
[ $status -eq 0 ] && rm -rf "$logs"
exit $status
