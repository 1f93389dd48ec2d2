"""Starts and stops a real ipcd for a test, as tests/support/daemon_process.cc
does: its own socket in a fresh temporary directory, its stderr kept in a
file there, and readiness known by the daemon's sd_notify READY=1 or a
connection succeeding, never by sleeping.
"""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time


def ipcd_binary():
    path = os.environ.get("IPCD_BINARY", "")
    if not path or not os.access(path, os.X_OK):
        raise RuntimeError("IPCD_BINARY must name the built ipcd (ctest sets it)")
    return path


def free_tcp_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_key(directory, key=b"the-shared-key\n", mode=0o600):
    path = os.path.join(directory, "key")
    with open(path, "wb") as f:
        f.write(key)
    os.chmod(path, mode)
    return path


class Daemon:
    def __init__(self, extra_args=()):
        # Short: a unix socket path has at most 107 bytes.
        self.dir = tempfile.mkdtemp(prefix="ipcd-py-")
        self.socket_path = os.path.join(self.dir, "ipcd.sock")
        self.stderr_path = os.path.join(self.dir, "ipcd.stderr")
        self.extra_args = list(extra_args)
        self.process = None

    @property
    def url(self):
        return "unix://" + self.socket_path

    def start(self, timeout=10.0):
        """Starts ipcd (again, after stop()) and returns once it accepts."""
        notify_path = os.path.join(self.dir, "notify")
        if os.path.exists(notify_path):
            os.unlink(notify_path)
        notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        notify.bind(notify_path)
        env = dict(os.environ, NOTIFY_SOCKET=notify_path)
        for name in ("LISTEN_FDS", "LISTEN_PID", "WATCHDOG_USEC"):
            env.pop(name, None)
        with open(self.stderr_path, "ab") as err:
            self.process = subprocess.Popen(
                [ipcd_binary(), "--socket", self.socket_path, *self.extra_args],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=err, env=env)
        try:
            self._wait_ready(notify, time.monotonic() + timeout)
        finally:
            notify.close()
        return self

    def _wait_ready(self, notify, give_up):
        notify.settimeout(0.05)
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"ipcd exited ({self.process.returncode}) "
                                   f"before accepting; stderr:\n{self.stderr()}")
            try:
                if b"READY=1" in notify.recv(4096):
                    return
            except socket.timeout:
                # A build without libsystemd never notifies: try a connection.
                with socket.socket(socket.AF_UNIX) as probe:
                    if probe.connect_ex(self.socket_path) == 0:
                        return
            if time.monotonic() > give_up:
                self.kill()
                raise RuntimeError(f"ipcd did not start; stderr:\n{self.stderr()}")

    def stop(self):
        """SIGTERM, then its exit status (SIGKILL after 10 s)."""
        if self.process is None:
            return None
        self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
        self.process = None
        return code

    def kill(self):
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def stderr(self):
        try:
            with open(self.stderr_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def cleanup(self):
        self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)
