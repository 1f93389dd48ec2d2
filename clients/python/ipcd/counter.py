"""CounterProxy: an int64 the daemon changes atomically, so no lock is
needed: m.counter("hits").add(1) is one request and returns the new value.

Thread safety: as the Manager's.
"""
from . import calls
from ._proto import pb
from .proxy import Proxy


class CounterProxy(Proxy):
    _kind = pb.COUNTER
    __slots__ = ()

    def add(self, delta=1):
        """Adds delta (may be negative); the new value. InvalidArgument on
        int64 overflow, which changes nothing."""
        return calls.read_int(self._call(pb.ADD, value=_int(delta)))

    def get(self):
        return calls.read_int(self._call(pb.GET))

    def set(self, value):
        self._call(pb.SET, value=_int(value))

    def compare_and_set(self, expected, desired):
        """Sets the value to desired if it equals expected. True when it did."""
        return self._call(pb.COMPARE_AND_SET, expected=_int(expected),
                          value=_int(desired)).flag


def _int(n):
    # A float or str would reach the daemon as another kind of value.
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"a counter takes an int, not {type(n).__name__}")
    return int(n)
