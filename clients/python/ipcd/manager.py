"""Manager: the client of ipcd, and connect(), which makes one.

  m = ipcd.connect()                       # the default socket
  m = ipcd.connect("tcp://host:7070", authkey=b"...")
  d = m.dict("cfg"); c = m.counter("hits"); q = m.queue("jobs")
  l = m.list("jobs-done"); v = m.value("mode", "fast"); ns = m.namespace("cfg-ns")
  s = m.semaphore("slots", 3); b = m.barrier("start", 2)
  for change in m.watch("cfg"): ...        # its own connection: watch.py

Objects are named and created by their first use; every kind shares one
namespace (once "cfg" is a dict, m.lock("cfg") calls fail with
InvalidArgument). Making a proxy sends nothing; each method is one request
on the Manager's one connection.

Thread safety: a Manager and its proxies may be used from any number of
threads; calls share the connection and run one at a time, so a call that
waits in the daemon (a lock acquire) holds up the other threads' calls. Lock
holds belong to the connection: threads that need exclusion from each other
each need their own Manager. After fork(), the child may keep using a
Manager made before: its first call opens the child's own connection.
"""
import os
import sys

from . import address as _address
from . import calls, errors, info
from ._proto import pb
from .barrier import BarrierProxy
from .batch import Batch
from .condition import ConditionProxy
from .connection import Connection
from .counter import CounterProxy
from .dict_proxy import DictProxy
from .event import EventProxy
from .list_proxy import ListProxy
from .lock import LockProxy
from .namespace_proxy import NamespaceProxy
from .queue_proxy import QueueProxy
from .semaphore import SemaphoreProxy
from .value_proxy import ValueProxy
from .watch import Watch

# ListObjects' largest page.
_PAGE = 1000


def connect(url=None, *, authkey=None, authkey_file=None, client_name=None,
            wait_for_daemon=0.0, connect_timeout=10.0, reply_timeout=30.0,
            reply_spin=20e-6):
    """Connects to ipcd and says hello.

    url: None or "" for default_url() (the same rules as
    ipc::Manager::DefaultUrl: $IPCD_SOCKET, ...), "unix:///path",
    "unix://@abstract", an absolute socket path, or "tcp://host:port".
    authkey (bytes) or authkey_file (read as ipcd reads --authkey-file):
    the key a tcp:// listener requires; the daemon must prove it too.
    wait_for_daemon: seconds to wait for a daemon that is not listening yet
    (at connect and at each reconnect); 0 fails at once with NotFound.
    connect_timeout: seconds the hello and key exchange may take.
    reply_timeout: seconds a call that does not wait in the daemon waits
    for its answer before raising Timeout and dropping the connection (a
    stopped or wedged daemon must not hang its clients); 0 = for ever.
    Blocking calls wait their own timeout plus 5 s.
    reply_spin: seconds to poll for an answer before sleeping for it (0:
    never); it pays when the daemon answers from another core, and backs
    off by itself when answers come slower (see wire.py).

    Raises NotFound when no daemon listens there, PermissionDenied for a
    wrong or missing key (or a daemon that cannot prove it holds it),
    InvalidArgument for a relative path or another scheme.
    """
    if authkey is not None and authkey_file is not None:
        raise ValueError("give authkey or authkey_file, not both")
    if authkey_file is not None:
        authkey = _address.read_authkey_file(authkey_file)
    elif isinstance(authkey, str):
        authkey = authkey.encode()
    elif authkey is not None:
        authkey = bytes(authkey)
    if client_name is None:
        client_name = _program_name()
    connection = Connection(_address.parse(url), authkey or b"", client_name,
                            connect_timeout, reply_timeout, wait_for_daemon,
                            reply_spin)
    connection.open()
    return Manager(connection)


def _program_name():
    """The script's name for the daemon's log; "python" for python -m or -c."""
    name = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    return "python" if name in ("", "-c", "__main__.py") else name


