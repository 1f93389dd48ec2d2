#!/usr/bin/env python3
"""multiprocessing.Pool.map of tiny tasks (squaring an int), for comparison
with pool-bench: the same task count, worker count and chunksize, timed the
same way: one map, in a pool that has started and already run the same map
once. Prints one JSON line.
  python_pool.py TASKS WORKERS CHUNKSIZE"""
import json
import multiprocessing as mp
import sys
import time


def square(x):
    return x * x


def main():
    tasks, workers, chunksize = (int(a) for a in sys.argv[1:4])
    inputs = list(range(tasks))
    with mp.get_context("fork").Pool(workers) as pool:
        pool.map(square, inputs, chunksize)  # The untimed first run.
        start = time.perf_counter()
        out = pool.map(square, inputs, chunksize)
        seconds = time.perf_counter() - start
    assert out[-1] == (tasks - 1) ** 2
    print(json.dumps({"bench": "multiprocessing.Pool.map", "tasks": tasks,
                      "workers": workers, "chunksize": chunksize,
                      "seconds": round(seconds, 6)}))


if __name__ == "__main__":
    main()
