"""Lists: Python's list API on the daemon's list, its errors as the
exceptions Python's list raises, batches, and a forked writer."""
import pytest

import ipcd
from children import run_in_child
from daemon_process import Daemon


def test_sequence_methods(manager):
    l = manager.list("L")
    l.append(1)
    l.extend([2, "three", None])
    l += (4.5,)
    assert l.tolist() == [1, 2, "three", None, 4.5]
    assert (l[0], l[-1], l[2]) == (1, 4.5, "three")
    assert (l[1:3], l[-2:], l[:100], l[3:1]) == ([2, "three"], [None, 4.5],
                                                 l.tolist(), [])
    assert l[::2] == [1, "three", 4.5] and l[::-1] == l.tolist()[::-1]
    l[0] = {"a": [1]}
    l.insert(1, "x")
    l.insert(-100, "first")
    l.insert(100, "last")
    assert l.copy() == ["first", {"a": [1]}, "x", 2, "three", None, 4.5, "last"]
    assert (l.pop(), l.pop(0), l.pop(-2)) == ("last", "first", None)
    del l[1]
    l.remove(2)
    assert list(l) == [{"a": [1]}, "three", 4.5]
    l.append("three")
    assert (l.index("three"), l.count("three"), l.count(7)) == (1, 2, 0)
    assert "three" in l and 7 not in l and len(l) == 4
    l.clear()
    assert len(l) == 0 and l.tolist() == [] and not l


def test_initial_contents_replace_what_the_list_held(manager):
    assert manager.list("L", [1, 2]).tolist() == [1, 2]
    assert manager.list("L", (3,)).tolist() == [3]
    assert manager.list("L").tolist() == [3]
    assert manager.list("L", []).tolist() == []


def test_reads_of_a_missing_list_create_nothing(manager):
    l = manager.list("nobody")
    assert (len(l), l.tolist(), l.count(1), 1 in l) == (0, [], 0, False)
    assert manager.list_objects() == []


def test_index_out_of_range_is_an_index_error_with_the_daemons_message(manager):
    l = manager.list("L", [1, 2, 3])
    for bad in (lambda: l[3], lambda: l[-4], lambda: l.__setitem__(5, 0),
                lambda: l.__delitem__(3), lambda: l.pop(7)):
        with pytest.raises(ipcd.IndexOutOfRange,
                           match="index -?[0-9]+ is out of range for length 3"):
            bad()
    with pytest.raises(IndexError) as caught:
        manager.list("empty").pop()
    assert isinstance(caught.value, ipcd.InvalidArgument)
    assert "list 'empty'" in str(caught.value)
    with pytest.raises(IndexError, match="int64"):
        l[2**64]
    assert l.tolist() == [1, 2, 3]


def test_a_value_not_held_is_a_value_error(manager):
    l = manager.list("L", [1])
    for bad in (lambda: l.remove(2), lambda: l.index("1")):
        with pytest.raises(ValueError, match="holds no item equal to") as caught:
            bad()
        assert isinstance(caught.value, ipcd.NotInList)
        assert isinstance(caught.value, ipcd.NotFound)


def test_bad_arguments(manager):
    manager.dict("d")["k"] = 1
    with pytest.raises(ipcd.InvalidArgument, match="dict, not a list") as caught:
        manager.list("d")[0]
    assert not isinstance(caught.value, IndexError)  # No loop ends on it.
    l = manager.list("L", [1, 2])
    with pytest.raises(TypeError):
        l["0"]
    with pytest.raises(TypeError):
        l[1.0]
    with pytest.raises(TypeError, match="slice assignment"):
        l[0:1] = [5]
    with pytest.raises(TypeError, match="slice deletion"):
        del l[0:1]
    with pytest.raises(TypeError, match="cannot store a set"):
        l.append({1})
    with pytest.raises(TypeError):
        l.extend(5)
    assert l.tolist() == [1, 2]


def test_extend_is_all_or_nothing():
    d = Daemon(["--max-bytes", "64"]).start()
    try:
        with ipcd.connect(d.url) as m:
            l = m.list("L", ["a"])
            with pytest.raises(ipcd.ResourceExhausted):
                l.extend(["b" * 16] * 8)
            assert l.tolist() == ["a"]
    finally:
        d.stop()
        d.cleanup()


def test_batched_list_and_value_calls(manager):
    b = manager.batch()
    b.list_append("L", 1).list_extend("L", [2, 3]).list_insert("L", 0, 0)
    b.list_set("L", -1, 30).list_get("L", 3).list_get("L", 9)
    b.list_pop("L").list_remove("L", 99).list_remove("L", 1)
    b.list_len("L").list_slice("L", 1).list_slice("L").list_clear("L")
    b.value_set("V", "x").value_get("V").value_compare_and_set("V", "x", "y")
    b.value_compare_and_set("V", "x", "z").value_get("V")
    results = b.run()
    assert results[:5] == [None] * 4 + [30]
    assert isinstance(results[5], ipcd.IndexOutOfRange)
    assert "index 9 is out of range for length 4" in str(results[5])
    assert results[6] == 30
    assert isinstance(results[7], ipcd.NotInList)
    assert results[8:] == [None, 2, [2], [0, 2], None,
                           None, "x", True, False, "y"]
    piped = manager.batch().list_append("L", "p").list_get("L", 1)
    piped.list_pop("L").list_len("L")
    results = piped.run_pipelined()
    assert results[0] is None and isinstance(results[1], ipcd.IndexOutOfRange)
    assert results[2:] == ["p", 0]


def test_a_forked_child_writes_the_parents_list(manager):
    l = manager.list("L", ["parent"])

    def child():
        l.append("child")          # The child's own connection.
        return 0 if l[0] == "parent" else 2

    assert run_in_child(child) == 0
    assert l.tolist() == ["parent", "child"]
