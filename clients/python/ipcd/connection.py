"""The connection to ipcd behind a Manager: connecting, the request/reply
exchange, pipelining, and the rules for losing the connection.

Rules (the same as ipc::Manager's, libipc/src/manager/connection.cc):
  - a lost connection is reopened by the next call, never in the middle
    of one: a request that may have reached the daemon is never sent
    again; that call raises Closed (or Timeout when its answer did not
    come in time) and the next one reconnects;
  - only a connection that had already closed before a request was
    written proves the request never arrived; then one fresh connection
    carries it;
  - a connection idle for a while is checked for a hang-up before use,
    since on TCP a write to a daemon that has gone still succeeds;
  - after fork() the child never touches the parent's session: its first
    call opens a connection of its own (and it holds none of the parent's
    locks).

Thread safety: one call at a time, under a lock; other threads wait. A
call that waits in the daemon (a lock acquire) holds up the others.
"""
import os
import socket
import threading
import time
import weakref

from . import errors, handshake, wire
from ._proto import pb

# A connection idle this long is checked for a hang-up before it is used.
IDLE_CHECK = 0.020
# A blocking call's answer may come this long after its own timeout.
REPLY_GRACE = 5.0
# The most requests a pipeline keeps unanswered: well under the daemon's
# max_pending_per_client, and plenty to hide the round trip.
PIPELINE_WINDOW = 64

# Bumped in every forked child: a connection opened under an older value
# belongs to the parent.
_fork_generation = 0
_live = weakref.WeakSet()


def fork_generation():
    """A number that changes in every forked child: a socket opened under
    another number belongs to a parent process."""
    return _fork_generation


def _after_fork_in_child():
    global _fork_generation
    _fork_generation += 1
    for connection in list(_live):
        # Another thread of the parent may have held it at the fork.
        connection._lock = threading.Lock()


os.register_at_fork(after_in_child=_after_fork_in_child)


