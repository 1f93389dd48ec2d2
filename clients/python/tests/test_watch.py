"""Watches against a real ipcd: the current state first, then each change
in order; key watches; a dict's deltas; resyncs after a CLEAR and after
missed changes; select; timeouts; a daemon restart."""
import os
import select
import selectors
import threading
import time

import pytest

import ipcd

# Long enough for any event a test expects to come on a loaded machine.
WAIT = 10.0


def no_more_events(w, quiet=0.3):
    """True when no event comes within quiet seconds."""
    try:
        e = w.next(timeout=quiet)
    except ipcd.Timeout:
        return True
    raise AssertionError(f"unexpected event {e!r}")


# --- the first event -------------------------------------------------------

def test_first_event_is_the_current_state(manager):
    manager.counter("hits").add(5)
    w = manager.watch("hits")
    first = w.poll()  # watch() returned once it came: no waiting
    assert first is not None
    assert (first.resync, first.missed, first.exists, first.kind, first.op,
            first.value, first.items, first.removed) == (
                True, 0, True, "counter", None, 5, {}, [])
    assert w.poll() is None
    w.close()

    manager.dict("cfg", {"a": 1, "b": [1, "x"], "c": {"n": None}})
    with manager.watch("cfg") as w:
        e = w.next(timeout=WAIT)
        assert e.resync and e.exists and e.kind == "dict" and e.op is None
        assert e.items == {"a": 1, "b": [1, "x"], "c": {"n": None}}
        assert e.value is None and e.removed == []

    with manager.watch("nothing-here") as w:
        e = w.next(timeout=WAIT)
        assert e.resync and not e.exists
        assert e.kind is None and e.value is None and e.items == {}

    with manager.watch("cfg", key="a") as w:
        e = w.next(timeout=WAIT)
        assert e.resync and e.exists and e.kind == "dict" and e.value == 1
        assert e.items == {}
    with manager.watch("cfg", key="zz") as w:
        assert not w.next(timeout=WAIT).exists


def test_other_kinds_report_their_state(manager):
    flag = manager.event("ready")
    with manager.watch("ready") as w:
        assert not w.next(timeout=WAIT).exists
        flag.set()
        e = w.next(timeout=WAIT)
        assert (e.exists, e.kind, e.op, e.value) == (True, "event", "SET", True)
        flag.clear()
        e = w.next(timeout=WAIT)
        assert (e.op, e.value) == ("CLEAR", False)

    items = manager.list("l", [1])
    with manager.watch("l", kind="list") as w:
        assert w.next(timeout=WAIT).value == [1]
        items.append("two")
        e = w.next(timeout=WAIT)
        assert (e.kind, e.op, e.value) == ("list", "APPEND", [1, "two"])

    v = manager.value("mode", "fast")
    with manager.watch("mode") as w:
        assert w.next(timeout=WAIT).value == "fast"
        v.value = {"speed": 2.5}
        e = w.next(timeout=WAIT)
        assert (e.kind, e.op, e.value) == ("value", "SET", {"speed": 2.5})

    q = manager.queue("jobs")
    with manager.watch("jobs") as w:
        w.next(timeout=WAIT)
        q.put("a")
        q.put("b")
        assert [w.next(timeout=WAIT).value for _ in range(2)] == [1, 2]
        q.get(timeout=1)
        e = w.next(timeout=WAIT)
        assert (e.kind, e.op, e.value) == ("queue", "GET", 1)


def test_repr_is_readable(manager):
    manager.dict("cfg")["a"] = 1
    with manager.watch("cfg") as w:
        first = w.next(timeout=WAIT)
        manager.dict("cfg")["b"] = "x"
        change = w.next(timeout=WAIT)
        assert "resync" in repr(first) and "'a': 1" in repr(first)
        assert repr(change).startswith("<ipcd.WatchEvent version=")
        assert "SET dict" in repr(change) and "items={'b': 'x'}" in repr(change)
        assert "'cfg'" in repr(w) and "open" in repr(w)


# --- changes -----------------------------------------------------------------

