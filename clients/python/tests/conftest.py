"""Fixtures of the Python client's tests: a watchdog on every test (Debian's
pytest has no timeout plugin), a private ipcd per test, and a Manager on it.
"""
import faulthandler
import signal
import sys

import pytest

import ipcd
from daemon_process import Daemon

TEST_SECONDS = 60


class WatchdogExpired(Exception):
    pass


@pytest.fixture(autouse=True)
def watchdog():
    """Fails a test that runs over TEST_SECONDS instead of hanging the run;
    if even the alarm cannot get through, faulthandler dumps every thread's
    stack and exits."""
    def expired(signum, frame):
        raise WatchdogExpired(f"watchdog: the test ran over {TEST_SECONDS} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(TEST_SECONDS)
    faulthandler.dump_traceback_later(TEST_SECONDS + 30, exit=True,
                                      file=sys.stderr)
    yield
    faulthandler.cancel_dump_traceback_later()
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


@pytest.fixture
def daemon():
    d = Daemon().start()
    yield d
    try:
        d.stop()
    finally:
        d.cleanup()


@pytest.fixture
def manager(daemon):
    m = ipcd.connect(daemon.url)
    yield m
    m.close()


@pytest.fixture
def other(daemon):
    """A second client: another connection, so another lock holder."""
    m = ipcd.connect(daemon.url)
    yield m
    m.close()

