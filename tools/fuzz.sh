#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, -DIPC_FUZZ=ON: libipc and the ipcd
# code they drive instrumented with ASan and UBSan) in build-fuzz/ and runs
# each for a bounded time, one after the other. Exits non-zero if any target
# finds a crash, a leak, a hang (-timeout) or runs out of memory; the input
# is left in build-fuzz/fuzz-artifacts/ and should become
# tests/fuzz/corpus/<target>/crash-<what> (see tests/fuzz/README.md).
#   tools/fuzz.sh [SECONDS | -runs=N] [TARGET...]
# SECONDS per target (default 60); -runs=N instead runs N inputs each.
# FUZZ_BUILD_DIR overrides build-fuzz/, FUZZ_JOBS the build's -j (default 2).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${FUZZ_BUILD_DIR:-$root/build-fuzz}
all_targets=(url_fuzz frame_fuzz value_fuzz ipcd_request_fuzz manager_response_fuzz
             state_fuzz)

bound=(-max_total_time=60)
if [ $# -gt 0 ]; then
  case "$1" in
    -runs=*) bound=("$1"); shift ;;
    ''|*[!0-9]*) ;;
    *) bound=(-max_total_time="$1"); shift ;;
  esac
fi
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all_targets[@]}")

bash "$root/tools/install-deps.sh"
command -v clang++ >/dev/null || { echo "fuzz.sh: clang++ not found" >&2; exit 1; }
CC=clang CXX=clang++ cmake -S "$root" -B "$build_dir" -G Ninja -DIPC_FUZZ=ON \
  -DIPC_BUILD_EXAMPLES=OFF >/dev/null
cmake --build "$build_dir" -j "${FUZZ_JOBS:-2}" --target "${targets[@]}"

artifacts=$build_dir/fuzz-artifacts
mkdir -p "$artifacts"
failed=()
summary=()
for t in "${targets[@]}"; do
  seeds=$root/tests/fuzz/corpus/$t
  work=$build_dir/fuzz-corpus/$t  # New inputs go here, not into the seeds.
  mkdir -p "$work"
  log=$build_dir/fuzz-$t.log
  echo "fuzz.sh: $t ${bound[*]}"
  rc=0
  "$build_dir/bin/$t" "${bound[@]}" -timeout=30 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$artifacts/$t-" \
    "$work" "$seeds" >"$log" 2>&1 || rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  line="$t: ${execs:-?} executions, ${speed:-?} exec/s, corpus $(ls "$work" | wc -l) files"
  if [ "$rc" -ne 0 ]; then
    line="$line, FAILED (exit $rc; log $log)"
    failed+=("$t")
    grep -E "ERROR|runtime error|SUMMARY|Test unit written|_fuzz: " "$log" | head -20 >&2 || true
  fi
  echo "fuzz.sh: $line"
  summary+=("$line")
done
echo "fuzz.sh: summary"
printf '  %s\n' "${summary[@]}"
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz.sh: crashes in ${failed[*]}; inputs in $artifacts" >&2
  exit 1
fi