def test_changes_arrive_in_order_with_increasing_versions(manager):
    c = manager.counter("hits")
    with manager.watch("hits") as w:
        first = w.next(timeout=WAIT)
        assert not first.exists  # made by the first add below
        for _ in range(100):
            c.add(1)
        events = [w.next(timeout=WAIT) for _ in range(100)]
    assert [e.value for e in events] == list(range(1, 101))
    assert all(e.op == "ADD" and e.exists and not e.resync and e.missed == 0
               for e in events)
    versions = [first.version] + [e.version for e in events]
    assert all(a < b for a, b in zip(versions, versions[1:]))


def test_changes_from_another_client_and_a_for_loop(manager, other):
    seen = []
    w = manager.watch("hits")

    def read():
        for e in w:
            seen.append(e.value)
            if e.value == 3:
                return

    t = threading.Thread(target=read)
    t.start()
    for _ in range(3):
        other.counter("hits").add(1)
    t.join(WAIT)
    assert not t.is_alive()
    assert seen == [None, 1, 2, 3]
    w.close()


def test_key_watch_ignores_other_keys_and_reports_deletion(manager):
    d = manager.dict("cfg")
    with manager.watch("cfg", key="mode") as w:
        first = w.next(timeout=WAIT)
        assert first.resync and not first.exists and first.value is None
        d["other"] = 1
        d["mode"] = "fast"
        e = w.next(timeout=WAIT)
        assert (e.op, e.exists, e.value, e.missed) == ("SET", True, "fast", 0)
        d["other"] = 2
        d.update({"x": 1, "mode": "slow"})
        e = w.next(timeout=WAIT)       # the update, not the other key
        assert (e.op, e.value) == ("UPDATE", "slow")
        del d["other"]
        del d["mode"]
        e = w.next(timeout=WAIT)
        assert (e.op, e.exists, e.value, e.kind) == ("DELETE", False, None, None)
        assert no_more_events(w)


def test_a_key_watchs_changes_are_not_resyncs(manager):
    with manager.watch("cfg", key="mode") as w:
        w.next(timeout=WAIT)
        manager.dict("cfg")["mode"] = "fast"
        e = w.next(timeout=WAIT)
        assert (e.op, e.missed, e.resync) == ("SET", 0, False)


def test_dict_deltas_list_what_was_set_and_removed(manager):
    d = manager.dict("cfg", {"a": 1})
    with manager.watch("cfg") as w:
        assert w.next(timeout=WAIT).items == {"a": 1}
        d["b"] = 2
        e = w.next(timeout=WAIT)
        assert (e.op, e.resync, e.items, e.removed) == ("SET", False, {"b": 2}, [])
        del d["a"]
        e = w.next(timeout=WAIT)
        assert (e.op, e.items, e.removed) == ("DELETE", {}, ["a"])
        d.update({"a": 3, "c": [4]})
        e = w.next(timeout=WAIT)
        assert (e.op, e.items, e.removed) == ("UPDATE", {"a": 3, "c": [4]}, [])
        assert d.pop("c") == [4]
        e = w.next(timeout=WAIT)
        assert (e.op, e.items, e.removed) == ("POP", {}, ["c"])
        assert e.exists and e.kind == "dict"


def test_namespace_deltas(manager):
    ns = manager.namespace("ns")
    with manager.watch("ns") as w:
        w.next(timeout=WAIT)
        ns.x = 1
        e = w.next(timeout=WAIT)
        assert (e.kind, e.op, e.items) == ("namespace", "SET", {"x": 1})
        del ns.x
        e = w.next(timeout=WAIT)
        assert (e.op, e.removed) == ("DELETE", ["x"])


def test_clear_gives_a_resync(manager):
    d = manager.dict("cfg", {"a": 1, "b": 2})
    with manager.watch("cfg") as w:
        w.next(timeout=WAIT)
        d.clear()
        e = w.next(timeout=WAIT)
        assert (e.resync, e.op, e.missed, e.exists, e.items, e.removed) == (
            True, "CLEAR", 0, True, {}, [])
        d["c"] = 3
        e = w.next(timeout=WAIT)
        assert (e.resync, e.op, e.items) == (False, "SET", {"c": 3})


def test_destroy_then_make_again(manager):
    d = manager.dict("cfg", {"a": 1})
    with manager.watch("cfg") as w, manager.watch("cfg", key="a") as k:
        w.next(timeout=WAIT)
        k.next(timeout=WAIT)
        manager.destroy("cfg")
        for e in (w.next(timeout=WAIT), k.next(timeout=WAIT)):
            assert (e.op, e.exists, e.kind, e.value, e.items) == (
                "DESTROY", False, None, None, {})
        d["a"] = 2
        e = w.next(timeout=WAIT)
        assert (e.op, e.exists, e.kind, e.items) == ("SET", True, "dict", {"a": 2})
        e = k.next(timeout=WAIT)
        assert (e.op, e.exists, e.value) == ("SET", True, 2)


