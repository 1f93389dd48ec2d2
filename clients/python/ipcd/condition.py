"""ConditionProxy: a condition variable held by ipcd, bound to one of its
locks (or rlocks), with threading.Condition's wait/wait_for/notify.

  lock = m.lock("jobs-lock")
  ready = m.condition("jobs-ready", lock)
  with lock:
      ready.wait_for(lambda: d.get("jobs", 0) > 0, timeout=5)
  with lock:                          # elsewhere
      d["jobs"] = 1
      ready.notify()

wait() and notify() need the lock held by this Manager's connection
(InvalidArgument naming both otherwise). wait() releases it in the daemon,
parks until a notify picks it or the timeout passes, and returns only once
the lock is held again: True when notified, False when the time passed
(as threading.Condition.wait). A waiter whose connection dies is dropped.

Thread safety: as the Manager's; the lock, and so the right to wait, is
the connection's, as for LockProxy.
"""
import time

from ._proto import pb
from .proxy import Proxy


class ConditionProxy(Proxy):
    _kind = pb.CONDITION
    __slots__ = ("_lock",)

    def __init__(self, connection, name, lock):
        super().__init__(connection, name)
        # The lock's name: sent with every call, so that whichever comes
        # first makes the condition bound to it.
        self._lock = lock if isinstance(lock, str) else lock.name

    @property
    def lock_name(self):
        return self._lock

    def wait(self, timeout=None):
        """Waits for a notify up to timeout seconds (None: for ever), the
        lock released meanwhile and held again on return; True when
        notified, False when the time passed."""
        response = self._blocking_call(pb.WAIT, timeout, lock=self._lock,
                                       quiet_codes=(pb.DEADLINE_EXCEEDED,))
        return not response.status.code

    def wait_for(self, predicate, timeout=None):
        """Waits until predicate() (called with the lock held) is true, or
        timeout seconds (None: for ever) have passed; returns its last
        result."""
        end = None if timeout is None else time.monotonic() + timeout
        result = predicate()
        while not result:
            left = None if end is None else end - time.monotonic()
            if left is not None and left <= 0:
                break
            self.wait(left)
            result = predicate()
        return result

    def notify(self, n=1):
        """Wakes the n oldest waiters (InvalidArgument when n < 1); returns
        how many it woke."""
        return self._call(pb.NOTIFY, lock=self._lock, count=n).count

    def notify_all(self):
        """Wakes every waiter; returns how many it woke."""
        return self._call(pb.NOTIFY_ALL, lock=self._lock).count

    def waiting(self):
        """How many connections wait for a notify (NotFound when the
        condition was never made)."""
        return self._call(pb.GET).count
