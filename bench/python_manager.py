#!/usr/bin/env python3
"""Python's multiprocessing.Manager doing what ipcd-bench does, for the
comparison in bench/run_ipcd.sh. Prints one JSON line per measurement.

  python_manager.py [REQUESTS]

"locked-increment" is the idiom Python code uses for a shared count:
`with lock: d['count'] += 1` on a Manager dict and Manager lock (four round
trips: acquire, get, set, release). "dict-set" is one `d['key'] = 'xxx'`.
The client runs in this process; the Manager's server is its own process, as
ipcd is."""
import json
import multiprocessing as mp
import sys
import time


def measure(name, requests, op):
    for _ in range(min(1000, requests)):  # Warm up.
        op()
    start = time.perf_counter()
    for _ in range(requests):
        op()
    seconds = time.perf_counter() - start
    print(json.dumps({"bench": f"python Manager {name}", "clients": 1,
                      "requests": requests,
                      "requests_per_s": round(requests / seconds)}))


def main():
    requests = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    with mp.Manager() as manager:
        d = manager.dict({"count": 0})
        lock = manager.Lock()

        def locked_increment():
            with lock:
                d["count"] += 1

        def dict_set():
            d["key"] = "xxx"

        measure("locked-increment", requests, locked_increment)
        measure("dict-set", requests, dict_set)


if __name__ == "__main__":
    main()
