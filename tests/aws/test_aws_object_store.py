"""S3ObjectStore against moto's server (real HTTP): round trips, multipart, lists, signed URLs, errors."""

from __future__ import annotations

import hashlib
import os
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from aws_helpers import SECRET_KEY, Moto, free_port
from veloro_sdk.contracts import PluginError

from veloro_plugins.aws import S3ObjectStore

MiB = 1024 * 1024


def chunks(data: bytes, size: int = 16 * 1024) -> Iterator[bytes]:
    """Like a Go host: the body arrives in 16 KiB messages."""
    for start in range(0, len(data), size):
        yield data[start : start + size]


def make_store(config: dict[str, str], **kwargs: int) -> S3ObjectStore:
    store = S3ObjectStore(**kwargs)
    store.init(config)
    return store


def test_small_object_round_trip_exists_delete(store_config: dict[str, str], moto: Moto, bucket: str) -> None:
    store = make_store(store_config)
    assert not store.object_exists(bucket, "backups/b1/velero-backup.json")
    store.put_object(bucket, "backups/b1/velero-backup.json", [b'{"kind":', b'"Backup"}'])
    assert store.object_exists(bucket, "backups/b1/velero-backup.json")
    assert b"".join(store.get_object(bucket, "backups/b1/velero-backup.json")) == b'{"kind":"Backup"}'
    store.delete_object(bucket, "backups/b1/velero-backup.json")
    assert not store.object_exists(bucket, "backups/b1/velero-backup.json")
    store.delete_object(bucket, "backups/b1/velero-backup.json")  # deleting a missing key is fine


def test_empty_object(store_config: dict[str, str], bucket: str) -> None:
    store = make_store(store_config)
    store.put_object(bucket, "empty", [])
    store.put_object(bucket, "empty2", [b""])
    assert store.object_exists(bucket, "empty")
    assert b"".join(store.get_object(bucket, "empty")) == b""
    assert b"".join(store.get_object(bucket, "empty2")) == b""


def test_multipart_streamed_in_16k_chunks(store_config: dict[str, str], moto: Moto, bucket: str) -> None:
    data = os.urandom(12 * MiB + 12345)
    store = make_store(store_config, part_size=5 * MiB, concurrency=2)
    store.put_object(bucket, "backups/big/big.tar.gz", chunks(data))

    head = moto.client("s3").head_object(Bucket=bucket, Key="backups/big/big.tar.gz")
    assert head["ContentLength"] == len(data)
    assert head["ETag"].strip('"').endswith("-3"), "expected a 3-part multipart upload"
    got = hashlib.sha256()
    sizes = []
    for piece in store.get_object(bucket, "backups/big/big.tar.gz"):
        sizes.append(len(piece))
        got.update(piece)
    assert got.hexdigest() == hashlib.sha256(data).hexdigest()
    assert max(sizes) <= MiB  # streamed in bounded chunks, not one read


def test_failed_body_aborts_multipart_and_leaves_nothing(
    store_config: dict[str, str], moto: Moto, bucket: str
) -> None:
    def broken() -> Iterator[bytes]:
        yield from chunks(os.urandom(11 * MiB), 1024 * 1024)
        raise ConnectionError("host stream broke")

    store = make_store(store_config, part_size=5 * MiB, concurrency=2)
    with pytest.raises(ConnectionError, match="host stream broke"):
        store.put_object(bucket, "backups/half/half.tar.gz", broken())
    admin = moto.client("s3")
    assert admin.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    assert not store.object_exists(bucket, "backups/half/half.tar.gz")


def test_failed_small_body_writes_nothing(store_config: dict[str, str], bucket: str) -> None:
    def broken() -> Iterator[bytes]:
        yield b"partial"
        raise ConnectionError("gone")

    store = make_store(store_config)
    with pytest.raises(ConnectionError):
        store.put_object(bucket, "x", broken())
    assert not store.object_exists(bucket, "x")


def test_list_semantics(store_config: dict[str, str], bucket: str) -> None:
    store = make_store(store_config)
    for key in [
        "backups/a/a.tar.gz",
        "backups/a/meta.json",
        "backups/b/b.tar.gz",
        "restores/r1/log.gz",
        "top",
    ]:
        store.put_object(bucket, key, [key.encode()])
    assert store.list_common_prefixes(bucket, "", "/") == ["backups/", "restores/"]
    assert store.list_common_prefixes(bucket, "backups/", "/") == ["backups/a/", "backups/b/"]
    assert store.list_common_prefixes(bucket, "nothing/", "/") == []
    # reverse order, as Velero (pseudo-folder objects are deleted after the keys below them)
    assert store.list_objects(bucket, "backups/a/") == ["backups/a/meta.json", "backups/a/a.tar.gz"]
    assert len(store.list_objects(bucket, "")) == 5
    assert store.list_objects(bucket, "none/") == []


