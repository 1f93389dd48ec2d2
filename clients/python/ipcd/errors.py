"""ipcd's status codes as Python exceptions.

Every failure the daemon reports comes back as an instance of `Error` (or
of one of its subclasses, one per code of proto Code), carrying `.code`
(a `Code`) and `.message` (the daemon's text, which names the object and
what failed). Programs branch on the class or the code, people read the
message.

Some classes also derive from the built-in exception a Python program
would catch for the same thing, so that code written for
multiprocessing.managers keeps working: `NotFound` is a `KeyError` (a
missing dict key), `Timeout` a `TimeoutError`, `Full` and `Empty` are
`queue.Full` and `queue.Empty`, `InvalidArgument` a `ValueError`,
`PermissionDenied` a `PermissionError`. Where one code means different
things to different kinds, the proxy raises a subclass of the code's class
that is also the built-in a Python program expects there:
`IndexOutOfRange` (an `InvalidArgument` and an `IndexError`: a list index
outside the list), `NotInList` (a `NotFound` and a `ValueError`: a list's
remove() or index() of a value it does not hold), `NoAttribute` (a
`NotFound` and an `AttributeError`: a namespace attribute never set), and
`BrokenBarrier` (a `threading.BrokenBarrierError`, with the daemon's code:
CLOSED for a barrier broken, reset or destroyed while waiting,
DEADLINE_EXCEEDED for the wait whose timeout broke it).

Thread safety: plain values.
"""
import enum
import queue as _queue
import threading as _threading


class Code(enum.IntEnum):
    """The numbers of proto Code (and of ipc::ErrorCode in libipc)."""
    OK = 0
    INVALID_ARGUMENT = 1
    NOT_FOUND = 2
    PERMISSION_DENIED = 3
    ADDRESS_IN_USE = 4
    DEADLINE_EXCEEDED = 5
    WOULD_BLOCK = 6
    CLOSED = 7
    MESSAGE_TOO_LARGE = 8
    PROTOCOL_ERROR = 9
    UNSUPPORTED = 10
    RESOURCE_EXHAUSTED = 11
    FULL = 12
    EMPTY = 13
    OWNER_DEAD = 14
    NOT_RECOVERABLE = 15
    INTERNAL = 16


class Error(Exception):
    """A failure reported by ipcd or found by this client: `.code`, `.message`."""
    code = Code.INTERNAL

    def __init__(self, message, code=None):
        # One argument only: some built-in bases (OSError) read two
        # arguments as (errno, strerror).
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = Code(code)

    def __str__(self):
        # KeyError would print the repr of its argument, quotes and all.
        return self.message

    def __repr__(self):
        return f"ipcd.{type(self).__name__}({self.message!r})"

    def __reduce__(self):
        # Picklable (to pass between processes), whatever the built-in base.
        return (_rebuild, (type(self), self.message, int(self.code)))


def _rebuild(cls, message, code):
    return cls(message, code)


class InvalidArgument(Error, ValueError):
    code = Code.INVALID_ARGUMENT


class NotFound(Error, KeyError):
    code = Code.NOT_FOUND


class PermissionDenied(Error, PermissionError):
    code = Code.PERMISSION_DENIED


class AddressInUse(Error):
    code = Code.ADDRESS_IN_USE


class Timeout(Error, TimeoutError):
    code = Code.DEADLINE_EXCEEDED


class WouldBlock(Error):
    code = Code.WOULD_BLOCK


class Closed(Error):
    code = Code.CLOSED


class MessageTooLarge(Error):
    code = Code.MESSAGE_TOO_LARGE


class ProtocolError(Error):
    code = Code.PROTOCOL_ERROR


class Unsupported(Error):
    code = Code.UNSUPPORTED


class ResourceExhausted(Error):
    code = Code.RESOURCE_EXHAUSTED


class Full(Error, _queue.Full):
    code = Code.FULL


class Empty(Error, _queue.Empty):
    code = Code.EMPTY


class OwnerDead(Error):
    code = Code.OWNER_DEAD


class NotRecoverable(Error):
    code = Code.NOT_RECOVERABLE


class Internal(Error):
    code = Code.INTERNAL


class IndexOutOfRange(InvalidArgument, IndexError):
    """A list index outside the list."""


class NotInList(NotFound, ValueError):
    """A list's remove() or index() of a value it does not hold."""


class NoAttribute(NotFound, AttributeError):
    """A namespace attribute that is not set."""


class BrokenBarrier(Error, _threading.BrokenBarrierError):
    """A barrier wait that ended without the round completing; `.code` is
    the daemon's (CLOSED or DEADLINE_EXCEEDED)."""
    code = Code.CLOSED


def recast(error, cls):
    """error as an instance of cls, keeping its message and code."""
    return cls(error.message, error.code)


# The proto's name for the timeout code.
DeadlineExceeded = Timeout

_BY_CODE = {cls.code: cls for cls in (
    InvalidArgument, NotFound, PermissionDenied, AddressInUse, Timeout,
    WouldBlock, Closed, MessageTooLarge, ProtocolError, Unsupported,
    ResourceExhausted, Full, Empty, OwnerDead, NotRecoverable, Internal)}


def error_for(code, message):
    """The exception for a status code, as the daemon sent it."""
    try:
        code = Code(code)
    except ValueError:
        return Internal(f"ipcd answered with unknown code {code}: {message}")
    return _BY_CODE.get(code, Internal)(message)
