"""Streamed upload of a body of unknown length with bounded memory.

The body arrives as a stream of chunks (16 KiB from Go hosts, up to 1 MiB from ours) of unknown total
length. Chunks are gathered into parts; the first part decides the shape: a body that ends before one
part fills is a single PutObject, anything longer a multipart upload whose parts are uploaded by a small
thread pool while later parts are still arriving. At most `concurrency` parts are in flight plus the one
being filled, so memory is bounded by about (concurrency + 1) x part size whatever the object size. Any
failure (the body's iterator, a part, completion) aborts the upload so no partial object is left.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import structlog

log = structlog.get_logger(__name__)

MIN_PART_SIZE = 5 * 1024 * 1024  # S3's minimum for every part but the last
MAX_PARTS = 10_000  # S3's maximum number of parts
# Part size doubles every this many parts so an object of unknown size can still reach hundreds of GiB
# (8 MiB parts alone would stop at 78 GiB) without making small uploads use huge parts.
PARTS_PER_SIZE_STEP = 2_000


@dataclass
class UploadSpec:
    """How to upload: the target and the extra arguments every request needs (encryption, checksum)."""

    bucket: str
    key: str
    put_args: dict[str, Any] = field(default_factory=dict)  # for PutObject and CreateMultipartUpload
    part_args: dict[str, Any] = field(default_factory=dict)  # for UploadPart
    checksum_algorithm: str = ""


def part_size_for(part_number: int, base: int) -> int:
    """Target size of part `part_number` (1-based)."""
    return int(base * 2 ** ((part_number - 1) // PARTS_PER_SIZE_STEP))


def parts_of(body: Iterable[bytes], base_part_size: int) -> Iterator[bytes]:
    """Re-cut the chunks of `body` into parts of at least the target size (the last may be smaller).

    A part may exceed its target by less than one chunk: cutting exactly would cost a second copy.
    """
    pending: list[bytes] = []
    size = 0
    number = 1
    target = part_size_for(number, base_part_size)
    for chunk in body:  # hot loop: a Go host sends 65,536 chunks per GiB
        if not chunk:
            continue
        pending.append(chunk)
        size += len(chunk)
        if size >= target:
            size, number = 0, number + 1
            target = part_size_for(number, base_part_size)
            yield _take(pending)
    if pending or number == 1:
        yield _take(pending)


def _take(pending: list[bytes]) -> bytes:
    """Join and empty `pending` in one step, so the generator's frame keeps no copy of a yielded part."""
    joined = b"".join(pending)
    pending.clear()
    return joined


class StreamedUpload:
    """One upload of one body. `run()` returns when the object is complete, or raises after aborting."""

    def __init__(self, client: Any, spec: UploadSpec, *, part_size: int, concurrency: int) -> None:
        if part_size < MIN_PART_SIZE:
            raise ValueError(f"part size {part_size} is below S3's minimum of {MIN_PART_SIZE} bytes")
        self._client = client
        self._spec = spec
        self._part_size = part_size
        self._concurrency = max(1, concurrency)
        self._upload_id = ""

    def run(self, body: Iterable[bytes]) -> None:
        parts = parts_of(body, self._part_size)
        head = [next(parts)]
        second = next(parts, None)
        if second is None:
            self._client.put_object(
                Bucket=self._spec.bucket, Key=self._spec.key, Body=head.pop(), **self._spec.put_args
            )
            return
        head.append(second)
        del second
        self._multipart(_chain(head, parts))

    def _multipart(self, parts: Iterator[bytes]) -> None:
        spec = self._spec
        created = self._client.create_multipart_upload(Bucket=spec.bucket, Key=spec.key, **spec.put_args)
        self._upload_id = created["UploadId"]
        slots = _Slots(self._concurrency)
        futures: list[Future[dict[str, Any]]] = []
        pool = ThreadPoolExecutor(max_workers=self._concurrency, thread_name_prefix="s3-part")
        try:
            for number, data in enumerate(parts, start=1):
                if number > MAX_PARTS:
                    raise ValueError(f"object {spec.key!r} needs more than {MAX_PARTS} parts")
                slots.acquire()  # back-pressure: stop reading the body while all workers are busy
                future = pool.submit(self._upload_part, number, data)
                del data  # the worker owns the part now; keep no second reference
                future.add_done_callback(slots.release)
                futures.append(future)
            pool.shutdown(wait=True)
            completed = [f.result() for f in futures]
            self._client.complete_multipart_upload(
                Bucket=spec.bucket,
                Key=spec.key,
                UploadId=self._upload_id,
                MultipartUpload={"Parts": completed},
            )
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)  # parts still running must end before the abort
            self._abort()
            raise

    def _upload_part(self, number: int, data: bytes) -> dict[str, Any]:
        spec = self._spec
        response = self._client.upload_part(
            Bucket=spec.bucket,
            Key=spec.key,
            UploadId=self._upload_id,
            PartNumber=number,
            Body=data,
            **spec.part_args,
        )
        part: dict[str, Any] = {"PartNumber": number, "ETag": response["ETag"]}
        if spec.checksum_algorithm:
            checksum_key = f"Checksum{spec.checksum_algorithm.upper()}"
            if checksum_key in response:
                part[checksum_key] = response[checksum_key]
        return part

    def _abort(self) -> None:
        try:
            self._client.abort_multipart_upload(
                Bucket=self._spec.bucket, Key=self._spec.key, UploadId=self._upload_id
            )
        except Exception as exc:  # the original error matters more; leftover parts expire by lifecycle
            log.warning(
                "could not abort the multipart upload",
                bucket=self._spec.bucket,
                key=self._spec.key,
                error=f"{type(exc).__name__}: {exc}",
            )


def _chain(head: list[bytes], rest: Iterator[bytes]) -> Iterator[bytes]:
    """Yield the already-read parts, dropping each reference as it goes, then the rest."""
    while head:
        yield head.pop(0)
    yield from rest


class _Slots:
    """A semaphore of in-flight parts that also remembers the first failed part, so the producer stops
    reading a big body as soon as one part failed instead of at the end."""

    def __init__(self, count: int) -> None:
        self._semaphore = threading.BoundedSemaphore(count)
        self._failed: Future[dict[str, Any]] | None = None

    def acquire(self) -> None:
        self._semaphore.acquire()
        if self._failed is not None:
            self._failed.result()  # raises the part's error

    def release(self, future: Future[dict[str, Any]]) -> None:
        if self._failed is None and not future.cancelled() and future.exception() is not None:
            self._failed = future
        self._semaphore.release()
