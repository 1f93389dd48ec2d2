"""Semaphores and barriers: threading's API on the daemon's objects, units
given back by a killed holder, and barriers met and broken across
processes."""
import os
import signal
import threading

import pytest

import ipcd
from children import start_child, wait_child


def wait_until(predicate):
    while not predicate():
        pass  # The watchdog fails a test that waits for ever.


def parked_on(manager, name):
    return any(o.waiters for o in manager.list_objects(name) if o.name == name)


# Semaphores.

def test_acquire_and_release_as_threading(manager, other):
    s = manager.semaphore("S", 2)
    assert s.acquire() is True and s.acquire(timeout=1) is True
    assert s.acquire(timeout=0.05) is False
    assert s.acquire(blocking=False) is False
    assert other.semaphore("S").acquire(blocking=False) is False
    assert s.get_value() == 0
    s.release()
    with other.semaphore("S") as taken:
        assert taken.get_value() == 0
    assert s.get_value() == 1
    s.release(2)  # Unbounded: a unit not taken is a new one, as in Python.
    assert s.get_value() == 3
    assert [(o.kind, o.size) for o in manager.list_objects("S")] == [
        ("semaphore", 3)]


def test_a_semaphore_without_a_value_is_as_it_exists(manager, other):
    manager.semaphore("S", 3)
    assert other.semaphore("S").get_value() == 3
    assert manager.semaphore("new").get_value() == 1  # Not made by reading.
    assert [o.name for o in manager.list_objects()] == ["S"]
    assert manager.semaphore("new").acquire(timeout=0) is True
    assert manager.semaphore("new").acquire(timeout=0) is False


def test_bounded_release_past_the_bound_is_a_value_error(manager):
    b = manager.bounded_semaphore("B", 2)
    with pytest.raises(ValueError, match="released too many times: it has 2 "
                                         "units, all free") as caught:
        b.release()
    assert isinstance(caught.value, ipcd.InvalidArgument)
    assert b.bounded and b.acquire(timeout=0)
    with pytest.raises(ipcd.InvalidArgument, match="released too many times"):
        b.release(2)  # The first of the two was given back.
    assert b.get_value() == 2


def test_semaphore_bad_arguments(manager):
    manager.semaphore("S", 2)
    with pytest.raises(ipcd.InvalidArgument,
                       match="exists with 2 initial units, not 3"):
        manager.semaphore("S", 3)
    with pytest.raises(ipcd.InvalidArgument, match="int_value >= 0"):
        manager.semaphore("N", -1)
    with pytest.raises(ipcd.InvalidArgument,
                       match="is a semaphore, not a bounded_semaphore"):
        manager.bounded_semaphore("S").acquire(timeout=0)
    with pytest.raises(TypeError):
        manager.semaphore("T", "1")
    with pytest.raises(ValueError, match="one or more"):
        manager.semaphore("S").release(0)
    with pytest.raises(ValueError, match="non-blocking"):
        manager.semaphore("S").acquire(blocking=False, timeout=1)
    with pytest.raises(ipcd.InvalidArgument, match="timeout"):
        manager.semaphore("S").acquire(timeout=-1)


def test_a_waiter_gets_a_released_unit(manager, other):
    manager.semaphore("S", 1).acquire()
    got = []
    waiter = threading.Thread(
        target=lambda: got.append(other.semaphore("S").acquire(timeout=30)))
    waiter.start()
    wait_until(lambda: parked_on(manager, "S"))
    manager.semaphore("S").release()
    waiter.join()
    assert got == [True]


def test_sigkilled_holder_gives_its_units_back(manager):
    manager.semaphore("S", 2)
    r, w = os.pipe()

    def child():
        os.close(r)
        s = manager.semaphore("S")   # The child's own connection.
        if not (s.acquire(timeout=10) and s.acquire(timeout=10)):
            return 2
        os.write(w, b"held")
        signal.pause()

    pid = start_child(child)
    try:
        os.close(w)
        assert os.read(r, 4) == b"held"
        assert manager.semaphore("S").acquire(timeout=0) is False
    finally:
        os.close(r)
        os.kill(pid, signal.SIGKILL)  # Never left paused, even on failure.
    assert wait_child(pid) == -signal.SIGKILL
    s = manager.semaphore("S")
    assert s.acquire(timeout=30) is True and s.acquire(timeout=30) is True


def test_with_block_reports_a_unit_lost_with_its_connection(daemon, manager):
    s = manager.semaphore("S")
    with pytest.raises(ipcd.Closed, match="gave the unit back"):
        with s:
            daemon.stop()
            daemon.start()
    assert s.get_value() == 1  # The new daemon's: no unit added by a release.


