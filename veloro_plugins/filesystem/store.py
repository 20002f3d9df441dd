"""`veloro.io/filesystem`: an ObjectStore over a directory tree (the embedded default store).

Layout: `<root>/<bucket>/<key>`, one file per object. Like every Velero object store, this store does NOT
prepend the location's `prefix` to keys: the host's backup store builds full keys (`<prefix>/backups/...`)
and passes them as they are. `prefix` is accepted in the config (hosts send it) and only validated.

Writes are atomic (temporary file in the target folder, fsync, rename, fsync of the folder), so a reader
never sees half an object and a crash leaves either the old object or the new one. Reads are streamed in
1 MiB chunks. Listing follows S3: keys in lexicographic order, common prefixes including the prefix and
ending with the delimiter. Folders emptied by deletes are removed so they do not show up as prefixes.
"""

from __future__ import annotations

import errno
import io
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from veloro_sdk.contracts import ObjectStore, PluginError

from veloro_plugins.filesystem.paths import TEMP_PREFIX, check_bucket, key_parts, prefix_dir_parts

NAME = "veloro.io/filesystem"
READ_CHUNK = 1 << 20
# Keys a host may send (Velero adds bucket, prefix, caCert, credentialsFile to the location's config).
CONFIG_KEYS = frozenset({"root", "bucket", "prefix", "caCert", "credentialsFile"})


class ObjectNotFoundError(PluginError):
    """GetObject of a key that does not exist."""


class KeyConflictError(PluginError):
    """A key whose folder part is already an object (or whose name is a folder): S3 allows it, a
    directory tree cannot hold it."""


@dataclass(frozen=True)
class _Config:
    root: Path


