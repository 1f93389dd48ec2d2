"""NamespaceProxy: named attributes held by ipcd, as the proxy of
multiprocessing.Manager().Namespace().

  ns = m.namespace("cfg")
  ns.mode = "fast"; ns.mode; del ns.mode; hasattr(ns, "mode")
  ns._items()                        # {"mode": "fast", ...}, in name order
  ns._getvalue()                     # the same as a types.SimpleNamespace

Every attribute whose name does not start with "_" is the daemon's, so a
remote attribute may be called anything ("name" included); those starting
with "_" stay on this proxy object, as in Python's Manager, and so do the
proxy's own methods. Reading or deleting an attribute that is not set is
ipcd.NoAttribute (an AttributeError, so hasattr() and getattr(ns, a,
default) work). Each access is one request; ns.n += 1 is two.

Thread safety: as the Manager's.
"""
import types

from . import errors, values
from ._proto import pb
from .proxy import Proxy


class NamespaceProxy(Proxy):
    _kind = pb.NAMESPACE
    # No __slots__: "_" attributes set on the proxy are kept locally.

    def __getattribute__(self, attribute):
        if attribute.startswith("_"):
            return object.__getattribute__(self, attribute)
        try:
            result = self._call(pb.GET, key=attribute)
        except errors.NotFound as e:
            raise errors.recast(e, errors.NoAttribute) from None
        return values.from_proto(result.value)

    def __setattr__(self, attribute, value):
        if attribute.startswith("_"):
            object.__setattr__(self, attribute, value)
        else:
            self._call(pb.SET, key=attribute, value=value)

    def __delattr__(self, attribute):
        if attribute.startswith("_"):
            object.__delattr__(self, attribute)
            return
        try:
            self._call(pb.DELETE, key=attribute)
        except errors.NotFound as e:
            raise errors.recast(e, errors.NoAttribute) from None

    def _items(self):
        """Every attribute and its value, in name order (one request)."""
        return {e.key: values.from_proto(e.value)
                for e in self._call(pb.ITEMS).items}

    def _getvalue(self):
        """A copy of the attributes, as a types.SimpleNamespace."""
        return types.SimpleNamespace(**self._items())
