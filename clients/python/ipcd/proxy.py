"""The base of every proxy: a name bound to a Manager's connection.

Making a proxy sends nothing; each method is one request. Thread safety:
as the Manager's (calls may come from any thread, one runs at a time).
"""
from . import calls, errors
from ._proto import pb


class Proxy:
    _kind = None  # The proto Kind, set by each subclass.

    __slots__ = ("_connection", "_name")

    def __init__(self, connection, name):
        if not isinstance(name, str):
            raise TypeError(f"ipcd object names are str, not {type(name).__name__}")
        self._connection = connection
        self._name = name

    @property
    def name(self):
        return self._name

    def __repr__(self):
        return f"<ipcd.{type(self).__name__} {self._name!r} at {self._connection.url}>"

    def _call(self, op, **arguments):
        """One Call on this object; its Result, or the daemon's error."""
        request = calls.make(self._name, self._kind, op, **arguments)
        return self._connection.round_trip(request).result

    def _blocking_call(self, op, timeout, quiet_codes=(), **arguments):
        """A call that waits in the daemon up to timeout seconds (None: for
        ever). Returns the Response; a status in quiet_codes is returned,
        not raised (a timeout some methods report as False)."""
        request = calls.make(self._name, self._kind, op, timeout=timeout,
                             **arguments)
        return self._connection.round_trip(
            request, calls.reply_timeout(timeout), blocking=True,
            quiet_codes=quiet_codes)

    def _release_taken_on(self, generation, lost):
        """RELEASE of what this proxy took on the connection of that
        generation, never on a newer one (the daemon gave back what a lost
        connection held: releasing again would give back someone else's).
        Closed, with lost as its message, when that connection is gone."""
        request = calls.make(self._name, self._kind, pb.RELEASE)
        try:
            self._connection.round_trip(request, only_generation=generation)
        except errors.Closed:
            raise errors.Closed(lost) from None