def _config_from(config: dict[str, str]) -> _Config:
    unknown = sorted(set(config) - CONFIG_KEYS)
    if unknown:
        raise PluginError(
            f"filesystem object store: unknown config key(s) {', '.join(unknown)}; "
            f"valid keys are {', '.join(sorted(CONFIG_KEYS))}"
        )
    raw_root = config.get("root", "").strip()
    if not raw_root:
        raise PluginError(
            "filesystem object store: config key 'root' is required: the directory that holds the buckets, "
            "for example root=/var/lib/veloro/store"
        )
    root = Path(os.path.abspath(os.path.expanduser(raw_root)))
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PluginError(
            f"filesystem object store: cannot create root directory {str(root)!r}: {exc.strerror or exc}; "
            "set 'root' to a directory this process can write"
        ) from exc
    if not os.access(root, os.W_OK | os.X_OK):
        raise PluginError(
            f"filesystem object store: root directory {str(root)!r} is not writable by this process; "
            "set 'root' to a directory it can write"
        )
    if config.get("prefix", "").strip("/"):  # an empty prefix (the bucket's root) is valid
        prefix_dir_parts(config["prefix"].strip("/") + "/")  # refuse a prefix that escapes the bucket
    bucket = config.get("bucket")
    if bucket:
        check_bucket(bucket)
        (root / bucket).mkdir(exist_ok=True)
    return _Config(root=root)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class FileSystemObjectStore(ObjectStore):
    """Objects as files under `<root>/<bucket>/`. Stateless apart from the config, so safe to call from
    the gRPC server's worker threads concurrently."""

    def __init__(self) -> None:
        self._config: _Config | None = None

    # -- configuration -------------------------------------------------------------------------------
    def init(self, config: dict[str, str]) -> None:
        self._config = _config_from(dict(config))

    def _bucket_dir(self, bucket: str) -> Path:
        if self._config is None:
            raise PluginError("filesystem object store used before Init: call init() with config root=DIR")
        return self._config.root / check_bucket(bucket)

    def _object_path(self, bucket: str, key: str) -> Path:
        return self._bucket_dir(bucket).joinpath(*key_parts(key))

    # -- writes --------------------------------------------------------------------------------------
    def put_object(self, bucket: str, key: str, body: Iterable[bytes]) -> None:
        path = self._object_path(bucket, key)
        fd, tmp_name = self._open_temp(path, key)
        try:
            with os.fdopen(fd, "wb", buffering=READ_CHUNK) as out:
                for chunk in body:
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp_name, path)
        except IsADirectoryError as exc:
            raise KeyConflictError(
                f"cannot store key {key!r} in bucket {bucket!r}: {str(path)!r} is a folder of other keys"
            ) from exc
        finally:
            if os.path.exists(tmp_name):
                os.unlink(tmp_name)
        _fsync_dir(path.parent)

    def _open_temp(self, path: Path, key: str) -> tuple[int, str]:
        """Create the temporary file next to the target (same filesystem, so the rename is atomic).

        Retried because a concurrent delete may remove the freshly created, still empty, parent folder.
        """
        import tempfile  # imported here: only writes need it, and plugin start-up time matters

        for _attempt in range(5):
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                return tempfile.mkstemp(prefix=TEMP_PREFIX, dir=path.parent)
            except FileNotFoundError:
                continue
            except (FileExistsError, NotADirectoryError) as exc:
                raise KeyConflictError(
                    f"cannot store key {key!r}: a folder part of it is already an object in this bucket"
                ) from exc
        raise PluginError(f"cannot store key {key!r}: its folder kept disappearing (concurrent deletes)")

    def delete_object(self, bucket: str, key: str) -> None:
        path = self._object_path(bucket, key)
        try:
            path.unlink()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return  # deleting a missing key is not an error (as in S3)
        except PermissionError as exc:
            if path.is_dir():  # some platforms report unlink(dir) as EPERM: still "not an object"
                return
            raise PluginError(f"cannot delete key {key!r}: {exc.strerror}") from exc
        self._prune_empty_folders(path.parent, self._bucket_dir(bucket))

    @staticmethod
    def _prune_empty_folders(folder: Path, stop: Path) -> None:
        """Remove folders left empty by a delete, so they are not reported as common prefixes."""
        while folder != stop and stop in folder.parents:
            try:
                folder.rmdir()
            except OSError as exc:
                if exc.errno in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOENT):
                    return
                raise
            folder = folder.parent

    # -- reads ---------------------------------------------------------------------------------------
    def object_exists(self, bucket: str, key: str) -> bool:
        return self._object_path(bucket, key).is_file()

    def get_object(self, bucket: str, key: str) -> Iterator[bytes]:
        path = self._object_path(bucket, key)
        # Opened here, not in the generator, so that a missing key fails at the call.
        try:
            handle = open(path, "rb", buffering=0)  # noqa: SIM115 - closed by the generator
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
            raise ObjectNotFoundError(
                f"object {key!r} not found in bucket {bucket!r} (no file {str(path)!r})"
            ) from exc
        return _stream(handle)

    def list_objects(self, bucket: str, prefix: str) -> list[str]:
        return sorted(self._iter_keys(bucket, prefix))

    def list_common_prefixes(self, bucket: str, prefix: str, delimiter: str) -> list[str]:
        if not delimiter:
            return []  # S3 returns no common prefixes without a delimiter
        if delimiter == "/":
            return self._folder_prefixes(bucket, prefix)
        found: set[str] = set()
        for key in self._iter_keys(bucket, prefix):
            rest = key[len(prefix) :]
            cut = rest.find(delimiter)
            if cut >= 0:
                found.add(prefix + rest[: cut + len(delimiter)])
        return sorted(found)

    def create_signed_url(self, bucket: str, key: str, ttl: timedelta) -> str:
        # A file:// URL needs no signature; ttl does not apply. Like S3 presigning, no existence check.
        return self._object_path(bucket, key).as_uri()

    # -- listing helpers -----------------------------------------------------------------------------
    def _start_folder(self, bucket: str, prefix: str) -> tuple[Path, str, str]:
        """(folder to scan, key text of that folder with trailing '/', partial name to match)."""
        parts = prefix_dir_parts(prefix)
        folder_key = "/".join(parts) + "/" if parts else ""
        return self._bucket_dir(bucket).joinpath(*parts), folder_key, prefix[len(folder_key) :]

    def _iter_keys(self, bucket: str, prefix: str) -> Iterator[str]:
        folder, folder_key, partial = self._start_folder(bucket, prefix)
        for entry in _scan(folder):
            if not entry.name.startswith(partial) or entry.name.startswith(TEMP_PREFIX):
                continue
            if entry.is_dir(follow_symlinks=False):
                yield from _walk_keys(Path(entry.path), folder_key + entry.name + "/")
            elif entry.is_file():
                yield folder_key + entry.name

    def _folder_prefixes(self, bucket: str, prefix: str) -> list[str]:
        """Fast path for '/': one folder scan; a sub-folder is a prefix when it holds at least one object."""
        folder, folder_key, partial = self._start_folder(bucket, prefix)
        found = [
            folder_key + entry.name + "/"
            for entry in _scan(folder)
            if entry.name.startswith(partial)
            and not entry.name.startswith(TEMP_PREFIX)
            and entry.is_dir(follow_symlinks=False)
            and _holds_object(Path(entry.path))
        ]
        return sorted(found)


def _stream(handle: io.FileIO) -> Iterator[bytes]:
    try:
        while chunk := handle.read(READ_CHUNK):
            yield chunk
    finally:
        handle.close()


def _scan(folder: Path) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(folder) as entries:
            return list(entries)
    except (FileNotFoundError, NotADirectoryError):
        return []  # a missing bucket or folder simply holds no keys


def _walk_keys(folder: Path, folder_key: str) -> Iterator[str]:
    for entry in _scan(folder):
        if entry.name.startswith(TEMP_PREFIX):
            continue
        if entry.is_dir(follow_symlinks=False):
            yield from _walk_keys(Path(entry.path), folder_key + entry.name + "/")
        elif entry.is_file():
            yield folder_key + entry.name


def _holds_object(folder: Path) -> bool:
    return next(_walk_keys(folder, ""), None) is not None
