"""A small go-plugin host for tests: start a plugin command through the real handshake, talk to it with
the typed clients, and stop it the way hosts do (Shutdown, then SIGKILL after 2 s).

It is deliberately independent of veloro's server-side plugin manager (the SDK imports nothing of the
core), so vendors can test their plugin with the SDK alone.
"""

from __future__ import annotations

import collections
import contextlib
import os
import selectors
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

import grpc

from veloro_sdk import handshake as hs
from veloro_sdk import tls, tls_relay
from veloro_sdk._proto.grpc.health.v1 import health_pb2, health_pb2_grpc
from veloro_sdk._proto.plugin import grpc_controller_pb2, grpc_controller_pb2_grpc
from veloro_sdk.client import CHANNEL_OPTIONS, CLIENTS, BaseClient, ListedPlugin, PluginListerClient
from veloro_sdk.contracts import ObjectStore, PluginKind, VolumeSnapshotter

SHUTDOWN_GRACE = 2.0  # what a go-plugin host waits after Shutdown before SIGKILL


class LaunchError(RuntimeError):
    """The plugin command could not be started or did not complete the handshake; names the command."""


@dataclass
class LaunchOptions:
    """How to start the plugin. `transport` "tcp" asks a veloro plugin for TCP instead of a unix socket."""

    start_timeout: float = 10.0
    call_timeout: float | None = 60.0
    auto_mtls: bool = True
    transport: str | None = None
    env: dict[str, str] = field(default_factory=dict)


class _OutputTail:
    """Drains a pipe in a thread (so the plugin never blocks on a full pipe) keeping the last lines."""

    def __init__(self, stream: IO[bytes], lines: int = 40) -> None:
        self.lines: collections.deque[str] = collections.deque(maxlen=lines)
        self._thread = threading.Thread(target=self._pump, args=(stream,), daemon=True)
        self._thread.start()

    def _pump(self, stream: IO[bytes]) -> None:
        with contextlib.suppress(ValueError, OSError):
            for raw in iter(stream.readline, b""):
                self.lines.append(raw.decode("utf-8", "replace").rstrip())

    def text(self, wait: float = 0.2) -> str:
        self._thread.join(wait)
        return "\n".join(self.lines)


def _read_line(proc: subprocess.Popen[bytes], timeout: float, label: str, tail: _OutputTail) -> str:
    """The first stdout line, within `timeout`. Raises LaunchError on exit, timeout or no newline."""
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    buf = bytearray()
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as sel:
        sel.register(fd, selectors.EVENT_READ)
        while b"\n" not in buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise LaunchError(f"{label}: no handshake line on stdout within {timeout:g} s")
            if not sel.select(min(left, 0.5)):
                continue
            chunk = os.read(fd, 4096)
            if not chunk:
                code = proc.wait(timeout=2)
                stderr = tail.text(wait=1.0)
                raise LaunchError(
                    f"{label}: exited with code {code} before its handshake"
                    + (f"; its stderr ends with:\n{stderr}" if stderr else "")
                )
            buf += chunk
    return bytes(buf).split(b"\n", 1)[0].decode("utf-8", "replace")


