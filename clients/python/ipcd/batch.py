"""Batch: several calls sent together.

  b = m.batch()
  b.counter_add("hits", 10).dict_len("cfg").queue_get("jobs")
  b.run()             # [11, 1, ipcd.Empty(...)]: one request, one step
  b.run_pipelined()   # the same calls, each its own request, all written
                      # before the first answer is read

Dicts, counters, queues, events, locks, lists, values and semaphores have
calls here, named kind_method, taking the object's name first.

run() sends one Batch request, which the daemon applies in one step: no
other client's request runs between its calls, and blocking calls do not
wait (a queue_get on an empty queue gives Empty). run_pipelined() sends
each call as its own request without waiting for answers: one round trip
for many calls, but other clients' requests may run in between.

Either returns one entry per call, in order: what the matching proxy
method returns, or, for a call that failed on its own, its exception
(an ipcd.Error instance, not raised). Only a lost connection raises; the
calls not answered then may or may not have been applied. The calls stay
in the batch, so it may be run again; clear() empties it.

Thread safety: a batch belongs to one thread.
"""
from . import calls, errors, list_proxy, values
from ._proto import pb


def _nothing(result):
    return None


def _value(result):
    return values.from_proto(result.value)


def _flag(result):
    return result.flag


def _count(result):
    return result.count


def _values(result):
    return [values.from_proto(v) for v in result.values]


