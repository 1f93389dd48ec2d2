"""QueueProxy: a queue of values held by ipcd (FIFO, LIFO or priority
order), unbounded unless created with a capacity, with queue.Queue's
put/get and JoinableQueue's task_done/join.

  q = m.queue("jobs")                # or m.queue("jobs", maxsize=3)
  q.put({"id": 1}); q.get(timeout=1.0); q.get_nowait()
  q.task_done(); q.join(timeout=5)   # every put needs its task_done
  q.close()                          # getters drain it, then get Closed
  p = m.queue("urgent", order="priority")
  p.put("later", priority=5); p.put("first", priority=1); p.get()  # "first"

A priority queue takes the lowest priority first, FIFO among equals; the
priority is put's argument, not part of the item (queue.PriorityQueue
compares the items themselves).

get raises ipcd.Empty (a queue.Empty) when nothing came in time, put
ipcd.Full (a queue.Full) when a bounded queue had no room; both wait in
the daemon, not by polling. An item is delivered to one getter; if that
getter dies before reading its answer, the item is lost with it.

Thread safety: as the Manager's.
"""
from ._proto import pb
from .proxy import Proxy
from . import values

ORDERS = {"fifo": pb.ORDER_FIFO, "lifo": pb.ORDER_LIFO,
          "priority": pb.ORDER_PRIORITY}


class QueueProxy(Proxy):
    _kind = pb.QUEUE
    __slots__ = ()

    def create(self, capacity=0, order="fifo"):
        """Creates the queue holding at most capacity items (0: unbounded),
        taken in order ("fifo", "lifo" or "priority"), if it does not
        exist; InvalidArgument if it exists with another capacity or order."""
        if order not in ORDERS:
            raise ValueError(f"queue order is one of {sorted(ORDERS)}, not {order!r}")
        self._call(pb.CREATE, capacity=capacity, order=ORDERS[order])

    def put(self, item, block=True, timeout=None, priority=None):
        """Adds item, waiting up to timeout seconds (None: for ever;
        block=False: not at all) for room; Full, or Closed after close().
        priority: in a priority queue (lower first; None: 0); InvalidArgument
        on a queue of another order."""
        self._blocking_call(pb.PUT, 0 if not block else timeout, value=item,
                            priority=priority)

    def put_nowait(self, item):
        self.put(item, block=False)

    def get(self, block=True, timeout=None):
        """Takes the next item in the queue's order, waiting up to timeout seconds (None: for
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

    def task_done(self):
        """Ends the task of an item taken; InvalidArgument (a ValueError, as
        queue.Queue's) when no task is unfinished. Returns how many are
        left."""
        return self._call(pb.TASK_DONE).count

    def join(self, timeout=None):
        """Waits, in the daemon, up to timeout seconds (None: for ever) until
        every item put has had its task_done; Timeout when some are left."""
        self._blocking_call(pb.JOIN, timeout)

    def close(self):
        """Refuses further puts; gets drain what is left, then raise Closed."""
        self._call(pb.CLOSE)
