"""Watch: the changes of one object, or of one key of a dict or namespace,
as the daemon streams them (Watch and WatchEvent in proto/ipcd.proto).

  w = m.watch("cfg")                  # returns once the current state came
  for change in w:                    # blocks for each event
      print(change.op, change.items, change.removed)

  w = m.watch("cfg", key="mode")      # one key: change.value, change.exists
  e = w.next(timeout=1.0)             # ipcd.Timeout when none comes in time
  e = w.poll()                        # an event already here, or None

  while True:                         # with select (or selectors):
      while (e := w.poll()) is not None:
          handle(e)                   # drain first: one read may bring many
      select.select([w], [], [])

The first event is the whole state (resync set); each later one is a
change, numbered by `version`, which grows (with gaps) as the daemon
changes anything. A watcher that reads too slowly is not sent every
change: the daemon counts those it skipped and later sends one resync
event (the whole state again) with `missed` set to how many. A dict's or
namespace's change lists the entries it set in `items` and the keys it
removed in `removed`; a resync (and a CLEAR, or the dict's making) lists
every entry in `items`.

Each Watch has a connection of its own, so its events never mix with the
Manager's calls. When that connection is lost (the daemon restarted), the
next call raises Closed once; the call after it connects again and sends
the Watch again (a watch only reads, so that is safe), and its first event
is a resync. Version numbers start again with a new daemon, so compare
them only between two Closed. fileno() names a new descriptor after such a
reconnect: unregister it from a selector when Closed is raised, and
register it again after the call that reconnected.

Thread safety: a Watch is read by one thread at a time. close() may be
called from another thread: it ends a next() blocked there (a for loop
then ends; next() raises Closed). After fork(), a child that uses a Watch
made before gets a connection of its own, beginning with a resync.
"""
import collections
import dataclasses
import math
import select
import socket
import time
from typing import Any, Dict, List, Optional

from . import connection as _connection
from . import errors, info, values
from ._proto import pb

_KINDS = {name: kind for kind, name in info.KIND_NAMES.items()}

# A Watch's states: reading; lost (Closed raised, the next call
# reconnects); closed by close() (for good).
_OPEN, _LOST, _CLOSED = "open", "lost", "closed"


@dataclasses.dataclass(frozen=True, repr=False)
class WatchEvent:
    """One event of a Watch: the whole state (resync) or one change.
    Immutable, so safe to share between threads."""
    version: int      # the daemon's change number (see the module's text)
    resync: bool      # the whole state: the first event, or after missed
    missed: int       # changes skipped since the previous event
    exists: bool      # the object exists (a key watch: the key, too)
    kind: Optional[str]  # "dict", "counter", ...; None when it does not exist
    op: Optional[str]    # "SET", "ADD", "DESTROY", ...; None on a resync
    # A key watch: the key's value. An object watch of another kind than
    # dict and namespace: a counter's or value object's value, an event's
    # flag, a list's items, else the size ObjectInfo reports. None when
    # unset (the object or key does not exist).
    value: Any
    items: Dict[str, Any]  # dict/namespace: entries set, or all (resync)
    removed: List[str]     # dict/namespace: keys this change removed

    def __repr__(self):
        parts = [f"version={self.version}"]
        if self.resync:
            parts.append("resync")
        if self.missed:
            parts.append(f"missed={self.missed}")
        if self.op is not None:
            parts.append(self.op)
        if not self.exists:
            parts.append("absent")
        elif self.kind is not None:
            parts.append(self.kind)
        if self.value is not None:
            parts.append(f"value={self.value!r}")
        if self.items:
            parts.append(f"items={self.items!r}")
        if self.removed:
            parts.append(f"removed={self.removed!r}")
        return f"<ipcd.WatchEvent {' '.join(parts)}>"


def event_from_proto(e):
    """The WatchEvent of a proto WatchEvent."""
    return WatchEvent(
        version=e.version, resync=e.resync, missed=e.missed, exists=e.exists,
        kind=info.KIND_NAMES.get(e.kind) if e.kind else None,
        op=pb.Op.Name(e.op) if e.op else None,
        value=values.from_proto(e.value) if e.HasField("value") else None,
        items={entry.key: values.from_proto(entry.value) for entry in e.items},
        removed=list(e.removed))