def test_list_objects_follows_pages(store_config: dict[str, str], moto: Moto, bucket: str) -> None:
    """S3 returns at most 1000 keys per page: more than that must come back complete."""
    admin = moto.client("s3")
    from concurrent.futures import ThreadPoolExecutor

    keys = [f"backups/many/{i:05d}" for i in range(1010)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda k: admin.put_object(Bucket=bucket, Key=k, Body=b""), keys))
    store = make_store(store_config)
    assert sorted(store.list_objects(bucket, "backups/many/")) == keys
    assert store.list_common_prefixes(bucket, "backups/", "/") == ["backups/many/"]


def test_signed_url_downloadable(store_config: dict[str, str], bucket: str) -> None:
    store = make_store(store_config)
    store.put_object(bucket, "backups/b1/b1-logs.gz", [b"log line\n"])
    url = store.create_signed_url(bucket, "backups/b1/b1-logs.gz", timedelta(minutes=10))
    assert parse_qs(urlparse(url).query)["X-Amz-Expires"] == ["600"]
    assert SECRET_KEY not in url
    assert store_config["credentialsFile"] not in url
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.read() == b"log line\n"


def test_signed_url_uses_public_url(store_config: dict[str, str], moto: Moto, bucket: str) -> None:
    public = moto.url.replace("127.0.0.1", "localhost")
    store = make_store({**store_config, "publicUrl": public})
    store.put_object(bucket, "k", [b"public"])
    url = store.create_signed_url(bucket, "k", timedelta(minutes=1))
    assert url.startswith(public + "/")
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.read() == b"public"


def test_missing_bucket_message(store_config: dict[str, str], moto: Moto) -> None:
    store = make_store({**store_config, "bucket": "no-such-bucket"})
    expected = (
        f"bucket 'no-such-bucket' does not exist at {moto.url}: create it or fix spec.objectStorage.bucket"
    )
    with pytest.raises(PluginError) as put_err:
        store.put_object("no-such-bucket", "k", [b"x"])
    assert str(put_err.value) == expected
    with pytest.raises(PluginError) as big_err:
        store.put_object("no-such-bucket", "k", chunks(os.urandom(9 * MiB), MiB))
    assert str(big_err.value) == expected
    with pytest.raises(PluginError) as list_err:
        store.list_objects("no-such-bucket", "")
    assert str(list_err.value) == expected


def test_missing_key_raises_on_get(store_config: dict[str, str], moto: Moto, bucket: str) -> None:
    store = make_store(store_config)
    with pytest.raises(PluginError, match=r"object .nope. in bucket .* does not exist"):
        store.get_object(bucket, "nope")


