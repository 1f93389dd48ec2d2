#!/usr/bin/env python3
# Run: PYTHONPATH=build/clients/python python3 examples/python/s20_authenticated_manager.py [--ipcd build/bin/ipcd]
"""S20, authenticated remote manager: Python's

    m = BaseManager(address=('', 50000), authkey=b'secret'); m.start()
    BaseManager(address=(host, 50000), authkey=b'wrong').connect()
                                      # -> AuthenticationError

with ipcd: this starts ipcd with a tcp:// listener on loopback and a key in
a temporary 0600 file, then connects three clients: one with the right key
(it works), one with a wrong key and one with none (both refused:
ipcd.PermissionDenied). Neither side sends the key: each proves it holds it
with an HMAC of the other's random challenge, so a client also refuses a
daemon that cannot prove it.

For a real deployment: ipcd --listen tcp://10.0.0.5:7070 --authkey-file
/etc/ipcd/key, and ipcd.connect("tcp://10.0.0.5:7070", authkey_file=KEY).
"""
import argparse
import os
import shutil
import socket
import subprocess
import tempfile

import ipcd

HERE = os.path.dirname(os.path.abspath(__file__))


def find_ipcd(given):
    for path in (given, os.environ.get("IPCD_BINARY"),
                 os.path.join(HERE, "..", "..", "build", "bin", "ipcd"),
                 shutil.which("ipcd")):
        if path and os.access(path, os.X_OK):
            return path
    raise SystemExit("s20: no ipcd found (build it, or pass --ipcd PATH)")


def free_port():
    # ipcd needs the port on its command line; the system picks a free one.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def try_client(who, url, key):
    try:
        m = ipcd.connect(url, authkey=key, wait_for_daemon=10)
    except ipcd.PermissionDenied as e:
        print(f"{who}: refused: {e}")
        return
    print(f"{who}: connected; counter 's20-greetings' = "
          f"{m.counter('s20-greetings').add(1)}")
    m.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ipcd")
    args = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="s20-")
    key_file = os.path.join(workdir, "key")
    with open(os.open(key_file, os.O_WRONLY | os.O_CREAT, 0o600), "wb") as f:
        f.write(os.urandom(24).hex().encode() + b"\n")
    url = f"tcp://127.0.0.1:{free_port()}"
    daemon = subprocess.Popen([find_ipcd(args.ipcd), "--socket",
                               os.path.join(workdir, "ipcd.sock"), "--listen",
                               url, "--authkey-file", key_file])
    print(f"s20: started ipcd listening on {url}", flush=True)
    try:
        try_client("right key", url, ipcd.read_authkey_file(key_file))
        try_client("wrong key", url, b"not-the-key")
        try_client("no key", url, None)
    finally:
        daemon.terminate()
        print(f"s20: stopped ipcd: exit status {daemon.wait()}")
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
