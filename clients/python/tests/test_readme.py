"""The Python examples of the docs run as written: README.md's "From
Python" and docs/python-parity.md's "From Python itself" and its watch
example, each against a
private daemon found through $IPCD_SOCKET, as ipcd.connect() finds it."""
import os
import re
import subprocess
import sys

README = os.environ.get("IPCD_README", "")
PARITY = os.path.join(os.path.dirname(README), "docs", "python-parity.md")


def python_block(path, heading):
    with open(path) as f:
        text = f.read()
    section = text.split(heading, 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def run(daemon, code):
    env = dict(os.environ, IPCD_SOCKET=daemon.socket_path)
    result = subprocess.run([sys.executable, "-c", code], env=env,
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_the_readme_example_runs(daemon):
    assert run(daemon, python_block(README, "## From Python\n")) == "fast\n"


def test_the_parity_example_runs(daemon):
    run(daemon, python_block(PARITY, "### From Python itself"))


def test_the_parity_watch_example_runs(daemon):
    block = python_block(PARITY, "Watches have no counterpart")
    assert run(daemon, block) == "None\nfast\n"
