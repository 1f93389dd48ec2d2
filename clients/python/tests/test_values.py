"""Python values through the daemon and back, as ipc::Value maps them."""
import math

import pytest

import ipcd


@pytest.mark.parametrize("value", [
    None, True, False, 0, -7, 2**63 - 1, -2**63, 2.5, -0.0, math.inf, "",
    "héllo ☃", b"", b"\x00\xff", [], [1, "two", None, [3.0]], {},
    {"a": {"b": [True, b"x"]}},
])
def test_round_trip(manager, value):
    d = manager.dict("v")
    d["k"] = value
    got = d["k"]
    assert got == value and type(got) is type(value)


def test_conversions(manager):
    d = manager.dict("v")
    d["t"] = (1, (2, 3))
    assert d["t"] == [1, [2, 3]]
    d["b"] = bytearray(b"ab")
    assert d["b"] == b"ab"
    d["nan"] = math.nan
    assert math.isnan(d["nan"])
    assert d.get("absent") is None


def test_what_cannot_be_represented_is_a_type_error(manager):
    d = manager.dict("v")
    for bad in ({1, 2}, object(), 1j, {1: "x"}, [{"a": {2: 3}}]):
        with pytest.raises(TypeError):
            d["k"] = bad
    with pytest.raises(OverflowError):
        d["k"] = 2**63
    with pytest.raises(OverflowError):
        manager.queue("q").put(-2**63 - 1)
    loop = []
    loop.append(loop)
    with pytest.raises(ValueError, match="contain itself"):
        d["k"] = loop
    assert "k" not in d  # nothing was sent


def test_the_daemon_refuses_values_nested_over_30(manager):
    value = 1
    for _ in range(31):
        value = [value]
    with pytest.raises(ipcd.InvalidArgument, match="30"):
        manager.dict("v")["deep"] = value
    ok = 1
    for _ in range(30):
        ok = [ok]
    manager.dict("v")["deep"] = ok
    assert manager.dict("v")["deep"] == ok
