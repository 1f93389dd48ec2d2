#!/usr/bin/env python3
"""The Python ipcd client beside Python's own multiprocessing.Manager, doing
the same operations in the same run on the same machine; prints a table of
operations per second and the ratios.

  PYTHONPATH=build/clients/python python3 bench/python_client.py [--requests N]
      [--ipcd PATH [--spin-us N] | --url URL] [--json]

Operations (one client process; the server is its own process in both):
  counter add       ipcd: counter.add(1), one request, atomic in the daemon.
                    Manager: add(1) on a registered Counter object, one
                    round trip, atomic in the server (Manager has no counter).
  dict set          d["key"] = "xxx" on a dict proxy.
  locked increment  with lock: d["count"] += 1 (acquire, get, set, release).
The reply_spin 0 row is the client sleeping at once for each answer
instead of polling for it 20 us first. The pipelined rows send the same requests with Batch.run_pipelined() (at
most 64 unanswered); Manager cannot pipeline, so its synchronous number is
the baseline. Each number is the best of 3 rounds.

Without --url it starts its own ipcd (--ipcd, $IPCD_BINARY, or
build/bin/ipcd) on a private socket, and stops it at the end.
"""
import argparse
import json
import multiprocessing.managers as mpm
import os
import subprocess
import tempfile
import time

import ipcd

HERE = os.path.dirname(os.path.abspath(__file__))


class Counter:
    """Manager's side of "counter add": one method call, atomic in the
    server (its methods run one at a time per object)."""

    def __init__(self):
        self.n = 0

    def add(self, delta):
        self.n += delta
        return self.n


class BenchManager(mpm.SyncManager):
    pass


BenchManager.register("Counter", Counter)


def rate(requests, op, rounds=3):
    """Best requests per second of `rounds` runs of op(requests)."""
    op(min(requests, 1000))  # Warm up.
    best = 0.0
    for _ in range(rounds):
        start = time.perf_counter()
        op(requests)
        best = max(best, requests / (time.perf_counter() - start))
    return best


def ipcd_ops(m):
    counter, d, lock = m.counter("bench-hits"), m.dict("bench-d"), m.lock("bench-L")
    d["count"] = 0

    def sync_add(n):
        for _ in range(n):
            counter.add(1)

    def sync_set(n):
        for _ in range(n):
            d["key"] = "xxx"

    def locked(n):
        for _ in range(n):
            with lock:
                d["count"] = d["count"] + 1

    def pipelined(fill):
        def run(n):
            b = m.batch()
            for _ in range(n):
                fill(b)
            b.run_pipelined()
        return run

    return {
        "counter add": sync_add, "dict set": sync_set, "locked increment": locked,
        "counter add, pipelined": pipelined(lambda b: b.counter_add("bench-hits", 1)),
        "dict set, pipelined": pipelined(lambda b: b.dict_set("bench-d", "key", "xxx")),
    }


def manager_ops(mgr):
    counter, d, lock = mgr.Counter(), mgr.dict({"count": 0}), mgr.Lock()

    def sync_add(n):
        for _ in range(n):
            counter.add(1)

    def sync_set(n):
        for _ in range(n):
            d["key"] = "xxx"

    def locked(n):
        for _ in range(n):
            with lock:
                d["count"] += 1

    return {"counter add": sync_add, "dict set": sync_set,
            "locked increment": locked}


def start_ipcd(binary, spin_us):
    binary = binary or os.environ.get("IPCD_BINARY") or os.path.join(
        HERE, "..", "build", "bin", "ipcd")
    workdir = tempfile.mkdtemp(prefix="bench-py-")
    path = os.path.join(workdir, "ipcd.sock")
    extra = [] if spin_us is None else ["--spin-us", str(spin_us)]
    daemon = subprocess.Popen([binary, "--socket", path, *extra],
                              stderr=subprocess.DEVNULL)
    ipcd.connect(path, wait_for_daemon=10).close()
    return daemon, "unix://" + path


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--ipcd")
    parser.add_argument("--url")
    parser.add_argument("--spin-us", type=int,
                        help="the ipcd it starts polls this long after each "
                             "request (ipcd --spin-us; default: ipcd's)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    daemon, url = (None, args.url) if args.url else start_ipcd(args.ipcd, args.spin_us)
    try:
        m = ipcd.connect(url)
        ours = {name: rate(args.requests, op) for name, op in ipcd_ops(m).items()}
        m.close()
        # The client sleeping at once, as Manager's does.
        m = ipcd.connect(url, reply_spin=0)
        ours["counter add, reply_spin 0"] = rate(args.requests,
                                                 ipcd_ops(m)["counter add"])
        m.close()
    finally:
        if daemon:
            daemon.terminate()
            daemon.wait()
    with BenchManager() as mgr:
        theirs = {name: rate(args.requests, op)
                  for name, op in manager_ops(mgr).items()}
    rows = []
    for name, value in ours.items():
        base = name.split(",")[0]
        rows.append({"op": name, "ipcd_per_s": round(value),
                     "manager_per_s": round(theirs[base]),
                     "ratio": round(value / theirs[base], 1)})
    if args.json:
        for row in rows:
            print(json.dumps(row))
        return
    print(f"{'operation':26} {'ipcd client/s':>14} {'Manager/s':>11} {'ratio':>7}")
    for row in rows:
        print(f"{row['op']:26} {row['ipcd_per_s']:>14,} "
              f"{row['manager_per_s']:>11,} {row['ratio']:>6}x")


if __name__ == "__main__":
    main()
