"""Refused credentials, denied access and TLS, each against a dedicated moto server.

moto accepts any key by default; with INITIAL_NO_AUTH_ACTION_COUNT it enforces IAM authentication after
that many requests, so the first requests create a user, its key and policy, then every later request
is checked: unknown key -> InvalidAccessKeyId, wrong secret -> SignatureDoesNotMatch, key without
permission -> AccessDenied.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from aws_helpers import Moto, run_moto
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from veloro_sdk.contracts import PluginError

from veloro_plugins.aws import S3ObjectStore

SETUP_REQUESTS = 7  # the unauthenticated requests of iam_moto below, in order
BUCKET = "veloro-auth"


@pytest.fixture(scope="module")
def iam_moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Moto, dict[str, tuple[str, str]]]]:
    env = {"INITIAL_NO_AUTH_ACTION_COUNT": str(SETUP_REQUESTS)}
    with run_moto(tmp_path_factory.mktemp("iam-moto"), env=env) as server:
        iam = server.client("iam")
        keys: dict[str, tuple[str, str]] = {}
        iam.create_user(UserName="backup")  # 1
        key = iam.create_access_key(UserName="backup")["AccessKey"]  # 2
        keys["allowed"] = (key["AccessKeyId"], key["SecretAccessKey"])
        policy = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
        }
        arn = iam.create_policy(PolicyName="s3-all", PolicyDocument=json.dumps(policy))["Policy"]["Arn"]  # 3
        iam.attach_user_policy(UserName="backup", PolicyArn=arn)  # 4
        iam.create_user(UserName="nobody")  # 5
        key = iam.create_access_key(UserName="nobody")["AccessKey"]  # 6
        keys["denied"] = (key["AccessKeyId"], key["SecretAccessKey"])
        server.client("s3").create_bucket(Bucket=BUCKET)  # 7
        yield server, keys


def store_for(moto: Moto, tmp_path: Path, access_key: str, secret_key: str) -> S3ObjectStore:
    creds = tmp_path / "cloud"
    creds.write_text(f"[default]\naws_access_key_id={access_key}\naws_secret_access_key={secret_key}\n")
    store = S3ObjectStore()
    store.init({"s3Url": moto.url, "s3ForcePathStyle": "true", "region": "us-east-1", "bucket": BUCKET,
                "credentialsFile": str(creds)})  # fmt: skip
    return store


def test_valid_credentials_work(iam_moto: tuple[Moto, dict[str, tuple[str, str]]], tmp_path: Path) -> None:
    moto, keys = iam_moto
    store = store_for(moto, tmp_path, *keys["allowed"])
    store.put_object(BUCKET, "ok", [b"fine"])
    assert b"".join(store.get_object(BUCKET, "ok")) == b"fine"


@pytest.mark.parametrize("case", ["unknown key", "wrong secret"])
def test_refused_credentials_message(
    iam_moto: tuple[Moto, dict[str, tuple[str, str]]], tmp_path: Path, case: str
) -> None:
    moto, keys = iam_moto
    access_key, secret = keys["allowed"]
    if case == "unknown key":
        access_key, code = "AKIAUNKNOWNUNKNOWN00", "InvalidAccessKeyId"
    else:
        secret, code = "not-the-secret-at-all", "SignatureDoesNotMatch"
    store = store_for(moto, tmp_path, access_key, secret)
    for call in (lambda: store.put_object(BUCKET, "k", [b"x"]), lambda: store.list_objects(BUCKET, "")):
        with pytest.raises(PluginError) as err:
            call()
        text = str(err.value)
        assert text.startswith(f"the credentials were refused by {moto.url} ({code})")
        assert "check the secret" in text
        assert access_key not in text and secret not in text


def test_denied_access_message(iam_moto: tuple[Moto, dict[str, tuple[str, str]]], tmp_path: Path) -> None:
    moto, keys = iam_moto
    store = store_for(moto, tmp_path, *keys["denied"])
    with pytest.raises(PluginError, match=f"access denied by {moto.url} to upload object 'k'"):
        store.put_object(BUCKET, "k", [b"x"])


# -- TLS: moto serving HTTPS with a certificate from our own CA ------------------------------------------


def _tls_material(directory: Path) -> tuple[Path, Path, str]:
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "veloro test CA")])
    ca = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    key = ec.generate_private_key(ec.SECP256R1())
    ip_san = x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(ip_san, critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    cert_path, key_path = directory / "server.pem", directory / "server.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path, ca.public_bytes(serialization.Encoding.PEM).decode()


@pytest.fixture(scope="module")
def tls_moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Moto, str]]:
    directory = tmp_path_factory.mktemp("tls-moto")
    cert, key, ca_pem = _tls_material(directory)
    with run_moto(directory, tls=(cert, key)) as server:
        server.client("s3").create_bucket(Bucket=BUCKET)
        yield server, ca_pem


def test_tls_with_ca_cert(
    tls_moto: tuple[Moto, str], store_config: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")  # a refused certificate is not worth retrying here
    moto, ca_pem = tls_moto
    base = {**store_config, "s3Url": moto.url, "bucket": BUCKET}

    trusted = S3ObjectStore()
    trusted.init({**base, "caCert": ca_pem})
    trusted.put_object(BUCKET, "tls", [b"over tls"])
    assert b"".join(trusted.get_object(BUCKET, "tls")) == b"over tls"

    untrusted = S3ObjectStore()
    untrusted.init(base)
    with pytest.raises(PluginError, match=f"TLS verification of {moto.url} failed.*caCert"):
        untrusted.object_exists(BUCKET, "tls")

    insecure = S3ObjectStore()
    insecure.init({**base, "insecureSkipTLSVerify": "true"})
    assert insecure.object_exists(BUCKET, "tls")
