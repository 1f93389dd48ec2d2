#!/usr/bin/env python3
"""Turns ipc-bench JSON lines (stdin) into the markdown tables of
docs/benchmarks.md: latency and throughput, channel beside its raw baseline,
plus the cross-transport ratios the design targets refer to."""
import json
import re
import sys

rows = [json.loads(line) for line in sys.stdin if line.strip()]


def scheme(url):
    s = url.split(":", 1)[0]
    if s == "unix":
        return "unix (abstract)" if "//@" in url else "unix (path)"
    return s


def fmt_us(ns):
    return f"{ns / 1000:.2f}"


floor = next((r["floor"] for r in rows if "floor" in r), None)
ping = [r for r in rows if r["mode"] == "pingpong" and "baseline" in r]
stream = [r for r in rows if r["mode"] == "stream" and "baseline" in r]

print("### Round trip (ping-pong), p50 / p99 in µs\n")
print("| transport | size | channel p50 | channel p99 | raw p50 | raw mechanism | ratio |")
print("|---|---:|---:|---:|---:|---|---:|")
for r in ping:
    b = r["baseline"]
    print(f"| {scheme(r['url'])} | {r['size']} | {fmt_us(r['rtt_ns']['p50'])} | "
          f"{fmt_us(r['rtt_ns']['p99'])} | {fmt_us(b['rtt_ns']['p50'])} | {b['what']} | "
          f"{r['ratio']:.2f} |")

print("\n### Stream (one way), messages/s and MB/s\n")
print("| transport | size | channel msgs/s | channel MB/s | raw msgs/s | ratio |")
print("|---|---:|---:|---:|---:|---:|")
for r in stream:
    b = r["baseline"]
    print(f"| {scheme(r['url'])} | {r['size']} | {r['msgs_per_s']:,.0f} | "
          f"{r['bytes_per_s'] / 1e6:,.0f} | {b['msgs_per_s']:,.0f} | {r['ratio']:.2f} |")


def find(rs, sch, size):
    for r in rs:
        if scheme(r["url"]).startswith(sch) and r["size"] == size:
            return r
    return None


print("\n### Cross-transport ratios (same run)\n")
shm64 = find(ping, "shm", 64)
unix64 = find(ping, "unix (path)", 64)
if shm64 and unix64:
    print(f"- shm 64 B round trip p50 / unix p50: "
          f"{shm64['rtt_ns']['p50'] / unix64['rtt_ns']['p50']:.4f} "
          f"(1/{unix64['rtt_ns']['p50'] / shm64['rtt_ns']['p50']:.0f})")
    print(f"- shm 64 B round trip p50 / raw spinning shared memory: {shm64['ratio']:.2f}")
shm_s = find(stream, "shm", 64)
pipe_s = find(stream, "pipe", 64)
if shm_s and pipe_s:
    print(f"- shm 64 B stream / pipe 64 B stream (msgs/s): "
          f"{shm_s['msgs_per_s'] / pipe_s['msgs_per_s']:.1f}x")
shm_1m = find(stream, "shm", 1 << 20)
if shm_1m and floor:
    gbps = shm_1m["bytes_per_s"] / 1e9
    print(f"- shm 1 MiB stream: {gbps:.1f} GB/s = "
          f"{100 * gbps / floor['memcpy_gb_per_s']:.0f}% of single-thread memcpy "
          f"({floor['memcpy_gb_per_s']:.1f} GB/s)")
if floor:
    print(f"- floor: cache-line round trip between the two CPUs "
          f"{floor['cacheline_rtt_ns']:.0f} ns")