class Connection:
    def __init__(self, address, authkey, client_name, connect_timeout,
                 reply_timeout, wait_for_daemon, reply_spin=0.0):
        self.address = address
        self._authkey = authkey
        self._client_name = client_name
        self._connect_timeout = connect_timeout
        self._reply_timeout = reply_timeout or None  # 0: wait for ever.
        self._wait_for_daemon = wait_for_daemon
        self._reply_spin = reply_spin
        self._lock = threading.Lock()
        self._sock = None
        self._fork_generation = None
        self._next_id = 1
        self._last_reply = 0.0
        # Counts connections opened: a lock hold belongs to one of them.
        self.generation = 0
        _live.add(self)

    @property
    def url(self):
        return self.address.url

    def open(self):
        with self._lock:
            self._connect(first=True)

    def close(self):
        with self._lock:
            self._drop()

    def round_trip(self, request, reply_timeout=None, blocking=False,
                   only_generation=0, quiet_codes=()):
        """Sends request, returns its Response; raises the call's error.
        reply_timeout: seconds for a blocking call's answer (None with
        blocking=True = for ever); non-blocking calls use the Manager's.
        only_generation: fail with Closed rather than reconnect unless the
        connection is that one (a lock release). quiet_codes: statuses
        returned in the Response rather than raised."""
        with self._lock:
            if only_generation and not self._is_generation(only_generation):
                raise errors.Closed(f"ipcd at {self.url}: the connection this "
                                    "was meant for is gone")
            fresh = self._ensure_connected()
            request.id = request_id = self._next_id
            self._next_id += 1
            try:
                self._send(request.SerializeToString(), fresh)
                response = self._receive(
                    request_id,
                    reply_timeout if blocking else self._reply_timeout,
                    blocking)
            except BaseException:
                # Interrupted (KeyboardInterrupt, a signal handler's
                # exception) with the answer still to come: it could never
                # be matched to its call, so the connection goes.
                self._drop()
                raise
            status = response.status
            if status.code and status.code not in quiet_codes:
                raise errors.error_for(status.code, status.message)
            return response

    def pipeline(self, n, make_request, read):
        """Sends n requests without waiting for answers (at most
        PIPELINE_WINDOW outstanding) and returns [read(response) for each],
        in order, failed calls included: make_request(i) builds the i-th
        Request, read turns its Response into the caller's value. Requests
        are built and answers read a window at a time, so a long pipeline
        never holds all of them at once. Raises only when the connection
        is lost; the calls not answered by then may or may not have run."""
        out = []
        with self._lock:
            fresh = self._ensure_connected()
            first_id = self._next_id
            self._next_id += n
            try:
                self._pipeline(n, make_request, read, fresh, first_id, out)
            except BaseException:
                self._drop()  # Answers may be outstanding: see round_trip.
                raise
        return out

    # --- under self._lock -------------------------------------------------

    def _pipeline(self, n, make_request, read, fresh, first_id, out):
        sent = 0
        while len(out) < n:
            answered = len(out)
            if sent < n and sent - answered <= PIPELINE_WINDOW // 2:
                end = min(n, answered + PIPELINE_WINDOW)
                frames = []
                for i in range(sent, end):
                    request = make_request(i)
                    request.id = first_id + i
                    frames.append(request.SerializeToString())
                # With nothing outstanding the reconnect-once rule holds;
                # with answers pending, a failed send is a lost connection.
                self._send_many(frames, fresh or sent != answered)
                fresh = False
                sent = end
            out.append(read(self._receive(first_id + answered,
                                          self._reply_timeout, False)))

    def _is_generation(self, generation):
        """True when the open connection is that one and still up. Checked
        for hang-up at once, not after IDLE_CHECK: a reconnect here would
        send the call on a connection it was not meant for."""
        if (self._sock is None or self.generation != generation
                or self._fork_generation != _fork_generation):
            return False
        if self._sock.hung_up():
            self._drop()
            return False
        return True

    def _ensure_connected(self):
        """Reconnects when needed; True when this opened the connection."""
        sock = self._sock
        if sock is not None:
            if self._fork_generation != _fork_generation:
                self._drop()  # The parent's session, not ours.
            elif (time.monotonic() - self._last_reply > IDLE_CHECK
                  and sock.hung_up()):
                self._drop()
        if self._sock is None:
            self._connect(first=False)
            return True
        return False

    def _connect(self, first):
        sock, self._next_id = self.dial(first, self._next_id)
        self._sock = sock
        self._fork_generation = _fork_generation
        self.generation += 1
        self._last_reply = time.monotonic()

    def dial(self, first, first_id=1):
        """A new connection to the same daemon, with this one's key, client
        name and timeouts, the hello (and key exchange) done: returns the
        wire.FrameSocket and the next free request id. It is the caller's
        alone (a Watch's own connection); first: say in errors that a later
        call tries again unless this is the first connection. Raises
        ipcd.Error as connect() does. Reads only settings fixed when this
        Connection was made, so it needs no lock."""
        url = self.url
        # After a lost connection, say that a later call tries again.
        again = "" if first else "; the next call tries to reconnect"
        wait = self._wait_for_daemon
        give_up = time.monotonic() + wait if wait > 0 else None
        while True:
            try:
                sock = wire.FrameSocket.connect(
                    self.address, self._connect_timeout, self._reply_spin)
                break
            except (FileNotFoundError, ConnectionRefusedError) as e:
                # No socket file, or one a dead daemon left: no daemon.
                if give_up is not None and time.monotonic() < give_up:
                    time.sleep(0.01)  # A daemon is expected: look again.
                    continue
                if give_up is not None:
                    raise errors.Timeout(
                        f"ipcd at {url}: not running (none answered within "
                        f"{wait:g} s; connect: {e.strerror}){again}") from None
                raise errors.NotFound(f"ipcd at {url}: not running "
                                      f"(connect: {e.strerror}){again}") from None
            except PermissionError as e:
                raise errors.PermissionDenied(
                    f"ipcd at {url}: connect: {e.strerror}") from None
            except socket.timeout:
                raise errors.Timeout(
                    f"ipcd at {url}: connect: no answer within "
                    f"{self._connect_timeout:g} s") from None
            except socket.gaierror as e:
                raise errors.NotFound(f"ipcd at {url}: {e.strerror}") from None
            except OSError as e:
                raise errors.Closed(f"ipcd at {url}: connect: "
                                    f"{e.strerror or e}{again}") from None
        try:
            next_id = handshake.run(
                sock, self.address, self._authkey, self._client_name,
                self._connect_timeout, first_id)
            sock.set_send_timeout(self._reply_timeout)
        except BaseException:
            sock.close()
            raise
        return sock, next_id

    @property
    def reply_timeout(self):
        """Seconds a call that does not wait in the daemon waits for its
        answer (None: for ever)."""
        return self._reply_timeout

    def _drop(self):
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def _send(self, frame, fresh):
        try:
            self._sock.send(frame)
            return
        except OSError as e:
            self._retry_on_fresh(e, fresh, lambda: self._sock.send(frame))

    def _send_many(self, frames, fresh):
        try:
            self._sock.send_many(frames)
        except OSError as e:
            self._retry_on_fresh(e, fresh, lambda: self._sock.send_many(frames))

    def _retry_on_fresh(self, error, fresh, send):
        self._drop()
        # EPIPE/ECONNRESET on a connection made before this call: it had
        # closed already, so nothing of this request arrived; one fresh
        # connection may carry it. Anything else may have been delivered.
        if fresh or not isinstance(error, (BrokenPipeError,
                                           ConnectionResetError)):
            raise self._lost(error) from None
        self._connect(first=False)
        try:
            send()
        except OSError as e:
            self._drop()
            raise self._lost(e) from None

    def _receive(self, request_id, timeout, blocking):
        """The Response to request_id; drops the connection and raises
        when it does not come."""
        url = self.url
        try:
            frame = self._sock.receive(timeout)
        except wire.TimedOut:
            self._drop()
            within = (f"by the deadline (plus {REPLY_GRACE:g} s)" if blocking
                      else f"within reply_timeout ({timeout:g} s)")
            raise errors.Timeout(
                f"ipcd at {url}: no answer {within}; the connection was "
                "dropped and the call may have been applied") from None
        except OSError as e:
            self._drop()
            raise errors.Closed(
                f"ipcd at {url}: connection lost before the answer came "
                f"({e.strerror or e}); the call may have been applied; the "
                "next call reconnects") from None
        response = pb.Response()
        try:
            response.ParseFromString(frame)
        except Exception:
            self._drop()
            raise errors.ProtocolError(
                f"ipcd at {url}: received {len(frame)} bytes that are not an "
                "ipcd response") from None
        self._last_reply = time.monotonic()
        if response.id != request_id:
            # Id 0 is the daemon refusing what it could not parse; it closes
            # after that, and so do we.
            self._drop()
            if response.id == 0 and response.status.code:
                raise errors.error_for(
                    response.status.code, f"ipcd at {url}: {response.status.message}")
            raise errors.ProtocolError(
                f"ipcd at {url}: answer {response.id} came for request "
                f"{request_id}")
        return response

    def _lost(self, error):
        return errors.Closed(f"ipcd connection lost: ipcd at {self.url}: "
                             f"{error.strerror or error}")
