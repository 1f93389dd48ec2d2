"""One socket to the daemon, carrying length-prefixed frames.

Each frame is a 4-byte little-endian length and that many bytes of one
serialized Request or Response (docs/protocol.md, "Framing").

Before sleeping in recv for an answer, the receiver polls for it briefly
(spin, as ipc::Manager's reply_spin): when the daemon runs on another core
its answer often comes sooner than a sleeping process can be woken. When
answers do not come that fast (a busy machine) it stops polling for a
while, doubling the pause after each miss, so the CPU goes to the daemon.

The socket stays in blocking mode and waits are bounded with SO_RCVTIMEO
and SO_SNDTIMEO rather than Python's socket timeouts: those poll() before
every recv, one more system call on each round trip, and a synchronous
client's speed is its system calls.

Thread safety: none; its owner (a Connection, or a Watch) serializes its use.
"""
import select
import socket
import struct
import time

_LENGTH = struct.Struct("<I")
_TIMEVAL = struct.Struct("@ll")
_READ_SIZE = 65536


class TimedOut(Exception):
    """Nothing came within the receive timeout."""


class PeerClosed(ConnectionError):
    """The daemon closed the connection."""


def _timeval(seconds):
    if seconds is None:
        return _TIMEVAL.pack(0, 0)  # 0 means no timeout.
    micros = max(int(seconds * 1e6), 1)  # Never 0: that would mean infinite.
    return _TIMEVAL.pack(*divmod(micros, 1000000))


class FrameSocket:
    def __init__(self, sock, spin=0.0):
        self.sock = sock
        self.spin = spin
        self._buffer = bytearray()
        self._recv_timeout = None
        self._send = sock.sendall
        self._recv = sock.recv
        self._spin_skip = 0     # Receives left to do without polling.
        self._spin_backoff = 0

    @classmethod
    def connect(cls, address, timeout, spin=0.0):
        """Connects within timeout seconds; OSError (socket.timeout among
        them) when that fails."""
        if address.family == "unix":
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.settimeout(timeout)
                sock.connect(address.sockaddr())
            except BaseException:
                sock.close()
                raise
        else:
            sock = socket.create_connection(address.sockaddr(), timeout)
            # Requests are small and each waits for its answer.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.settimeout(None)
        return cls(sock, spin)

    def fileno(self):
        return self.sock.fileno()

    def set_send_timeout(self, seconds):
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO,
                             _timeval(seconds))

    def send(self, frame):
        self._send(_LENGTH.pack(len(frame)) + frame)

    def send_many(self, frames):
        """Several frames in one system call (pipelining)."""
        pack = _LENGTH.pack
        self._send(b"".join(pack(len(f)) + f for f in frames))

    def receive(self, timeout):
        """The next frame. timeout (seconds, None = forever) bounds each
        wait for bytes; TimedOut when one passes, PeerClosed at end of
        stream, OSError when the socket fails."""
        while True:
            frame = self.buffered_frame()
            if frame is not None:
                return frame
            if timeout != self._recv_timeout:
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO,
                                     _timeval(timeout))
                self._recv_timeout = timeout
            chunk = self._poll() if self.spin > 0 else None
            if chunk is None:
                try:
                    chunk = self._recv(_READ_SIZE)
                except BlockingIOError:  # SO_RCVTIMEO passed.
                    raise TimedOut() from None
            if not chunk:
                raise PeerClosed("the daemon closed the connection")
            self._buffer += chunk

    def buffered_frame(self):
        """The next frame when the bytes read so far hold a whole one, else
        None; no system call. For readers that wait with select or poll
        themselves (a Watch) rather than in receive()."""
        buffer = self._buffer
        if len(buffer) >= 4:
            end = 4 + _LENGTH.unpack_from(buffer)[0]
            if len(buffer) >= end:
                frame = bytes(buffer[4:end])
                del buffer[:end]
                return frame
        return None

    def read_available(self):
        """Reads, without waiting, the bytes the socket holds now into the
        buffer: True when some came, False when there were none.
        PeerClosed at end of stream, OSError when the socket fails."""
        try:
            chunk = self._recv(_READ_SIZE, socket.MSG_DONTWAIT)
        except BlockingIOError:
            return False
        if not chunk:
            raise PeerClosed("the daemon closed the connection")
        self._buffer += chunk
        return True

    def _poll(self):
        """Bytes that came within self.spin seconds, or None (and a longer
        pause before the next poll)."""
        if self._spin_skip:
            self._spin_skip -= 1
            return None
        until = time.perf_counter() + self.spin
        while True:
            try:
                chunk = self._recv(_READ_SIZE, socket.MSG_DONTWAIT)
                self._spin_backoff = 0
                return chunk
            except BlockingIOError:
                if time.perf_counter() >= until:
                    break
        self._spin_backoff = min(self._spin_backoff * 2 or 1, 64)
        self._spin_skip = self._spin_backoff
        return None

    def hung_up(self):
        """True when the peer closed, reset, or sent something unasked
        (which a daemon only does on its way out)."""
        if self._buffer:
            return True
        poller = select.poll()
        poller.register(self.sock, select.POLLIN | select.POLLRDHUP)
        return bool(poller.poll(0))

    def close(self):
        # close(), never shutdown(): after a fork the parent still uses
        # this connection, and shutdown would end it for both.
        self.sock.close()