class LaunchedPlugin:
    """A running plugin process: its handshake, channel, listed plugins and typed clients."""

    def __init__(self, argv: list[str], proc: subprocess.Popen[bytes], options: LaunchOptions) -> None:
        self.argv = argv
        self.process = proc
        self.options = options
        self.handshake: hs.Handshake | None = None
        self.handshake_seconds = 0.0
        self.shutdown_seconds: float | None = None
        self.killed = False
        self.plugins: list[ListedPlugin] = []
        self.channel: grpc.Channel | None = None
        self.relay: tls_relay.TlsClientRelay | None = None
        assert proc.stderr is not None
        self.stderr = _OutputTail(proc.stderr)
        self._stdout: _OutputTail | None = None

    @property
    def label(self) -> str:
        return f"plugin command {' '.join(self.argv)!r}"

    def client(self, kind: PluginKind | str, name: str) -> BaseClient:
        """The typed client of (kind, name); it implements the kind's contract class."""
        if self.channel is None:
            raise LaunchError(f"{self.label} is not connected")
        client_cls = CLIENTS[PluginKind(kind)]
        return client_cls(self.channel, name, timeout=self.options.call_timeout)

    def object_store(self, name: str, config: dict[str, str] | None = None) -> ObjectStore:
        store = self.client(PluginKind.OBJECT_STORE, name)
        assert isinstance(store, ObjectStore)
        if config is not None:
            store.init(config)
        return store

    def volume_snapshotter(self, name: str, config: dict[str, str] | None = None) -> VolumeSnapshotter:
        snapshotter = self.client(PluginKind.VOLUME_SNAPSHOTTER, name)
        assert isinstance(snapshotter, VolumeSnapshotter)
        if config is not None:
            snapshotter.init(config)
        return snapshotter

    # -- lifecycle -----------------------------------------------------------------------------------
    def connect(self, client_cert: tls.CertificateBundle | None) -> None:
        started = time.monotonic()
        assert self.process.stdout is not None
        line = _read_line(self.process, self.options.start_timeout, self.label, self.stderr)
        self._stdout = _OutputTail(self.process.stdout)  # later stdout output must not block the plugin
        try:
            self.handshake = hs.parse_handshake(line)
        except hs.HandshakeError as exc:
            raise LaunchError(f"{self.label}: {exc}") from exc
        self.handshake_seconds = time.monotonic() - started
        self.channel = self._open_channel(self.handshake, client_cert)
        health = health_pb2_grpc.HealthStub(self.channel)
        try:
            reply = health.Check(
                health_pb2.HealthCheckRequest(service="plugin"),
                timeout=self.options.start_timeout,
                wait_for_ready=True,
            )
        except grpc.RpcError as exc:
            raise LaunchError(
                f"{self.label}: health check failed: {exc.code().name}: {exc.details()}"
            ) from exc
        if reply.status != health_pb2.HealthCheckResponse.SERVING:
            raise LaunchError(f"{self.label}: health of service 'plugin' is {reply.status}, not SERVING")
        self.plugins = PluginListerClient(self.channel).list_plugins(timeout=self.options.start_timeout)

    def _open_channel(
        self, handshake: hs.Handshake, client_cert: tls.CertificateBundle | None
    ) -> grpc.Channel:
        """As a veloro host does: plaintext, gRPC's TLS, or a TLS relay through OpenSSL for certificates
        grpcio's BoringSSL cannot handle (go-plugin's P-521). One OpenSSL handshake first, so that a TLS
        refusal fails at once with the TLS error rather than as a health-check timeout."""
        options: list[tuple[str, Any]] = list(CHANNEL_OPTIONS)
        cert = handshake.server_cert
        if cert is None:
            return grpc.insecure_channel(handshake.target, options=options)
        if client_cert is None:
            raise LaunchError(f"{self.label} answered with TLS although no client certificate was offered")
        timeout = self.options.start_timeout
        try:
            if tls.needs_openssl_termination(cert):
                self.relay = tls_relay.start_client_relay(
                    handshake.network, handshake.address, cert, client_cert, check_timeout=timeout
                )
                return grpc.insecure_channel(self.relay.target, options=options)
            ctx = tls_relay.client_context(cert, client_cert)
            tls_relay.check_tls(handshake.network, handshake.address, ctx, timeout)
        except ValueError as exc:
            raise LaunchError(f"{self.label} sent an unusable TLS certificate: {exc}") from exc
        except tls_relay.TlsHandshakeError as exc:
            raise LaunchError(f"{self.label}: mTLS failed: {exc}") from exc
        creds = tls.channel_credentials(cert, client_cert)
        return grpc.secure_channel(handshake.target, creds, options=options + list(tls.TLS_CHANNEL_OPTIONS))

    def _close_channel(self) -> None:
        if self.channel is not None:
            self.channel.close()
        if self.relay is not None:
            self.relay.close()

    def shutdown(self) -> float:
        """Shutdown over gRPC, wait up to 2 s for the exit, then SIGKILL. Returns seconds until exit."""
        started = time.monotonic()
        if self.process.poll() is None and self.channel is not None:
            stub = grpc_controller_pb2_grpc.GRPCControllerStub(self.channel)
            with contextlib.suppress(grpc.RpcError):  # the plugin may exit before it answers
                stub.Shutdown(grpc_controller_pb2.Empty(), timeout=SHUTDOWN_GRACE)
        try:
            self.process.wait(timeout=max(0.0, SHUTDOWN_GRACE - (time.monotonic() - started)))
        except subprocess.TimeoutExpired:
            self.killed = True
            self.process.kill()
            self.process.wait()
        self.shutdown_seconds = time.monotonic() - started
        self._close_channel()
        return self.shutdown_seconds

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self._close_channel()


