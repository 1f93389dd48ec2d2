"""Values and namespaces: the proxies of Python's Manager().Value and
Namespace() on the daemon's objects."""
import types

import pytest

import ipcd
from children import run_in_child


def test_value_get_set_and_compare_and_set(manager):
    v = manager.value("V")
    assert v.value is None and v.get() is None
    assert manager.list_objects() == []  # Reading made nothing.
    assert v.compare_and_set(None, 1) is True
    v.value = [1, {"a": b"x"}]
    assert v.value == [1, {"a": b"x"}]
    v.set(2.5)
    assert v.get() == 2.5
    assert v.compare_and_set(1, 3) is False and v.value == 2.5
    assert v.compare_and_set(2.5, "s") is True and v.value == "s"
    assert [(o.kind, o.size) for o in manager.list_objects()] == [("value", 1)]


def test_the_first_initial_value_wins(manager, other):
    assert manager.value("V", "i", 5).value == 5   # Python's (typecode, value)
    assert other.value("V", 7).value == 5           # Exists: keeps its own.
    assert other.value("V").value == 5
    assert manager.value("W", None).value is None


def test_value_bad_arguments(manager):
    with pytest.raises(TypeError, match="optional typecode"):
        manager.value("V", "i", 1, 2)
    with pytest.raises(TypeError, match="cannot store a set"):
        manager.value("V").value = {1}
    manager.counter("c").add(1)
    with pytest.raises(ipcd.InvalidArgument, match="counter, not a value"):
        manager.value("c").get()


def test_a_forked_child_sets_the_parents_value(manager):
    v = manager.value("V", 0)
    assert run_in_child(lambda: 0 if v.compare_and_set(0, "child") else 2) == 0
    assert v.value == "child"


def test_namespace_attributes(manager):
    ns = manager.namespace("N")
    ns.mode = "fast"
    ns.name = "remote"     # Not the proxy's name: every public name is remote.
    ns.n = 1
    ns.n += 1
    assert (ns.mode, ns.name, ns.n) == ("fast", "remote", 2)
    del ns.mode
    assert not hasattr(ns, "mode") and getattr(ns, "mode", "dflt") == "dflt"
    assert ns._items() == {"n": 2, "name": "remote"}
    assert ns._getvalue() == types.SimpleNamespace(n=2, name="remote")
    assert manager.namespace("N").n == 2
    assert [o.kind for o in manager.list_objects()] == ["namespace"]


def test_underscore_attributes_stay_local(manager):
    ns = manager.namespace("N")
    ns._cache = {1, 2}      # Not a value ipcd could store: never sent.
    assert ns._cache == {1, 2}
    assert ns._items() == {}
    with pytest.raises(AttributeError):
        ns._absent
    del ns._cache
    assert not hasattr(ns, "_cache")


def test_a_missing_attribute_is_an_attribute_error(manager):
    ns = manager.namespace("N")
    with pytest.raises(AttributeError, match="namespace 'N' has no key 'x'") as caught:
        ns.x
    assert isinstance(caught.value, ipcd.NoAttribute)
    assert isinstance(caught.value, ipcd.NotFound)
    with pytest.raises(ipcd.NoAttribute, match="'x'"):
        del ns.x
    manager.dict("d")["k"] = 1
    with pytest.raises(ipcd.InvalidArgument, match="dict, not a namespace"):
        manager.namespace("d").k


def test_a_forked_child_sets_the_parents_namespace(manager):
    ns = manager.namespace("N")

    def child():
        ns.by_child = [1, 2]
        return 0

    assert run_in_child(child) == 0
    assert ns.by_child == [1, 2]