def test_unreachable_endpoint_message(store_config: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")  # the standard AWS knob; retries only make the test slow
    url = f"http://127.0.0.1:{free_port()}"
    store = make_store({**store_config, "s3Url": url})
    with pytest.raises(PluginError, match=f"cannot reach {url}"):
        store.object_exists(store_config["bucket"], "k")


def test_region_discovered_from_bucket(store_config: dict[str, str], moto: Moto) -> None:
    moto.client("s3", "eu-west-1").create_bucket(
        Bucket="veloro-in-ireland", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    config = {k: v for k, v in store_config.items() if k != "region"}
    store = make_store({**config, "bucket": "veloro-in-ireland"})
    assert store.region == "eu-west-1"
    store.put_object("veloro-in-ireland", "k", [b"v"])
    assert b"".join(store.get_object("veloro-in-ireland", "k")) == b"v"
    # an unknown bucket falls back to us-east-1 (the later calls then say the bucket is missing)
    assert make_store({**config, "bucket": "veloro-not-there"}).region == "us-east-1"


def test_checksum_algorithm(store_config: dict[str, str], moto: Moto, bucket: str) -> None:
    admin = moto.client("s3")
    make_store(store_config).put_object(bucket, "crc", [b"data"])
    head = admin.head_object(Bucket=bucket, Key="crc", ChecksumMode="ENABLED")
    assert "ChecksumCRC32" in head  # Velero's default
    make_store({**store_config, "checksumAlgorithm": "SHA256"}).put_object(bucket, "sha", [b"data"])
    assert "ChecksumSHA256" in admin.head_object(Bucket=bucket, Key="sha", ChecksumMode="ENABLED")
    make_store({**store_config, "checksumAlgorithm": ""}).put_object(bucket, "none", [b"data"])
    assert "ChecksumCRC32" not in admin.head_object(Bucket=bucket, Key="none", ChecksumMode="ENABLED")
    with pytest.raises(PluginError, match="invalid checksumAlgorithm 'MD4'"):
        make_store({**store_config, "checksumAlgorithm": "MD4"})


def test_server_side_encryption_and_tagging(store_config: dict[str, str], moto: Moto, bucket: str) -> None:
    admin = moto.client("s3")
    store = make_store({**store_config, "serverSideEncryption": "AES256", "tagging": "team=backup&env=test"})
    store.put_object(bucket, "sse", [b"secret-ish"])
    store.put_object(bucket, "sse-big", chunks(os.urandom(11 * MiB), MiB))
    for key in ("sse", "sse-big"):
        assert admin.head_object(Bucket=bucket, Key=key)["ServerSideEncryption"] == "AES256"
    tags = admin.get_object_tagging(Bucket=bucket, Key="sse")["TagSet"]
    assert {t["Key"]: t["Value"] for t in tags} == {"team": "backup", "env": "test"}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"s3URL": "x"}, r"invalid keys \['s3URL'\]"),
        ({"s3ForcePathStyle": "maybe"}, "could not parse config s3ForcePathStyle='maybe'"),
        ({"s3Url": "ftp://x"}, "must be a URL starting with http"),
        ({"credentialsFile": "/nonexistent/creds"}, "credentialsFile '/nonexistent/creds' does not exist"),
        ({"profile": "nobody"}, "AWS profile 'nobody' not found"),
        ({"signatureVersion": "3"}, "invalid signatureVersion"),
    ],
)
def test_bad_config_is_a_clear_init_error(
    store_config: dict[str, str], extra: dict[str, str], message: str
) -> None:
    with pytest.raises(PluginError, match=message):
        make_store({**store_config, **extra})


def test_credentials_file_wins_over_environment(
    store_config: dict[str, str], bucket: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The credential the location names is used even when other keys are in the environment."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAENVIRONMENT00000")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "from-env")
    store = make_store(store_config)
    creds = store._ready().client._request_signer._credentials  # the signer's credentials
    assert creds.access_key != "AKIAENVIRONMENT00000"
    profile_file = tmp_path / "creds"
    profile_file.write_text("[other]\naws_access_key_id = AKIAOTHER0000000000\naws_secret_access_key = s\n")
    other = make_store({**store_config, "credentialsFile": str(profile_file), "profile": "other"})
    assert other._ready().client._request_signer._credentials.access_key == "AKIAOTHER0000000000"


def test_reinit_replaces_config_and_removes_ca_file(store_config: dict[str, str], bucket: str) -> None:
    store = make_store(
        {**store_config, "caCert": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"}
    )
    ca_path = store._ready().ca_bundle.path
    assert ca_path is not None and os.path.exists(ca_path)
    assert os.stat(ca_path).st_mode & 0o077 == 0, "the CA file must be private"
    store.init(store_config)
    assert not os.path.exists(ca_path)
    store.put_object(bucket, "after-reinit", [b"ok"])
    assert store.object_exists(bucket, "after-reinit")


def test_used_before_init_is_a_clear_error() -> None:
    with pytest.raises(PluginError, match="before Init"):
        S3ObjectStore().object_exists("b", "k")


def test_put_memory_is_bounded_by_parts_in_flight(store_config: dict[str, str], bucket: str) -> None:
    """60 MiB through 5 MiB parts with 2 uploads in flight: Python allocations stay within
    (concurrency + 2) parts (in flight, the one being joined and its chunks), not the object size. A part
    may overshoot its target by less than one 1 MiB chunk, hence 6 MiB per part below."""
    import tracemalloc

    block = os.urandom(MiB)

    def body() -> Iterator[bytes]:
        for _ in range(60):
            yield bytes(bytearray(block))  # a fresh 1 MiB object per chunk, like a network stream

    store = make_store(store_config, part_size=5 * MiB, concurrency=2)
    store.put_object(bucket, "warm-up", [b"x"])  # connection pools etc. are not what is measured
    tracemalloc.start()
    try:
        store.put_object(bucket, "bounded", body())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < (2 + 2) * 6 * MiB + MiB, f"peak {peak / MiB:.1f} MiB"
    assert store.object_exists(bucket, "bounded")
