#!/usr/bin/env python3
# Run: PYTHONPATH=build/clients/python python3 examples/python/s08_manager_dict.py [--counter] [--url URL]
# (with an ipcd running: build/bin/ipcd &)
"""S8, manager dict: Python's

    d = Manager().dict({'count': 100})
    # 10 processes, each: for _ in range(10): with lock: d['count'] -= 1
    print(d)                                    # {'count': 0}

with ipcd holding the dict and the lock. The lock is needed because
"count -= 1" is a read and a write. With --counter the same job uses an ipcd
counter, whose add(-1) the daemon applies atomically: no lock.
"""
import argparse
import multiprocessing

import ipcd

WORKERS, STEPS = 10, 10


def locked_decrements(m):
    # The Manager came from the parent: this process's first call opens its
    # own connection (its own lock holds).
    d, lock = m.dict("s8-dict"), m.lock("s8-lock")
    for _ in range(STEPS):
        with lock.held(timeout=30):
            d["count"] -= 1


def counter_decrements(m):
    c = m.counter("s8-counter")
    for _ in range(STEPS):
        c.add(-1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counter", action="store_true")
    parser.add_argument("--url", default=None, help="default: ipcd.default_url()")
    args = parser.parse_args()
    m = ipcd.connect(args.url)
    if args.counter:
        m.counter("s8-counter").set(100)
        work = counter_decrements
    else:
        m.dict("s8-dict")["count"] = 100
        work = locked_decrements
    workers = [multiprocessing.get_context("fork").Process(target=work, args=(m,))
               for _ in range(WORKERS)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    if any(w.exitcode for w in workers):
        raise SystemExit("s8: a worker failed")
    count = m.counter("s8-counter").get() if args.counter else m.dict("s8-dict")["count"]
    print({"count": count})


if __name__ == "__main__":
    main()
