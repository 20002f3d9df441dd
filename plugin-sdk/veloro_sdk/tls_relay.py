"""TLS with Python's ssl (OpenSSL) relayed to plaintext gRPC, for peers grpcio's BoringSSL cannot handle.

go-plugin certificates are ECDSA P-521, whose handshake signatures the BoringSSL inside grpcio can neither
make nor verify. Both sides work around it the same way: OpenSSL speaks TLS with the peer and the bytes are
relayed in plaintext over a private unix socket to/from the local gRPC endpoint.

- Plugin side (veloro_sdk.serve.mtls): accepts TLS, relays to the gRPC server's private socket.
- Host side (`start_client_relay`): the gRPC channel dials the relay's private socket in plaintext; each
  connection is relayed to the plugin over TLS that trusts exactly the plugin's certificate and presents the
  host's.

Each TLS connection is driven through memory BIOs (`TlsSession`) rather than an SSLSocket: a blocking
SSLSocket may sit inside recv() after consuming a post-handshake message (a TLS 1.3 session ticket) while
the other direction has bytes to forward, and one SSL object must not be used by two threads at once.
"""

from __future__ import annotations

import os
import select
import shutil
import socket
import ssl
import tempfile
import threading
import time
from collections.abc import Callable

from veloro_sdk import tls

__all__ = [
    "TlsClientRelay",
    "TlsHandshakeError",
    "TlsSession",
    "check_tls",
    "client_context",
    "connect_raw",
    "load_identity",
    "open_session",
    "pump",
    "start_client_relay",
]

BUF_SIZE = 256 * 1024
_HIGH_WATER = 4 * BUF_SIZE  # bytes waiting for one side before the relay stops reading the other
_FINISH_TIMEOUT = 5.0
CONNECT_TIMEOUT = 10.0
# What an HTTP/2 server must answer with its own SETTINGS (RFC 9113 section 3.4): the client preface and an
# empty SETTINGS frame. Used to see a TLS 1.3 client-certificate refusal, which arrives after the handshake.
_H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"


class TlsHandshakeError(ConnectionError):
    """The TLS connection to the peer could not be set up; the message names the cause."""


def load_identity(ctx: ssl.SSLContext, bundle: tls.CertificateBundle, directory: str | None = None) -> None:
    """Load `bundle` as the context's own certificate. load_cert_chain takes files only, so they exist for
    the instant of loading, in `directory` (private) or a fresh 0700 temporary directory."""
    with tempfile.TemporaryDirectory(prefix="veloro-tls-", dir=directory) as private:
        cert_file, key_file = os.path.join(private, "cert.pem"), os.path.join(private, "key.pem")
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(bundle.key_pem)
        with open(cert_file, "wb") as out:
            out.write(bundle.cert_pem)
        ctx.load_cert_chain(cert_file, key_file)


def client_context(plugin_cert: bytes, client: tls.CertificateBundle) -> ssl.SSLContext:
    """Host side: trust exactly the plugin's certificate (DER from the handshake, or PEM), present the
    host's, check the name `localhost`, ALPN h2, TLS 1.2 or later. ValueError on an unusable certificate."""
    pem = plugin_cert if plugin_cert.startswith(b"-----BEGIN") else tls.der_to_pem(plugin_cert)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies the chain and the host name
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        ctx.load_verify_locations(cadata=pem.decode("ascii"))
    except (ssl.SSLError, UnicodeDecodeError) as exc:
        raise ValueError(f"the plugin's certificate cannot be trusted by OpenSSL: {exc}") from exc
    ctx.set_alpn_protocols(["h2"])
    load_identity(ctx, client)
    return ctx


def connect_raw(network: str, address: str, timeout: float) -> socket.socket:
    """A connected (not yet TLS) socket to a plugin's unix or tcp address; OSError when it cannot be."""
    if network == "unix":
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        target: str | tuple[str, int] = address
    else:
        host, _, port = address.rpartition(":")
        sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # gRPC frames are latency-bound
        target = (host.strip("[]"), int(port))
    try:
        sock.settimeout(timeout)
        sock.connect(target)
    except BaseException:
        sock.close()
        raise
    return sock


