"""A C++ ipc::Manager process (interop_peer) and Python clients on the
same daemon: one dict under one lock, values of every kind both ways, and a
Python holder killed by SIGKILL whose lock the C++ side then gets."""
import json
import os
import signal
import subprocess

import ipcd

PEER = os.environ.get("IPCD_INTEROP_PEER", "")
STEPS = 200


def peer(*args, **popen):
    return subprocess.Popen([PEER, args[0], *args[1:]], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **popen)


def test_cpp_and_python_share_a_dict_under_one_lock(daemon, manager):
    cpp = peer("increment", daemon.socket_path, "shared", "shared-lock", str(STEPS))
    d, lock = manager.dict("shared"), manager.lock("shared-lock")
    for _ in range(STEPS):
        with lock.held(timeout=30):
            d["count"] = d.get("count", 0) + 1
    out, err = cpp.communicate(timeout=60)
    assert cpp.returncode == 0, err
    assert out == "done\n"
    assert d["count"] == 2 * STEPS    # no step lost: the lock excluded both


def test_values_cross_both_ways(daemon, manager):
    written = peer("write", daemon.socket_path, "from-cpp")
    assert written.communicate(timeout=30)[0] == "written\n"
    assert manager.dict("from-cpp").copy() == {
        "null": None, "bool": True, "int": -7, "double": 2.5,
        "string": "héllo", "bytes": b"\x00\xff", "list": [1, 2.0, "x"],
        "map": {"nested": [1, "two", None]},
    }
    manager.dict("from-py").update(
        {"i": 1, "f": 0.5, "s": "ü", "l": [True, None], "m": {"k": "v"}})
    dumped = peer("dump", daemon.socket_path, "from-py")
    out, err = dumped.communicate(timeout=30)
    assert dumped.returncode == 0, err
    assert json.loads(out) == {"f": 0.5, "i": 1, "l": [True, None],
                               "m": {"k": "v"}, "s": "ü"}


def test_a_killed_python_holder_hands_the_lock_to_cpp(daemon, manager):
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(r)
            m = ipcd.connect(daemon.url)
            m.lock("L").acquire()
            os.write(w, b"held")
            signal.pause()
        finally:
            os._exit(1)
    os.close(w)
    assert os.read(r, 4) == b"held"
    os.close(r)
    # Held: the C++ side cannot have it yet.
    blocked = peer("acquire", daemon.socket_path, "L", "100")
    assert blocked.communicate(timeout=30)[0] == "" and blocked.returncode == 1
    waiting = peer("acquire", daemon.socket_path, "L", "20000")
    while not any(o.waiters for o in manager.list_objects() if o.name == "L"):
        pass  # The C++ acquire is parked in the daemon.
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    out, err = waiting.communicate(timeout=30)
    assert waiting.returncode == 0, err
    assert out == "acquired\n"
