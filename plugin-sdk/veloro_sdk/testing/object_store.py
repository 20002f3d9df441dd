"""ObjectStore contract checks, written against the ABC so that they run on an in-process instance or on a
gRPC client of a plugin process alike.

Every key is written under a fresh `veloro-conformance/<run-id>/` prefix and deleted at the end, so the
checks can run against a real bucket that holds other data.
"""

from __future__ import annotations

import hashlib
import random
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta

from veloro_sdk.contracts import ObjectStore
from veloro_sdk.testing.report import CheckFailed, CheckResult, SkipCheck, run_check

KIND = "ObjectStore"
DEFAULT_BUCKET = "veloro-conformance"
GO_CHUNK = 16 * 1024  # what a Go host sends per PutObject message
LARGE_SIZE = 3 * 1024 * 1024 + 4321  # multi-MiB and not a multiple of the chunk size


@dataclass
class ObjectStoreOptions:
    """What the checks need beyond the store: its Init config and the bucket to write in."""

    config: dict[str, str] = field(default_factory=dict)
    bucket: str = DEFAULT_BUCKET
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    large_size: int = LARGE_SIZE

    @property
    def base(self) -> str:
        return f"veloro-conformance/{self.run_id}/"


def chunked(data: bytes, size: int = GO_CHUNK) -> Iterator[bytes]:
    """The body as a Go host streams it; an empty object is one empty chunk."""
    if not data:
        yield b""
        return
    for offset in range(0, len(data), size):
        yield data[offset : offset + size]


def read_all(store: ObjectStore, bucket: str, key: str) -> bytes:
    return b"".join(store.get_object(bucket, key))


def _expect_equal(what: str, got: object, want: object) -> None:
    if got != want:
        raise CheckFailed(f"{what}: expected {want!r}, got {got!r}")


