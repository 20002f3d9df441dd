"""Unit tests of the streamed uploader's layer (part cutting, failure handling) with an in-process fake S3
client; the real path is covered against moto in test_aws_object_store.py and the process tests."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from veloro_plugins.aws.multipart import (
    MAX_PARTS,
    MIN_PART_SIZE,
    PARTS_PER_SIZE_STEP,
    StreamedUpload,
    UploadSpec,
    part_size_for,
    parts_of,
)

MiB = 1024 * 1024


def test_parts_are_cut_at_the_target_and_keep_every_byte() -> None:
    chunks = [bytes([i % 256]) * 3000 for i in range(100)]  # 300,000 bytes
    parts = list(parts_of(iter(chunks), 64_000))
    assert b"".join(parts) == b"".join(chunks)
    assert all(64_000 <= len(p) < 64_000 + 3000 for p in parts[:-1])
    assert len(parts[-1]) <= 64_000


def test_empty_body_is_one_empty_part() -> None:
    assert list(parts_of(iter([]), MIN_PART_SIZE)) == [b""]
    assert list(parts_of(iter([b"", b""]), MIN_PART_SIZE)) == [b""]


def test_part_size_grows_so_unknown_sizes_fit_in_10000_parts() -> None:
    assert part_size_for(1, 16 * MiB) == 16 * MiB
    assert part_size_for(PARTS_PER_SIZE_STEP + 1, 16 * MiB) == 32 * MiB
    capacity = sum(part_size_for(n, 16 * MiB) for n in range(1, MAX_PARTS + 1))
    assert capacity > 900 * 1024**3  # close to 1 TiB with 16 MiB base parts


class FakeS3:
    """Records calls; fails UploadPart number `fail_part`."""

    def __init__(self, fail_part: int = 0) -> None:
        self.fail_part = fail_part
        self.calls: list[str] = []
        self.parts: dict[int, int] = {}
        self.lock = threading.Lock()

    def put_object(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append("put_object")
        return {}

    def create_multipart_upload(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append("create")
        return {"UploadId": "u1"}

    def upload_part(self, **kwargs: Any) -> dict[str, Any]:
        number = kwargs["PartNumber"]
        if number == self.fail_part:
            raise RuntimeError(f"part {number} failed")
        with self.lock:
            self.parts[number] = len(kwargs["Body"])
        return {"ETag": f'"e{number}"', "ChecksumCRC32": "AAAA"}

    def complete_multipart_upload(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append("complete")
        self.completed = kwargs["MultipartUpload"]["Parts"]
        return {}

    def abort_multipart_upload(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append("abort")
        return {}


def body(total_mib: int, read: list[int]) -> Iterator[bytes]:
    for _ in range(total_mib):
        read[0] += 1
        yield b"x" * MiB


def test_completes_with_parts_in_order_and_checksums() -> None:
    s3 = FakeS3()
    spec = UploadSpec("b", "k", checksum_algorithm="CRC32")
    StreamedUpload(s3, spec, part_size=5 * MiB, concurrency=3).run(body(23, [0]))
    assert s3.calls == ["create", "complete"]
    assert [p["PartNumber"] for p in s3.completed] == [1, 2, 3, 4, 5]
    assert all(p["ChecksumCRC32"] == "AAAA" for p in s3.completed)
    assert sum(s3.parts.values()) == 23 * MiB


def test_small_body_is_a_single_put() -> None:
    s3 = FakeS3()
    StreamedUpload(s3, UploadSpec("b", "k"), part_size=5 * MiB, concurrency=2).run(body(4, [0]))
    assert s3.calls == ["put_object"]


def test_failed_part_aborts_and_stops_reading_early() -> None:
    s3 = FakeS3(fail_part=2)
    read = [0]
    upload = StreamedUpload(s3, UploadSpec("b", "k"), part_size=5 * MiB, concurrency=1)
    with pytest.raises(RuntimeError, match="part 2 failed"):
        upload.run(body(200, read))
    assert s3.calls == ["create", "abort"]
    assert read[0] < 30, "the body must not be read to the end once a part failed"


def test_part_size_below_s3_minimum_is_refused() -> None:
    with pytest.raises(ValueError, match="below S3's minimum"):
        StreamedUpload(FakeS3(), UploadSpec("b", "k"), part_size=MiB, concurrency=1)