def test_batched_semaphore_calls(manager):
    manager.bounded_semaphore("B", 1)
    b = manager.batch()
    b.semaphore_acquire("B", bounded=True).semaphore_acquire("B", bounded=True)
    b.semaphore_release("B", bounded=True).semaphore_release("B", bounded=True)
    b.semaphore_release("S").semaphore_acquire("S")
    got = b.run()
    assert got[0] == 0 and isinstance(got[1], ipcd.Timeout)
    assert got[2] == 1 and isinstance(got[3], ipcd.InvalidArgument)
    assert got[4:] == [2, 1]


# Barriers.

def test_parties_in_two_processes_and_a_thread_meet_twice(manager, other):
    b = manager.barrier("B", 3)
    assert (b.parties, b.n_waiting, b.broken) == (3, 0, False)

    def child():
        first = b.wait(timeout=30)
        second = b.wait(timeout=30)
        return 10 + 3 * first + second

    pid = start_child(child)
    from_thread = []
    t = threading.Thread(target=lambda: from_thread.extend(
        [other.barrier("B").wait(timeout=30), other.barrier("B").wait(timeout=30)]))
    t.start()
    mine = [b.wait(timeout=30), b.wait(timeout=30)]
    t.join()
    code = wait_child(pid) - 10
    rounds = list(zip(mine, from_thread, divmod(code, 3)))
    assert sorted(rounds[0]) == [0, 1, 2] and sorted(rounds[1]) == [0, 1, 2]
    assert not b.broken


def test_a_timeout_breaks_the_barrier_for_every_party(manager):
    b = manager.barrier("B", 3, timeout=0.1)  # wait()'s default timeout.

    def child():
        try:
            manager.barrier("B").wait()
        except ipcd.BrokenBarrier as e:
            return 0 if e.code == ipcd.Code.CLOSED and "broken" in str(e) else 3
        return 2

    pid = start_child(child)
    wait_until(lambda: b.n_waiting == 1)
    with pytest.raises(threading.BrokenBarrierError,
                       match="2 of 3 parties came in time; broken") as caught:
        b.wait()
    assert isinstance(caught.value, ipcd.BrokenBarrier)
    assert caught.value.code == ipcd.Code.DEADLINE_EXCEEDED
    assert wait_child(pid) == 0
    assert b.broken
    with pytest.raises(ipcd.BrokenBarrier, match="is broken"):
        b.wait(timeout=5)
    b.reset()
    assert not b.broken


def test_abort_and_reset_wake_a_waiting_party(manager, other):
    b = manager.barrier("B", 2)
    for end, message in ((b.abort, "is broken"), (b.reset, "was reset")):
        caught = []

        def wait():
            try:
                other.barrier("B").wait(timeout=30)
            except ipcd.BrokenBarrier as e:
                caught.append(str(e))

        t = threading.Thread(target=wait)
        t.start()
        wait_until(lambda: b.n_waiting == 1)
        end()
        t.join()
        assert len(caught) == 1 and message in caught[0]
        b.reset()
    assert not b.broken


def test_a_killed_party_breaks_the_barrier(manager):
    b = manager.barrier("B", 2)

    def child():
        b.wait()
        return 2  # Never: it is killed while waiting.

    pid = start_child(child)
    wait_until(lambda: b.n_waiting == 1)
    os.kill(pid, signal.SIGKILL)
    assert wait_child(pid) == -signal.SIGKILL
    wait_until(lambda: b.broken)  # Once the daemon saw the connection close.
    with pytest.raises(ipcd.BrokenBarrier, match="is broken"):
        b.wait(timeout=5)


def test_barrier_bad_arguments(manager):
    with pytest.raises(ipcd.InvalidArgument, match="at least 1, not 0"):
        manager.barrier("zero", 0)
    with pytest.raises(ipcd.InvalidArgument, match="at least 1, not -2"):
        manager.barrier("negative", -2)
    manager.barrier("B", 2)
    with pytest.raises(ipcd.InvalidArgument, match="exists with 2 parties, not 3"):
        manager.barrier("B", 3)
    with pytest.raises(ipcd.InvalidArgument, match="does not exist"):
        manager.barrier("missing").wait(timeout=1)
    with pytest.raises(ipcd.InvalidArgument, match="timeout"):
        manager.barrier("B").wait(timeout=-1)
    with pytest.raises(TypeError):
        manager.barrier("T", "2")
    assert manager.barrier("one", 1).wait() == 0
