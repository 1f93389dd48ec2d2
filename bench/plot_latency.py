#!/usr/bin/python3
"""Draws the p50 round trip of every transport, channel beside its raw
baseline, from ipc-bench JSON lines (stdin) into a PNG (argv[1]).
Needs matplotlib (Debian: python3-matplotlib; bench/plot.sh installs it)."""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

rows = [json.loads(line) for line in sys.stdin if line.strip()]
rows = [r for r in rows if r["mode"] == "pingpong" and "baseline" in r]


def label(url):
    scheme = url.split(":", 1)[0]
    if scheme == "unix":
        return "unix @" if "//@" in url else "unix path"
    return scheme


sizes = sorted({r["size"] for r in rows})
transports = []
for r in rows:
    if label(r["url"]) not in transports:
        transports.append(label(r["url"]))

fig, axes = plt.subplots(1, len(sizes), figsize=(6 * len(sizes), 4.5), sharey=True)
if len(sizes) == 1:
    axes = [axes]
for ax, size in zip(axes, sizes):
    chan = [next((r["rtt_ns"]["p50"] / 1e3 for r in rows
                  if label(r["url"]) == t and r["size"] == size), 0) for t in transports]
    base = [next((r["baseline"]["rtt_ns"]["p50"] / 1e3 for r in rows
                  if label(r["url"]) == t and r["size"] == size), 0) for t in transports]
    x = range(len(transports))
    ax.bar([i - 0.2 for i in x], chan, width=0.4, label="libipc channel")
    ax.bar([i + 0.2 for i in x], base, width=0.4, label="raw mechanism")
    ax.set_yscale("log")
    ax.set_xticks(list(x))
    ax.set_xticklabels(transports, rotation=35, ha="right")
    ax.set_title(f"{size}-byte messages")
    ax.grid(axis="y", which="both", alpha=0.3)
axes[0].set_ylabel("round trip p50 (µs, log scale)")
axes[0].legend(loc="lower left")
fig.suptitle("ipc-bench ping-pong, two processes pinned to CPUs 0 and 1")
fig.tight_layout()
fig.savefig(sys.argv[1], dpi=110)
