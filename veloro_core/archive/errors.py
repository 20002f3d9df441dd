"""Errors of the archive layer. Each message says what was wrong with the tarball and what to do."""

from __future__ import annotations


class ArchiveError(Exception):
    """Base class: the backup tarball could not be written or read."""


class InvalidItemNameError(ArchiveError, ValueError):
    """A name, namespace, group-resource or version that cannot become a safe tarball path."""


class CorruptArchiveError(ArchiveError):
    """The gzip or tar stream is damaged or ends early."""

    def __init__(self, detail: str) -> None:
        super().__init__(
            f"backup tarball is corrupt or truncated: {detail}; the upload was probably interrupted or the "
            "object was damaged in the store - restore from another backup"
        )
        self.detail = detail


class UnsafeEntryError(ArchiveError):
    """An entry that must never be extracted: absolute path, `..`, link, device, fifo, sparse file..."""

    def __init__(self, entry: str, reason: str) -> None:
        super().__init__(
            f"backup tarball entry {entry!r} refused: {reason}; a veloro/Velero backup only contains "
            "regular files under relative paths, so this tarball was not written by a backup tool or was "
            "tampered with"
        )
        self.entry = entry
        self.reason = reason


class ArchiveLimitError(ArchiveError):
    """The tarball exceeds a configured extraction limit (a gzip bomb or an unexpectedly big backup)."""


class UnsupportedFormatError(ArchiveError):
    """The tarball's metadata/version has a major version this veloro does not understand."""


class ItemDecodeError(ArchiveError):
    """One item of the backup is not valid JSON. Per item: the restore records it and goes on."""

    def __init__(self, path: str, detail: str) -> None:
        super().__init__(
            f"backup item {path!r} is not valid JSON ({detail}); the item is skipped - the backup may have "
            "been edited by hand or damaged"
        )
        self.path = path
        self.detail = detail
