"""The go-plugin handshake line, formatted by plugins and parsed by hosts.

    CORE|APP|NETWORK|ADDRESS|PROTOCOL|SERVERCERT[|MUX]

Both sides use this module so they agree on every field by construction. It imports only the standard
library: a plugin formats the line on its start-up path, where import time counts.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from dataclasses import dataclass

CORE_PROTOCOL_VERSION = 1
# App protocol versions this SDK speaks (Velero's plugin API is version 2).
SUPPORTED_APP_VERSIONS: tuple[int, ...] = (2,)
DEFAULT_APP_VERSION = 2
NETWORKS = ("unix", "tcp")
PROTOCOL_GRPC = "grpc"

# Environment variables of the handshake (go-plugin names).
ENV_MAGIC_COOKIE_KEY = "VELERO_PLUGIN"
ENV_MAGIC_COOKIE_VALUE = "hello"
ENV_PROTOCOL_VERSIONS = "PLUGIN_PROTOCOL_VERSIONS"
ENV_MIN_PORT = "PLUGIN_MIN_PORT"
ENV_MAX_PORT = "PLUGIN_MAX_PORT"
ENV_CLIENT_CERT = "PLUGIN_CLIENT_CERT"
ENV_UNIX_SOCKET_DIR = "PLUGIN_UNIX_SOCKET_DIR"
ENV_MULTIPLEX_GRPC = "PLUGIN_MULTIPLEX_GRPC"
# veloro's own: a host that wants TCP instead of a unix socket sets this to "tcp" (go-plugin has no such
# switch: its plugins choose by OS; on Linux they always use unix sockets).
ENV_TRANSPORT = "VELORO_PLUGIN_TRANSPORT"


class HandshakeError(ValueError):
    """The handshake line (or the version negotiation) is unusable; the message says which part and why."""


@dataclass(frozen=True)
class Handshake:
    """One parsed (or to-be-printed) handshake line. `server_cert` is the DER certificate, or None."""

    network: str
    address: str
    app_version: int = DEFAULT_APP_VERSION
    core_version: int = CORE_PROTOCOL_VERSION
    protocol: str = PROTOCOL_GRPC
    server_cert: bytes | None = None
    multiplex: bool = False

    def format(self) -> str:
        """The line as a plugin prints it (without the newline). The cert field is always present, as Go
        plugins print it, so a line without TLS ends with `|`."""
        fields = [
            str(self.core_version),
            str(self.app_version),
            self.network,
            self.address,
            self.protocol,
            encode_cert_field(self.server_cert) if self.server_cert else "",
        ]
        if self.multiplex:
            fields.append("true")
        return "|".join(fields)

    @property
    def target(self) -> str:
        """The gRPC target to dial: `unix:<path>` or `127.0.0.1:port`."""
        return f"unix:{self.address}" if self.network == "unix" else self.address


def encode_cert_field(der: bytes) -> str:
    """Field 6: standard base64 of the DER certificate WITHOUT padding (Go's RawStdEncoding)."""
    return base64.b64encode(der).decode("ascii").rstrip("=")


def decode_cert_field(text: str) -> bytes:
    """Inverse of encode_cert_field; tolerates padding being present. Raises HandshakeError."""
    stripped = text.strip().rstrip("=")
    try:
        return base64.b64decode(stripped + "=" * (-len(stripped) % 4), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise HandshakeError(f"server certificate field is not valid base64: {exc}") from exc


def _parse_int(text: str, what: str, line: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise HandshakeError(f"{what} {text!r} is not a number in handshake line {line!r}") from None


def parse_handshake(line: str, supported_app_versions: Iterable[int] = SUPPORTED_APP_VERSIONS) -> Handshake:
    """Parse a plugin's handshake line (5, 6 or 7 `|`-separated fields) for a host.

    `supported_app_versions` are the versions the host offered in PLUGIN_PROTOCOL_VERSIONS; a plugin that
    answers with another one is rejected. Raises HandshakeError with a message a user can act on.
    """
    shown = line if len(line) <= 200 else line[:200] + "..."
    text = line.strip()
    parts = text.split("|")
    if not text or len(parts) < 5 or len(parts) > 7:
        raise HandshakeError(
            f"unrecognized handshake line {shown!r}: expected CORE|APP|NETWORK|ADDRESS|PROTOCOL|SERVERCERT "
            f"(5 to 7 fields, got {len(parts) if text else 0}); is this a go-plugin/veloro plugin, and "
            "does it print anything to stdout before its handshake?"
        )
    core = _parse_int(parts[0], "core protocol version", shown)
    if core != CORE_PROTOCOL_VERSION:
        raise HandshakeError(
            f"incompatible core protocol version {core} in handshake line {shown!r}: "
            f"this host speaks go-plugin core protocol {CORE_PROTOCOL_VERSION}"
        )
    app = _parse_int(parts[1], "app protocol version", shown)
    supported = sorted(set(supported_app_versions))
    if app not in supported:
        raise HandshakeError(
            f"incompatible API version {app} in handshake line {shown!r}: the host supports "
            f"{', '.join(map(str, supported))}; use a plugin built for this host's plugin API"
        )
    network, address, protocol = parts[2], parts[3], parts[4]
    if network not in NETWORKS:
        raise HandshakeError(f"unknown network {network!r} in handshake line {shown!r}: expected unix or tcp")
    if not address:
        raise HandshakeError(f"empty address in handshake line {shown!r}")
    if protocol != PROTOCOL_GRPC:
        raise HandshakeError(
            f"unsupported protocol {protocol!r} in handshake line {shown!r}: only grpc plugins are supported "
            "(net/rpc plugins are not)"
        )
    cert = decode_cert_field(parts[5]) if len(parts) >= 6 and parts[5] else None
    multiplex = len(parts) == 7 and parts[6] == "true"
    return Handshake(
        network=network,
        address=address,
        app_version=app,
        core_version=core,
        protocol=protocol,
        server_cert=cert,
        multiplex=multiplex,
    )


def negotiate_app_version(
    offered: str | None, supported: Iterable[int] = SUPPORTED_APP_VERSIONS, default: int = DEFAULT_APP_VERSION
) -> int:
    """The plugin side of version negotiation: the highest version in `offered` (the host's
    PLUGIN_PROTOCOL_VERSIONS comma list) that we support. No list at all means an old host: use `default`.
    Raises HandshakeError when the host offers versions but none in common."""
    if offered is None or not offered.strip():
        return default
    wanted: set[int] = set()
    for item in offered.split(","):
        item = item.strip()
        if item.isdigit():
            wanted.add(int(item))
    common = wanted & set(supported)
    if not common:
        raise HandshakeError(
            f"incompatible API version: the host offers plugin protocol version(s) {offered.strip()!r} "
            f"but this plugin speaks {', '.join(map(str, sorted(set(supported))))}"
        )
    return max(common)


def format_offered_versions(versions: Iterable[int] = SUPPORTED_APP_VERSIONS) -> str:
    """The PLUGIN_PROTOCOL_VERSIONS value a host sets."""
    return ",".join(str(v) for v in sorted(set(versions)))
