"""Counter operations and their errors."""
import pytest

import ipcd


def test_add_get_set_compare_and_set(manager):
    c = manager.counter("hits")
    assert c.get() == 0                  # a counter never set reads 0
    assert c.add() == 1
    assert c.add(10) == 11
    assert c.add(-12) == -1
    c.set(100)
    assert c.get() == 100
    assert c.compare_and_set(1, 2) is False
    assert c.compare_and_set(100, 5) is True
    assert c.get() == 5


def test_overflow_changes_nothing(manager):
    c = manager.counter("big")
    c.set(2**63 - 1)
    with pytest.raises(ipcd.InvalidArgument, match="overflow"):
        c.add(1)
    assert c.get() == 2**63 - 1


def test_only_ints(manager):
    c = manager.counter("hits")
    for bad in (1.5, "1", True, None):
        with pytest.raises(TypeError, match="counter takes an int"):
            c.add(bad)
    with pytest.raises(ipcd.InvalidArgument, match="not a counter"):
        manager.dict("d")["k"] = 1
        manager.counter("d").get()
