"""What ListObjects and GetStats report, as plain Python values (see
ObjectInfo and Stats in proto/ipcd.proto).

Thread safety: immutable values.
"""
import dataclasses
from typing import Optional

from ._proto import pb

KIND_NAMES = {pb.DICT: "dict", pb.COUNTER: "counter", pb.LOCK: "lock",
              pb.RLOCK: "rlock", pb.QUEUE: "queue", pb.EVENT: "event",
              pb.LIST: "list", pb.SEMAPHORE: "semaphore",
              pb.BOUNDED_SEMAPHORE: "bounded_semaphore", pb.VALUE: "value",
              pb.NAMESPACE: "namespace", pb.BARRIER: "barrier",
              pb.CONDITION: "condition"}


@dataclasses.dataclass(frozen=True)
class ObjectInfo:
    name: str
    kind: str      # "dict", "counter", "list", ...: KIND_NAMES, as ipcctl
    # Keys (dict, namespace), items (queue, list), the counter's value,
    # units free (semaphores), holds (locks), parties waiting (barrier),
    # 1 if set (event), 1 (value).
    size: int
    bytes: int     # the bytes of values held, as counted against max_bytes
    waiters: int   # requests parked on it


@dataclasses.dataclass(frozen=True)
class Persistence:
    state_dir: str
    fsync: str
    log_bytes: int
    records_since_snapshot: int
    snapshot_bytes: int
    last_sync_unix_ms: int
    last_snapshot_unix_ms: int
    snapshot_running: bool
    last_write_error: str
    last_seq: int


@dataclasses.dataclass(frozen=True)
class Stats:
    server_version: str
    uptime_ms: int
    clients: int
    objects: int
    bytes_held: int
    requests_total: int
    parked: int
    pending: int
    max_frame_bytes: int
    max_clients: int
    max_pending_per_client: int
    max_objects: int
    max_bytes: int
    persistence: Optional[Persistence]  # None: state in memory only
    watches: int   # watches open now, on every connection


def objects_from_proto(object_list):
    return [ObjectInfo(o.name, KIND_NAMES.get(o.kind, "unknown"), o.size,
                       o.bytes, o.waiters) for o in object_list.objects]


def _fields(cls, message):
    return {f.name: getattr(message, f.name) for f in dataclasses.fields(cls)}


def stats_from_proto(s):
    persistence = None
    if s.HasField("persistence"):
        persistence = Persistence(**_fields(Persistence, s.persistence))
    limits = {f"max_{n}": getattr(s.limits, f"max_{n}") for n in
              ("frame_bytes", "clients", "pending_per_client", "objects",
               "bytes")}
    return Stats(server_version=s.server_version, uptime_ms=s.uptime_ms,
                 clients=s.clients, objects=s.objects,
                 bytes_held=s.bytes_held, requests_total=s.requests_total,
                 parked=s.parked, pending=s.pending,
                 persistence=persistence, watches=s.watches, **limits)