# --- errors ------------------------------------------------------------------

def test_bad_arguments_raise_the_daemons_error(manager):
    manager.counter("hits").add(1)
    with pytest.raises(ipcd.InvalidArgument, match="has no keys"):
        manager.watch("hits", key="k")
    with pytest.raises(ipcd.InvalidArgument, match="is a counter, not a dict"):
        manager.watch("hits", kind="dict")
    with pytest.raises(ipcd.InvalidArgument, match="has no keys"):
        manager.watch("absent", key="k", kind="counter")
    with pytest.raises(ipcd.InvalidArgument, match="the key is empty"):
        manager.watch("cfg", key="")
    with pytest.raises(ipcd.InvalidArgument):
        manager.watch("")                       # a bad name
    with pytest.raises(ipcd.InvalidArgument, match="unknown kind 'dictionary'"):
        manager.watch("cfg", kind="dictionary")
    with pytest.raises(TypeError):
        manager.watch(b"cfg")
    with pytest.raises(TypeError):
        manager.watch("cfg", key=1)
    # None of them left a watch behind, and the Manager is unharmed.
    assert manager.stats().watches == 0
    assert manager.counter("hits").get() == 1


def test_stats_count_open_watches_and_close_ends_them(manager):
    w1 = manager.watch("a")
    w2 = manager.watch("b", key="k")
    assert manager.stats().watches == 2
    w1.close()
    w2.unwatch()
    w2.close()  # again: nothing happens
    deadline = time.monotonic() + WAIT
    while manager.stats().watches and time.monotonic() < deadline:
        time.sleep(0.01)
    assert manager.stats().watches == 0
    with pytest.raises(ipcd.Closed, match="closed"):
        w1.next(timeout=0)
    with pytest.raises(ipcd.Closed):
        w1.poll()
    with pytest.raises(ValueError):
        w1.fileno()
    assert list(w1) == []


def test_close_from_another_thread_ends_a_blocked_loop(manager):
    w = manager.watch("hits")
    seen = []
    took_first = threading.Event()

    def read():
        for e in w:
            seen.append(e)
            took_first.set()

    t = threading.Thread(target=read)
    t.start()
    assert took_first.wait(WAIT)
    time.sleep(0.1)  # into the wait for the next event
    w.close()
    t.join(WAIT)
    assert not t.is_alive()
    assert len(seen) == 1 and seen[0].resync


def test_timeout_raises_and_the_watch_goes_on(manager):
    with manager.watch("hits") as w:
        w.next(timeout=WAIT)
        start = time.monotonic()
        with pytest.raises(ipcd.Timeout, match="no event"):
            w.next(timeout=0.2)
        elapsed = time.monotonic() - start
        assert 0.2 <= elapsed < 5
        with pytest.raises(ipcd.Timeout):
            w.next(timeout=0)
        assert w.poll() is None
        manager.counter("hits").add(7)
        assert w.next(timeout=WAIT).value == 7


# --- select --------------------------------------------------------------------

def test_select_on_fileno(manager):
    with manager.watch("hits") as w:
        # The first event came with watch(): drain before waiting.
        assert w.poll().resync
        assert w.poll() is None
        assert select.select([w], [], [], 0.1)[0] == []
        manager.batch().counter_add("hits", 1).counter_add("hits", 1) \
            .counter_add("hits", 1).run()
        assert select.select([w], [], [], WAIT)[0] == [w]
        values = []
        while (e := w.poll()) is not None:
            values.append(e.value)
        assert values == [1, 2, 3]
        assert select.select([w], [], [], 0.1)[0] == []

        with selectors.DefaultSelector() as sel:
            sel.register(w, selectors.EVENT_READ)
            manager.counter("hits").add(1)
            assert [key.fileobj for key, _ in sel.select(WAIT)] == [w]
            assert w.poll().value == 4
            assert w.poll() is None


# --- a slow reader ---------------------------------------------------------------

