"""DictProxy: a dict of str keys to values held by ipcd, with the mapping
API of a multiprocessing.managers dict proxy and of ipc::DictProxy.

  d = m.dict("cfg")
  d["mode"] = "fast"; d.get("mode"); "mode" in d; len(d)
  d.update({"a": 1}); d.pop("a"); d.setdefault("n", 0)
  d.compare_and_set("n", 0, 1)          # True when n was 0
  d.compare_and_set("k", ipcd.ABSENT, 1)  # only if k is absent

Each method is one request; d[k] += 1 is two (a get and a set), so two
clients may interleave: use a lock, compare_and_set, or a counter. keys(),
values() and items() are lists in key order, copied when called. A missing
key is ipcd.NotFound, which is a KeyError.

Thread safety: as the Manager's.
"""
from . import calls, values
from ._proto import pb
from .proxy import Proxy

_MISSING = calls.UNSET


class DictProxy(Proxy):
    _kind = pb.DICT
    __slots__ = ()

    def __getitem__(self, key):
        """The value of key; NotFound (a KeyError) when absent."""
        return values.from_proto(self._call(pb.GET, key=key).value)

    def get(self, key, default=None):
        """The value of key, or default when absent."""
        return values.from_proto(
            self._call(pb.GET, key=key, value=default).value)

    def __setitem__(self, key, value):
        self._call(pb.SET, key=key, value=value)

    def set(self, key, value):
        self._call(pb.SET, key=key, value=value)

    def __delitem__(self, key):
        self._call(pb.DELETE, key=key)

    def delete(self, key):
        """Removes key; NotFound when absent."""
        self._call(pb.DELETE, key=key)

    def __contains__(self, key):
        return self._call(pb.CONTAINS, key=key).flag

    def contains(self, key):
        return self._call(pb.CONTAINS, key=key).flag

    def __len__(self):
        return self._call(pb.LEN).count

    def len(self):
        return self._call(pb.LEN).count

    def keys(self):
        return list(self._call(pb.KEYS).keys)

    def __iter__(self):
        return iter(self.keys())

    def values(self):
        return [values.from_proto(v) for v in self._call(pb.VALUES).values]

    def items(self):
        return [(e.key, values.from_proto(e.value))
                for e in self._call(pb.ITEMS).items]

    def copy(self):
        """A plain dict of the entries, read in one request."""
        return dict(self.items())

    def update(self, other=(), **more):
        """Sets every entry of other (a mapping or (key, value) pairs) and
        of more, in one request."""
        entries = list(other.items() if hasattr(other, "items") else other)
        entries.extend(more.items())
        self._call(pb.UPDATE, items=entries)

    def pop(self, key, default=_MISSING):
        """Removes key and returns its value; default (or NotFound when no
        default is given) when absent."""
        return values.from_proto(self._call(pb.POP, key=key, value=default).value)

    def setdefault(self, key, default=None):
        """key's value, after setting it to default if it was absent."""
        return values.from_proto(
            self._call(pb.SETDEFAULT, key=key, value=default).value)

    def clear(self):
        self._call(pb.CLEAR)

    def compare_and_set(self, key, expected, desired):
        """Sets key to desired if its value equals expected (ipcd.ABSENT: if
        key is absent). True when it did."""
        return self._call(pb.COMPARE_AND_SET, key=key, expected=expected,
                          value=desired).flag
