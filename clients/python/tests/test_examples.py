"""The Python scenario examples (examples/python/), each run once against a
real daemon, checking what they print."""
import os
import subprocess
import sys

EXAMPLES = os.environ.get("IPCD_PYTHON_EXAMPLES", "")


def run(name, *args):
    result = subprocess.run([sys.executable, os.path.join(EXAMPLES, name), *args],
                            capture_output=True, text=True, timeout=50)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_s08_manager_dict(daemon):
    assert run("s08_manager_dict.py", "--url", daemon.url) == "{'count': 0}\n"
    assert run("s08_manager_dict.py", "--counter", "--url", daemon.url) == \
        "{'count': 0}\n"


def test_s17_daemon():
    out = run("s17_daemon.py", "--clients", "3")
    assert "all clients have exited; ipcd still holds: visits = 3, " \
           "guestbook has 3 entries" in out
    assert out.endswith("stopped ipcd with SIGTERM: exit status 0\n")


def test_s20_authenticated_manager():
    out = run("s20_authenticated_manager.py")
    assert "right key: connected; counter 's20-greetings' = 1" in out
    assert "wrong key: refused: " in out and "wrong key?" in out
    assert "no key: refused: " in out and "requires an authentication key" in out
    assert out.endswith("stopped ipcd: exit status 0\n")
