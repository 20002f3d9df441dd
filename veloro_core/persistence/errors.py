"""Errors of the backup store. Messages say what was wrong and what to do."""

from __future__ import annotations


class BackupStoreError(Exception):
    """Base class: a backup storage location could not be used as asked."""


class InvalidBackupStoreError(BackupStoreError):
    """The bucket/prefix holds folders that are not part of the backup layout."""


class StoreUnavailableError(BackupStoreError):
    """The object store (its plugin, the network, the bucket, credentials) failed a call."""


class BackupNotFoundError(BackupStoreError):
    """No object at all exists for the backup."""


class IncompleteBackupError(BackupStoreError):
    """Some of the backup's objects exist but not its metadata: an upload that failed or is in progress."""


class BackupAlreadyExistsError(BackupStoreError):
    """A completed backup of that name exists; veloro never rewrites a completed backup."""


class BackupUploadError(BackupStoreError):
    """Uploading a backup failed; what had been written was removed (best effort)."""


class CorruptStoreFileError(BackupStoreError):
    """A file in the store is not what its name says (bad gzip, bad JSON, wrong kind)."""