class _ObjectStoreChecks:
    def __init__(self, store: ObjectStore, options: ObjectStoreOptions) -> None:
        self.store = store
        self.opts = options
        self.bucket = options.bucket
        self.base = options.base
        self.written: set[str] = set()

    def _put(self, key: str, data: bytes, chunk: int = GO_CHUNK) -> None:
        self.written.add(key)
        self.store.put_object(self.bucket, key, chunked(data, chunk))

    def init(self) -> str:
        self.store.init(dict(self.opts.config))
        return f"bucket {self.bucket!r}"

    def empty_object(self) -> None:
        key = self.base + "empty"
        self._put(key, b"")
        _expect_equal("get of the empty object", read_all(self.store, self.bucket, key), b"")

    def large_object(self) -> str:
        data = random.Random(self.opts.run_id).randbytes(self.opts.large_size)
        key = self.base + "large.bin"
        self._put(key, data)
        got = read_all(self.store, self.bucket, key)
        if got != data:
            raise CheckFailed(
                f"read back {len(got)} bytes (sha256 {hashlib.sha256(got).hexdigest()[:12]}), wrote "
                f"{len(data)} (sha256 {hashlib.sha256(data).hexdigest()[:12]})"
            )
        return f"{len(data)} bytes in {GO_CHUNK // 1024} KiB chunks"

    def overwrite(self) -> None:
        key = self.base + "overwrite.txt"
        self._put(key, b"first version, longer than the second")
        self._put(key, b"second")
        _expect_equal("get after overwrite", read_all(self.store, self.bucket, key), b"second")

    def exists(self) -> None:
        key = self.base + "exists.txt"
        self._put(key, b"x")
        _expect_equal(f"object_exists({key!r})", self.store.object_exists(self.bucket, key), True)
        missing = self.base + "missing.txt"
        _expect_equal(f"object_exists({missing!r})", self.store.object_exists(self.bucket, missing), False)

    def _layout(self) -> list[str]:
        keys = [
            self.base + "tree/backups/b1/b1.tar.gz",
            self.base + "tree/backups/b1/velero-backup.json",
            self.base + "tree/backups/b2/velero-backup.json",
            self.base + "tree/restores/r1/restore-r1-logs.gz",
            self.base + "tree/top.txt",
        ]
        for key in keys:
            self._put(key, key.encode())
        return keys

    def list_objects(self) -> None:
        keys = self._layout()
        tree = self.base + "tree/"
        _expect_equal(
            f"list_objects({tree!r})", sorted(self.store.list_objects(self.bucket, tree)), sorted(keys)
        )
        partial = tree + "backups/b"
        want = sorted(k for k in keys if k.startswith(partial))
        _expect_equal(
            f"list_objects({partial!r})", sorted(self.store.list_objects(self.bucket, partial)), want
        )
        nothing = self.base + "no-such-folder/"
        _expect_equal(f"list_objects({nothing!r})", self.store.list_objects(self.bucket, nothing), [])

    def common_prefixes(self) -> None:
        self._layout()
        tree = self.base + "tree/"

        def cps(prefix: str) -> list[str]:
            return sorted(self.store.list_common_prefixes(self.bucket, prefix, "/"))

        _expect_equal(f"common prefixes of {tree!r}", cps(tree), [tree + "backups/", tree + "restores/"])
        backups = tree + "backups/"
        _expect_equal(f"common prefixes of {backups!r}", cps(backups), [backups + "b1/", backups + "b2/"])
        _expect_equal(f"common prefixes of {self.base!r}", cps(self.base), [tree])

    def delete(self) -> None:
        key = self.base + "delete-me.txt"
        self._put(key, b"x")
        self.store.delete_object(self.bucket, key)
        _expect_equal("object_exists after delete", self.store.object_exists(self.bucket, key), False)
        self.store.delete_object(self.bucket, self.base + "never-written.txt")  # must not raise

    def get_missing(self) -> str:
        key = self.base + "never-written.bin"
        try:
            data = read_all(self.store, self.bucket, key)
        except Exception as exc:  # any error is right; an empty object is not
            return f"error: {type(exc).__name__}"
        raise CheckFailed(f"get_object of a missing key returned {len(data)} bytes instead of an error")

    def signed_url(self) -> str:
        key = self.base + "exists.txt"
        self._put(key, b"x")
        url = self.store.create_signed_url(self.bucket, key, timedelta(minutes=10))
        if not isinstance(url, str) or not url.strip():
            raise CheckFailed(f"create_signed_url returned {url!r}, expected a non-empty URL")
        return url if len(url) <= 80 else url[:77] + "..."

    def cleanup(self) -> str:
        leftover = set(self.store.list_objects(self.bucket, self.base)) | self.written
        for key in sorted(leftover):
            self.store.delete_object(self.bucket, key)
        remaining = self.store.list_objects(self.bucket, self.base)
        if remaining:
            raise CheckFailed(f"{len(remaining)} keys remain after deleting them, e.g. {remaining[0]!r}")
        return f"deleted {len(leftover)} keys"


def check_object_store(
    store: ObjectStore, options: ObjectStoreOptions | None = None, name: str = "object-store"
) -> list[CheckResult]:
    """Run every ObjectStore check on `store`; returns one row per check (never raises for a failure)."""
    checks = _ObjectStoreChecks(store, options or ObjectStoreOptions())
    steps: list[tuple[str, Callable[[], str | None]]] = [
        ("put/get empty object", checks.empty_object),
        ("put/get multi-MiB object in 16 KiB chunks", checks.large_object),
        ("put replaces an existing object", checks.overwrite),
        ("object exists / missing", checks.exists),
        ("list objects by prefix", checks.list_objects),
        ("list common prefixes with '/'", checks.common_prefixes),
        ("delete (and delete of a missing key)", checks.delete),
        ("get of a missing key is an error", checks.get_missing),
        ("create signed URL", checks.signed_url),
        ("clean up test keys", checks.cleanup),
    ]
    init = run_check(KIND, name, "init with config", checks.init)
    results = [init]
    for title, body in steps:
        if not init.passed:
            results.append(run_check(KIND, name, title, _skip("init failed")))
        else:
            results.append(run_check(KIND, name, title, body))
    return results


def _skip(reason: str) -> Callable[[], str | None]:
    def body() -> str | None:
        raise SkipCheck(f"not run: {reason}")

    return body
