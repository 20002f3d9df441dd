"""Safe extraction of a backup tarball into a private temporary directory.

Policy (docs/adr/0002-archive.md): only regular files under relative paths without `..` are written;
directory entries are tolerated but not created as given (folders are made 0700 as needed); links, devices,
fifos, sparse files and anything else refuse the whole tarball; entry size, total decompressed size, entry
count and meta headers are capped so a gzip bomb is refused before it fills memory or disk.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import structlog

from veloro_core.archive.contents import BackupContents
from veloro_core.archive.errors import (
    ArchiveError,
    ArchiveLimitError,
    CorruptArchiveError,
    UnsafeEntryError,
    UnsupportedFormatError,
)
from veloro_core.archive.paths import (
    CLUSTER_DIR,
    NAMESPACES_DIR,
    RESOURCES_DIR,
    SUPPORTED_MAJOR,
    VERSION_PATH,
    parse_major,
)
from veloro_core.archive.tarstream import GzipSource, TarHeader, TarStream

log = structlog.get_logger(__name__)

MiB = 1 << 20
GiB = 1 << 30
_REGULAR = (b"0", b"\x00", b"7")  # 7 = contiguous file, a regular file for every practical purpose
_DIRECTORY = b"5"
_REFUSED = {
    b"1": "it is a hard link",
    b"2": "it is a symbolic link",
    b"3": "it is a character device",
    b"4": "it is a block device",
    b"6": "it is a fifo",
    b"S": "it is a sparse file",
}
_COPY_CHUNK = MiB
_OPEN_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC


@dataclass(frozen=True)
class ExtractLimits:
    """Caps applied while extracting. Defaults fit very large real backups and refuse bombs."""

    max_entry_size: int = 512 * MiB
    max_total_size: int = 16 * GiB  # decompressed bytes of the whole tar stream, headers included
    max_entries: int = 5_000_000
    max_meta_size: int = MiB  # PAX / GNU long-name headers
    max_version_size: int = 1024


def safe_relative_path(path: str, index: int) -> list[str]:
    """The components of a tar path if it is safe to create under the extraction root, else refuse."""
    if "\x00" in path:
        raise UnsafeEntryError(path, "its path contains a NUL byte")
    if path.startswith("/"):
        raise UnsafeEntryError(path, "its path is absolute")
    parts = [p for p in path.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise UnsafeEntryError(path, "its path contains a '..' component")
    return parts


def extract_tarball(
    fileobj: BinaryIO,
    *,
    limits: ExtractLimits | None = None,
    parent_dir: str | Path | None = None,
    versioned_copies: bool = True,
) -> BackupContents:
    """Extract a backup tarball read from `fileobj` (streamed) into a new private directory.

    `versioned_copies=False` skips the data of the `<version>[-preferredversion]` copies (their folders are
    still created, so preferred versions stay known): a restore that reads the unversioned copy halves its
    file creations, which dominate extraction time on ordinary disks.

    Returns the BackupContents (call `cleanup()` or use it as a context manager to remove the directory).
    Raises CorruptArchiveError, UnsafeEntryError, ArchiveLimitError or UnsupportedFormatError; on any error
    the directory is removed.
    """
    lim = limits or ExtractLimits()
    root = Path(tempfile.mkdtemp(prefix="veloro-backup-", dir=parent_dir))  # mkdtemp: mode 0700
    try:
        version = _extract_all(fileobj, root, lim, versioned_copies)
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
    warnings: list[str] = []
    if version is None:
        warnings.append(
            f"backup tarball has no {VERSION_PATH}; read as a format 1 tarball written by an old Velero"
        )
        log.warning("tarball without format version", root=str(root))
    return BackupContents(root, version, warnings)


def _is_versioned_copy(parts: list[str]) -> bool:
    return len(parts) >= 4 and parts[0] == RESOURCES_DIR and parts[2] not in (NAMESPACES_DIR, CLUSTER_DIR)


def _extract_all(fileobj: BinaryIO, root: Path, lim: ExtractLimits, versioned: bool) -> str | None:
    source = GzipSource(fileobj, max_total=lim.max_total_size)
    tar = TarStream(source, max_meta_size=lim.max_meta_size)
    version: str | None = None
    entries = 0
    made_dirs: set[Path] = set()  # bounded: one folder per (resource, version)
    while (header := tar.next_header()) is not None:
        entries += 1
        if entries > lim.max_entries:
            raise ArchiveLimitError(
                f"backup tarball has more than {lim.max_entries} entries (max_entries); refusing it - raise "
                "the limit if this is a genuine backup"
            )
        parts = _check_entry(header, lim)
        if parts is None:
            tar.skip(header.size)
            continue
        if "/".join(parts) == VERSION_PATH:
            version = _read_version(tar, header, root, lim)
        elif not versioned and _is_versioned_copy(parts):
            version_dir = root.joinpath(*parts[:3])
            if version_dir not in made_dirs:
                version_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
                made_dirs.add(version_dir)
            tar.skip(header.size)
        else:
            _write_file(tar, header, root, parts)
    return version


def _check_entry(header: TarHeader, lim: ExtractLimits) -> list[str] | None:
    """The safe components of an entry to write, None for a tolerated entry to skip; raise if refused."""
    if header.sparse:
        raise UnsafeEntryError(header.path, "it is a sparse file")
    parts = safe_relative_path(header.path, header.index)
    if header.typeflag == _DIRECTORY:
        return None
    if header.typeflag not in _REGULAR:
        reason = _REFUSED.get(header.typeflag, f"its type {header.typeflag!r} is not a regular file")
        raise UnsafeEntryError(header.path, reason)
    if header.path.endswith("/"):
        return None  # old-style directory entry written as a regular file
    if not parts:
        raise UnsafeEntryError(header.path, "its path is empty")
    if header.size < 0 or header.size > lim.max_entry_size:
        raise ArchiveLimitError(
            f"backup tarball entry {header.path!r} is {header.size} bytes, more than the limit of "
            f"{lim.max_entry_size} (max_entry_size); refusing the tarball - raise the limit if this is a "
            "genuine backup with a very large object"
        )
    return parts


def _read_version(tar: TarStream, header: TarHeader, root: Path, lim: ExtractLimits) -> str:
    """Check the format version as soon as it is seen, so an unknown major fails before any extraction."""
    if header.size > lim.max_version_size:
        raise CorruptArchiveError(f"{VERSION_PATH} is {header.size} bytes; it should be a short version")
    data = tar.read_exact(header.size)
    tar.skip_padding(header.size)
    text = data.decode("utf-8", "replace").strip()
    try:
        major = parse_major(text)
    except ValueError as exc:
        raise UnsupportedFormatError(
            f"backup tarball format version {text!r} is not understood; this veloro reads format "
            f"{SUPPORTED_MAJOR}.x (Velero 1.x backups)"
        ) from exc
    if major != SUPPORTED_MAJOR:
        raise UnsupportedFormatError(
            f"backup tarball format version {text} is not supported: this veloro reads format "
            f"{SUPPORTED_MAJOR}.x only; restore it with a newer veloro (or the tool that wrote it)"
        )
    target = root / VERSION_PATH
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    target.write_bytes(data)
    return text


def _write_file(tar: TarStream, header: TarHeader, root: Path, parts: list[str]) -> None:
    target = root.joinpath(*parts)
    try:
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(target, _OPEN_FLAGS, 0o600)
    except OSError as exc:
        raise ArchiveError(
            f"cannot extract backup tarball entry {header.path!r}: {exc.strerror or exc}; the tarball has "
            "conflicting entries (a file and a folder of the same name) or a name too long for this system"
        ) from exc
    with os.fdopen(fd, "wb") as out:
        remaining = header.size
        while remaining:
            chunk = tar.read_chunk(remaining, _COPY_CHUNK)
            out.write(chunk)
            remaining -= len(chunk)
    tar.skip_padding(header.size)
