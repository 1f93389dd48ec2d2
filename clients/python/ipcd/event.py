"""EventProxy: a flag that can be waited for, as threading.Event: set()
wakes every waiter, wait() parks in the daemon until the flag is set.

Thread safety: as the Manager's.
"""
from ._proto import pb
from .proxy import Proxy


class EventProxy(Proxy):
    _kind = pb.EVENT
    __slots__ = ()

    def set(self):
        self._call(pb.SET)

    def clear(self):
        self._call(pb.CLEAR)

    def is_set(self):
        return self._call(pb.IS_SET).flag

    def wait(self, timeout=None):
        """Waits up to timeout seconds (None: for ever) for the flag: True
        when it is set, False when the time passed first."""
        response = self._blocking_call(pb.WAIT, timeout,
                                       quiet_codes=(pb.DEADLINE_EXCEEDED,))
        return not response.status.code
