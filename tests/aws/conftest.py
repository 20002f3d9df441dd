"""Fixtures for the aws plugin tests: one moto server (subprocess) per session, a fresh bucket per test."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from aws_helpers import ACCESS_KEY, SECRET_KEY, Moto, http_ready, run_moto


@pytest.fixture(scope="session")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Moto]:
    with run_moto(tmp_path_factory.mktemp("moto")) as server:
        http_ready(server.url)
        yield server


@pytest.fixture(scope="session")
def credentials_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("creds") / "cloud"
    path.write_text(f"[default]\naws_access_key_id = {ACCESS_KEY}\naws_secret_access_key = {SECRET_KEY}\n")
    path.chmod(0o600)
    return path


@pytest.fixture
def bucket(moto: Moto) -> str:
    name = f"veloro-{uuid.uuid4().hex[:12]}"
    moto.client("s3").create_bucket(Bucket=name)
    return name


@pytest.fixture
def store_config(moto: Moto, bucket: str, credentials_file: Path) -> dict[str, str]:
    """An Init config as the host sends it for a BSL pointing at moto."""
    return {
        "region": "us-east-1",
        "s3Url": moto.url,
        "s3ForcePathStyle": "true",
        "bucket": bucket,
        "prefix": "",
        "credentialsFile": str(credentials_file),
    }
