"""TCP with the daemon's HMAC handshake: the right key, a wrong one, key
files, and fake daemons that cannot prove they hold the key."""
import os
import socket
import threading

import pytest

import ipcd
from daemon_process import Daemon, free_tcp_port, write_key
from fake_daemon import Frames

KEY = b"the-shared-key"


@pytest.fixture
def tcp_daemon():
    port = free_tcp_port()
    d = Daemon()
    key_file = write_key(d.dir, KEY + b"\n")
    d.extra_args = ["--listen", f"tcp://127.0.0.1:{port}",
                    "--authkey-file", key_file]
    d.start()
    d.tcp_url = f"tcp://127.0.0.1:{port}"
    d.key_file = key_file
    yield d
    d.stop()
    d.cleanup()


def test_right_key(tcp_daemon):
    m = ipcd.connect(tcp_daemon.tcp_url, authkey=KEY)
    assert m.counter("hits").add(1) == 1
    m.close()
    # The key file as ipcd reads it: one trailing newline dropped.
    m = ipcd.connect(tcp_daemon.tcp_url, authkey_file=tcp_daemon.key_file)
    assert m.counter("hits").add(1) == 2
    m.close()


def test_a_watch_over_tcp_authenticates_its_own_connection(tcp_daemon):
    m = ipcd.connect(tcp_daemon.tcp_url, authkey=KEY)
    with m.watch("hits") as w:
        assert not w.next(timeout=10).exists
        m.counter("hits").add(2)
        assert w.next(timeout=10).value == 2
        assert m.stats().clients == 2  # the Manager's and the watch's
    m.close()


def test_wrong_or_missing_key_is_permission_denied(tcp_daemon):
    with pytest.raises(ipcd.PermissionDenied, match="wrong key"):
        ipcd.connect(tcp_daemon.tcp_url, authkey=b"not-the-key")
    with pytest.raises(ipcd.PermissionDenied, match="requires an authentication key"):
        ipcd.connect(tcp_daemon.tcp_url)


def test_key_file_rules(tmp_path):
    open_to_all = write_key(str(tmp_path), mode=0o644)
    with pytest.raises(ipcd.PermissionDenied, match="chmod 600"):
        ipcd.read_authkey_file(open_to_all)
    empty = write_key(str(tmp_path), key=b"\n")
    with pytest.raises(ipcd.InvalidArgument, match="is empty"):
        ipcd.read_authkey_file(empty)
    with pytest.raises(ipcd.NotFound):
        ipcd.read_authkey_file(str(tmp_path / "none"))
    assert ipcd.read_authkey_file(write_key(str(tmp_path), b"k\n\n")) == b"k\n"


def _fake_daemon(serve_one):
    listener = socket.socket(socket.AF_INET)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)

    def run():
        conn, _ = listener.accept()
        frames = Frames(conn)
        try:
            serve_one(frames)
        finally:
            frames.close()
            listener.close()

    thread = threading.Thread(target=run)
    thread.start()
    return f"tcp://127.0.0.1:{listener.getsockname()[1]}", thread


def test_a_daemon_with_a_wrong_proof_is_refused():
    def serve(frames):
        hello = frames.request()

        def fill(r):
            r.hello.protocol_version = 1
            r.hello.auth_required = True
            r.hello.server_nonce = os.urandom(32)
        frames.reply(hello.id, fill)
        auth = frames.request()
        # It cannot check the client's proof and cannot make its own.
        frames.reply(auth.id, lambda r: setattr(r.auth, "server_proof",
                                                os.urandom(32)))

    url, thread = _fake_daemon(serve)
    with pytest.raises(ipcd.PermissionDenied, match="could not prove"):
        ipcd.connect(url, authkey=KEY)
    thread.join()


def test_a_tcp_daemon_that_does_not_ask_for_the_key_is_refused():
    def serve(frames):
        hello = frames.request()
        frames.reply(hello.id, lambda r: setattr(r.hello, "protocol_version", 1))

    url, thread = _fake_daemon(serve)
    with pytest.raises(ipcd.PermissionDenied, match="did not ask"):
        ipcd.connect(url, authkey=KEY)
    thread.join()
