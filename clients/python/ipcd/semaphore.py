"""SemaphoreProxy: units held by ipcd that connections take and give back,
as threading.Semaphore (from Manager.semaphore) or threading.BoundedSemaphore
(from Manager.bounded_semaphore).

  slots = m.semaphore("slots", 3)     # made with 3 units if new
  with slots:                         # waits for ever for a unit
      ...
  if slots.acquire(timeout=0.5):      # True, or False after 0.5 s
      try: ... finally: slots.release()

acquire() waits in the daemon, first come, first served. The units a
connection took are given back when it closes, even by SIGKILL, so a
process that dies holding units leaks none. release() without a unit
taken adds one, as Python allows; a bounded semaphore refuses a unit past
its initial ones with ipcd.InvalidArgument (a ValueError, as
threading.BoundedSemaphore raises), carrying the daemon's message.

As with locks, the taker is the connection, not a thread: threads sharing
a Manager share its units, and a thread waiting in acquire() holds up the
other threads' calls, a release() included. Give each thread that takes
units its own Manager. Leaving a `with` block whose connection was lost
meanwhile raises ipcd.Closed: the daemon gave that unit back then, and a
release on the new connection would add one. Semaphores are not kept by
the daemon's state log.

Thread safety: as the Manager's.
"""
from . import calls, errors
from ._proto import pb
from .batch import Batch
from .proxy import Proxy


class SemaphoreProxy(Proxy):
    __slots__ = ("_kind", "_holds")

    def __init__(self, connection, name, bounded=False):
        super().__init__(connection, name)
        self._kind = pb.BOUNDED_SEMAPHORE if bounded else pb.SEMAPHORE
        # The connection generation of each unit taken by `with`.
        self._holds = []

    @property
    def bounded(self):
        return self._kind == pb.BOUNDED_SEMAPHORE

    def create(self, value=1):
        """Makes the semaphore with value units (its bound, if bounded)
        unless it exists; InvalidArgument if it exists with another
        number, or for a negative value."""
        self._call(pb.CREATE, value=_int(value))

    def acquire(self, blocking=True, timeout=None):
        """Waits up to timeout seconds (None: for ever; blocking=False: not
        at all) for a unit, as threading.Semaphore.acquire does: True when
        taken, False when none came free in time."""
        if not blocking:
            if timeout is not None:
                raise ValueError("can't specify timeout for non-blocking acquire")
            timeout = 0
        response = self._blocking_call(
            pb.ACQUIRE, timeout, quiet_codes=(pb.DEADLINE_EXCEEDED,))
        return not response.status.code

    def release(self, n=1):
        """Gives back n units. n > 1 is n releases applied in one step; on
        a bounded semaphore those past the bound fail and the ones before
        stay released (Python's BoundedSemaphore releases none then)."""
        if n < 1:
            raise ValueError("n must be one or more")
        if n == 1:
            self._call(pb.RELEASE)
            return
        b = Batch(self._connection)
        for _ in range(n):
            b.semaphore_release(self._name, self.bounded)
        for outcome in b.run():
            if isinstance(outcome, errors.Error):
                raise outcome

    def get_value(self):
        """The units free now (as multiprocessing's Semaphore.get_value)."""
        return calls.read_int(self._call(pb.GET))

    def __enter__(self):
        self._blocking_call(pb.ACQUIRE, None)
        # Read after the answer: the connection that got the unit.
        self._holds.append(self._connection.generation)
        return self

    def __exit__(self, *exc):
        self._release_taken_on(
            self._holds.pop(),
            f"semaphore '{self._name}': the connection that took the unit "
            "was lost, and ipcd gave the unit back then")


def _int(n):
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"a semaphore's value is an int, not {type(n).__name__}")
    return n
