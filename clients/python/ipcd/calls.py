"""Building one Call request, and reading what a Result means.

Shared by the proxies (one request per method) and Batch (many calls in
one request, or pipelined).

Thread safety: pure functions.
"""
import math

from . import errors, values
from ._proto import pb
from .connection import REPLY_GRACE

# Marks an argument left out (None is a value: the null).
UNSET = object()


class _Absent:
    """compare_and_set's expected value meaning "the key is absent"."""

    def __repr__(self):
        return "ipcd.ABSENT"


ABSENT = _Absent()


def make(name, kind, op, key=None, value=UNSET, expected=UNSET, items=None,
         timeout=UNSET, capacity=0, index=None, stop=None, **more):
    """A Request holding one Call (id set when sent); more: the Call fields
    order, priority, lock and count (see fill)."""
    request = pb.Request()
    fill(request.call, name, kind, op, key, value, expected, items, timeout,
         capacity, index, stop, **more)
    return request


def fill(call, name, kind, op, key=None, value=UNSET, expected=UNSET,
         items=None, timeout=UNSET, capacity=0, index=None, stop=None,
         order=None, priority=None, lock=None, count=None):
    if not isinstance(name, str):
        raise TypeError(f"ipcd object names are str, not {type(name).__name__}")
    call.object = name
    call.kind = kind
    call.op = op
    if key is not None:
        call.key = values.check_key(key)
    if value is not UNSET:
        values.to_proto(value, call.value)
    if expected is not UNSET and expected is not ABSENT:
        values.to_proto(expected, call.expected)
    if items is not None:
        for k, v in items:
            entry = call.items.add()
            entry.key = values.check_key(k)
            values.to_proto(v, entry.value)
    if timeout is not UNSET and timeout is not None:
        call.timeout_ms = timeout_ms(timeout)
    if capacity:
        call.capacity = capacity
    if index is not None:
        call.index = index
    if stop is not None:
        call.stop = stop
    if order is not None:
        call.order = order
    if priority is not None:
        call.priority = priority
    if lock is not None:
        call.lock = lock
    if count is not None:
        call.count = count


def timeout_ms(timeout):
    """Seconds to the protocol's milliseconds, rounded up so that a wait of
    half a millisecond is not taken for "do not wait". A negative timeout
    is sent as is, for the daemon to refuse with its own message."""
    if timeout < 0:
        return min(-1, int(timeout * 1000))
    return math.ceil(timeout * 1000)


def reply_timeout(timeout):
    """How long to wait for a blocking call's answer: its own timeout plus
    a grace period (None: for ever)."""
    if timeout is None:
        return None
    return max(timeout, 0) + REPLY_GRACE


def error_of(status):
    """The exception for a non-OK proto Status."""
    return errors.error_for(status.code, status.message)


def read_int(result):
    """A counter's value: unset reads as 0 (a counter never set)."""
    kind = result.value.WhichOneof("kind")
    if kind == "int_value":
        return result.value.int_value
    if kind is None:
        return 0
    raise errors.ProtocolError("ipcd answered a counter call with a "
                               f"{kind} instead of an int")
