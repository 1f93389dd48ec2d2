"""Forked children for the tests: the child leaves with os._exit, never
returning into pytest.
"""
import os
import sys


def start_child(fn):
    """Forks a child running fn(); its pid. The child's exit status is fn's
    return (or 1 if it raised); it leaves with os._exit, never into pytest."""
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            code = fn() or 0
        except BaseException as e:  # noqa: B902 - reported, then exit
            print(f"child: {e!r}", file=sys.stderr, flush=True)
        finally:
            os._exit(code)
    return pid


def wait_child(pid):
    """The exit status of a child from start_child (-N: killed by signal N)."""
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def run_in_child(fn):
    """Runs fn() in a forked child and waits for it; its exit status."""
    return wait_child(start_child(fn))
