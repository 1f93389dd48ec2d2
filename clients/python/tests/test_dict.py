"""Every dict operation, and the daemon's errors for bad ones."""
import pytest

import ipcd


def test_set_get_and_the_mapping_api(manager):
    d = manager.dict("cfg")
    d["mode"] = "fast"
    d.set("port", 8080)
    assert d["mode"] == "fast"
    assert d.get("mode") == "fast"
    assert d.get("absent") is None
    assert d.get("absent", 5) == 5
    assert "mode" in d and d.contains("port") and "absent" not in d
    assert len(d) == 2 == d.len()
    assert d.keys() == ["mode", "port"]          # key order
    assert list(d) == ["mode", "port"]
    assert d.values() == ["fast", 8080]
    assert d.items() == [("mode", "fast"), ("port", 8080)]
    assert d.copy() == {"mode": "fast", "port": 8080}


def test_missing_key_is_a_key_error_with_the_daemons_message(manager):
    d = manager.dict("cfg")
    with pytest.raises(KeyError) as caught:
        d["absent"]
    assert isinstance(caught.value, ipcd.NotFound)
    assert caught.value.code == ipcd.Code.NOT_FOUND
    assert str(caught.value) == "dict 'cfg' has no key 'absent'"
    with pytest.raises(ipcd.NotFound):
        del d["absent"]
    with pytest.raises(ipcd.NotFound):
        d.delete("absent")
    with pytest.raises(ipcd.NotFound):
        d.pop("absent")


def test_delete_update_pop_setdefault_clear(manager):
    d = manager.dict("cfg", {"a": 1})
    d.update({"b": 2}, c=3)
    d.update([("d", 4)])
    assert d.copy() == {"a": 1, "b": 2, "c": 3, "d": 4}
    del d["a"]
    d.delete("b")
    assert d.pop("c") == 3
    assert d.pop("c", "gone") == "gone"
    assert d.pop("c", None) is None
    assert d.setdefault("n", 0) == 0
    assert d.setdefault("n", 9) == 0
    assert d.setdefault("z") is None and d["z"] is None
    d.clear()
    assert len(d) == 0 and d.items() == []


def test_compare_and_set(manager):
    d = manager.dict("cfg")
    assert d.compare_and_set("k", ipcd.ABSENT, 1) is True     # absent: set
    assert d.compare_and_set("k", ipcd.ABSENT, 2) is False    # present now
    assert d.compare_and_set("k", 0, 2) is False
    assert d.compare_and_set("k", 1, 2) is True
    assert d["k"] == 2
    d["n"] = None
    assert d.compare_and_set("n", None, "x") is True          # null, not absent


def test_wrong_kind_bad_key_and_bad_name(manager):
    manager.dict("cfg")["k"] = 1
    with pytest.raises(ipcd.InvalidArgument) as caught:
        manager.counter("cfg").add(1)
    assert str(caught.value) == "object 'cfg' is a dict, not a counter"
    assert isinstance(caught.value, ValueError)
    with pytest.raises(ipcd.InvalidArgument, match="key"):
        manager.dict("cfg")[""] = 1
    with pytest.raises(ipcd.InvalidArgument, match="name"):
        manager.dict("")["k"] = 1
    with pytest.raises(TypeError, match="dict keys are str"):
        manager.dict("cfg")[1] = 1
    with pytest.raises(TypeError, match="names are str"):
        manager.dict(b"cfg")
