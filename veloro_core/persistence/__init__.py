"""The backup storage layout (Velero's) on top of the ObjectStore contract: BackupStore and its errors."""

from veloro_core.persistence.encoding import gunzip_stream, gzip_json, gzip_stream, read_json_gz
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
from veloro_core.persistence.store import BACKUP_API_VERSIONS, SIGNED_URL_TTL, BackupStore

__all__ = [
    "ALLOWED_TOP_LEVEL",
    "BACKUP_API_VERSIONS",
    "SIGNED_URL_TTL",
    "BackupAlreadyExistsError",
    "BackupFile",
    "BackupNotFoundError",
    "BackupStore",
    "BackupStoreError",
    "BackupUploadError",
    "CorruptStoreFileError",
    "IncompleteBackupError",
    "InvalidBackupStoreError",
    "RestoreFile",
    "StoreLayout",
    "StoreUnavailableError",
    "gunzip_stream",
    "gzip_json",
    "gzip_stream",
    "read_json_gz",
]
