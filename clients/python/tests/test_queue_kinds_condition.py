"""LIFO and priority queues, task_done/join (JoinableQueue), and
conditions bound to a daemon lock, against a real ipcd."""
import threading

import pytest

import ipcd


def wait_until(predicate):
    while not predicate():
        pass  # The watchdog fails a test that waits for ever.


def parked_on(manager, name):
    return any(o.waiters for o in manager.list_objects(name) if o.name == name)


def drain(q):
    items = []
    while True:
        try:
            items.append(q.get_nowait())
        except ipcd.Empty:
            return items


# Queue orders and tasks.

def test_each_order_takes_its_items_in_that_order(manager):
    fifo = manager.queue("fifo", order="fifo")
    lifo = manager.queue("lifo", order="lifo")
    prio = manager.queue("prio", order="priority")
    for item in (30, 11, 20, 12, 0):
        fifo.put(item)
        lifo.put(item)
        prio.put(item, priority=item // 10)
    assert drain(fifo) == [30, 11, 20, 12, 0]
    assert drain(lifo) == [0, 12, 20, 11, 30]
    assert drain(prio) == [0, 11, 12, 20, 30]


def test_another_order_or_a_misplaced_priority_is_refused(manager):
    manager.queue("q", order="lifo")
    with pytest.raises(ipcd.InvalidArgument, match="exists as a lifo queue"):
        manager.queue("q", order="fifo")
    with pytest.raises(ipcd.InvalidArgument, match="is not a priority queue"):
        manager.queue("q").put("x", priority=1)
    with pytest.raises(ValueError, match="queue order is one of"):
        manager.queue("other", order="random")


def test_join_waits_in_the_daemon_for_every_task_done(manager, other):
    jobs = manager.queue("jobs")
    jobs.join(timeout=0)  # Nothing put, nothing to wait for.
    jobs.put("a")
    jobs.put("b")
    with pytest.raises(ipcd.Timeout, match="still has 2 unfinished tasks"):
        jobs.join(timeout=0.02)
    joined = []
    waiter = threading.Thread(target=lambda: joined.append(other.queue("jobs").join(timeout=30)))
    waiter.start()
    wait_until(lambda: parked_on(manager, "jobs"))
    assert jobs.get_nowait() == "a" and jobs.get_nowait() == "b"
    assert jobs.task_done() == 1
    assert parked_on(manager, "jobs")  # One task is still unfinished.
    assert jobs.task_done() == 0
    waiter.join()
    assert joined == [None]
    with pytest.raises(ValueError, match="more times than items were put"):
        jobs.task_done()


# Conditions.

def test_wait_for_is_woken_by_a_notify_from_another_connection(manager, other):
    d = manager.dict("d")
    lock = manager.lock("L")
    ready = manager.condition("ready", lock)
    seen = []

    def consumer():
        their_lock = other.lock("L")
        their_ready = other.condition("ready", their_lock)
        with their_lock:
            seen.append(their_ready.wait_for(lambda: other.dict("d").get("n", 0) > 0,
                                             timeout=30))

    t = threading.Thread(target=consumer)
    t.start()
    wait_until(lambda: parked_on(manager, "ready"))
    assert ready.waiting() == 1
    with lock:
        d["n"] = 1
        assert ready.notify() == 1
    t.join()
    assert seen == [True]


def test_a_timed_out_wait_returns_false_with_the_lock_held(manager, other):
    lock = manager.lock("L")
    ready = manager.condition("ready", lock)
    with lock:
        assert ready.wait(timeout=0.02) is False
        assert other.lock("L").acquire(timeout=0) is False  # Still ours.
        assert ready.wait_for(lambda: False, timeout=0.02) is False


def test_wait_or_notify_without_the_lock_and_bad_counts_are_refused(manager):
    lock = manager.lock("L")
    ready = manager.condition("ready", lock)
    with pytest.raises(ipcd.NotFound, match="its lock 'L' does not exist"):
        ready.wait(timeout=1)  # Locks are made by their first use.
    with lock:
        pass
    with pytest.raises(ipcd.InvalidArgument, match="'L'"):
        ready.wait(timeout=1)
    with lock:
        with pytest.raises(ipcd.InvalidArgument, match="count"):
            ready.notify(0)
        assert ready.notify_all() == 0
    with pytest.raises(ipcd.NotFound):
        manager.condition("nobody", "no-such-lock").notify()
    manager.dict("cfg")["x"] = 1
    with pytest.raises(ipcd.InvalidArgument, match="is a dict"):
        manager.condition("c2", "cfg").notify()