def make_request(name, key=None, kind=None):
    """The Watch request (its id set when sent). TypeError for a name or
    key that is not a str, InvalidArgument for an unknown kind, before
    anything is sent."""
    if not isinstance(name, str):
        raise TypeError(f"ipcd object names are str, not {type(name).__name__}")
    request = pb.Request()
    request.watch.object = name
    if key is not None:
        request.watch.key = values.check_key(key)
    if kind is not None:
        if kind not in _KINDS:
            raise errors.InvalidArgument(
                f"watch of {name!r}: unknown kind {kind!r}; kinds are "
                f"{', '.join(sorted(_KINDS))}")
        request.watch.kind = _KINDS[kind]
    return request


class Watch:
    """The events of one watch, on a connection of its own (made by
    Manager.watch(); see the module's text)."""

    def __init__(self, connection, name, key=None, kind=None):
        # The Manager's connection lends its address, key, client name and
        # timeouts; this one's socket is separate.
        self._connection = connection
        self._request = make_request(name, key, kind)
        self.name = name
        self.key = key
        self.kind = kind
        self._sock = None
        self._poller = None
        self._id = 0
        self._fork_generation = None
        # The first event, read by _open to learn whether the Watch was
        # accepted, until a call takes it.
        self._pending = collections.deque()
        self._state = _LOST
        self._open(first=True)

    @property
    def url(self):
        return self._connection.url

    # --- reading -----------------------------------------------------------

    def next(self, timeout=None):
        """The next event, waiting up to timeout seconds (None: for ever)
        for it; ipcd.Timeout when none came (the watch goes on). Closed
        when the connection was lost (the call after reconnects, within
        the Manager's connect_timeout and reply_timeout, whatever timeout
        says) or the watch was closed."""
        self._ready()
        if self._pending:
            return self._pending.popleft()
        wait = None if timeout is None else max(timeout, 0.0)
        event = self._read(wait)
        if event is None:
            raise errors.Timeout(f"ipcd at {self.url}: no event of the watch "
                                 f"of {self._what()} within {wait:g} s")
        return event

    def poll(self):
        """The next event if one is here already, else None, without waiting
        for the daemon. After a Closed it reconnects first (waiting, as
        connect() does, for the connection and the current state), and
        returns that state. Use it after select reports fileno() readable,
        until it returns None: one read may bring several events, and
        those it buffered no longer make the descriptor readable."""
        self._ready()
        if self._pending:
            return self._pending.popleft()
        return self._read(0.0)

    def __iter__(self):
        return self

    def __next__(self):
        """Blocks for the next event; the loop ends once close() was
        called (here or from another thread)."""
        if self._state == _CLOSED:
            raise StopIteration
        try:
            return self.next()
        except errors.Closed:
            if self._state == _CLOSED:
                raise StopIteration from None
            raise

    def fileno(self):
        """The descriptor of the watch's connection, for select, poll and
        selectors. ValueError once closed, and after a Closed until the
        next() or poll() that reconnects (which makes a new descriptor)."""
        if self._state == _OPEN and self._forked():
            self._reopen_in_child()
        if self._state != _OPEN:
            why = ("it is closed" if self._state == _CLOSED else
                   "it was lost; the next next() or poll() reconnects")
            raise ValueError(f"the watch of {self._what()} has no connection "
                             f"now ({why})")
        return self._sock.fileno()

    # --- ending ------------------------------------------------------------

    def close(self):
        """Ends the watch: its connection closes, so the daemon drops it.
        Idempotent; safe from another thread (see the module's text)."""
        self._state = _CLOSED
        self._pending.clear()
        self._drop(wake_reader=True)

    # The connection is the watch's own: ending it ends the watch.
    unwatch = close

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        key = f" key={self.key!r}" if self.key is not None else ""
        return f"<ipcd.Watch {self.name!r}{key} {self._state} {self.url}>"

    # --- the connection ------------------------------------------------------

    def _what(self):
        if self.key is None:
            return repr(self.name)
        return f"key {self.key!r} of {self.name!r}"

    def _forked(self):
        return self._fork_generation != _connection.fork_generation()

    def _ready(self):
        """Raises Closed after close(); reconnects after a lost connection
        (whose Closed was raised already) or in a forked child."""
        if self._state == _CLOSED:
            raise errors.Closed(f"ipcd at {self.url}: the watch of "
                                f"{self._what()} is closed")
        if self._state == _OPEN and self._forked():
            self._reopen_in_child()
        elif self._state == _LOST:
            self._open(first=False)

    def _reopen_in_child(self):
        # The parent's events are the parent's: this process asks anew.
        self._drop(wake_reader=False)
        self._pending.clear()
        self._open(first=False)

    def _open(self, first):
        """Connects, sends the Watch and reads its answer, the current
        state, into _pending. Raises the Watch's error (InvalidArgument,
        ...) or the connection's; the watch then stays lost."""
        sock, request_id = self._connection.dial(first)
        self._sock, self._id = sock, request_id
        self._poller = select.poll()
        self._poller.register(sock.fileno(), select.POLLIN)
        self._fork_generation = _connection.fork_generation()
        self._state = _OPEN
        try:
            self._request.id = request_id
            sock.send(self._request.SerializeToString())
            event = self._read(self._connection.reply_timeout)
        except OSError as e:
            self._lose()
            raise errors.Closed(f"ipcd at {self.url}: sending the watch of "
                                f"{self._what()}: {e.strerror or e}") from None
        except BaseException:
            self._lose()
            raise
        if event is None:
            self._lose()
            raise errors.Timeout(
                f"ipcd at {self.url}: the watch of {self._what()} was not "
                f"answered within reply_timeout "
                f"({self._connection.reply_timeout:g} s)")
        self._pending.append(event)

    def _read(self, timeout):
        """The next event from the socket, waiting up to timeout seconds
        (None: for ever; 0: not at all); None when none came. A lost
        connection or an answer that is not an event raises, and the
        next call reconnects."""
        sock = self._sock  # Local: close() from another thread clears it.
        if sock is None:
            raise errors.Closed(f"ipcd at {self.url}: the watch of "
                                f"{self._what()} is closed")
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            while True:
                frame = sock.buffered_frame()
                if frame is not None:
                    return self._event(frame)
                if sock.read_available():
                    continue
                if deadline is None:
                    self._poller.poll()
                else:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        return None
                    self._poller.poll(math.ceil(left * 1000))
        except OSError as e:  # wire.PeerClosed among them.
            if self._state == _CLOSED:
                raise errors.Closed(f"ipcd at {self.url}: the watch of "
                                    f"{self._what()} is closed") from None
            self._lose()
            raise errors.Closed(
                f"ipcd at {self.url}: the watch of {self._what()} lost its "
                f"connection ({e.strerror or e}); changes made meanwhile are "
                "not seen: the next call reconnects, beginning with the "
                "current state") from None

    def _event(self, frame):
        response = pb.Response()
        try:
            response.ParseFromString(frame)
        except Exception:
            self._lose()
            raise errors.ProtocolError(
                f"ipcd at {self.url}: received {len(frame)} bytes that are "
                "not an ipcd response") from None
        status = response.status
        if response.id != self._id:
            self._lose()
            if response.id == 0 and status.code:
                # The daemon refusing the connection as a whole; it closes.
                raise errors.error_for(status.code,
                                       f"ipcd at {self.url}: {status.message}")
            raise errors.ProtocolError(
                f"ipcd at {self.url}: an answer for request {response.id} "
                f"came on the connection of watch {self._id}")
        if status.code:
            # The Watch refused (a bad name, a kind mismatch, ...), with the
            # daemon's words; nothing was started.
            self._lose()
            raise errors.error_for(status.code, status.message)
        if not response.HasField("event"):
            self._lose()
            raise errors.ProtocolError(
                f"ipcd at {self.url}: watch {self._id} was answered without "
                "a WatchEvent")
        return event_from_proto(response.event)

    def _lose(self):
        if self._state != _CLOSED:
            self._state = _LOST
        self._drop(wake_reader=False)

    def _drop(self, wake_reader):
        sock, self._sock = self._sock, None
        if sock is None:
            return
        if wake_reader and not self._forked():
            # A thread blocked in poll() on this socket would not see a
            # close(); a shutdown wakes it. Never in a forked child: it
            # would end the parent's connection too.
            try:
                sock.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        sock.close()


__all__ = ["Watch", "WatchEvent"]
