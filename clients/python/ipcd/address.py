"""Where the daemon is: URLs, the default socket, and key files.

The same rules as ipc::Manager (libipc/src/manager/manager.cc and
default_socket.cc), so that a Python and a C++ process started the same way
meet at the same daemon.

Thread safety: pure functions (they read the environment).
"""
import os

from . import errors

SYSTEM_DAEMON_SOCKET = "/run/ipcd/ipcd.sock"

_FORMS = ("expected unix:///path/to/ipcd.sock, an absolute socket path, or "
          "tcp://host:port")


def daemon_socket_path():
    """Where a daemon started without --socket listens."""
    path = os.environ.get("IPCD_SOCKET")
    if path:
        return path
    dirs = os.environ.get("RUNTIME_DIRECTORY")
    if dirs:
        return dirs.split(":", 1)[0] + "/ipcd.sock"
    xdg = os.environ.get("XDG_RUNTIME_DIR")
    if xdg:
        return xdg + "/ipcd/ipcd.sock"
    return f"/tmp/ipcd-{os.getuid()}/ipcd.sock"


def default_url():
    """ipc::Manager::DefaultUrl(): $IPCD_SOCKET, else $RUNTIME_DIRECTORY/
    ipcd.sock, else $XDG_RUNTIME_DIR/ipcd/ipcd.sock, else
    /tmp/ipcd-$UID/ipcd.sock; when that file does not exist and the system
    daemon's /run/ipcd/ipcd.sock does, that one."""
    path = daemon_socket_path()
    if not os.path.exists(path) and os.path.exists(SYSTEM_DAEMON_SOCKET):
        path = SYSTEM_DAEMON_SOCKET
    return "unix://" + path


class Address:
    """A parsed URL: family "unix" with `path` (a leading "@" is an abstract
    name), or "tcp" with `host` and `port`."""

    def __init__(self, url, family, path=None, host=None, port=None):
        self.url, self.family = url, family
        self.path, self.host, self.port = path, host, port

    def sockaddr(self):
        if self.family == "unix":
            return "\0" + self.path[1:] if self.path.startswith("@") else self.path
        return (self.host, self.port)


def parse(url):
    """The Address for what the caller wrote: None or "" is default_url(),
    an absolute path a unix socket, else a unix:// or tcp:// URL. A relative
    path is refused: it would mean a different socket in each process's
    working directory."""
    if not url:
        url = default_url()
    elif url.startswith("/"):
        url = "unix://" + url
    scheme, sep, body = url.partition("://")
    if not sep:
        if ":" in url:
            raise errors.InvalidArgument(f'ipcd URL "{url}": no "://"; {_FORMS}')
        raise errors.InvalidArgument(
            f'ipcd URL "{url}": not a URL or an absolute path; {_FORMS}')
    if scheme == "unix":
        if not body or body[0] not in "/@" or body == "@":
            raise errors.InvalidArgument(
                f'ipcd URL "{url}": a unix URL needs an absolute path or '
                f"@abstract-name; {_FORMS}")
        return Address(url, "unix", path=body)
    if scheme == "tcp":
        host, port = _split_host_port(url, body)
        return Address(url, "tcp", host=host, port=port)
    raise errors.InvalidArgument(
        f'ipcd URL "{url}": ipcd does not listen on {scheme}:; {_FORMS}')


def _split_host_port(url, body):
    if body.startswith("["):
        host, bracket, rest = body[1:].partition("]")
        if not bracket or not rest.startswith(":"):
            raise errors.InvalidArgument(f'ipcd URL "{url}": expected [v6]:port')
        port = rest[1:]
    else:
        host, _, port = body.rpartition(":")
    if not host:
        raise errors.InvalidArgument(f'ipcd URL "{url}": empty host')
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise errors.InvalidArgument(f'ipcd URL "{url}": bad port "{port}"')
    return host, int(port)


def read_authkey_file(path):
    """The key in a file, read the way ipcd reads --authkey-file: its bytes
    with one trailing newline removed. PermissionDenied when others than
    its owner may read it, InvalidArgument when it is empty."""
    try:
        st = os.stat(path)
        mode = st.st_mode
        if not mode & 0o077:
            with open(path, "rb") as f:
                key = f.read()
    except FileNotFoundError as e:
        raise errors.NotFound(
            f"authentication key file {path}: {e.strerror}") from None
    except OSError as e:
        raise errors.PermissionDenied(
            f"authentication key file {path}: {e.strerror}") from None
    if mode & 0o077:
        raise errors.PermissionDenied(
            f"authentication key file {path} may be read by others; "
            "chmod 600 it")
    if key.endswith(b"\n"):
        key = key[:-1]
    if not key:
        raise errors.InvalidArgument(f"authentication key file {path} is empty")
    return key


__all__ = ["default_url", "parse", "read_authkey_file", "Address"]
