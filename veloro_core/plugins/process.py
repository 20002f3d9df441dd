"""One running plugin process: start, handshake, connect, health check, log pumps, kill.

Follows go-plugin's client side (plugin-protocol.md section 1-2): the handshake is read with a start timeout
and every failure names the binary and the cause; the process is stopped with GRPCController.Shutdown, then
SIGKILL after the kill timeout.
"""

from __future__ import annotations

import os
import selectors
import shlex
import subprocess
import threading
import time
from collections.abc import Sequence

import grpc
import structlog
from veloro_sdk import handshake as hs
from veloro_sdk import tls, tls_relay
from veloro_sdk._proto.grpc.health.v1 import health_pb2, health_pb2_grpc
from veloro_sdk._proto.plugin import grpc_controller_pb2, grpc_controller_pb2_grpc
from veloro_sdk.client import CHANNEL_OPTIONS

from veloro_core.plugins import spawn
from veloro_core.plugins.errors import PluginStartError
from veloro_core.plugins.logpump import LogPump
from veloro_core.plugins.settings import PluginSettings

_LOG = structlog.get_logger("veloro.plugins")
_READ_SIZE = 65536
# After a line that is not a handshake, how long to look for a real one (to tell "stray output first").
_LOOKAHEAD_S = 0.5
_CONNECT_TIMEOUT_S = 5.0

_client_cert_lock = threading.Lock()
_client_cert: tls.CertificateBundle | None = None


def host_certificate() -> tls.CertificateBundle:
    """The host's AutoMTLS client certificate, generated once per host process."""
    global _client_cert
    with _client_cert_lock:
        if _client_cert is None:
            _client_cert = tls.generate_certificate()
        return _client_cert


def describe_command(command: Sequence[str]) -> str:
    """How errors and logs name a plugin binary: its path, or the whole line for `python -m ...`."""
    text = shlex.join(command)
    return text if len(text) <= 300 else text[:300] + "..."


