"""The filesystem store lists exactly as S3 does: the same keys are written to veloro.io/filesystem and to a
real S3 implementation (moto in server mode, over HTTP) and every (prefix, delimiter) query must agree."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest

from veloro_plugins.filesystem import FileSystemObjectStore

BUCKET = "kit-bucket"
KEYS = [
    "pfx/backups/b1/b1.tar.gz",
    "pfx/backups/b1/velero-backup.json",
    "pfx/backups/b10/velero-backup.json",
    "pfx/backups/b2/b2-logs.gz",
    "pfx/restores/r-1/restore-r-1-logs.gz",
    "pfx/metadata/revision",
    "pfx/top-level-file",
    "pfx.sibling/x",
    "other/deep/er/file.txt",
    "root-file",
]
QUERIES = [
    ("", "/"),
    ("pfx/", "/"),
    ("pfx", "/"),
    ("pfx/backups/", "/"),
    ("pfx/backups/b1", "/"),
    ("pfx/backups/b1/", "/"),
    ("pfx/", "-"),
    ("pfx/backups/", "."),
    ("other/", "/"),
    ("nothing/", "/"),
    ("pfx/top-level-file", "/"),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def s3() -> Iterator[Any]:
    boto3 = pytest.importorskip("boto3")
    pytest.importorskip("moto.server")
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    pytest.fail("moto server did not start")
                time.sleep(0.1)
        client = boto3.client(
            "s3",
            endpoint_url=f"http://127.0.0.1:{port}",
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )
        client.create_bucket(Bucket=BUCKET)
        for key in KEYS:
            client.put_object(Bucket=BUCKET, Key=key, Body=key.encode())
        yield client
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture(scope="module")
def fs(tmp_path_factory: pytest.TempPathFactory) -> FileSystemObjectStore:
    store = FileSystemObjectStore()
    store.init({"root": str(tmp_path_factory.mktemp("fs")), "bucket": BUCKET})
    for key in KEYS:
        store.put_object(BUCKET, key, [key.encode()])
    return store


@pytest.mark.parametrize(("prefix", "delimiter"), QUERIES)
def test_common_prefixes_match_s3(s3: Any, fs: FileSystemObjectStore, prefix: str, delimiter: str) -> None:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix, Delimiter=delimiter)
    expected = sorted(p["Prefix"] for page in pages for p in page.get("CommonPrefixes", []))
    assert fs.list_common_prefixes(BUCKET, prefix, delimiter) == expected


@pytest.mark.parametrize("prefix", sorted({q[0] for q in QUERIES}))
def test_list_objects_match_s3(s3: Any, fs: FileSystemObjectStore, prefix: str) -> None:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
    expected = [o["Key"] for page in pages for o in page.get("Contents", [])]
    assert fs.list_objects(BUCKET, prefix) == expected