def resolve_command(argv: Sequence[str]) -> list[str]:
    """argv with its program resolved on PATH; LaunchError when it is not an executable."""
    if not argv:
        raise LaunchError("no plugin command given")
    program = argv[0]
    found = shutil.which(program)
    if found is None:
        why = "is not executable" if os.path.exists(program) else "was not found (not a file, not on PATH)"
        raise LaunchError(f"plugin command {program!r} {why}")
    return [found if os.sep not in program else program, *argv[1:]]


def _environment(options: LaunchOptions, client_cert: tls.CertificateBundle | None) -> dict[str, str]:
    env = dict(os.environ)
    env.pop(hs.ENV_CLIENT_CERT, None)
    env.update(
        {
            hs.ENV_MAGIC_COOKIE_KEY: hs.ENV_MAGIC_COOKIE_VALUE,
            hs.ENV_PROTOCOL_VERSIONS: hs.format_offered_versions(),
            hs.ENV_MIN_PORT: env.get(hs.ENV_MIN_PORT, "10000"),
            hs.ENV_MAX_PORT: env.get(hs.ENV_MAX_PORT, "25000"),
        }
    )
    if client_cert is not None:
        env[hs.ENV_CLIENT_CERT] = client_cert.cert_pem.decode("ascii")
    if options.transport:
        env[hs.ENV_TRANSPORT] = options.transport
    env.update(options.env)
    return env


@contextlib.contextmanager
def launch_plugin(
    argv: Sequence[str], options: LaunchOptions | None = None, **overrides: Any
) -> Iterator[LaunchedPlugin]:
    """Start `argv` as a go-plugin host would and yield the connected LaunchedPlugin.

    On exit the plugin is shut down (Shutdown, 2 s grace, SIGKILL); `shutdown_seconds` and `killed` tell
    how it went. Keyword overrides set LaunchOptions fields (e.g. `start_timeout=5`, `auto_mtls=False`).
    """
    opts = options or LaunchOptions()
    for key, value in overrides.items():
        if not hasattr(opts, key):
            raise TypeError(f"launch_plugin() got an unknown option {key!r}")
        setattr(opts, key, value)
    command = resolve_command(argv)
    client_cert = tls.generate_certificate() if opts.auto_mtls else None
    try:
        proc = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=_environment(opts, client_cert),
        )
    except OSError as exc:
        raise LaunchError(f"cannot start plugin command {command[0]!r}: {exc.strerror or exc}") from exc
    plugin = LaunchedPlugin(command, proc, opts)
    try:
        plugin.connect(client_cert)
    except BaseException:
        plugin.kill()
        raise
    try:
        yield plugin
    finally:
        if plugin.process.poll() is None or plugin.shutdown_seconds is None:
            plugin.shutdown()
