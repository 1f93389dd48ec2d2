"""The Hello and, on tcp:// listeners, the key exchange that open every
connection (docs/protocol.md, sections 1 and 2), with the checks
ipc::Manager makes: a daemon that asks for a key must prove it holds it,
and one reached over TCP that does not ask cannot, so it is refused.

Thread safety: runs on a connection no other thread can see yet.
"""
import errno

from . import auth, errors, wire
from ._proto import pb

PROTOCOL_VERSION = pb.PROTOCOL_VERSION_CURRENT


def run(sock, address, authkey, client_name, timeout, first_id):
    """Says hello on sock (a wire.FrameSocket) and authenticates when the
    daemon asks. Returns the next free request id; raises ipcd.Error."""
    where = f"ipcd at {address.url}"
    next_id = [first_id]

    def exchange(request, step):
        request.id = next_id[0]
        next_id[0] += 1
        sent = None
        try:
            sock.send(request.SerializeToString())
        except OSError as e:
            # A daemon turning the connection away answers and closes at
            # once, maybe before our request arrived: read its answer.
            sent = e
            if e.errno not in (errno.EPIPE, errno.ECONNRESET):
                raise _no_answer(where, step, e) from None
        try:
            frame = sock.receive(timeout)
        except wire.TimedOut:
            raise errors.Timeout(f"{where}: no answer to {step} within "
                                 f"{timeout:g} s") from None
        except OSError as e:
            raise _no_answer(where, step, sent or e) from None
        response = pb.Response()
        try:
            response.ParseFromString(frame)
        except Exception:
            response = None
        if response is not None and response.id == 0 and response.status.code:
            # Turned away before our request was read (too many clients,
            # out of descriptors): its reason, not a riddle.
            raise errors.error_for(response.status.code,
                                   f"{where}: {response.status.message}")
        if response is None or response.id != request.id:
            raise errors.ProtocolError(
                f"{where}: the answer to {step} is not an ipcd response "
                "(is this an ipcd socket?)")
        if response.status.code:
            raise errors.error_for(response.status.code,
                                   f"{where}: {response.status.message}")
        return response

    request = pb.Request()
    request.hello.protocol_version = PROTOCOL_VERSION
    request.hello.client_name = client_name
    client_nonce = b""
    if authkey:
        client_nonce = auth.make_nonce()
        request.hello.client_nonce = client_nonce
    response = exchange(request, "hello")
    if not response.HasField("hello"):
        raise errors.ProtocolError(f"{where}: hello answered without a HelloReply")
    reply = response.hello
    if reply.protocol_version != PROTOCOL_VERSION:
        raise errors.Unsupported(
            f"{where} speaks protocol version {reply.protocol_version}; this "
            f"client speaks version {PROTOCOL_VERSION}")
    if not reply.auth_required:
        # A unix socket is guarded by its file permissions. Anywhere else a
        # daemon that does not ask for the key cannot prove it holds it.
        if authkey and address.family != "unix":
            raise errors.PermissionDenied(
                f"{where} did not ask for the authentication key, so it "
                "cannot prove it holds it; refusing to use it")
        return next_id[0]
    if not authkey:
        raise errors.PermissionDenied(
            f"{where} requires an authentication key (none given)")
    server_nonce = reply.server_nonce
    request = pb.Request()
    request.authenticate.client_proof = auth.client_proof(
        authkey, server_nonce, client_nonce)
    try:
        response = exchange(request, "authentication")
    except errors.Closed as e:
        # The daemon hangs up on a wrong proof; say what that likely means.
        raise errors.PermissionDenied(
            f"{where}: authentication refused (wrong key?): {e.message}") from None
    expected = auth.server_proof(authkey, client_nonce, server_nonce)
    if not response.HasField("auth") or not auth.proofs_equal(
            response.auth.server_proof, expected):
        raise errors.PermissionDenied(
            f"{where} could not prove it holds the authentication key; "
            "refusing to use it")
    return next_id[0]


def _no_answer(where, step, cause):
    reason = getattr(cause, "strerror", None) or str(cause) or type(cause).__name__
    return errors.Closed(f"{where}: no answer to {step} ({reason})")