def plugin_env(settings: PluginSettings, client_cert: tls.CertificateBundle | None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(settings.extra_env)
    env[hs.ENV_MAGIC_COOKIE_KEY] = hs.ENV_MAGIC_COOKIE_VALUE
    env[hs.ENV_PROTOCOL_VERSIONS] = hs.format_offered_versions()
    env[hs.ENV_MIN_PORT] = str(settings.min_port)
    env[hs.ENV_MAX_PORT] = str(settings.max_port)
    env.pop(hs.ENV_CLIENT_CERT, None)
    if client_cert is not None:
        env[hs.ENV_CLIENT_CERT] = client_cert.cert_pem.decode("ascii")
    if settings.transport == "tcp":
        env[hs.ENV_TRANSPORT] = "tcp"
    return env


class PluginProcess:
    """A started, handshaken, healthy plugin process and its gRPC channel. Use start()."""

    def __init__(
        self,
        command: Sequence[str],
        popen: subprocess.Popen[bytes],
        stderr_pump: LogPump,
        settings: PluginSettings,
    ) -> None:
        self.command = tuple(command)
        self.binary = describe_command(command)
        self.popen = popen
        self.pid = popen.pid
        self.settings = settings
        self.stderr_pump = stderr_pump
        self.stdout_pump: LogPump | None = None
        self.handshake: hs.Handshake | None = None
        self.channel: grpc.Channel | None = None
        self.relay: tls_relay.TlsClientRelay | None = None  # only for certificates BoringSSL cannot handle
        self._kill_lock = threading.Lock()
        self._killed = False
        self._connected = False

    # ----------------------------------------------------------------------------------------- start
    @classmethod
    def start(cls, command: Sequence[str], settings: PluginSettings) -> PluginProcess:
        """Start `command`, read its handshake, connect and health-check it within settings.start_timeout.
        Raises PluginStartError naming the binary and the cause; never leaves the child running on error."""
        binary = describe_command(command)
        deadline = time.monotonic() + settings.start_timeout
        client_cert = host_certificate() if settings.auto_mtls else None
        argv = [*command, *settings.plugin_args]
        try:
            popen = spawn.spawn(argv, plugin_env(settings, client_cert))
        except OSError as exc:
            raise PluginStartError(binary, f"cannot be executed: {exc.strerror or exc}") from exc
        log = _LOG.bind(plugin=binary, pid=popen.pid)
        assert popen.stderr is not None
        pump = LogPump(popen.stderr, log.bind(stream="stderr"))
        pump.start()
        proc = cls(command, popen, pump, settings)
        spawn.track(proc)
        try:
            line, rest = proc._read_handshake(deadline)
            proc.handshake = proc._parse(line, rest, deadline)
            assert popen.stdout is not None
            proc.stdout_pump = LogPump(popen.stdout, log.bind(stream="stdout"))
            for extra in rest.splitlines():  # stdout after the handshake is only logged
                proc.stdout_pump.feed(extra)
            proc.stdout_pump.start()
            proc._connect(client_cert, deadline)
        except BaseException:
            proc.kill()
            raise
        tls_on = proc.handshake.server_cert is not None
        log.debug("plugin started", address=proc.handshake.address, tls=tls_on)
        return proc

    def _fail(self, cause: str) -> PluginStartError:
        return PluginStartError(self.binary, cause)

    def _exit_error(self, before: str) -> PluginStartError:
        """The process ended: report its exit code and the last lines it wrote on stderr."""
        try:
            code = self.popen.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            code = None
        self.stderr_pump.join(timeout=1.0)  # make sure the tail holds its last words
        tail = self.stderr_pump.tail()
        status = f"exit code {code}" if code is not None and code >= 0 else f"signal {-(code or 0)}"
        if code is None:
            status = "closed its stdout"
        cause = f"exited before {before} ({status})"
        if tail:
            cause += "; last lines on stderr:\n" + "\n".join(f"    {t}" for t in tail.splitlines())
        else:
            cause += "; it wrote nothing on stderr"
        return self._fail(cause)

    def _read_until(self, buf: bytearray, deadline: float, lines: int = 1) -> bool:
        """Read stdout into `buf` until it holds `lines` newlines (True) or EOF/exit (False); raises
        TimeoutError at the deadline."""
        assert self.popen.stdout is not None
        fd = self.popen.stdout.fileno()
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            while buf.count(b"\n") < lines:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError
                if sel.select(min(remaining, 0.25)):
                    data = os.read(fd, _READ_SIZE)
                    if not data:
                        return False
                    buf.extend(data)
                elif self.popen.poll() is not None:
                    # exited; a grandchild may hold the pipe open, so do not wait for EOF
                    return buf.count(b"\n") >= lines
        return True

    def _read_handshake(self, deadline: float) -> tuple[str, bytes]:
        buf = bytearray()
        try:
            complete = self._read_until(buf, deadline)
        except TimeoutError:
            shown = f" (it printed {bytes(buf[:200])!r} without a newline)" if buf else ""
            raise self._fail(
                f"no handshake line on stdout within the start timeout of {self.settings.start_timeout:g}s"
                f"{shown}; is it a veloro/go-plugin plugin? (raise PluginSettings.start_timeout if it is "
                "just slow to start)"
            ) from None
        if not complete:
            raise self._exit_error("printing its handshake line")
        line, _, rest = bytes(buf).partition(b"\n")
        return line.decode("utf-8", errors="replace"), rest

    def _parse(self, line: str, rest: bytes, deadline: float) -> hs.Handshake:
        try:
            return hs.parse_handshake(line)
        except hs.HandshakeError as exc:
            if self._handshake_follows(rest, min(deadline, time.monotonic() + _LOOKAHEAD_S)):
                raise self._fail(
                    f"wrote to stdout before its handshake line (first line: {line[:200]!r}); a plugin "
                    "must print the handshake line before anything else on stdout"
                ) from exc
            raise self._fail(f"bad handshake: {exc}") from exc

    def _handshake_follows(self, rest: bytes, until: float) -> bool:
        """Whether a valid handshake line arrives soon after a bad first line (stray output first)."""
        buf = bytearray(rest)
        for wanted in range(1, 20):
            try:
                if not self._read_until(buf, until, lines=wanted):
                    return False
            except TimeoutError:
                return False
            candidate = bytes(buf).split(b"\n")[wanted - 1]
            try:
                hs.parse_handshake(candidate.decode("utf-8", errors="replace"))
                return True
            except hs.HandshakeError:
                continue
        return False

    def _connect(self, client_cert: tls.CertificateBundle | None, deadline: float) -> None:
        assert self.handshake is not None
        if self.handshake.network == "unix" and not os.path.exists(self.handshake.address):
            address = self.handshake.address
            raise self._fail(f"its handshake names unix socket {address}, which does not exist")
        # The plugin listens before it prints the handshake, so the socket answers at once; a short,
        # bounded wait only covers a slow TLS set-up (never the whole start timeout on a dead address).
        connect_deadline = min(deadline, time.monotonic() + _CONNECT_TIMEOUT_S)
        self.channel = self._open_channel(client_cert, connect_deadline)
        health = health_pb2_grpc.HealthStub(self.channel)
        try:
            reply = health.Check(
                health_pb2.HealthCheckRequest(service="plugin"),
                timeout=max(connect_deadline - time.monotonic(), 0.05),
                wait_for_ready=True,
            )
        except grpc.RpcError as exc:
            if self.popen.poll() is not None:
                raise self._exit_error("answering its health check") from exc
            relay_error = self.relay.last_error if self.relay is not None else None
            raise self._fail(
                f"health check on {self.handshake.network} {self.handshake.address} failed: "
                f"{exc.code().name}: {exc.details()}" + (f" ({relay_error})" if relay_error else "")
            ) from exc
        if reply.status != health_pb2.HealthCheckResponse.SERVING:
            raise self._fail(f"health check of service 'plugin' answered {reply.status} instead of SERVING")
        self._connected = True

    def _open_channel(self, client_cert: tls.CertificateBundle | None, deadline: float) -> grpc.Channel:
        """Plaintext, gRPC's own TLS, or (for a certificate BoringSSL cannot handle, e.g. go-plugin's P-521)
        plaintext to a local relay that speaks TLS with OpenSSL. With TLS, one handshake is made first
        with OpenSSL so that a refusal fails the start at once, naming the TLS error."""
        handshake = self.handshake
        assert handshake is not None
        options = list(CHANNEL_OPTIONS)
        network, address, server_cert = handshake.network, handshake.address, handshake.server_cert
        if server_cert is None:
            return grpc.insecure_channel(handshake.target, options=options)
        if client_cert is None:
            raise self._fail("answered with a TLS certificate although the host did not ask for mTLS")
        timeout = max(deadline - time.monotonic(), 0.05)
        try:
            if tls.needs_openssl_termination(server_cert):
                self.relay = tls_relay.start_client_relay(
                    network,
                    address,
                    server_cert,
                    client_cert,
                    check_timeout=timeout,
                    on_error=self._relay_error,
                )
                return grpc.insecure_channel(self.relay.target, options=options)
            ctx = tls_relay.client_context(server_cert, client_cert)
            tls_relay.check_tls(network, address, ctx, timeout)
            creds = tls.channel_credentials(server_cert, client_cert)
        except ValueError as exc:
            raise self._fail(f"sent an unusable TLS certificate in its handshake: {exc}") from exc
        except tls_relay.TlsHandshakeError as exc:
            if self.popen.poll() is not None:
                raise self._exit_error("completing the TLS handshake") from exc
            raise self._fail(f"mTLS with it failed: {exc}") from exc
        options.extend(tls.TLS_CHANNEL_OPTIONS)
        return grpc.secure_channel(handshake.target, creds, options=options)

    def _relay_error(self, message: str) -> None:
        _LOG.warning("plugin TLS relay connection failed", plugin=self.binary, pid=self.pid, error=message)

    # ------------------------------------------------------------------------------------ lifecycle
    @property
    def alive(self) -> bool:
        if self._killed or self.popen.poll() is not None:
            return False
        # poll() answers None while another thread sits in wait() on the same Popen, even for a dead
        # child: ask the kernel too (a zombie, not yet reaped, is dead for our purposes).
        return _running(self.popen.pid)

    @property
    def returncode(self) -> int | None:
        return self.popen.poll()

    def kill(self) -> None:
        """GRPCController.Shutdown, wait up to the kill timeout for the exit, then SIGKILL. Idempotent."""
        with self._kill_lock:
            if self._killed:
                return
            self._killed = True
        deadline = time.monotonic() + self.settings.kill_timeout
        if self.popen.poll() is None:
            if self.channel is not None and self._connected:
                try:
                    grpc_controller_pb2_grpc.GRPCControllerStub(self.channel).Shutdown(
                        grpc_controller_pb2.Empty(), timeout=self.settings.kill_timeout
                    )
                except grpc.RpcError:
                    pass  # it may exit before answering; the wait below tells
            else:  # never became healthy: it cannot be asked to stop, and owes us nothing
                self.popen.kill()
        try:
            self.popen.wait(timeout=max(deadline - time.monotonic(), 0.0))
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()
        if self.channel is not None:
            self.channel.close()
        if self.relay is not None:
            self.relay.close()
        for pump in (self.stderr_pump, self.stdout_pump):
            if pump is not None:
                pump.join(timeout=1.0)
        for pipe in (self.popen.stdout, self.popen.stderr):
            if pipe is not None:
                pipe.close()
        spawn.untrack(self)

    def __repr__(self) -> str:
        return f"PluginProcess({self.binary!r}, pid={self.pid}, alive={self.alive})"


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    except OSError:  # no /proc (not Linux): fall back to a signal 0 probe
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True
    return state not in ("Z", "X")
