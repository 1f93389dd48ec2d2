"""Batches (one request, applied in one step) and pipelining (many requests
written before the first answer is read)."""
import socket
import threading

import pytest

import ipcd
from fake_daemon import Frames


def test_batch_runs_in_one_step_and_reports_each_call(manager):
    manager.dict("cfg")["mode"] = "fast"
    b = manager.batch()
    b.counter_add("hits", 10).counter_get("hits").dict_len("cfg")
    b.queue_get("jobs").dict_get("cfg", "mode").dict_get("cfg", "x", 0)
    b.queue_put("jobs", "a").queue_len("jobs").dict_set("cfg", "n", 1)
    b.dict_contains("cfg", "n").dict_pop("cfg", "n").dict_delete("cfg", "zz")
    b.dict_update("cfg", {"u": 1}).event_set("e").event_is_set("e")
    b.event_clear("e").lock_acquire("L").lock_release("L").counter_set("c", 3)
    results = b.run()
    assert results[:3] == [10, 10, 1]
    assert isinstance(results[3], ipcd.Empty)      # did not wait
    assert results[4:14] == ["fast", 0, None, 1, None, True, 1,
                             results[11], None, None]
    assert isinstance(results[11], ipcd.NotFound)
    assert results[14:] == [True, None, 1, 0, None]
    assert len(b) == 19
    assert b.run()[0] == 20                         # runs again
    b.clear()
    assert b.run() == []


def test_batch_put_then_get_on_a_parked_queue(manager, other):
    # [PUT x, LEN, GET] answers 1 and x although a getter waits elsewhere.
    results = []
    t = threading.Thread(target=lambda: results.append(
        other.queue("jobs").get(timeout=10)))
    t.start()
    while not any(o.waiters for o in manager.list_objects() if o.name == "jobs"):
        pass
    assert manager.batch().queue_put("jobs", "x").queue_len("jobs") \
        .queue_get("jobs").run() == [None, 1, "x"]
    manager.queue("jobs").put("y")
    t.join()
    assert results == ["y"]


def test_pipelined_calls_answer_in_order(manager):
    b = manager.batch()
    for _ in range(1000):
        b.counter_add("hits", 1)
    b.dict_get("cfg", "absent")
    results = b.run_pipelined()
    assert results[:1000] == list(range(1, 1001))
    assert isinstance(results[1000], ipcd.NotFound)
    assert manager.counter("hits").get() == 1000


def test_bad_values_fail_when_added(manager):
    with pytest.raises(TypeError):
        manager.batch().dict_set("cfg", "k", {1, 2})


def test_pipelining_writes_requests_before_reading_answers():
    # A fake daemon that answers nothing until it has read all 100 calls:
    # a client waiting for each answer before sending the next would hang
    # (and the watchdog fail the test).
    listener = socket.socket(socket.AF_INET)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    n = 50  # Under the client's window, so all leave before any answer.
    seen = []

    def serve():
        conn, _ = listener.accept()
        reader = Frames(conn)
        hello = reader.request()
        reader.reply(hello.id, lambda r: setattr(r.hello, "protocol_version", 1))
        requests = [reader.request() for _ in range(n)]
        seen.append(len(requests))
        for request in requests:
            reader.reply(request.id,
                         lambda r, v=request.call.value.int_value:
                         setattr(r.result.value, "int_value", v * 2))
        reader.close()

    t = threading.Thread(target=serve)
    t.start()
    m = ipcd.connect(f"tcp://127.0.0.1:{port}")
    b = m.batch()
    for i in range(n):
        b.counter_add("c", i)
    assert b.run_pipelined() == [2 * i for i in range(n)]
    t.join()
    assert seen == [n]
    listener.close()
    m.close()

