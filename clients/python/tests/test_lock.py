"""Locks and rlocks: acquire with timeouts, the with statement, errors, and
a holder that dies."""
import os
import signal
import threading
import time

import pytest

import ipcd
from children import run_in_child


def test_acquire_release_and_with(manager, other):
    lock = manager.lock("L")
    assert lock.acquire() is True
    assert other.lock("L").acquire(timeout=0.1) is False
    assert other.lock("L").acquire(blocking=False) is False
    lock.release()
    with other.lock("L"):
        assert lock.acquire(timeout=0) is False
    with lock.held(timeout=1):
        pass
    assert [o.size for o in manager.list_objects() if o.name == "L"] == [0]


def test_held_raises_timeout_with_the_daemons_message(manager, other):
    with other.lock("L"):
        start = time.monotonic()
        with pytest.raises(ipcd.Timeout) as caught:
            with manager.lock("L").held(timeout=0.2):
                pass
        assert time.monotonic() - start >= 0.19
        assert "L" in str(caught.value)
        assert isinstance(caught.value, TimeoutError)


def test_a_waiter_gets_the_lock_when_released(manager, other):
    other.lock("L").acquire()
    got = []
    waiter = threading.Thread(
        target=lambda: got.append(manager.lock("L").acquire(timeout=10)))
    waiter.start()
    while not any(o.waiters for o in other.list_objects() if o.name == "L"):
        pass  # Parked in the daemon: list_objects counts it.
    other.lock("L").release()
    waiter.join()
    assert got == [True]


def test_rlock_reenters_and_a_lock_refuses(manager):
    r = manager.rlock("R")
    with r:
        with r:
            assert r.acquire(timeout=0)
            r.release()
    assert r.recursive
    lock = manager.lock("L")
    with lock:
        with pytest.raises(ipcd.InvalidArgument):
            lock.acquire()
    with pytest.raises(ipcd.InvalidArgument, match="not held|does not hold"):
        lock.release()


def test_negative_timeout_is_the_daemons_invalid_argument(manager):
    with pytest.raises(ipcd.InvalidArgument, match="timeout"):
        manager.lock("L").acquire(timeout=-1)


def test_sigkilled_holder_releases_its_lock(daemon, manager):
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.close(r)
            # The parent's manager, inherited: the child's own session.
            manager.lock("L").acquire()
            os.write(w, b"held")
            signal.pause()
        finally:
            os._exit(code)
    os.close(w)
    assert os.read(r, 4) == b"held"
    assert manager.lock("L").acquire(timeout=0) is False
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    assert manager.lock("L").acquire(timeout=10) is True
    os.close(r)


def test_with_block_reports_a_hold_lost_with_its_connection(daemon, manager):
    lock = manager.lock("L")
    with pytest.raises(ipcd.Closed, match="no longer held"):
        with lock:
            daemon.stop()
            daemon.start()
    # The next call reconnects; the lock is free in the new daemon.
    assert lock.acquire(timeout=1) is True


def test_fork_child_holds_none_of_the_parents_locks(manager):
    lock = manager.lock("L")
    lock.acquire()

    def child():
        # A new session: the parent's hold is not the child's.
        if manager.lock("L").acquire(timeout=0.1):
            return 2
        with pytest.raises(ipcd.InvalidArgument):
            manager.lock("L").release()
        return manager.counter("children").add(1) - 1

    assert run_in_child(child) == 0
    # The parent's connection and hold survived the child's exit.
    assert manager.counter("children").get() == 1
    lock.release()
