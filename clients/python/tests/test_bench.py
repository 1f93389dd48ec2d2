"""bench/python_client.py runs (with few requests: a smoke test, not a
measurement), so the numbers in docs/benchmarks.md can be made again."""
import os
import subprocess
import sys

BENCH = os.environ.get("IPCD_PYTHON_BENCH", "")


def test_bench_prints_a_row_per_operation():
    out = subprocess.run([sys.executable, BENCH, "--requests", "50"],
                         capture_output=True, text=True, timeout=50)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].split() == ["operation", "ipcd", "client/s", "Manager/s", "ratio"]
    assert [line.split("  ")[0] for line in lines[1:]] == [
        "counter add", "dict set", "locked increment",
        "counter add, pipelined", "dict set, pipelined",
        "counter add, reply_spin 0"]
