#!/usr/bin/env python3
# Run: PYTHONPATH=build/clients/python python3 examples/python/s17_daemon.py [--ipcd build/bin/ipcd] [--clients N]
"""S17, daemon: a long-lived service that outlives its clients.

This starts ipcd in the foreground as its child on a private socket (the
ipcd named by --ipcd or $IPCD_BINARY, else build/bin/ipcd, else the one on
PATH), runs N short-lived client processes one after another (each
connects, adds 1 to a counter, signs a guestbook dict and exits), shows that
their state is still there after all of them have gone, then stops the
daemon with SIGTERM (a clean shutdown: exit status 0). With --socket PATH it
uses the ipcd already running there and leaves it running.

For real use run ipcd under systemd (systemctl enable --now ipcd; clients
find /run/ipcd/ipcd.sock by default), or `ipcd` in a terminal.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile

import ipcd

HERE = os.path.dirname(os.path.abspath(__file__))


def find_ipcd(given):
    for path in (given, os.environ.get("IPCD_BINARY"),
                 os.path.join(HERE, "..", "..", "build", "bin", "ipcd"),
                 shutil.which("ipcd")):
        if path and os.access(path, os.X_OK):
            return path
    raise SystemExit("s17: no ipcd found (build it, or pass --ipcd PATH)")


def visit(url, number):
    # A client that connects, leaves its mark and exits.
    m = ipcd.connect(url)
    visits = m.counter("s17-visits").add(1)
    m.dict("s17-guestbook")[f"client-{number}"] = os.getpid()
    print(f"client {number} (pid {os.getpid()}): visits = {visits}", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--socket")
    parser.add_argument("--ipcd")
    parser.add_argument("--clients", type=int, default=3)
    args = parser.parse_args()
    daemon = workdir = None
    if args.socket:
        url = "unix://" + args.socket
        print(f"s17: using the running ipcd at {url}")
    else:
        workdir = tempfile.mkdtemp(prefix="s17-")
        url = "unix://" + os.path.join(workdir, "ipcd.sock")
        daemon = subprocess.Popen([find_ipcd(args.ipcd), "--socket", url[7:]])
        # Ready when a connection succeeds: wait_for_daemon, not a sleep.
        ipcd.connect(url, wait_for_daemon=10).close()
        print(f"s17: started ipcd (pid {daemon.pid}) on {url}", flush=True)
    for number in range(args.clients):
        pid = os.fork()
        if pid == 0:
            try:
                visit(url, number)
                code = 0
            except ipcd.Error as e:
                print(f"client {number}: {e}", file=sys.stderr)
                code = 1
            os._exit(code)
        _, status = os.waitpid(pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit("s17: a client failed")
    m = ipcd.connect(url)
    print(f"all clients have exited; ipcd still holds: visits = "
          f"{m.counter('s17-visits').get()}, guestbook has "
          f"{len(m.dict('s17-guestbook'))} entries")
    m.close()
    if daemon:
        daemon.terminate()
        print(f"s17: stopped ipcd with SIGTERM: exit status {daemon.wait()}")
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
