"""BackupStore: the backup layout on top of one ObjectStore (a plugin client, or an in-process store).

Write discipline (docs/adr/0002-archive.md): a backup's metadata file is written LAST and only if it does
not exist yet, so a backup is "complete" exactly when `velero-backup.json` exists; a crash or an error at
any earlier point leaves no metadata (and put_backup removes what it wrote). A completed backup's objects
are never rewritten, which keeps the layout usable with S3 object lock. Deletion removes the metadata
FIRST, so a half-deleted backup no longer looks complete either.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import timedelta
from typing import IO, Any, TypeVar

import orjson
import structlog
from veloro_sdk.contracts import ObjectStore

from veloro_core.api.requests import DownloadTargetKind
from veloro_core.persistence.encoding import gunzip_stream, read_json_gz
from veloro_core.persistence.errors import (
    BackupAlreadyExistsError,
    BackupNotFoundError,
    BackupStoreError,
    BackupUploadError,
    CorruptStoreFileError,
    IncompleteBackupError,
    InvalidBackupStoreError,
    StoreUnavailableError,
)
from veloro_core.persistence.layout import ALLOWED_TOP_LEVEL, BackupFile, RestoreFile, StoreLayout

log = structlog.get_logger(__name__)

T = TypeVar("T")
Body = bytes | IO[bytes] | Iterable[bytes]
BACKUP_API_VERSIONS = ("velero.io/v1", "veloro.io/v1")
SIGNED_URL_TTL = timedelta(minutes=10)
_CHUNK = 1 << 20


def as_chunks(body: Body) -> Iterable[bytes]:
    """Any accepted body as an iterable of chunks, never reading a file object whole."""
    if isinstance(body, bytes | bytearray | memoryview):
        data = bytes(body)
        return [data[i : i + _CHUNK] for i in range(0, len(data), _CHUNK)] or [b""]
    read = getattr(body, "read", None)
    if callable(read):
        return iter(lambda: bytes(read(_CHUNK)), b"")
    return body


class BackupStore:
    """The backups and restores of one location: `store` + `bucket` + `prefix` (slashes trimmed)."""

    def __init__(self, store: ObjectStore, bucket: str, prefix: str = "", *, location: str = "") -> None:
        if not bucket:
            raise BackupStoreError("a backup storage location needs a bucket; set spec.objectStorage.bucket")
        self.store = store
        self.bucket = bucket
        self.layout = StoreLayout(prefix)
        self.location = location or f"{bucket}/{self.layout.prefix}".rstrip("/")

    # ----------------------------------------------------------------------------- store calls
    def _call(self, what: str, fn: Callable[..., T], *args: Any) -> T:
        """Run one store call, translating its failures (plugin errors, I/O) into StoreUnavailableError."""
        try:
            return fn(*args)
        except BackupStoreError:
            raise
        except Exception as exc:
            raise StoreUnavailableError(
                f"backup storage location {self.location!r}: {what} failed: {exc}; check the location's "
                "bucket, prefix, credentials and network, and that its object store plugin is running"
            ) from exc

    def _exists(self, key: str) -> bool:
        return bool(self._call(f"checking {key}", self.store.object_exists, self.bucket, key))

    def _stream(self, key: str) -> Iterator[bytes]:
        """Stream an object, translating errors raised on the first or any later chunk."""
        chunks = self._call(f"reading {key}", self.store.get_object, self.bucket, key)
        iterator = iter(chunks)
        while True:
            chunk = self._call(f"reading {key}", next, iterator, None)
            if chunk is None:
                return
            yield chunk

    def _put(self, key: str, body: Body) -> None:
        self._call(f"writing {key}", self.store.put_object, self.bucket, key, as_chunks(body))

    def _delete(self, key: str) -> None:
        self._call(f"deleting {key}", self.store.delete_object, self.bucket, key)

    def _list(self, prefix: str) -> list[str]:
        return self._call(f"listing {prefix}", self.store.list_objects, self.bucket, prefix)

    # ------------------------------------------------------------------------------ validation
    def validate(self) -> None:
        """Refuse a bucket/prefix that holds folders other than the backup layout's."""
        root = self.layout.root
        list_prefixes = self.store.list_common_prefixes
        prefixes = self._call("listing the top level", list_prefixes, self.bucket, root, "/")
        found = {p[len(root) :].rstrip("/") for p in prefixes if p.startswith(root)}
        invalid = sorted(f for f in found if f not in ALLOWED_TOP_LEVEL)
        if invalid:
            raise InvalidBackupStoreError(
                f"Backup store contains invalid top-level directories: [{' '.join(invalid)}]; bucket "
                f"{self.bucket!r} prefix {self.layout.prefix!r} holds data that is not veloro/Velero "
                "backups - point the location at an empty bucket or prefix (allowed folders: "
                f"{', '.join(ALLOWED_TOP_LEVEL)})"
            )

    # --------------------------------------------------------------------------------- backups
    def list_backups(self) -> list[str]:
        """Names of every backup folder, complete or not (see is_complete), sorted."""
        base = self.layout.backups_prefix()
        prefixes = self._call("listing backups", self.store.list_common_prefixes, self.bucket, base, "/")
        names = {p[len(base) :].rstrip("/") for p in prefixes if p.startswith(base)}
        return sorted(n for n in names if n)

    def is_complete(self, name: str) -> bool:
        """Whether the backup's metadata exists (it is written last, so this means complete)."""
        return self._exists(self.layout.metadata_key(name))

    backup_exists = is_complete

    def _require_complete(self, name: str) -> None:
        if self.is_complete(name):
            return
        if self._list(self.layout.backup_dir(name)):
            raise IncompleteBackupError(
                f"backup {name!r} in location {self.location!r} is incomplete: it has files but no "
                "velero-backup.json (its upload failed or is still running); it cannot be used - delete it"
            )
        raise BackupNotFoundError(
            f"backup {name!r} was not found in location {self.location!r}; list the backups of that "
            "location, or check that the location's bucket and prefix are right"
        )

    def get_backup_metadata(self, name: str) -> dict[str, Any]:
        """The Backup resource stored with the backup (apiVersion velero.io/v1 or veloro.io/v1)."""
        self._require_complete(name)
        key = self.layout.metadata_key(name)
        raw = b"".join(self._stream(key))
        try:
            obj = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise CorruptStoreFileError(f"{key} is not valid JSON ({exc}); the backup is unusable") from exc
        if not isinstance(obj, dict) or obj.get("kind") != "Backup":
            raise CorruptStoreFileError(f"{key} does not hold a Backup resource")
        if obj.get("apiVersion") not in BACKUP_API_VERSIONS:
            raise CorruptStoreFileError(
                f"{key} has apiVersion {obj.get('apiVersion')!r}; supported: {', '.join(BACKUP_API_VERSIONS)}"
            )
        return obj

    def put_backup(
        self,
        name: str,
        metadata: bytes | Mapping[str, Any],
        contents: Body,
        *,
        log_body: Body | None = None,
        files: Mapping[BackupFile, Body] | None = None,
    ) -> list[str]:
        """Upload a backup: log (best effort), tarball, side files (already gzip'd), metadata LAST.

        Refuses (BackupAlreadyExistsError) if the backup is already complete. If any step but the log
        fails, deletes what it wrote (best effort) and raises BackupUploadError. Returns warnings (a failed
        log upload).
        """
        layout = self.layout
        if self.is_complete(name):
            raise BackupAlreadyExistsError(
                f"backup {name!r} already exists (complete) in location {self.location!r}; veloro never "
                "rewrites a completed backup - delete it first or choose another name"
            )
        meta = metadata if isinstance(metadata, bytes) else orjson.dumps(dict(metadata))
        warnings: list[str] = []
        written: list[str] = []
        if log_body is not None:
            key = layout.backup_key(name, BackupFile.LOG)
            try:
                self._put(key, log_body)
                written.append(key)
            except BackupStoreError as exc:
                warnings.append(f"backup log was not uploaded: {exc}")
                log.warning("backup log upload failed", backup=name, error=str(exc))
        steps: list[tuple[str, Body]] = [(layout.backup_key(name, BackupFile.CONTENTS), contents)]
        for file, body in (files or {}).items():
            if file in (BackupFile.CONTENTS, BackupFile.LOG):
                raise BackupStoreError(f"{file.name} is its own argument of put_backup, not one of files")
            steps.append((layout.backup_key(name, file), body))
        steps.append((layout.metadata_key(name), meta))
        try:
            for key, body in steps:
                written.append(key)  # before the call: a failed put may still have left an object
                self._put(key, body)
        except Exception as exc:
            left = self._remove_best_effort(written)
            tail = f"; could not remove {', '.join(left)} - delete the backup" if left else ""
            raise BackupUploadError(
                f"uploading backup {name!r} to location {self.location!r} failed: {exc}; the backup was "
                f"not stored (nothing of it looks complete){tail}"
            ) from exc
        return warnings

    def _remove_best_effort(self, keys: list[str]) -> list[str]:
        left: list[str] = []
        for key in reversed(keys):
            try:
                self._delete(key)
            except Exception as exc:
                log.warning("cleanup of a failed upload failed", key=key, error=str(exc))
                left.append(key)
        return left

    def get_backup_contents(self, name: str) -> Iterator[bytes]:
        """Stream the backup tarball (gzip bytes, as stored) of a complete backup."""
        self._require_complete(name)
        return self._stream(self.layout.backup_key(name, BackupFile.CONTENTS))

    def download_backup_contents(self, name: str, out: IO[bytes]) -> int:
        """Copy the tarball into a (temporary) file; returns its size. The restore reads it from there."""
        size = 0
        for chunk in self.get_backup_contents(name):
            out.write(chunk)
            size += len(chunk)
        out.flush()
        return size

    def get_backup_log(self, name: str) -> Iterator[bytes]:
        """The backup's log, decompressed, streamed."""
        key = self.layout.backup_key(name, BackupFile.LOG)
        if not self._exists(key):
            raise BackupNotFoundError(f"backup {name!r} has no log in location {self.location!r}")
        return gunzip_stream(self._stream(key), key)

    def get_backup_file(self, name: str, file: BackupFile) -> Any | None:
        """A gzip'd JSON side file parsed (results, resource list, volume info...), None if absent."""
        key = self.layout.backup_key(name, file)
        if not self._exists(key):
            return None
        return read_json_gz(self._stream(key), key)

    def get_backup_results(self, name: str) -> Any | None:
        return self.get_backup_file(name, BackupFile.RESULTS)

    def get_backup_resource_list(self, name: str) -> Any | None:
        return self.get_backup_file(name, BackupFile.RESOURCE_LIST)

    def get_backup_volume_info(self, name: str) -> Any | None:
        return self.get_backup_file(name, BackupFile.VOLUME_INFO)

    def get_backup_item_operations(self, name: str) -> Any | None:
        return self.get_backup_file(name, BackupFile.ITEM_OPERATIONS)

    def get_backup_volume_snapshots(self, name: str) -> Any | None:
        return self.get_backup_file(name, BackupFile.VOLUME_SNAPSHOTS)

    def get_pod_volume_backups(self, name: str) -> Any | None:
        return self.get_backup_file(name, BackupFile.POD_VOLUME_BACKUPS)

    def delete_backup(self, name: str) -> None:
        """Delete every object of the backup, the metadata first (then it no longer looks complete)."""
        metadata_key = self.layout.metadata_key(name)
        self._delete(metadata_key)
        failed: list[str] = []
        for key in self._list(self.layout.backup_dir(name)):
            if key == metadata_key:
                continue
            try:
                self._delete(key)
            except StoreUnavailableError as exc:
                log.warning("deleting a backup object failed", key=key, error=str(exc))
                failed.append(key)
        if failed:
            raise StoreUnavailableError(
                f"backup {name!r}: could not delete {', '.join(failed)} from location {self.location!r}; "
                "the backup is no longer usable - retry the deletion"
            )

    # -------------------------------------------------------------------------------- restores
    def put_restore_file(self, name: str, file: RestoreFile, body: Body) -> None:
        """Upload one (already gzip'd) restore file: log, results, resource list, item operations..."""
        self._put(self.layout.restore_key(name, file), body)

    def get_restore_log(self, name: str) -> Iterator[bytes]:
        key = self.layout.restore_key(name, RestoreFile.LOG)
        if not self._exists(key):
            raise BackupNotFoundError(f"restore {name!r} has no log in location {self.location!r}")
        return gunzip_stream(self._stream(key), key)

    def get_restore_file(self, name: str, file: RestoreFile) -> Any | None:
        """A gzip'd JSON restore file parsed, None if absent."""
        key = self.layout.restore_key(name, file)
        if not self._exists(key):
            return None
        return read_json_gz(self._stream(key), key)

    def delete_restore(self, name: str) -> None:
        for key in self._list(self.layout.restore_dir(name)):
            self._delete(key)

    # ------------------------------------------------------------------------------- downloads
    def download_key(self, kind: DownloadTargetKind | str, name: str) -> str:
        return self.layout.download_key(kind, name)

    def signed_url(self, kind: DownloadTargetKind | str, name: str, ttl: timedelta = SIGNED_URL_TTL) -> str:
        """A download URL for a DownloadRequest (10 minutes by default, as Velero)."""
        key = self.download_key(kind, name)
        url = self._call(f"signing a URL for {key}", self.store.create_signed_url, self.bucket, key, ttl)
        return str(url)
