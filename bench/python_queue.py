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


def echo(ping, pong, trips):
    for _ in range(trips):
        pong.put(ping.get())


def round_trip(trips):
    ping, pong = mp.Queue(16), mp.Queue(16)
    p = mp.Process(target=echo, args=(ping, pong, trips))
    p.start()
    item = b"p" * 64
    start = time.perf_counter()
    for _ in range(trips):
        ping.put(item)
        pong.get()
    us = (time.perf_counter() - start) / trips * 1e6
    p.join()
    return us


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
    print(json.dumps({"bench": "multiprocessing.Queue round trip 64 B",
                      "rtt_us": round(round_trip(max(1000, items // 10)), 2)}))


if __name__ == "__main__":
    main()