def read_until(w, done):
    """Events until one satisfies done (that one included)."""
    events = []
    while True:
        e = w.next(timeout=WAIT)
        events.append(e)
        if done(e):
            return events


def check_accounting(first, events, changes):
    """Every change was sent as an event or counted in a later missed.
    A resync that reports missed changes is not itself a change (its op is
    None), so it is left out of the count of events."""
    assert first.resync and first.missed == 0
    sent = [e for e in events if e.op is not None]
    assert len(sent) + sum(e.missed for e in events) == changes
    versions = [first.version] + [e.version for e in events]
    assert all(a < b for a, b in zip(versions, versions[1:]))


def test_a_slow_reader_misses_changes_then_gets_a_resync(manager):
    n = 20000
    c = manager.counter("hits")
    w = manager.watch("hits")
    first = w.next(timeout=WAIT)
    b = manager.batch()
    for _ in range(n):
        b.counter_add("hits", 1)
    assert b.run()[-1] == n       # nothing read from the watch meanwhile
    assert c.get() == n
    events = read_until(w, lambda e: e.value == n)
    assert no_more_events(w)
    resyncs = [e for e in events if e.missed]
    assert resyncs, "no event reported missed changes"
    assert all(e.resync and e.op is None for e in resyncs)
    assert events[-1].resync and events[-1].value == n
    check_accounting(first, events, n)
    # Changes after the resync arrive one by one again.
    c.add(1)
    e = w.next(timeout=WAIT)
    assert (e.op, e.value, e.missed, e.resync) == ("ADD", n + 1, 0, False)
    w.close()


def test_a_slow_reader_of_pipelined_changes(manager):
    # Each set is its own request and the watch's 4 KiB events soon fill
    # the socket, so the daemon's backlog of unsent responses fills too
    # (a batch, above, fills it in one step without the socket filling).
    n = 2000
    big = "x" * 4096
    d = manager.dict("cfg")
    w = manager.watch("cfg")
    first = w.next(timeout=WAIT)
    b = manager.batch()
    for i in range(n):
        b.dict_set("cfg", "k", [i, big])
    assert b.run_pipelined() == [None] * n
    events = read_until(w, lambda e: e.items.get("k", [None])[0] == n - 1)
    assert no_more_events(w)
    assert any(e.missed for e in events), "no event reported missed changes"
    assert all(e.resync for e in events if e.missed)
    assert events[-1].items == {"k": [n - 1, big]} == dict(d.items())
    check_accounting(first, events, n)
    w.close()


# --- a daemon restart ----------------------------------------------------------

def test_daemon_restart_gives_closed_once_then_a_resync(daemon, manager):
    c = manager.counter("hits")
    c.add(3)
    w = manager.watch("hits")
    assert w.next(timeout=WAIT).value == 3
    daemon.stop()
    with pytest.raises(ipcd.Closed, match="lost its connection"):
        w.next(timeout=WAIT)
    with pytest.raises(ValueError):
        w.fileno()  # no connection until the next call
    with pytest.raises(ipcd.NotFound, match="not running"):
        w.next(timeout=WAIT)  # no daemon yet: still lost
    daemon.start()
    e = w.next(timeout=WAIT)  # reconnects
    assert e.resync and not e.exists  # a daemon without --state-dir
    assert select.select([w], [], [], 0)[0] == []  # a new, working fd
    c.add(1)  # the Manager reconnects on its own
    e = w.next(timeout=WAIT)
    assert (e.op, e.value) == ("ADD", 1)
    w.close()


def test_a_forked_child_gets_its_own_watch(manager):
    c = manager.counter("hits")
    w = manager.watch("hits")
    w.next(timeout=WAIT)
    c.add(1)
    r, wr = os.pipe()
    pid = os.fork()
    if pid == 0:  # The child: its first call reconnects, with a resync.
        code = 1
        try:
            e = w.next(timeout=WAIT)
            code = 0 if (e.resync and e.value == 1) else 2
        finally:
            os.write(wr, b"x")
            os._exit(code)
    os.read(r, 1)
    _, status = os.waitpid(pid, 0)
    os.close(r)
    os.close(wr)
    assert os.waitstatus_to_exitcode(status) == 0
    # The parent's connection was left alone: its event is still there.
    e = w.next(timeout=WAIT)
    assert (e.op, e.value) == ("ADD", 1)
    w.close()