class Batch:
    def __init__(self, connection):
        self._connection = connection
        # (Call, reader of its Result, recaster of its error or None)
        self._calls = []

    def __len__(self):
        return len(self._calls)

    def clear(self):
        self._calls.clear()

    def _add(self, read, name, kind, op, recast=None, **arguments):
        # Built now, so that a bad value fails where it was added.
        call = pb.Call()
        calls.fill(call, name, kind, op, **arguments)
        self._calls.append((call, read, recast))
        return self

    def _list(self, read, name, op, **arguments):
        # Errors as ListProxy raises them (IndexOutOfRange, NotInList).
        return self._add(read, name, pb.LIST, op,
                         recast=list_proxy.recast_error, **arguments)

    # Counters.
    def counter_add(self, name, delta=1):
        return self._add(calls.read_int, name, pb.COUNTER, pb.ADD, value=delta)

    def counter_get(self, name):
        return self._add(calls.read_int, name, pb.COUNTER, pb.GET)

    def counter_set(self, name, value):
        return self._add(_nothing, name, pb.COUNTER, pb.SET, value=value)

    # Dicts.
    def dict_set(self, name, key, value):
        return self._add(_nothing, name, pb.DICT, pb.SET, key=key, value=value)

    def dict_get(self, name, key, default=calls.UNSET):
        return self._add(_value, name, pb.DICT, pb.GET, key=key, value=default)

    def dict_delete(self, name, key):
        return self._add(_nothing, name, pb.DICT, pb.DELETE, key=key)

    def dict_pop(self, name, key, default=calls.UNSET):
        return self._add(_value, name, pb.DICT, pb.POP, key=key, value=default)

    def dict_contains(self, name, key):
        return self._add(_flag, name, pb.DICT, pb.CONTAINS, key=key)

    def dict_len(self, name):
        return self._add(_count, name, pb.DICT, pb.LEN)

    def dict_update(self, name, entries):
        items = list(entries.items() if hasattr(entries, "items") else entries)
        return self._add(_nothing, name, pb.DICT, pb.UPDATE, items=items)

    # Queues: a get or put in a run() batch does not wait.
    def queue_put(self, name, item):
        return self._add(_nothing, name, pb.QUEUE, pb.PUT, value=item,
                         timeout=0)

    def queue_get(self, name):
        return self._add(_value, name, pb.QUEUE, pb.GET, timeout=0)

    def queue_len(self, name):
        return self._add(_count, name, pb.QUEUE, pb.LEN)

    # Events.
    def event_set(self, name):
        return self._add(_nothing, name, pb.EVENT, pb.SET)

    def event_clear(self, name):
        return self._add(_nothing, name, pb.EVENT, pb.CLEAR)

    def event_is_set(self, name):
        return self._add(_flag, name, pb.EVENT, pb.IS_SET)

    # Locks: acquire does not wait (DEADLINE_EXCEEDED when held elsewhere);
    # the result is this connection's holds.
    def lock_acquire(self, name, recursive=False):
        return self._add(_count, name, pb.RLOCK if recursive else pb.LOCK,
                         pb.ACQUIRE, timeout=0)

    def lock_release(self, name, recursive=False):
        return self._add(_count, name, pb.RLOCK if recursive else pb.LOCK,
                         pb.RELEASE)

    # Lists.
    def list_append(self, name, value):
        return self._list(_nothing, name, pb.APPEND, value=value)

    def list_extend(self, name, items):
        return self._list(_nothing, name, pb.EXTEND, value=list(items))

    def list_get(self, name, index):
        return self._list(_value, name, pb.GET,
                          index=list_proxy.item_index(index))

    def list_set(self, name, index, value):
        return self._list(_nothing, name, pb.SET,
                          index=list_proxy.item_index(index), value=value)

    def list_insert(self, name, index, value):
        return self._list(_nothing, name, pb.INSERT,
                          index=list_proxy.bound(index), value=value)

    def list_pop(self, name, index=-1):
        return self._list(_value, name, pb.POP,
                          index=list_proxy.item_index(index))

    def list_remove(self, name, value):
        return self._list(_nothing, name, pb.REMOVE, value=value)

    def list_len(self, name):
        return self._list(_count, name, pb.LEN)

    def list_slice(self, name, start=None, stop=None):
        """list[start:stop], as ListProxy's slice (no step)."""
        return self._list(
            _values, name, pb.SLICE,
            index=None if start is None else list_proxy.bound(start),
            stop=None if stop is None else list_proxy.bound(stop))

    def list_clear(self, name):
        return self._list(_nothing, name, pb.CLEAR)

    # Values.
    def value_get(self, name):
        return self._add(_value, name, pb.VALUE, pb.GET)

    def value_set(self, name, value):
        return self._add(_nothing, name, pb.VALUE, pb.SET, value=value)

    def value_compare_and_set(self, name, expected, desired):
        return self._add(_flag, name, pb.VALUE, pb.COMPARE_AND_SET,
                         expected=expected, value=desired)

    # Semaphores: acquire does not wait (DEADLINE_EXCEEDED when no unit is
    # free); the result is the units left free.
    def semaphore_acquire(self, name, bounded=False):
        return self._add(_count, name, _semaphore(bounded), pb.ACQUIRE,
                         timeout=0)

    def semaphore_release(self, name, bounded=False):
        return self._add(_count, name, _semaphore(bounded), pb.RELEASE)

    def run(self):
        """Sends the calls as one Batch request, applied in one step."""
        request = pb.Request()
        request.batch.SetInParent()  # An empty batch is still a Batch.
        request.batch.calls.extend(call for call, _, _ in self._calls)
        replies = self._connection.round_trip(request).batch.replies
        if len(replies) != len(self._calls):
            raise errors.ProtocolError(
                f"ipcd answered a batch of {len(self._calls)} calls with "
                f"{len(replies)} replies")
        return [self._read(reply.status, reply.result, read, recast)
                for reply, (_, read, recast) in zip(replies, self._calls)]

    def run_pipelined(self):
        """Sends each call as its own request, all before reading answers."""
        entries = self._calls

        def make_request(i):
            request = pb.Request()
            request.call.CopyFrom(entries[i][0])
            return request

        readers = iter([(read, recast) for _, read, recast in entries])
        return self._connection.pipeline(
            len(entries), make_request,
            lambda response: self._read(response.status, response.result,
                                        *next(readers)))

    @staticmethod
    def _read(status, result, read, recast):
        if status.code:
            error = calls.error_of(status)
            return recast(error) if recast else error
        return read(result)


def _semaphore(bounded):
    return pb.BOUNDED_SEMAPHORE if bounded else pb.SEMAPHORE