class TlsSession:
    """One TLS connection over a raw socket, driven through memory BIOs (see the module docstring).

    feed()/encrypt() only transform bytes, so the relay's event loop decides when sockets are read and
    written; receive()/send() are blocking conveniences for short exchanges (the TLS check)."""

    def __init__(
        self, raw: socket.socket, ctx: ssl.SSLContext, *, server_side: bool, server_hostname: str | None
    ) -> None:
        self.raw = raw
        self._in = ssl.MemoryBIO()
        self._out = ssl.MemoryBIO()
        self.obj = ctx.wrap_bio(self._in, self._out, server_side=server_side, server_hostname=server_hostname)
        self.eof = False  # the peer closed (close_notify or end of stream)

    def handshake(self, timeout: float) -> None:
        """Complete the handshake within `timeout`; ssl.SSLError, TimeoutError or ConnectionError if not.
        The socket is blocking afterwards."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.obj.do_handshake()
            except ssl.SSLWantReadError:
                self._flush()
                self._fill(deadline)
                continue
            except ssl.SSLError:
                self._flush_quietly()  # let the peer see our alert
                raise
            self._flush()
            self.raw.settimeout(None)
            return

    def _fill(self, deadline: float) -> None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("the TLS handshake did not finish in time")
        self.raw.settimeout(remaining)
        data = self.raw.recv(BUF_SIZE)
        if not data:
            raise ConnectionError("the peer closed the connection during the TLS handshake")
        self._in.write(data)

    def _flush(self) -> None:
        pending = self._out.read()
        if pending:
            self.raw.sendall(pending)

    def _flush_quietly(self) -> None:
        try:
            self._flush()
        except OSError:
            pass

    def feed(self, data: bytes) -> bytes:
        """Take bytes received from the peer (b"" = end of stream) and return the plaintext they complete.
        Records to send back (e.g. a key update reply) wait in take_output()."""
        if data:
            self._in.write(data)
        else:
            self._in.write_eof()
        plain = self.buffered_plaintext()
        if not data:
            self.eof = True
        return plain

    def buffered_plaintext(self) -> bytes:
        """Every plaintext byte decryptable from what was received so far; sets `eof` at close_notify."""
        chunks: list[bytes] = []
        while not self.eof:
            try:
                plain = self.obj.read(BUF_SIZE)
            except ssl.SSLWantReadError:
                break
            except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
                plain = b""
            if not plain:
                self.eof = True
                break
            chunks.append(plain)
        return b"".join(chunks)

    def encrypt(self, data: bytes) -> bytes:
        """The TLS records carrying `data` (plus anything else waiting to be sent)."""
        self.obj.write(data)
        return self._out.read()

    def take_output(self) -> bytes:
        return self._out.read()

    def close_output(self) -> bytes:
        """Our close_notify (best effort: the session may be unusable already)."""
        try:
            self.obj.unwrap()
        except (ssl.SSLError, ValueError):
            pass
        return self._out.read()

    def receive(self, timeout: float | None = None) -> bytes:
        """Blocking: read once from the socket, return the plaintext (maybe b""); sets `eof`."""
        self.raw.settimeout(timeout)
        plain = self.feed(self.raw.recv(BUF_SIZE))
        self._flush()
        return plain

    def send(self, data: bytes) -> None:
        """Blocking: encrypt and send `data`."""
        self.raw.sendall(self.encrypt(data))

    def close_notify(self) -> None:
        """Blocking, best effort: send our close_notify."""
        try:
            self.raw.sendall(self.close_output())
        except OSError:
            pass


def _send_some(sock: socket.socket, buf: bytearray) -> None:
    """Send what the (non-blocking) socket takes now and drop it from `buf`."""
    while buf:
        try:
            sent = sock.send(buf)
        except BlockingIOError:
            return
        del buf[:sent]


def _recv_some(sock: socket.socket) -> bytes | None:
    """What the (non-blocking) socket has: bytes, b"" at end of stream, None if nothing yet."""
    try:
        return sock.recv(BUF_SIZE)
    except BlockingIOError:
        return None


def _finish(sock: socket.socket, buf: bytearray | bytes) -> None:
    """Deliver what is left to one side after the other closed (bounded wait), then the caller closes."""
    if buf:
        sock.settimeout(_FINISH_TIMEOUT)
        sock.sendall(buf)


def pump(session: TlsSession, plain: socket.socket) -> None:
    """Relay between a TLS session and a plaintext socket until either side closes, then deliver what is
    pending to the other and return (the caller closes both). Both directions flow independently: a side
    is only read while less than _HIGH_WATER bytes wait for the other, so a slow reader slows its writer
    instead of blocking the relay. Raises OSError/ssl.SSLError on a broken connection."""
    raw = session.raw
    to_plain = bytearray(session.buffered_plaintext())  # records that came with the end of the handshake
    to_tls = bytearray(session.take_output())
    if session.eof:
        _finish(plain, to_plain)
        return
    raw.setblocking(False)
    plain.setblocking(False)
    tls_fd, plain_fd = raw.fileno(), plain.fileno()
    poller = select.poll()  # not select.select: a busy host may hold fds above 1024
    readable = select.POLLIN | select.POLLHUP | select.POLLERR
    while True:
        poller.register(
            tls_fd, (select.POLLIN if len(to_plain) < _HIGH_WATER else 0) | (select.POLLOUT if to_tls else 0)
        )
        poller.register(
            plain_fd,
            (select.POLLIN if len(to_tls) < _HIGH_WATER else 0) | (select.POLLOUT if to_plain else 0),
        )
        for fd, events in poller.poll():
            if events & select.POLLNVAL:
                raise OSError(f"relay socket {fd} was closed under the relay")
            if fd == tls_fd and events & readable:
                data = _recv_some(raw)
                if data is not None:
                    to_plain += session.feed(data)
                    to_tls += session.take_output()
                    if session.eof:
                        _finish(plain, to_plain)
                        return
            elif fd == plain_fd and events & readable:
                data = _recv_some(plain)
                if data == b"":
                    to_tls += session.close_output()
                    _finish(raw, to_tls)
                    return
                if data:
                    to_tls += session.encrypt(data)
        _send_some(plain, to_plain)
        _send_some(raw, to_tls)


def open_session(
    network: str, address: str, ctx: ssl.SSLContext, timeout: float = CONNECT_TIMEOUT
) -> TlsSession:
    """Connect to a plugin and complete the client handshake; TlsHandshakeError says why it failed."""
    where = f"{network} {address}"
    try:
        raw = connect_raw(network, address, timeout)
    except OSError as exc:
        raise TlsHandshakeError(f"cannot connect to {where}: {exc}") from exc
    session = TlsSession(raw, ctx, server_side=False, server_hostname=tls.SERVER_NAME)
    try:
        session.handshake(timeout)
    except ssl.SSLError as exc:
        raw.close()
        raise TlsHandshakeError(f"TLS handshake with {where} failed: {exc}") from exc
    except (OSError, TimeoutError) as exc:
        raw.close()
        raise TlsHandshakeError(f"TLS handshake with {where} failed: {exc}") from exc
    return session


def check_tls(network: str, address: str, ctx: ssl.SSLContext, timeout: float) -> None:
    """Prove, within `timeout`, that the plugin accepts our TLS: handshake, then an HTTP/2 preface that
    the server must answer (a TLS 1.3 server refuses a client certificate only after the handshake).
    Raises TlsHandshakeError naming the TLS error, so a host fails at once instead of at a deadline."""
    deadline = time.monotonic() + timeout
    session = open_session(network, address, ctx, timeout)
    where = f"{network} {address}"
    try:
        try:
            session.send(_H2_PREFACE)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server already hung up; its TLS alert (read below) says why
        while not session.eof:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TlsHandshakeError(f"no answer over TLS from {where} within {timeout:g}s")
            if session.receive(remaining):
                return
        raise TlsHandshakeError(
            f"{where} closed the connection right after the TLS handshake (did it refuse our certificate?)"
        )
    except TlsHandshakeError:
        raise
    except ssl.SSLError as exc:
        raise TlsHandshakeError(f"{where} refused the TLS connection after the handshake: {exc}") from exc
    except OSError as exc:
        raise TlsHandshakeError(f"TLS connection to {where} broke: {exc}") from exc
    finally:
        session.close_notify()
        session.raw.close()


class TlsClientRelay:
    """Host side: a plaintext unix socket in a private 0700 directory; every connection accepted on it is
    relayed over TLS (OpenSSL) to the plugin at (network, address). Dial `target` with an insecure channel;
    close() stops it, cuts live connections and removes the directory."""

    def __init__(
        self,
        network: str,
        address: str,
        ctx: ssl.SSLContext,
        on_error: Callable[[str], None] | None = None,
    ) -> None:
        self.network = network
        self.address = address
        self.ctx = ctx
        self.on_error = on_error
        self.last_error: str | None = None
        self.directory = tempfile.mkdtemp(prefix="veloro-relay-")  # mode 0700
        self.path = os.path.join(self.directory, "relay.sock")
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._closed = False
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self._listener.bind(self.path)
            self._listener.listen(64)
        except OSError:
            self.close()
            raise
        threading.Thread(target=self._accept_loop, name="veloro-tls-relay", daemon=True).start()

    @property
    def target(self) -> str:
        """The gRPC target of the plaintext side."""
        return f"unix:{self.path}"

    def close(self) -> None:
        """Stop accepting, cut every relayed connection, remove the private directory. Idempotent.

        Relayed sockets are only shut down here (that wakes their thread, which closes them): closing an
        fd under a thread that polls it could make it poll whatever socket or pipe reuses the number."""
        with self._lock:
            self._closed = True
            live = list(self._open)
            self._open.clear()
        for sock in [self._listener, *live]:
            try:
                sock.shutdown(socket.SHUT_RDWR)  # wakes a thread blocked in accept() or poll()
            except OSError:
                pass
        self._listener.close()
        shutil.rmtree(self.directory, ignore_errors=True)

    def _track(self, sock: socket.socket) -> bool:
        with self._lock:
            if self._closed:
                return False
            self._open.add(sock)
            return True

    def _forget(self, sock: socket.socket) -> None:
        with self._lock:
            self._open.discard(sock)
        sock.close()

    def _accept_loop(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return  # closed
            if not self._track(conn):
                conn.close()
                return
            threading.Thread(
                target=self._serve, args=(conn,), name="veloro-tls-relay-conn", daemon=True
            ).start()

    def _serve(self, plain: socket.socket) -> None:
        session: TlsSession | None = None
        try:
            session = open_session(self.network, self.address, self.ctx)
            if self._track(session.raw):
                pump(session, plain)
        except TlsHandshakeError as exc:
            self._report(str(exc))
        except ssl.SSLError as exc:
            self._report(f"TLS with {self.network} {self.address} failed: {exc}")
        except OSError:
            pass  # a peer hung up (e.g. the plugin exited); the other side is closed below
        finally:
            if session is not None:
                self._forget(session.raw)
            self._forget(plain)

    def _report(self, message: str) -> None:
        self.last_error = message
        if self.on_error is not None and not self._closed:
            self.on_error(message)


def start_client_relay(
    network: str,
    address: str,
    plugin_cert: bytes,
    client: tls.CertificateBundle,
    *,
    check_timeout: float = CONNECT_TIMEOUT,
    on_error: Callable[[str], None] | None = None,
) -> TlsClientRelay:
    """Check that TLS with the plugin works (TlsHandshakeError at once if not), then start the relay.
    ValueError when the plugin's certificate is unusable."""
    ctx = client_context(plugin_cert, client)
    check_tls(network, address, ctx, check_timeout)
    return TlsClientRelay(network, address, ctx, on_error)
