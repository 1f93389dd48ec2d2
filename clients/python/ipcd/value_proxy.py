"""ValueProxy: one value held by ipcd, as the proxy of
multiprocessing.Manager().Value: read and write it through `.value`.

  v = m.value("mode", "fast")        # made holding "fast" if new
  v.value; v.value = "slow"; v.get(); v.set("x")
  v.compare_and_set("x", "y")        # True when it held "x"

It holds None until set, or the initial value of the call that made it; a
later Manager.value() with another initial value leaves an existing one as
it is (the first to make it wins, where Python's Manager makes a new object
each time). Values are any ipcd value (values.py); the typecode Python's
Value takes is accepted and, as in Python's Manager, not enforced. Each
method is one request; v.value += 1 is two (use compare_and_set, a lock,
or a counter).

Thread safety: as the Manager's.
"""
from . import values
from ._proto import pb
from .proxy import Proxy


class ValueProxy(Proxy):
    _kind = pb.VALUE
    __slots__ = ()

    def create(self, initial):
        """Makes the value holding initial if it does not exist; an existing
        one keeps its own."""
        self._call(pb.CREATE, value=initial)

    def get(self):
        return values.from_proto(self._call(pb.GET).value)

    def set(self, value):
        self._call(pb.SET, value=value)

    value = property(get, set)

    def compare_and_set(self, expected, desired):
        """Sets desired if the value equals expected (None: also a value
        never set). True when it did."""
        return self._call(pb.COMPARE_AND_SET, expected=expected,
                          value=desired).flag
