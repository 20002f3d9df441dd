"""Where the plugin listens: a unix socket in a private directory, or TCP on 127.0.0.1 when asked.

Transport selection: go-plugin plugins on Linux always use a unix socket and every go-plugin host accepts
it, so that is the default. A host that wants TCP (say, across a container boundary where sockets are not
shared) sets VELORO_PLUGIN_TRANSPORT=tcp; the plugin then binds 127.0.0.1 on a free port inside
PLUGIN_MIN_PORT..PLUGIN_MAX_PORT (defaults 10000..25000, as go-plugin).
"""

from __future__ import annotations

import os
import random
import shutil
import socket
import tempfile
from collections.abc import Callable
from dataclasses import dataclass

from veloro_sdk.handshake import ENV_MAX_PORT, ENV_MIN_PORT, ENV_TRANSPORT, ENV_UNIX_SOCKET_DIR

DEFAULT_MIN_PORT, DEFAULT_MAX_PORT = 10000, 25000
_MAX_UNIX_PATH = 107  # sun_path is 108 bytes including the NUL


class ListenError(RuntimeError):
    """The plugin could not open its listener; the message says what to change."""


@dataclass
class Endpoint:
    network: str  # "unix" or "tcp"
    address: str  # socket path, or 127.0.0.1:port
    cleanup_dir: str | None = None

    @property
    def target(self) -> str:
        return f"unix:{self.address}" if self.network == "unix" else self.address

    def cleanup(self) -> None:
        if self.cleanup_dir:
            shutil.rmtree(self.cleanup_dir, ignore_errors=True)


def private_socket_path(name: str = "plugin.sock") -> Endpoint:
    """A path in a fresh 0700 directory (under PLUGIN_UNIX_SOCKET_DIR when the host sets it)."""
    base = os.environ.get(ENV_UNIX_SOCKET_DIR) or None
    try:
        directory = tempfile.mkdtemp(prefix="plugin", dir=base)
    except OSError as exc:
        raise ListenError(
            f"cannot create the plugin's socket directory under {base or tempfile.gettempdir()}: "
            f"{exc}; set {ENV_UNIX_SOCKET_DIR} to a writable directory"
        ) from exc
    os.chmod(directory, 0o700)
    path = os.path.join(directory, name)
    if len(path.encode()) > _MAX_UNIX_PATH:
        shutil.rmtree(directory, ignore_errors=True)
        raise ListenError(
            f"unix socket path {path!r} is longer than {_MAX_UNIX_PATH} bytes; set {ENV_UNIX_SOCKET_DIR} "
            "(or TMPDIR) to a shorter directory"
        )
    return Endpoint("unix", path, cleanup_dir=directory)


def wants_tcp() -> bool:
    return os.environ.get(ENV_TRANSPORT, "").strip().lower() == "tcp"


def _port_range() -> tuple[int, int]:
    try:
        low = int(os.environ.get(ENV_MIN_PORT) or DEFAULT_MIN_PORT)
        high = int(os.environ.get(ENV_MAX_PORT) or DEFAULT_MAX_PORT)
    except ValueError as exc:
        raise ListenError(f"{ENV_MIN_PORT}/{ENV_MAX_PORT} must be port numbers: {exc}") from exc
    if not 0 < low <= high < 65536:
        raise ListenError(f"bad port range {ENV_MIN_PORT}={low} {ENV_MAX_PORT}={high}")
    return low, high


def bind_tcp(try_bind: Callable[[str], bool]) -> Endpoint:
    """Bind 127.0.0.1 on the first free port of the range (starting at a random offset, so concurrent
    plugins rarely collide). `try_bind(address)` returns whether the real server bound it."""
    low, high = _port_range()
    ports = list(range(low, high + 1))
    start = random.randrange(len(ports))
    for port in ports[start:] + ports[:start]:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        address = f"127.0.0.1:{port}"
        if try_bind(address):
            return Endpoint("tcp", address)
    raise ListenError(f"no free TCP port on 127.0.0.1 in {low}..{high} ({ENV_MIN_PORT}..{ENV_MAX_PORT})")
