"""Forked children for the tests: the child leaves with os._exit, never
returning into pytest.
"""
import os
import sys


def run_in_child(fn):
    """Runs fn() in a forked child; its exit status (fn's return, or 1 if it
    raised). The child leaves with os._exit, never into pytest."""
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            code = fn() or 0
        except BaseException as e:  # noqa: B902 - reported, then exit
            print(f"child: {e!r}", file=sys.stderr, flush=True)
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)