class Manager:
    """A connection to ipcd and the factory of its proxies (use connect())."""

    def __init__(self, connection):
        self._connection = connection

    @property
    def url(self):
        """The URL connected to."""
        return self._connection.url

    def dict(self, name, initial=None):
        """The dict called name; initial (a mapping), when given, is set
        into it at once (one request)."""
        proxy = DictProxy(self._connection, name)
        if initial:
            proxy.update(initial)
        return proxy

    def counter(self, name):
        return CounterProxy(self._connection, name)

    def lock(self, name):
        return LockProxy(self._connection, name, recursive=False)

    def rlock(self, name):
        return LockProxy(self._connection, name, recursive=True)

    def queue(self, name, maxsize=None, order=None):
        """The queue called name; maxsize or order ("fifo", "lifo",
        "priority"), when given, creates it so now (maxsize 0: unbounded;
        InvalidArgument if it exists with another bound or order). A queue
        made by a first put or get is an unbounded FIFO."""
        proxy = QueueProxy(self._connection, name)
        if maxsize is not None or order is not None:
            proxy.create(maxsize or 0, order or "fifo")
        return proxy

    def event(self, name):
        return EventProxy(self._connection, name)

    def list(self, name, initial=None):
        """The list called name; initial (an iterable), when given, becomes
        its contents at once, replacing any it had (one request)."""
        proxy = ListProxy(self._connection, name)
        if initial is not None:
            b = Batch(self._connection).list_clear(name).list_extend(name, initial)
            for outcome in b.run():
                if isinstance(outcome, errors.Error):
                    raise outcome
        return proxy

    def semaphore(self, name, value=None):
        """The semaphore called name; value, when given, creates it with
        that many units now (InvalidArgument if it exists with another).
        None: as it is, or 1 unit if its first use makes it."""
        proxy = SemaphoreProxy(self._connection, name, bounded=False)
        if value is not None:
            proxy.create(value)
        return proxy

    def bounded_semaphore(self, name, value=None):
        """As semaphore(); release() past value units is InvalidArgument."""
        proxy = SemaphoreProxy(self._connection, name, bounded=True)
        if value is not None:
            proxy.create(value)
        return proxy

    def value(self, name, *typecode_and_initial):
        """The value called name: value(name), value(name, initial) or, as
        Python's Manager().Value(typecode, value), value(name, typecode,
        initial), the typecode not enforced. An initial value is stored
        only if the value is new (one request)."""
        if len(typecode_and_initial) > 2:
            raise TypeError("value() takes a name, an optional typecode and "
                            "an optional initial value")
        proxy = ValueProxy(self._connection, name)
        if typecode_and_initial:
            proxy.create(typecode_and_initial[-1])
        return proxy

    def namespace(self, name):
        return NamespaceProxy(self._connection, name)

    def barrier(self, name, parties=None, timeout=None):
        """The barrier called name, made for parties now if new
        (InvalidArgument if it exists for another number); None: an
        existing one, as it is. timeout: wait()'s default (None: for ever)."""
        proxy = BarrierProxy(self._connection, name, parties, timeout)
        if parties is not None:
            proxy.create(parties)
        return proxy

    def condition(self, name, lock):
        """The condition called name, bound to lock (a LockProxy from lock()
        or rlock(), or its name); see ConditionProxy."""
        return ConditionProxy(self._connection, name, lock)

    def watch(self, name, key=None, kind=None):
        """A Watch of the object called name, or of one key of it (a dict's
        or namespace's), on a connection of its own; see watch.py. kind
        ("dict", "counter", ...), when given, must be the object's. Returns
        once the daemon sent the current state, which the Watch's first
        next() returns; raises the daemon's refusal (InvalidArgument: a bad
        name, a key on a kind without keys, another kind) or the
        connection's error, as connect() does. A name with no object may be
        watched: its making is a change like any other."""
        return Watch(self._connection, name, key, kind)

    def batch(self):
        return Batch(self._connection)

    def list_objects(self, prefix=""):
        """Every object whose name starts with prefix ("": all), in name
        order, as ipcd.ObjectInfo values, read a page at a time. The pages
        are not one snapshot: an object made or destroyed meanwhile shows
        or not as its name falls before or after the page being read."""
        objects, after = [], ""
        while True:
            request = pb.Request()
            request.list_objects.prefix = prefix
            request.list_objects.after = after
            request.list_objects.limit = _PAGE
            page = self._connection.round_trip(request).objects
            objects.extend(info.objects_from_proto(page))
            if not page.next:
                return objects
            after = page.next

    def stats(self):
        """The daemon's counters and limits, as an ipcd.Stats value."""
        request = pb.Request()
        request.get_stats.SetInParent()
        return info.stats_from_proto(self._connection.round_trip(request).stats)

    def destroy(self, name):
        """Removes the object of that name, whatever its kind; waiters on it
        get Closed. NotFound when there is none."""
        request = calls.make(name, pb.KIND_UNSPECIFIED, pb.DESTROY)
        self._connection.round_trip(request)

    def close(self):
        """Closes the connection, releasing this client's locks. A later
        call reconnects."""
        self._connection.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        return f"<ipcd.Manager {self.url}>"


__all__ = ["connect", "Manager"]
