"""Automatic mTLS through a real plugin process: PLUGIN_CLIENT_CERT in, server certificate in field 6."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from veloro_sdk._proto.grpc.health.v1 import health_pb2, health_pb2_grpc
from veloro_sdk._proto.plugin import grpc_controller_pb2, grpc_controller_pb2_grpc
from veloro_sdk.tls import TLS_CHANNEL_OPTIONS, der_to_pem, generate_certificate

from sdk.harness import CHANNEL_OPTIONS, plugin_env, start_plugin


def _check(channel: grpc.Channel) -> int:
    stub = health_pb2_grpc.HealthStub(channel)
    return int(stub.Check(health_pb2.HealthCheckRequest(service="plugin"), timeout=5).status)


@pytest.mark.parametrize("transport", ["unix", "tcp"])
def test_mtls_handshake_and_refusal(tmp_path: Path, transport: str) -> None:
    host = generate_certificate()
    env = plugin_env(PLUGIN_CLIENT_CERT=host.cert_pem.decode(), VELORO_PLUGIN_TRANSPORT=transport)
    p = start_plugin(tmp_path, env=env, client=host)
    try:
        assert p.handshake.server_cert is not None
        assert p.handshake.network == transport
        assert _check(p.channel) == health_pb2.HealthCheckResponse.SERVING
        # no client certificate: refused
        no_cert = grpc.ssl_channel_credentials(root_certificates=der_to_pem(p.handshake.server_cert))
        with (
            grpc.secure_channel(
                p.handshake.target, no_cert, options=CHANNEL_OPTIONS + list(TLS_CHANNEL_OPTIONS)
            ) as ch,
            pytest.raises(grpc.RpcError),
        ):
            _check(ch)
        # plaintext: refused
        with grpc.insecure_channel(p.handshake.target) as ch, pytest.raises(grpc.RpcError):
            _check(ch)
        grpc_controller_pb2_grpc.GRPCControllerStub(p.channel).Shutdown(
            grpc_controller_pb2.Empty(), timeout=5
        )
        assert p.proc.wait(5) == 0
    finally:
        p.close()


def test_bad_client_cert_is_a_clear_start_error(tmp_path: Path) -> None:
    import subprocess
    import sys

    from sdk.harness import FIXTURE

    env = plugin_env(PLUGIN_CLIENT_CERT="-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n")
    result = subprocess.run([sys.executable, str(FIXTURE)], env=env, capture_output=True, timeout=30)
    assert result.returncode == 1
    assert result.stdout == b""
    assert b"PLUGIN_CLIENT_CERT" in result.stderr


def test_p521_host_certificate_goes_through_the_openssl_relay(tmp_path: Path) -> None:
    """go-plugin hosts use a P-521 client certificate, which grpcio's BoringSSL cannot verify; the plugin
    terminates that TLS with OpenSSL. Checked here with Python's ssl as the TLS client (as a Go host
    would: P-521 client certificate, ALPN h2), then an HTTP/2 preface answered by the gRPC server."""
    import socket
    import ssl

    host = generate_certificate(curve=ec.SECP521R1())
    p = start_plugin(tmp_path, env=plugin_env(PLUGIN_CLIENT_CERT=host.cert_pem.decode()), client=host)
    try:
        assert p.handshake.server_cert is not None
        assert _check(p.channel) == health_pb2.HealthCheckResponse.SERVING  # gRPC through the relay
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_verify_locations(cadata=der_to_pem(p.handshake.server_cert).decode())
        (tmp_path / "c.pem").write_bytes(host.cert_pem)
        (tmp_path / "k.pem").write_bytes(host.key_pem)
        ctx.load_cert_chain(tmp_path / "c.pem", tmp_path / "k.pem")
        ctx.set_alpn_protocols(["h2"])
        raw = socket.socket(socket.AF_UNIX)
        raw.connect(p.handshake.address)
        with ctx.wrap_socket(raw, server_hostname="localhost") as conn:
            assert conn.selected_alpn_protocol() == "h2"
            conn.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00")
            conn.settimeout(5)
            frame = conn.recv(9)
            assert frame[3] == 0x04, "the gRPC server behind the relay answers with an HTTP/2 SETTINGS frame"
        # without a certificate the relay refuses
        bare = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        bare.load_verify_locations(cadata=der_to_pem(p.handshake.server_cert).decode())
        raw = socket.socket(socket.AF_UNIX)
        raw.connect(p.handshake.address)
        refused = pytest.raises((ssl.SSLError, OSError))
        with refused, bare.wrap_socket(raw, server_hostname="localhost") as conn:
            conn.settimeout(5)
            conn.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
            assert conn.recv(9) == b""
            raise OSError("closed")
    finally:
        p.close()
