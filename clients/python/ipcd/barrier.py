"""BarrierProxy: parties that meet in ipcd, as threading.Barrier: wait()
returns once `parties` connections wait.

  b = m.barrier("start", 3)           # made for 3 parties if new
  i = b.wait(timeout=10)              # 0 to 2, in the order they came
  b.parties; b.n_waiting; b.broken; b.abort(); b.reset()

A wait whose timeout passes breaks the barrier, as does a waiting party
whose connection closes (a process killed while waiting), abort(), or
reset() while parties wait; then every party waiting, and every later
wait() until reset(), raises ipcd.BrokenBarrier (a
threading.BrokenBarrierError, carrying the daemon's message; its `.code`
is DEADLINE_EXCEEDED for the wait whose timeout broke it, CLOSED for the
others).

A party is a connection: two threads sharing a Manager are one party, and
the second one's wait() queues behind the first's. Give each party its own
Manager (or process). Unlike threading.Barrier there is no `action` (the
daemon cannot run code). Barriers are not kept by the daemon's state log.

Thread safety: as the Manager's.
"""
from . import errors
from ._proto import pb
from .proxy import Proxy


class BarrierProxy(Proxy):
    _kind = pb.BARRIER
    __slots__ = ("_parties", "_timeout")

    def __init__(self, connection, name, parties=None, timeout=None):
        super().__init__(connection, name)
        self._parties = parties  # None: as the daemon has it.
        self._timeout = timeout

    def create(self, parties):
        """Makes the barrier for parties (at least 1) unless it exists;
        InvalidArgument if it exists for another number."""
        if _int(parties) == 0:
            # The protocol reads capacity 0 as "not given".
            raise errors.InvalidArgument(
                f"barrier '{self._name}': parties must be at least 1, not 0")
        self._call(pb.CREATE, capacity=parties)

    def wait(self, timeout=None):
        """Waits up to timeout seconds (None: the barrier's default timeout,
        for ever if none) for the other parties; this party's arrival
        index, 0 to parties - 1. BrokenBarrier when the round breaks."""
        if timeout is None:
            timeout = self._timeout
        try:
            # With the parties: a barrier that is gone (a daemon restart)
            # is made again rather than refused.
            response = self._blocking_call(pb.WAIT, timeout,
                                           capacity=self._parties or 0)
        except (errors.Closed, errors.Timeout) as e:
            raise errors.recast(e, errors.BrokenBarrier) from None
        return response.result.count

    def abort(self):
        """Breaks the barrier: waiting parties get BrokenBarrier."""
        self._call(pb.ABORT)

    def reset(self):
        """Makes the barrier whole again; parties waiting get BrokenBarrier."""
        self._call(pb.RESET)

    @property
    def parties(self):
        return self._state().count

    @property
    def n_waiting(self):
        """The parties waiting now."""
        return self._state().value.int_value

    @property
    def broken(self):
        return self._state().flag

    def _state(self):
        return self._call(pb.GET)


def _int(n):
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"a barrier's parties are an int, not {type(n).__name__}")
    return n
