"""Automatic mTLS helpers: certificates, and a real gRPC round trip over a unix socket in-process."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from concurrent import futures
from pathlib import Path

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from veloro_sdk._proto.grpc.health.v1 import health_pb2, health_pb2_grpc
from veloro_sdk.handshake import decode_cert_field
from veloro_sdk.tls import (
    TLS_CHANNEL_OPTIONS,
    CertificateBundle,
    channel_credentials,
    der_to_pem,
    generate_certificate,
    needs_openssl_termination,
    pem_to_der,
    server_credentials,
)


class _Health(health_pb2_grpc.HealthServicer):
    def Check(self, request: health_pb2.HealthCheckRequest, context: grpc.ServicerContext) -> object:
        return health_pb2.HealthCheckResponse(status=health_pb2.HealthCheckResponse.SERVING)


def test_certificate_properties() -> None:
    bundle = generate_certificate(validity=datetime.timedelta(hours=1))
    cert = x509.load_der_x509_certificate(bundle.cert_der)
    key = cert.public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey)
    assert key.curve.name == "secp384r1"  # P-521 is not verifiable by grpcio's BoringSSL
    assert cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value == "localhost"
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["localhost"]
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert x509.ExtendedKeyUsageOID.SERVER_AUTH in eku and x509.ExtendedKeyUsageOID.CLIENT_AUTH in eku
    assert cert.not_valid_after_utc - cert.not_valid_before_utc < datetime.timedelta(hours=2)
    assert "=" not in bundle.handshake_field
    assert decode_cert_field(bundle.handshake_field) == bundle.cert_der
    assert pem_to_der(der_to_pem(bundle.cert_der)) == bundle.cert_der


def test_p521_needs_openssl_termination() -> None:
    assert needs_openssl_termination(generate_certificate(curve=ec.SECP521R1()).cert_pem)
    assert not needs_openssl_termination(generate_certificate().cert_pem)


def test_bad_pem_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="not a valid PEM"):
        pem_to_der(b"garbage")
    with pytest.raises(ValueError, match="not a valid DER"):
        der_to_pem(b"garbage")


@pytest.fixture()
def tls_server(tmp_path: Path) -> Iterator[tuple[str, CertificateBundle, CertificateBundle]]:
    server_bundle, host_bundle = generate_certificate(), generate_certificate()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    health_pb2_grpc.add_HealthServicer_to_server(_Health(), server)
    target = f"unix:{tmp_path}/sock"
    server.add_secure_port(target, server_credentials(server_bundle, host_bundle.cert_pem))
    server.start()
    yield target, server_bundle, host_bundle
    server.stop(None)


def _check(target: str, creds: grpc.ChannelCredentials) -> int:
    with grpc.secure_channel(target, creds, options=list(TLS_CHANNEL_OPTIONS)) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        return int(stub.Check(health_pb2.HealthCheckRequest(service="plugin"), timeout=5).status)


def test_mtls_round_trip(tls_server: tuple[str, CertificateBundle, CertificateBundle]) -> None:
    target, server_bundle, host_bundle = tls_server
    # the host only has the DER from the handshake line
    creds = channel_credentials(server_bundle.cert_der, host_bundle)
    assert _check(target, creds) == health_pb2.HealthCheckResponse.SERVING


def test_client_without_or_with_wrong_cert_refused(
    tls_server: tuple[str, CertificateBundle, CertificateBundle],
) -> None:
    target, server_bundle, _host_bundle = tls_server
    no_cert = grpc.ssl_channel_credentials(root_certificates=server_bundle.cert_pem)
    with pytest.raises(grpc.RpcError) as info:
        _check(target, no_cert)
    assert info.value.code() == grpc.StatusCode.UNAVAILABLE
    stranger = channel_credentials(server_bundle.cert_pem, generate_certificate())
    with pytest.raises(grpc.RpcError):
        _check(target, stranger)


def test_host_rejects_a_server_it_does_not_trust(
    tls_server: tuple[str, CertificateBundle, CertificateBundle],
) -> None:
    target, _server_bundle, host_bundle = tls_server
    with pytest.raises(grpc.RpcError):
        _check(target, channel_credentials(generate_certificate().cert_der, host_bundle))
