"""Python values to and from proto Value, as ipc::Value maps them.

  None <-> null_value        bool <-> bool_value     int <-> int_value (int64)
  float <-> double_value     str <-> string_value    bytes <-> bytes_value
  list (or tuple) <-> list_value                     dict with str keys <-> map_value

A tuple comes back as a list and a bytearray or memoryview as bytes; an int
outside int64 is an OverflowError; anything else (a set, an object, a dict
with a non-str key) is a TypeError naming what it was, raised before
anything is sent. Nesting past 30 levels is the daemon's to refuse
(InvalidArgument); this side only stops a self-containing list from
recursing for ever.

Thread safety: pure functions.
"""
from ._proto import pb

_INT64_MIN = -(1 << 63)
_INT64_MAX = (1 << 63) - 1
# Far past the daemon's limit of 30: only a cycle gets this deep.
_MAX_DEPTH = 100

_KINDS = ("None, bool, int, float, str, bytes, list/tuple, "
          "or dict with str keys")


def to_proto(value, out, depth=0):
    """Fills the proto Value `out` from a Python value."""
    # Exact type checks first: the common scalars take one dict lookup.
    setter = _SCALARS.get(type(value))
    if setter is not None:
        setter(out, value)
        return
    if depth >= _MAX_DEPTH:
        raise ValueError(f"value nested deeper than {_MAX_DEPTH} levels "
                         "(does a list or dict contain itself?)")
    if isinstance(value, bool):
        out.bool_value = value
    elif isinstance(value, int):
        _set_int(out, value)
    elif isinstance(value, float):
        out.double_value = value
    elif isinstance(value, str):
        out.string_value = value
    elif isinstance(value, (bytes, bytearray, memoryview)):
        out.bytes_value = bytes(value)
    elif isinstance(value, (list, tuple)):
        items = out.list_value.items
        if not value:
            out.list_value.SetInParent()  # An empty list, not a null.
        for item in value:
            to_proto(item, items.add(), depth + 1)
    elif isinstance(value, dict):
        entries = out.map_value.entries
        if not value:
            out.map_value.SetInParent()
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"ipcd map keys are str, not "
                                f"{type(key).__name__} ({key!r})")
            entry = entries.add()
            entry.key = key
            to_proto(item, entry.value, depth + 1)
    elif value is None:
        out.null_value = pb.NULL_VALUE
    else:
        raise TypeError(f"ipcd cannot store a {type(value).__name__} "
                        f"({value!r:.60}); values are {_KINDS}")


def _set_int(out, value):
    if not _INT64_MIN <= value <= _INT64_MAX:
        raise OverflowError(f"{value} does not fit an ipcd int (int64)")
    out.int_value = value


def _set_null(out, _):
    out.null_value = pb.NULL_VALUE


def _set_bool(out, value):
    out.bool_value = value


def _set_float(out, value):
    out.double_value = value


def _set_str(out, value):
    out.string_value = value


def _set_bytes(out, value):
    out.bytes_value = value


_SCALARS = {
    type(None): _set_null, bool: _set_bool, int: _set_int,
    float: _set_float, str: _set_str, bytes: _set_bytes,
}


def from_proto(value):
    """The Python value of a proto Value (no kind set reads as None)."""
    kind = value.WhichOneof("kind")
    if kind is None or kind == "null_value":
        return None
    if kind == "list_value":
        return [from_proto(item) for item in value.list_value.items]
    if kind == "map_value":
        # A repeated key: the last entry wins, as the protocol says.
        return {e.key: from_proto(e.value) for e in value.map_value.entries}
    return getattr(value, kind)


def check_key(key):
    """A dict key must be a str: the protocol's keys are strings."""
    if not isinstance(key, str):
        raise TypeError(f"ipcd dict keys are str, not {type(key).__name__} "
                        f"({key!r:.60})")
    return key
