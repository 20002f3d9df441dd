"""The host-side TLS relay (veloro_sdk.tls_relay) against a P-521 server written with the stdlib's
SSLSocket only, i.e. independent of the relay's own TLS code."""

from __future__ import annotations

import os
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from veloro_sdk import tls, tls_relay


@dataclass
class EchoServer:
    """TLS echo server on a unix socket: P-521 certificate, client certificate required."""

    path: str
    cert: tls.CertificateBundle
    alpn: list[str | None] = field(default_factory=list)
    peer_certs: list[bytes | None] = field(default_factory=list)


def _echo(conn: ssl.SSLSocket, server: EchoServer) -> None:
    with conn:
        server.alpn.append(conn.selected_alpn_protocol())
        server.peer_certs.append(conn.getpeercert(binary_form=True))
        while data := conn.recv(1 << 16):
            conn.sendall(data)


@pytest.fixture
def echo_server(tmp_path: Path) -> Iterator[tuple[EchoServer, tls.CertificateBundle]]:
    host = tls.generate_certificate()  # the host's client certificate (P-384, as veloro makes it)
    cert = tls.generate_certificate(curve=ec.SECP521R1())
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_verify_locations(cadata=host.cert_pem.decode())
    ctx.set_alpn_protocols(["h2"])
    (tmp_path / "c.pem").write_bytes(cert.cert_pem)
    (tmp_path / "k.pem").write_bytes(cert.key_pem)
    ctx.load_cert_chain(tmp_path / "c.pem", tmp_path / "k.pem")
    server = EchoServer(str(tmp_path / "tls.sock"), cert)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(server.path)
    listener.listen(8)

    def accept() -> None:
        while True:
            try:
                raw, _ = listener.accept()
            except OSError:
                return
            try:
                conn = ctx.wrap_socket(raw, server_side=True)
            except (ssl.SSLError, OSError):
                raw.close()
                continue
            threading.Thread(target=_echo, args=(conn, server), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    yield server, host
    listener.shutdown(socket.SHUT_RDWR)
    listener.close()


def _recv_exactly(sock: socket.socket, size: int) -> bytes:
    buf = bytearray()
    while len(buf) < size:
        chunk = sock.recv(min(size - len(buf), 1 << 20))
        if not chunk:
            break
        buf += chunk
    return bytes(buf)


def test_which_certificates_need_openssl() -> None:
    p521 = tls.generate_certificate(curve=ec.SECP521R1())
    assert tls.needs_openssl_termination(p521.cert_der)  # DER, as in handshake field 6
    assert tls.needs_openssl_termination(p521.cert_pem)
    assert not tls.needs_openssl_termination(tls.generate_certificate().cert_der)  # our P-384


@pytest.mark.parametrize("key", [rsa.generate_private_key(65537, 2048), ed25519.Ed25519PrivateKey.generate()])
def test_non_ec_keys(key: rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey) -> None:
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509.oid import NameOID

    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
    )
    is_rsa = isinstance(key, rsa.RSAPrivateKey)
    cert = builder.sign(key, hashes.SHA256() if is_rsa else None)
    assert tls.needs_openssl_termination(cert.public_bytes(serialization.Encoding.DER)) is not is_rsa


def test_relay_moves_bytes_both_ways_and_cleans_up(
    echo_server: tuple[EchoServer, tls.CertificateBundle],
) -> None:
    server, host = echo_server
    relay = tls_relay.start_client_relay("unix", server.path, server.cert.cert_der, host, check_timeout=5)
    try:
        assert relay.target == f"unix:{relay.path}"
        assert os.stat(relay.directory).st_mode & 0o777 == 0o700
        body = os.urandom(8 << 20)
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as plain:
            plain.connect(relay.path)
            sender = threading.Thread(target=plain.sendall, args=(body,))
            sender.start()  # the echo comes back while we still send: both directions at once
            assert _recv_exactly(plain, len(body)) == body
            sender.join()
        # the check connection and the relayed one both negotiated h2 and presented the host's certificate
        assert server.alpn == ["h2", "h2"]
        assert server.peer_certs == [host.cert_der, host.cert_der]
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as live:
            live.connect(relay.path)
            live.sendall(b"ping")
            assert _recv_exactly(live, 4) == b"ping"
            relay.close()
            live.settimeout(5)
            assert live.recv(10) == b"", "close() must cut live relayed connections"
    finally:
        relay.close()
    assert not os.path.exists(relay.directory)
    deadline = time.monotonic() + 3
    while any(t.name.startswith("veloro-tls-relay") for t in threading.enumerate()):
        assert time.monotonic() < deadline, "relay threads outlived close()"
        time.sleep(0.01)


def test_untrusted_plugin_certificate_fails_fast(
    echo_server: tuple[EchoServer, tls.CertificateBundle],
) -> None:
    server, host = echo_server
    impostor = tls.generate_certificate(curve=ec.SECP521R1())
    started = time.monotonic()
    with pytest.raises(tls_relay.TlsHandshakeError, match="CERTIFICATE_VERIFY_FAILED"):
        tls_relay.start_client_relay("unix", server.path, impostor.cert_der, host, check_timeout=5)
    assert time.monotonic() - started < 2


def test_refused_client_certificate_fails_fast(echo_server: tuple[EchoServer, tls.CertificateBundle]) -> None:
    server, _ = echo_server
    stranger = tls.generate_certificate()  # not the certificate the server trusts
    started = time.monotonic()
    with pytest.raises(tls_relay.TlsHandshakeError, match=r"refused the TLS connection.*ALERT"):
        tls_relay.start_client_relay("unix", server.path, server.cert.cert_der, stranger, check_timeout=5)
    assert time.monotonic() - started < 2


def test_nobody_listening_is_a_clear_error(tmp_path: Path) -> None:
    host = tls.generate_certificate()
    with pytest.raises(tls_relay.TlsHandshakeError, match="cannot connect to unix"):
        tls_relay.start_client_relay(
            "unix", str(tmp_path / "none.sock"), host.cert_der, host, check_timeout=1
        )
