"""Queues and events: blocking with timeouts, closing, errors."""
import queue
import threading
import time

import pytest

import ipcd
from children import run_in_child


def test_put_get_len_in_order(manager):
    q = manager.queue("jobs")
    q.put({"id": 1})
    q.put_nowait("two")
    assert len(q) == 2 == q.qsize() and not q.empty()
    assert q.get(timeout=1.0) == {"id": 1}
    assert q.get_nowait() == "two"
    assert q.empty()


def test_get_on_empty_waits_its_timeout_then_raises_empty(manager):
    q = manager.queue("jobs")
    start = time.monotonic()
    with pytest.raises(queue.Empty) as caught:
        q.get(timeout=0.2)
    assert time.monotonic() - start >= 0.19
    assert isinstance(caught.value, ipcd.Empty)
    assert str(caught.value) == "queue 'jobs' is empty"
    with pytest.raises(ipcd.Empty):
        q.get(block=False)


def test_bounded_queue_is_full(manager):
    q = manager.queue("b", maxsize=2)
    q.put(1)
    q.put(2)
    with pytest.raises(queue.Full):
        q.put(3, timeout=0.1)
    with pytest.raises(ipcd.Full):
        q.put_nowait(3)
    with pytest.raises(ipcd.InvalidArgument):
        manager.queue("b", maxsize=5)     # exists with another bound


def test_a_parked_get_is_woken_by_a_put(manager, other):
    got = []
    getter = threading.Thread(
        target=lambda: got.append(manager.queue("jobs").get(timeout=10)))
    getter.start()
    while not any(o.waiters for o in other.list_objects() if o.name == "jobs"):
        pass
    other.queue("jobs").put("job-1")
    getter.join()
    assert got == ["job-1"]


def test_close_drains_then_closed(manager):
    q = manager.queue("jobs")
    q.put(1)
    q.close()
    with pytest.raises(ipcd.Closed):
        q.put(2)
    assert q.get(timeout=1) == 1
    with pytest.raises(ipcd.Closed):
        q.get(timeout=1)


def test_event_set_clear_wait(manager):
    e = manager.event("ready")
    assert e.is_set() is False
    start = time.monotonic()
    assert e.wait(timeout=0.2) is False
    assert time.monotonic() - start >= 0.19
    e.set()
    assert e.is_set() and e.wait(timeout=0) is True and e.wait() is True
    e.clear()
    assert e.is_set() is False


def test_event_set_by_another_process_wakes_a_waiter(manager):
    done = []
    waiter = threading.Thread(target=lambda: done.append(
        ipcd.connect(manager.url).event("go").wait(timeout=10)))
    waiter.start()
    assert run_in_child(lambda: manager.event("go").set()) == 0
    waiter.join()
    assert done == [True]


def test_destroy_wakes_waiters_with_closed(manager, other):
    errors = []

    def get():
        try:
            manager.queue("jobs").get(timeout=10)
        except ipcd.Error as e:
            errors.append(e)

    getter = threading.Thread(target=get)
    getter.start()
    while not any(o.waiters for o in other.list_objects() if o.name == "jobs"):
        pass
    other.destroy("jobs")
    getter.join()
    assert [type(e) for e in errors] == [ipcd.Closed]
    with pytest.raises(ipcd.NotFound):
        other.destroy("jobs")
