#!/usr/bin/env python3
"""Writes the seed corpus of the fuzz targets (tests/fuzz/corpus/<target>/).

Run it again after changing it; files named crash-* (regression inputs) are
left alone. The protobuf messages of proto/ipcd.proto are encoded by hand so
that no Python protobuf package is needed.
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def varint(n):
    n &= (1 << 64) - 1
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def vfield(num, n):
    return varint(num << 3) + varint(n)


def lfield(num, data):
    if isinstance(data, str):
        data = data.encode()
    return varint((num << 3) | 2) + varint(len(data)) + data


def dfield(num, d):
    return varint((num << 3) | 1) + struct.pack("<d", d)


# ipcd.v1.Value
def v_null(): return vfield(1, 0)
def v_bool(b): return vfield(2, int(b))
def v_int(n): return vfield(3, n)
def v_double(d): return dfield(4, d)
def v_str(s): return lfield(5, s)
def v_bytes(b): return lfield(6, b)
def v_list(*items): return lfield(7, b"".join(lfield(1, i) for i in items))
def entry(k, v): return lfield(2, v) if k is None else lfield(1, k) + lfield(2, v)
def v_map(**kv): return lfield(8, b"".join(lfield(1, entry(k, v)) for k, v in kv.items()))


def deep(levels, leaf=None):
    v = leaf if leaf is not None else v_int(1)
    for _ in range(levels):
        v = v_list(v)
    return v


KINDS = dict(DICT=1, COUNTER=2, LOCK=3, RLOCK=4, QUEUE=5, EVENT=6)
OPS = dict(CREATE=1, DESTROY=2, GET=3, SET=4, DELETE=5, CONTAINS=6, LEN=7,
           KEYS=8, VALUES=9, ITEMS=10, UPDATE=11, POP=12, SETDEFAULT=13,
           CLEAR=14, COMPARE_AND_SET=15, ADD=16, ACQUIRE=17, RELEASE=18,
           PUT=19, CLOSE=20, IS_SET=21, WAIT=22, TASK_DONE=34)


def call(obj, kind, op, key=None, value=None, expected=None, items=None,
         timeout_ms=None, capacity=None):
    out = lfield(1, obj) + vfield(2, KINDS[kind]) + vfield(3, OPS[op])
    if key is not None: out += lfield(4, key)
    if value is not None: out += lfield(5, value)
    if expected is not None: out += lfield(6, expected)
    for k, v in (items or {}).items(): out += lfield(7, entry(k, v))
    if timeout_ms is not None: out += vfield(8, timeout_ms)
    if capacity is not None: out += vfield(9, capacity)
    return out


def req_call(rid, c): return vfield(1, rid) + lfield(4, c)
def req_batch(rid, *calls): return vfield(1, rid) + lfield(5, b"".join(lfield(1, c) for c in calls))
def req_hello(rid): return vfield(1, rid) + lfield(2, vfield(1, 1) + lfield(2, "x"))
def req_list(rid): return vfield(1, rid) + lfield(6, b"")
def req_stats(rid): return vfield(1, rid) + lfield(7, b"")
def req_watch(rid, obj, key=None):
    return vfield(1, rid) + lfield(8, lfield(1, obj) + (b"" if key is None else lfield(3, key)))
def req_unwatch(rid, wid): return vfield(1, rid) + lfield(9, vfield(1, wid))
def frame(body): return struct.pack("<I", len(body)) + body


# ipcd.v1.Response
def status(code, msg=""): return vfield(1, code) + (lfield(2, msg) if msg else b"")
def result(value=None, flag=None, count=None, keys=(), values=(), items=None):
    out = b""
    if value is not None: out += lfield(1, value)
    if flag is not None: out += vfield(2, int(flag))
    if count is not None: out += vfield(3, count)
    for k in keys: out += lfield(4, k)
    for v in values: out += lfield(5, v)
    for k, v in (items or {}).items(): out += lfield(6, entry(k, v))
    return out
def resp(rid, st=None, **body):
    out = vfield(1, rid)
    if st is not None: out += lfield(2, st)
    nums = dict(hello=3, auth=4, result=5, batch=6, objects=7, stats=8)
    for name, data in body.items(): out += lfield(nums[name], data)
    return out
def batch_reply(*replies):
    return b"".join(lfield(1, (lfield(1, st) if st else b"") + lfield(2, r)) for st, r in replies)


# ipcd's state files (ipcd/state/record_file.h): CRC-32C framing.
def crc32c(data, crc=0):
    crc ^= 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def change_call(c): return lfield(1, lfield(1, c))           # Change.call
def change_requeue(q, v): return lfield(1, lfield(2, lfield(1, q) + lfield(2, v)))


def state_file(magic, base_seq, payloads, first_seq=None):
    head = magic + struct.pack("<IIQ", 1, 0, base_seq)
    head += struct.pack("<II", crc32c(head), 0)
    seq = base_seq + 1 if first_seq is None else first_seq
    out = head
    for p in payloads:
        body = struct.pack("<Q", seq) + p
        out += struct.pack("<II", len(p), crc32c(body)) + body
        seq += 1
    return out


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def main():
    # url_fuzz and frame_fuzz: the texts and streams of seeds.cc.
    for i, text in enumerate([
            b"unix:///tmp/a.sock", b"unix://@abstract?max_message=1M",
            b"tcp://127.0.0.1:0?max_message=64K", b"tcp://[::1]:8888",
            b"udp://localhost:9", b"fifo:///tmp/f?mode=0600", b"pipe:?rfd=3&wfd=4",
            b"shm://jobs?capacity=1M", b"mq:///q?depth=8", b"x:?a=&b=1&&"]):
        write("url_fuzz", "seed-%02d" % i, text)
    for i, data in enumerate([
            frame(b"abc") + frame(b""), b"\xff\xff\xff\xffzzzz",
            b"\x00\x10\x00\x00short", b"\x02\x00", frame(b"x" * 300) + frame(b"y")]):
        write("frame_fuzz", "seed-%02d" % i, data)

    values = {
        "null": v_null(), "bool": v_bool(True), "int": v_int(-42),
        "double": v_double(1.5), "nan": v_double(float("nan")),
        "string": v_str("héllo"), "bytes": v_bytes(b"\x00\xff"),
        "list": v_list(v_int(1), v_str("a"), v_null()),
        "map": v_map(a=v_int(1), b=v_list(v_bool(False)), c=v_map(d=v_double(-0.0))),
        "map-dup-keys": lfield(8, lfield(1, entry("k", v_int(1))) + lfield(1, entry("k", v_int(2)))),
        "deep-30": deep(30), "deep-31": deep(31), "deep-120": deep(120),
        "request-call": req_call(7, call("d", "DICT", "SET", key="k", value=deep(3))),
        "word-int": b"-9223372036854775808", "word-double": b"1e3",
    }
    for name, data in values.items():
        write("value_fuzz", "seed-" + name, data)

    streams = {
        "counter": [req_call(2, call("c", "COUNTER", "ADD", value=v_int(5))),
                    req_call(3, call("c", "COUNTER", "GET")),
                    req_call(4, call("c", "COUNTER", "COMPARE_AND_SET", value=v_int(1), expected=v_int(5)))],
        "dict": [req_call(2, call("d", "DICT", "SET", key="k", value=v_map(a=v_list(v_int(1))))),
                 req_call(3, call("d", "DICT", "GET", key="k")),
                 req_call(4, call("d", "DICT", "UPDATE", items={"x": v_str("y")})),
                 req_call(5, call("d", "DICT", "ITEMS")),
                 req_call(6, call("d", "DICT", "POP", key="x")),
                 req_call(7, call("d", "DICT", "COMPARE_AND_SET", key="k", value=v_int(2), expected=v_null())),
                 req_call(8, call("d", "DICT", "DESTROY"))],
        "queue": [req_call(2, call("q", "QUEUE", "CREATE", capacity=2)),
                  req_call(3, call("q", "QUEUE", "PUT", value=v_int(1), timeout_ms=0)),
                  req_call(4, call("q", "QUEUE", "GET", timeout_ms=0)),
                  req_call(5, call("q", "QUEUE", "GET", timeout_ms=5)),
                  req_call(6, call("q", "QUEUE", "CLOSE"))],
        "queue-park": [req_call(2, call("q2", "QUEUE", "GET")),
                       req_call(3, call("q2", "QUEUE", "LEN"))],
        "lock": [req_call(2, call("l", "LOCK", "ACQUIRE", timeout_ms=0)),
                 req_call(3, call("l", "LOCK", "ACQUIRE", timeout_ms=1)),
                 req_call(4, call("l", "LOCK", "RELEASE")),
                 req_call(5, call("r", "RLOCK", "ACQUIRE")),
                 req_call(6, call("r", "RLOCK", "ACQUIRE"))],
        "event": [req_call(2, call("e", "EVENT", "WAIT", timeout_ms=1)),
                  req_call(3, call("e", "EVENT", "SET")),
                  req_call(4, call("e", "EVENT", "IS_SET"))],
        "batch": [req_batch(2, call("c", "COUNTER", "ADD", value=v_int(1)),
                            call("d", "DICT", "SET", key="a", value=v_int(1)),
                            call("q", "QUEUE", "PUT", value=v_str("x"))),
                  req_list(3), req_stats(4)],
        "protocol": [req_hello(2), vfield(1, 0) + lfield(6, b""), b"\xff\xff",
                     req_call(5, call("bad\nname", "DICT", "GET", key="k"))],
        "deep-value": [req_call(2, call("d", "DICT", "SET", key="k", value=deep(40)))],
        "watch": [req_watch(2, "d"), req_watch(3, "d", key="k"), req_watch(4, "c"),
                  req_call(5, call("d", "DICT", "SET", key="k", value=v_int(1))),
                  req_call(6, call("d", "DICT", "CLEAR")),
                  req_call(7, call("c", "COUNTER", "ADD", value=v_int(1))),
                  req_unwatch(8, 2), req_unwatch(9, 2),
                  req_call(10, call("d", "DICT", "DESTROY"))],
    }
    for name, frames in streams.items():
        write("ipcd_request_fuzz", "seed-" + name, b"".join(frame(f) for f in frames))
    write("ipcd_request_fuzz", "seed-oversize", struct.pack("<I", 1 << 20) + b"abc")
    write("ipcd_request_fuzz", "seed-partial", frame(req_list(2))[:-1])

    # manager_response_fuzz: first byte = the call to start with and how
    # many (see the top of manager_response_fuzz.cc); then the daemon's
    # frames. The client's Hello is id 1, so the first call is id 2.
    replies = {
        0: [resp(2, result=result(value=v_int(5)))],                      # Counter Add
        1: [resp(2, result=result(value=v_map(a=v_int(1))))],             # Dict Get
        2: [resp(2, result=result(items={"a": v_int(1), "b": v_null()}))],  # Dict Items
        3: [resp(2, result=result(keys=["a", "b"]))],                     # Dict Keys
        5: [resp(2, result=result(count=3))],                             # Dict Len
        7: [resp(2, result=result(flag=True))],                           # Dict CAS
        9: [resp(2, st=status(2, "no such key")), resp(3, result=result(flag=True))],  # Modify
        10: [resp(2, st=status(13, "empty"))],                            # Queue Get
        12: [resp(2, result=result(flag=True)), resp(3, result=result())],  # Lock
        16: [resp(2, objects=lfield(1, lfield(1, "c") + vfield(2, 2) + vfield(3, 1)))],
        17: [resp(2, stats=lfield(1, "ipcd") + vfield(3, 1) + lfield(8, vfield(1, 65536)))],
        18: [resp(2, batch=batch_reply((None, result(value=v_int(1))),
                                       (status(2, "k"), result()),
                                       (None, result()),
                                       (None, result(value=v_int(1)))))],
        19: [resp(2, result=result(value=v_int(1))), resp(3, st=status(2, "k")),
             resp(4, result=result())],
        20: [resp(2, st=status(99, "unknown code"))],
    }
    for first, frames in replies.items():
        write("manager_response_fuzz", "seed-%02d" % first,
              bytes([first]) + b"".join(frame(f) for f in frames))
    # First byte 21 * (n - 1) + first: n calls from `first` on, one connection.
    write("manager_response_fuzz", "seed-three-calls",
          bytes([21 * 2 + 0]) + frame(resp(2, result=result(value=v_int(5))))
          + frame(resp(3, result=result(value=v_str("v"))))
          + frame(resp(4, result=result(items={"a": v_int(1)}))))
    write("manager_response_fuzz", "seed-wrong-id", bytes([0]) + frame(resp(9, result=result())))
    write("manager_response_fuzz", "seed-deep", bytes([1]) + frame(resp(2, result=result(value=deep(60)))))

    # state_fuzz: first byte 0 = a log file, 1 = a snapshot, else a payload.
    records = [
        change_call(call("d", "DICT", "SET", key="k", value=v_str("v"))),
        change_call(call("c", "COUNTER", "ADD", value=v_int(5))),
        change_call(call("q", "QUEUE", "CREATE", capacity=2))
        + change_call(call("q", "QUEUE", "PUT", value=v_int(1)))
        + change_call(call("q", "QUEUE", "GET")),
        change_requeue("q", v_int(1)),
        change_call(call("e", "EVENT", "SET")),
        change_call(call("d", "DICT", "UPDATE", items={"a": v_list(v_int(1)), "b": v_null()})),
        change_call(call("d", "DICT", "COMPARE_AND_SET", key="a", expected=v_null(), value=v_int(2))),
        change_call(call("q", "QUEUE", "CLOSE")),
        change_call(call("c", "COUNTER", "DESTROY")),
    ]
    write("state_fuzz", "seed-log", bytes([0]) + state_file(b"IPCDLOG1", 0, records))
    torn = state_file(b"IPCDLOG1", 7, records[:3])
    write("state_fuzz", "seed-log-torn", bytes([0]) + torn[:-3])
    write("state_fuzz", "seed-snapshot",
          bytes([1]) + state_file(b"IPCDSNP1", 9, records[:3] + [b""], first_seq=1))
    for i, r in enumerate(records):
        write("state_fuzz", "seed-record-%02d" % i, bytes([2]) + r)


if __name__ == "__main__":
    main()
