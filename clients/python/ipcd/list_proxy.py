"""ListProxy: a list of values held by ipcd, with the sequence API of a
multiprocessing.managers list proxy and of ipc::ListProxy.

  l = m.list("jobs")                  # or m.list("jobs", [1, 2]): holds that
  l.append(3); l.extend([4, 5]); l.insert(0, "first")
  l[0]; l[-1]; l[1:3]; l[0] = "x"; del l[0]; len(l)
  l.pop(); l.pop(0); l.remove(4); l.index(2); l.count(2); 2 in l
  for item in l: ...                  # a copy, read in one request

Each method is one request, so each is atomic, but l[i] = l[i] + 1 is
two, and another client may write in between: hold a lock around both.
An index counts from the end when negative, as in Python; one outside the
list is ipcd.IndexOutOfRange (an IndexError, carrying the daemon's message
"index 5 is out of range for length 3"), remove() and index() of a value
the list does not hold ipcd.NotInList (a ValueError). Iteration, copy()
and tolist() read the whole list in one request; a slice reads only its
items.

Unlike Python's list proxy: no slice assignment or deletion, no sort() or
reverse() (the protocol has no such operations; read, change and write
back under a lock), index() takes no start and stop, and == compares the
proxies, not the contents (compare tolist()).

Thread safety: as the Manager's.
"""
import operator

from . import errors, values
from ._proto import pb
from .proxy import Proxy

_INT64_MIN = -(1 << 63)
_INT64_MAX = (1 << 63) - 1


class ListProxy(Proxy):
    _kind = pb.LIST
    __slots__ = ()

    def _list_call(self, op, **arguments):
        try:
            return self._call(op, **arguments)
        except errors.Error as e:
            raise recast_error(e) from None

    def append(self, value):
        self._list_call(pb.APPEND, value=value)

    def extend(self, iterable):
        """Appends every item, all or none (ResourceExhausted past the
        daemon's byte limit leaves the list as it was)."""
        self._list_call(pb.EXTEND, value=list(iterable))

    def __iadd__(self, iterable):
        self.extend(iterable)
        return self

    def __getitem__(self, index):
        """The item at index, or a list of the items of a slice."""
        if isinstance(index, slice):
            if index.step not in (None, 1):
                return self.tolist()[index]
            return self._slice(index.start, index.stop)
        result = self._list_call(pb.GET, index=item_index(index))
        return values.from_proto(result.value)

    def __setitem__(self, index, value):
        if isinstance(index, slice):
            raise TypeError("ipcd lists do not support slice assignment")
        self._list_call(pb.SET, index=item_index(index), value=value)

    def __delitem__(self, index):
        if isinstance(index, slice):
            raise TypeError("ipcd lists do not support slice deletion")
        self._list_call(pb.POP, index=item_index(index))

    def insert(self, index, value):
        """Puts value before index; past either end inserts at that end."""
        self._list_call(pb.INSERT, index=bound(index), value=value)

    def pop(self, index=-1):
        """Removes and returns the item at index (the last by default);
        IndexOutOfRange when there is none (an empty list too)."""
        result = self._list_call(pb.POP, index=item_index(index))
        return values.from_proto(result.value)

    def remove(self, value):
        """Removes the first item equal to value; NotInList when none is."""
        self._list_call(pb.REMOVE, value=value)

    def index(self, value):
        """The index of the first item equal to value; NotInList when none is."""
        return self._list_call(pb.INDEX, value=value).count

    def count(self, value):
        return self._list_call(pb.COUNT, value=value).count

    def __contains__(self, value):
        return self.count(value) > 0

    def __len__(self):
        return self._list_call(pb.LEN).count

    def clear(self):
        self._list_call(pb.CLEAR)

    def tolist(self):
        """The items, as a Python list: a copy, read in one request."""
        return self._slice(None, None)

    copy = tolist

    def __iter__(self):
        return iter(self.tolist())

    def _slice(self, start, stop):
        result = self._list_call(
            pb.SLICE, index=None if start is None else bound(start),
            stop=None if stop is None else bound(stop))
        return [values.from_proto(v) for v in result.values]


def item_index(index):
    """An index naming one item, as the protocol's int64. One outside int64
    is outside every list: IndexError here, as Python's list says too."""
    index = operator.index(index)  # TypeError for a str, a float, ...
    if not _INT64_MIN <= index <= _INT64_MAX:
        raise IndexError(f"list index {index} does not fit an int64")
    return index


def bound(index):
    """A slice bound or insert position: clamped to the list by the daemon,
    so one outside int64 means the same as the int64 limit."""
    return min(max(operator.index(index), _INT64_MIN), _INT64_MAX)


def recast_error(error):
    """The daemon's error on a list as the exception Python's list raises:
    an index out of range an IndexError, a value not held a ValueError."""
    # The daemon's text for an index out of range (ipcd/objects/list.cc):
    # the code alone cannot tell it from a wrong kind.
    if (type(error) is errors.InvalidArgument
            and " is out of range for length " in error.message):
        return errors.recast(error, errors.IndexOutOfRange)
    if type(error) is errors.NotFound:
        return errors.recast(error, errors.NotInList)
    return error
