"""The protocol's message classes, generated from proto/ipcd.proto.

ipcd_pb2.py is not in the source tree: CMake runs `protoc --python_out`
into the build tree (build/clients/python/ipcd/_proto/) next to a copy of
this package, so `PYTHONPATH=build/clients/python` finds both.
"""
try:
    from . import ipcd_pb2 as pb
except ImportError as e:  # pragma: no cover - a setup mistake, not a bug
    raise ImportError(
        "ipcd: the generated protocol module is missing; build the package "
        "(cmake --build build --target ipcd_python) and put "
        "build/clients/python on PYTHONPATH, or install it "
        f"({e})") from e

__all__ = ["pb"]
