"""Backup tarballs, format 1.1.0 (the format Velero writes): a streaming writer and a safe reader.

Writer: `TarballWriter(out).add_item(group_resource, namespace, name, preferred_version, json_bytes)`.
Reader: `extract_tarball(fileobj) -> BackupContents` (private temp dir, refuses unsafe entries and bombs).
"""

from veloro_core.archive.contents import BackupContents, ItemRef
from veloro_core.archive.errors import (
    ArchiveError,
    ArchiveLimitError,
    CorruptArchiveError,
    InvalidItemNameError,
    ItemDecodeError,
    UnsafeEntryError,
    UnsupportedFormatError,
)
from veloro_core.archive.extract import ExtractLimits, extract_tarball
from veloro_core.archive.paths import FORMAT_VERSION, item_paths
from veloro_core.archive.writer import DEFAULT_COMPRESSLEVEL, TarballWriter

__all__ = [
    "DEFAULT_COMPRESSLEVEL",
    "FORMAT_VERSION",
    "ArchiveError",
    "ArchiveLimitError",
    "BackupContents",
    "CorruptArchiveError",
    "ExtractLimits",
    "InvalidItemNameError",
    "ItemDecodeError",
    "ItemRef",
    "TarballWriter",
    "UnsafeEntryError",
    "UnsupportedFormatError",
    "extract_tarball",
    "item_paths",
]
