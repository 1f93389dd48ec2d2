"""QueueProxy: a FIFO of values held by ipcd, unbounded unless created with
a capacity, with queue.Queue's put/get.

  q = m.queue("jobs")                # or m.queue("jobs", maxsize=3)
  q.put({"id": 1}); q.get(timeout=1.0); q.get_nowait()
  q.close()                          # getters drain it, then get Closed

get raises ipcd.Empty (a queue.Empty) when nothing came in time, put
ipcd.Full (a queue.Full) when a bounded queue had no room; both wait in
the daemon, not by polling. An item is delivered to one getter; if that
getter dies before reading its answer, the item is lost with it.

Thread safety: as the Manager's.
"""
from ._proto import pb
from .proxy import Proxy
from . import values


class QueueProxy(Proxy):
    _kind = pb.QUEUE
    __slots__ = ()

    def create(self, capacity=0):
        """Creates the queue holding at most capacity items (0: unbounded)
        if it does not exist; InvalidArgument if it exists with another."""
        self._call(pb.CREATE, capacity=capacity)

    def put(self, item, block=True, timeout=None):
        """Appends item, waiting up to timeout seconds (None: for ever;
        block=False: not at all) for room; Full, or Closed after close()."""
        self._blocking_call(pb.PUT, 0 if not block else timeout, value=item)

    def put_nowait(self, item):
        self.put(item, block=False)

    def get(self, block=True, timeout=None):
        """Takes the oldest item, waiting up to timeout seconds (None: for
        ever; block=False: not at all); Empty, or Closed when closed and
        drained."""
        response = self._blocking_call(pb.GET, 0 if not block else timeout)
        return values.from_proto(response.result.value)

    def get_nowait(self):
        return self.get(block=False)

    def qsize(self):
        return self._call(pb.LEN).count

    def __len__(self):
        return self._call(pb.LEN).count

    def empty(self):
        return self.qsize() == 0

    def close(self):
        """Refuses further puts; gets drain what is left, then raise Closed."""
        self._call(pb.CLOSE)
