"""Automatic mTLS on the plugin side (PLUGIN_CLIENT_CERT set by the host).

Normally gRPC's own TLS serves it. But go-plugin hosts present a P-521 client certificate, whose
handshake signatures the BoringSSL inside grpcio cannot verify; for those the TLS is terminated with
Python's ssl module (OpenSSL) and the plaintext bytes are relayed to the gRPC server on a private socket
in the same 0700 directory. The relay costs some latency, so it is used only when needed.
"""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Callable

import grpc

from veloro_sdk import tls, tls_relay
from veloro_sdk.serve import listen
from veloro_sdk.serve.log import PluginLogger


def listen_mtls(
    server: grpc.Server, client_pem: bytes, log: PluginLogger
) -> tuple[listen.Endpoint, bytes, list[Callable[[], None]]]:
    """Listen with mTLS; return the public endpoint, our certificate (DER) and cleanups."""
    try:
        tls.pem_to_der(client_pem)
    except ValueError as exc:
        raise ValueError(f"{exc} (from PLUGIN_CLIENT_CERT)") from exc
    bundle = tls.generate_certificate()
    if not tls.needs_openssl_termination(client_pem):
        creds = tls.server_credentials(bundle, client_pem)
        if listen.wants_tcp():
            return listen.bind_tcp(lambda a: bool(server.add_secure_port(a, creds))), bundle.cert_der, []
        endpoint = listen.private_socket_path()
        server.add_secure_port(endpoint.target, creds)
        return endpoint, bundle.cert_der, []
    inner = listen.private_socket_path("grpc.sock")
    server.add_insecure_port(inner.target)
    relay = _TlsRelay(_ssl_context(bundle, client_pem, inner.cleanup_dir or "."), inner.address, log)
    public = relay.listen()
    return public, bundle.cert_der, [relay.close, inner.cleanup]


def _ssl_context(bundle: tls.CertificateBundle, client_pem: bytes, private_dir: str) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_verify_locations(cadata=client_pem.decode("ascii"))
    ctx.set_alpn_protocols(["h2"])
    tls_relay.load_identity(ctx, bundle, private_dir)
    return ctx


class _TlsRelay:
    """Accepts TLS connections, relays the decrypted bytes to the gRPC server's private socket."""

    def __init__(self, ctx: ssl.SSLContext, inner_path: str, log: PluginLogger) -> None:
        self.ctx = ctx
        self.inner_path = inner_path
        self.log = log
        self.sock: socket.socket | None = None

    def listen(self) -> listen.Endpoint:
        if listen.wants_tcp():

            def bind(address: str) -> bool:
                host, port = address.rsplit(":", 1)
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                try:
                    sock.bind((host, int(port)))
                except OSError:
                    sock.close()
                    return False
                self.sock = sock
                return True

            endpoint = listen.bind_tcp(bind)
        else:
            endpoint = listen.private_socket_path()
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.bind(endpoint.address)
        assert self.sock is not None
        self.sock.listen(16)
        threading.Thread(target=self._accept_loop, name="veloro-tls-accept", daemon=True).start()
        return endpoint

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()

    def _accept_loop(self) -> None:
        assert self.sock is not None
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), name="veloro-tls-conn", daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        session = tls_relay.TlsSession(conn, self.ctx, server_side=True, server_hostname=None)
        try:
            session.handshake(tls_relay.CONNECT_TIMEOUT)
        except (ssl.SSLError, OSError) as exc:
            self.log.warning("refused a TLS connection", error=str(exc))
            conn.close()
            return
        inner = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            inner.connect(self.inner_path)
            tls_relay.pump(session, inner)
        except (OSError, ssl.SSLError):
            pass  # a peer hung up; the other side is closed below
        finally:
            inner.close()
            conn.close()
