"""Connecting (URLs, the default socket), the daemon as a whole (objects,
stats), timeouts, reconnecting after a restart without re-sending, fork
and threads."""
import os
import signal
import socket
import threading
import time

import pytest

import ipcd
from children import run_in_child
from fake_daemon import Frames


def test_urls(daemon):
    for url in (daemon.url, daemon.socket_path):
        m = ipcd.connect(url)
        assert m.url == daemon.url
        m.close()
    for bad, words in (("relative/ipcd.sock", "absolute path"),
                       ("http://x", "does not listen on http"),
                       ("tcp://:80", "empty host"),
                       ("tcp://h:port", "bad port")):
        with pytest.raises(ipcd.InvalidArgument, match=words):
            ipcd.connect(bad)


def test_default_url_follows_the_cpp_rules(monkeypatch, daemon):
    for name in ("IPCD_SOCKET", "RUNTIME_DIRECTORY", "XDG_RUNTIME_DIR"):
        monkeypatch.delenv(name, raising=False)
    if not os.path.exists("/run/ipcd/ipcd.sock"):
        assert ipcd.default_url() == f"unix:///tmp/ipcd-{os.getuid()}/ipcd.sock"
    monkeypatch.setenv("XDG_RUNTIME_DIR", "/x")
    assert ipcd.default_url().startswith("unix:///")
    monkeypatch.setenv("RUNTIME_DIRECTORY", "/srv/a:/srv/b")
    monkeypatch.setenv("IPCD_SOCKET", daemon.socket_path)
    assert ipcd.default_url() == daemon.url
    m = ipcd.connect()
    assert m.counter("c").add(1) == 1
    m.close()


def test_no_daemon_is_not_found_at_once(tmp_path):
    url = f"unix://{tmp_path}/none.sock"
    start = time.monotonic()
    with pytest.raises(ipcd.NotFound) as caught:
        ipcd.connect(url)
    assert time.monotonic() - start < 1
    assert str(caught.value) == (f"ipcd at {url}: not running "
                                 "(connect: No such file or directory)")
    with pytest.raises(ipcd.Timeout, match="none answered within 0.2 s"):
        ipcd.connect(url, wait_for_daemon=0.2)


def test_list_objects_stats_destroy(manager):
    manager.dict("cfg")["k"] = "v"
    manager.counter("hits").add(11)
    manager.queue("jobs").put(1)
    objects = manager.list_objects()
    assert [(o.name, o.kind, o.size) for o in objects] == [
        ("cfg", "dict", 1), ("hits", "counter", 11), ("jobs", "queue", 1)]
    stats = manager.stats()
    assert stats.server_version.startswith("ipcd ")
    assert stats.objects == 3 and stats.clients >= 1
    assert stats.max_frame_bytes > 0 and stats.persistence is None
    manager.destroy("hits")
    assert manager.counter("hits").get() == 0
    with pytest.raises(ipcd.NotFound):
        manager.destroy("hits")


def test_reconnect_after_a_daemon_restart(daemon, manager):
    assert manager.counter("hits").add(1) == 1
    daemon.stop()
    with pytest.raises(ipcd.NotFound, match="the next call tries to reconnect"):
        manager.counter("hits").add(1)
    daemon.start()
    # State was in memory: a new daemon, a new counter.
    assert manager.counter("hits").add(1) == 1


def test_a_call_cut_off_is_closed_and_never_resent(daemon, manager):
    errors = []

    def wait():
        try:
            manager.queue("jobs").get(timeout=20)
        except ipcd.Error as e:
            errors.append(e)

    t = threading.Thread(target=wait)
    t.start()
    probe = ipcd.connect(daemon.url)
    while not any(o.waiters for o in probe.list_objects()):
        pass
    probe.close()
    daemon.kill()
    t.join()
    assert [type(e) for e in errors] == [ipcd.Closed]
    assert "may have been applied" in str(errors[0])
    daemon.start()
    assert manager.queue("jobs").qsize() == 0   # the next call reconnects


def test_a_request_that_may_have_arrived_is_not_sent_again():
    listener = socket.socket(socket.AF_INET)
    listener.bind(("127.0.0.1", 0))
    listener.listen(2)
    calls = []

    def serve():
        for _ in range(2):
            conn, _ = listener.accept()
            frames = Frames(conn)
            hello = frames.request()
            frames.reply(hello.id, lambda r: setattr(r.hello, "protocol_version", 1))
            request = frames.request()
            calls.append(request.call.op)
            if len(calls) == 2:
                frames.reply(request.id, lambda r: setattr(r.result.value, "int_value", 7))
            frames.close()  # The first: read, then hang up unanswered.

    t = threading.Thread(target=serve)
    t.start()
    m = ipcd.connect(f"tcp://127.0.0.1:{listener.getsockname()[1]}")
    with pytest.raises(ipcd.Closed, match="may have been applied"):
        m.counter("c").add(1)
    assert len(calls) == 1                 # not re-sent on its own
    assert m.counter("c").get() == 7       # the next call reconnects
    t.join()
    listener.close()


def test_reply_timeout_on_a_stopped_daemon(daemon):
    m = ipcd.connect(daemon.url, reply_timeout=0.3)
    m.counter("c").add(1)
    os.kill(daemon.process.pid, signal.SIGSTOP)
    try:
        with pytest.raises(ipcd.Timeout, match="reply_timeout"):
            m.counter("c").add(1)
    finally:
        os.kill(daemon.process.pid, signal.SIGCONT)
    assert m.counter("c").get() in (1, 2)   # reconnected
    m.close()


def test_fork_child_gets_its_own_connection(daemon, manager):
    manager.counter("c").add(1)
    sessions = manager.stats().clients

    def child():
        assert manager.counter("c").add(1) == 2
        return 0 if manager.stats().clients == sessions + 1 else 3

    assert run_in_child(child) == 0
    assert manager.counter("c").add(1) == 3   # the parent's still works


def test_threads_share_a_manager(manager):
    def work():
        for _ in range(200):
            manager.counter("c").add(1)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert manager.counter("c").get() == 800


def test_errors_are_named_after_codes():
    from ipcd.errors import error_for
    for code in ipcd.Code:
        if code == ipcd.Code.OK:
            continue
        e = error_for(int(code), "m")
        assert e.code == code and isinstance(e, ipcd.Error) and str(e) == "m"
    assert ipcd.DeadlineExceeded is ipcd.Timeout


def test_an_interrupted_call_leaves_no_stray_answer(manager):
    class Interrupted(Exception):
        pass

    def interrupt(signum, frame):
        raise Interrupted()

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, 0.2)
    try:
        with pytest.raises(Interrupted):
            manager.queue("jobs").get(timeout=10)
    finally:
        # The watchdog's timer was this one: give it back.
        signal.signal(signal.SIGALRM, previous)
        signal.alarm(30)
    # The interrupted get's answer would have come on the old connection;
    # the next calls get their own answers.
    manager.queue("jobs").put("x")
    assert manager.queue("jobs").get(timeout=1) == "x"
