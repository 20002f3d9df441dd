"""Automatic mTLS as go-plugin does it (AutoMTLS), for both sides.

Each side generates a throw-away self-signed certificate: the host puts its PEM in PLUGIN_CLIENT_CERT, the
plugin prints its DER (base64, no padding) in handshake field 6. Each side then trusts exactly the other's
certificate. Like go-plugin: ECDSA, CN and DNS SAN `localhost`, usable for server and client auth, marked
as a CA so that it can sit in a trust store as its own root. Unlike go-plugin (30 years) the validity is
short: the certificates live only as long as one process.

Curve: go-plugin uses P-521, but the BoringSSL inside grpcio can neither verify nor request P-521 ECDSA
signatures in TLS (handshake fails with NO_COMMON_SIGNATURE_ALGORITHMS; measured with grpcio 1.85). So
our certificates default to P-384, which BoringSSL, OpenSSL and Go all accept. A go-plugin peer's P-521
certificate is handled with OpenSSL and a plaintext relay (veloro_sdk.tls_relay): on the plugin side by
veloro_sdk.serve, on the host side by the host (see needs_openssl_termination).

gRPC's TLS stack refuses anything below TLS 1.2, which is the floor we want, so no option is needed for it.
"""

from __future__ import annotations

import datetime
import secrets
from dataclasses import dataclass

import grpc
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from veloro_sdk.handshake import decode_cert_field, encode_cert_field

SERVER_NAME = "localhost"
# The channel option a Python host needs: the plugin's certificate names `localhost`, not the socket path.
TLS_CHANNEL_OPTIONS: tuple[tuple[str, str], ...] = (("grpc.ssl_target_name_override", SERVER_NAME),)
DEFAULT_VALIDITY = datetime.timedelta(days=7)
# Curves whose ECDSA signatures grpcio's BoringSSL accepts in a TLS handshake.
BORINGSSL_CURVES = frozenset({"secp256r1", "secp384r1"})

__all__ = [
    "DEFAULT_VALIDITY",
    "SERVER_NAME",
    "TLS_CHANNEL_OPTIONS",
    "CertificateBundle",
    "channel_credentials",
    "decode_cert_field",
    "der_to_pem",
    "encode_cert_field",
    "generate_certificate",
    "needs_openssl_termination",
    "pem_to_der",
    "server_credentials",
]


@dataclass(frozen=True)
class CertificateBundle:
    """A certificate and its private key. PEM for gRPC, DER for the handshake line."""

    cert_pem: bytes
    key_pem: bytes
    cert_der: bytes

    @property
    def handshake_field(self) -> str:
        """The certificate as handshake field 6."""
        return encode_cert_field(self.cert_der)


def generate_certificate(
    validity: datetime.timedelta = DEFAULT_VALIDITY, curve: ec.EllipticCurve | None = None
) -> CertificateBundle:
    """A fresh self-signed ECDSA certificate for `localhost` (P-384 unless `curve` says otherwise; see the
    module docstring), good for server and client auth."""
    key = ec.generate_private_key(curve or ec.SECP384R1())
    now = datetime.datetime.now(datetime.UTC)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "veloro"),
            x509.NameAttribute(NameOID.COMMON_NAME, SERVER_NAME),
        ]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(secrets.randbits(127) + 1)
        .not_valid_before(now - datetime.timedelta(seconds=30))  # clock skew between host and plugin
        .not_valid_after(now + validity)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(SERVER_NAME)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=True,
                data_encipherment=False,
                key_agreement=True,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
            critical=False,
        )
        .sign(key, hashes.SHA512())
    )
    return CertificateBundle(
        cert_pem=cert.public_bytes(serialization.Encoding.PEM),
        key_pem=key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
        cert_der=cert.public_bytes(serialization.Encoding.DER),
    )


def der_to_pem(der: bytes) -> bytes:
    """A DER certificate (as decoded from the handshake line) as PEM (what gRPC takes)."""
    try:
        cert = x509.load_der_x509_certificate(der)
    except ValueError as exc:
        raise ValueError(f"the plugin's certificate is not a valid DER X.509 certificate: {exc}") from exc
    return cert.public_bytes(serialization.Encoding.PEM)


def pem_to_der(pem: bytes) -> bytes:
    """A PEM certificate (e.g. from PLUGIN_CLIENT_CERT) as DER; raises ValueError with a clear message."""
    try:
        cert = x509.load_pem_x509_certificate(pem)
    except ValueError as exc:
        raise ValueError(f"not a valid PEM X.509 certificate: {exc}") from exc
    return cert.public_bytes(serialization.Encoding.DER)


def needs_openssl_termination(cert: bytes) -> bool:
    """Whether grpcio's BoringSSL cannot handle TLS with the peer owning this certificate (PEM or DER), so
    the TLS must be done with Python's ssl (OpenSSL) and relayed: e.g. the P-521 certificate of a go-plugin
    host (client) or of any go-plugin plugin (server). Only ECDSA on BORINGSSL_CURVES and RSA stay on gRPC's
    own TLS; any other key type goes through OpenSSL, which is slower but handles it."""
    if cert.startswith(b"-----BEGIN"):
        key = x509.load_pem_x509_certificate(cert).public_key()
    else:
        key = x509.load_der_x509_certificate(cert).public_key()
    if isinstance(key, ec.EllipticCurvePublicKey):
        return key.curve.name not in BORINGSSL_CURVES
    return not isinstance(key, rsa.RSAPublicKey)


def server_credentials(server: CertificateBundle, client_cert_pem: bytes) -> grpc.ServerCredentials:
    """Plugin side: serve with `server`'s certificate and REQUIRE a client certificate that is exactly the
    host's (it is the only trusted root). The PEM is validated first so that a bad PLUGIN_CLIENT_CERT is a
    clear error at start-up, not a failed handshake later."""
    pem_to_der(client_cert_pem)
    return grpc.ssl_server_credentials(
        [(server.key_pem, server.cert_pem)],
        root_certificates=client_cert_pem,
        require_client_auth=True,
    )


def channel_credentials(plugin_cert: bytes, client: CertificateBundle) -> grpc.ChannelCredentials:
    """Host side: trust only the plugin's certificate (DER from the handshake, or PEM) and present the
    host's. Dial with TLS_CHANNEL_OPTIONS so the name checked is `localhost`."""
    root_pem = plugin_cert if plugin_cert.startswith(b"-----BEGIN") else der_to_pem(plugin_cert)
    return grpc.ssl_channel_credentials(
        root_certificates=root_pem, private_key=client.key_pem, certificate_chain=client.cert_pem
    )
