#!/usr/bin/python3
"""Draws requests per second against clients, one line per server, from
bench/run_clients.sh's JSON lines (stdin) into a PNG (argv[1]).
Needs matplotlib (Debian: python3-matplotlib; run_clients.sh installs it)."""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

rows = [json.loads(line) for line in sys.stdin if line.strip()]
fig, ax = plt.subplots(figsize=(7, 4.2))
for server in ("ipcd shm", "ipcd unix", "redis"):
    points = sorted((r["clients"], r["requests_per_s"]) for r in rows if r["server"] == server)
    if points:
        ax.plot([c for c, _ in points], [v / 1000 for _, v in points], marker="o", label=server)
ax.set_xscale("log", base=2)
ax.set_xticks([1, 2, 4, 8, 16, 32, 64])
ax.set_xticklabels(["1", "2", "4", "8", "16", "32", "64"])
ax.set_xlabel("synchronous clients")
ax.set_ylabel("thousand requests/s (counter add / INCR)")
ax.set_title("ipcd and Redis by clients (bench/run_clients.sh)")
ax.grid(True, alpha=0.3)
ax.legend()
fig.tight_layout()
fig.savefig(sys.argv[1], dpi=110)
