"""LockProxy: a lock (or, from Manager.rlock, a re-entrant lock) leased to
the Manager's connection.

  lock = m.lock("cfg-lock")
  with lock:                          # waits for ever
      ...
  with lock.held(timeout=5):          # ipcd.Timeout if not had in 5 s
      ...
  if lock.acquire(timeout=0.5):       # True, or False after 0.5 s
      try: ... finally: lock.release()

The holder is the connection, not a thread: threads sharing a Manager
share its holds (a second acquire of a plain lock on the same Manager is
InvalidArgument, as it would deadlock). Give each thread that needs
exclusion from the others its own Manager.

When the holder dies, even by SIGKILL, or its connection is lost, the
daemon releases the lock and the next waiter gets it (first come, first
served). The daemon does not tell that waiter that the holder died (the
protocol has no such report, as for ipc::Manager); the side that lost its
hold is told: leaving a `with` block whose connection was lost meanwhile
raises ipcd.Closed ("lock 'x' was no longer held ..."), since the block
may not have run alone.

Thread safety: as the Manager's.
"""
from ._proto import pb
from .proxy import Proxy


class LockProxy(Proxy):
    __slots__ = ("_kind", "_holds")

    def __init__(self, connection, name, recursive=False):
        super().__init__(connection, name)
        self._kind = pb.RLOCK if recursive else pb.LOCK
        # The connection generation of each hold taken by `with`, innermost
        # last: a hold is released only on the connection that took it.
        self._holds = []

    @property
    def recursive(self):
        return self._kind == pb.RLOCK

    def acquire(self, blocking=True, timeout=None):
        """Waits up to timeout seconds (None: for ever; blocking=False: not
        at all) for the lock, as threading.Lock.acquire does: True when
        taken, False when the time passed with another holder."""
        if not blocking:
            timeout = 0
        response = self._blocking_call(
            pb.ACQUIRE, timeout, quiet_codes=(pb.DEADLINE_EXCEEDED,))
        return not response.status.code

    def release(self):
        """Releases one hold; InvalidArgument unless this Manager holds it."""
        self._call(pb.RELEASE)

    def held(self, timeout=None):
        """A context manager holding the lock, raising ipcd.Timeout (with
        the daemon's message) when it is not had within timeout seconds."""
        return _Hold(self, timeout)

    def __enter__(self):
        self._take(None)
        return self

    def __exit__(self, *exc):
        self._give_back()

    def _take(self, timeout):
        response = self._blocking_call(pb.ACQUIRE, timeout)
        # Read after the answer: the connection that got the hold (a fork
        # or a reconnect changes it).
        self._holds.append(self._connection.generation)
        return response

    def _give_back(self):
        self._release_taken_on(
            self._holds.pop(),
            f"lock '{self._name}' was no longer held: the connection that "
            "held it was lost, and ipcd released it then")


class _Hold:
    __slots__ = ("_lock", "_timeout")

    def __init__(self, lock, timeout):
        self._lock, self._timeout = lock, timeout

    def __enter__(self):
        self._lock._take(self._timeout)
        return self._lock

    def __exit__(self, *exc):
        self._lock._give_back()
