#!/usr/bin/env python3
"""multiprocessing.Queue streaming 64-byte items from one process to another,
for comparison with sync-bench's queue stream. Prints one JSON line."""
import json
import multiprocessing as mp
import sys
import time


def producer(q, items):
    item = b"x" * 64
    for _ in range(items):
        q.put(item)


def main():
    items = int(sys.argv[1]) if len(sys.argv) > 1 else 200000
    q = mp.Queue(1024)
    p = mp.Process(target=producer, args=(q, items))
    start = time.perf_counter()
    p.start()
    for _ in range(items):
        q.get()
    seconds = time.perf_counter() - start
    p.join()
    print(json.dumps({"bench": "multiprocessing.Queue stream 64 B",
                      "items_per_s": round(items / seconds)}))


if __name__ == "__main__":
    main()
