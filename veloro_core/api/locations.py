"""BackupStorageLocation (where backups live) and VolumeSnapshotLocation (where snapshots are taken)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

from veloro_core.api.common import SecretKeySelector
from veloro_core.api.duration import Duration
from veloro_core.api.resource import AGE_COLUMN, PrinterColumn, Resource
from veloro_core.api.serde import ALWAYS, REQUIRED, ApiObject


class BackupStorageLocationPhase(enum.StrEnum):
    AVAILABLE = "Available"
    UNAVAILABLE = "Unavailable"


class BackupStorageLocationAccessMode(enum.StrEnum):
    READ_WRITE = "ReadWrite"
    READ_ONLY = "ReadOnly"


class VolumeSnapshotLocationPhase(enum.StrEnum):
    AVAILABLE = "Available"
    UNAVAILABLE = "Unavailable"


@dataclass(kw_only=True)
class ObjectStorageLocation(ApiObject):
    """Bucket and optional prefix; caCert is a base64 PEM bundle for a private S3 endpoint."""

    bucket: str = field(default="", metadata=REQUIRED)
    prefix: str = ""
    ca_cert: str = ""


@dataclass(kw_only=True)
class BackupStorageLocationSpec(ApiObject):
    provider: str = field(default="", metadata=REQUIRED)
    object_storage: ObjectStorageLocation | None = None
    config: dict[str, str] = field(default_factory=dict)
    credential: SecretKeySelector | None = None
    default: bool = False
    access_mode: BackupStorageLocationAccessMode | None = None
    backup_sync_period: Duration | None = None
    validation_frequency: Duration | None = None

    @property
    def bucket(self) -> str:
        return self.object_storage.bucket if self.object_storage else ""

    @property
    def prefix(self) -> str:
        """The prefix with surrounding slashes trimmed, as the bucket layout uses it."""
        return self.object_storage.prefix.strip("/") if self.object_storage else ""

    @property
    def read_only(self) -> bool:
        return self.access_mode is BackupStorageLocationAccessMode.READ_ONLY


@dataclass(kw_only=True)
class BackupStorageLocationStatus(ApiObject):
    phase: BackupStorageLocationPhase | None = None
    last_synced_time: datetime | None = None
    last_synced_revision: str = ""
    last_validation_time: datetime | None = None
    message: str = ""
    access_mode: BackupStorageLocationAccessMode | None = None  # deprecated by Velero; read only


@dataclass(kw_only=True)
class BackupStorageLocation(Resource):
    """An object store bucket/prefix reached through an ObjectStore plugin."""

    KIND = "BackupStorageLocation"
    PLURAL = "backupstoragelocations"
    SHORT_NAMES = ("bsl",)
    PRINTER_COLUMNS = (
        PrinterColumn("Phase", ".status.phase", description="Backup storage location status"),
        PrinterColumn("Last Validated", ".status.lastValidationTime", "date", "Time of the last validation"),
        PrinterColumn("Access Mode", ".spec.accessMode", description="ReadWrite or ReadOnly"),
        PrinterColumn("Default", ".spec.default", "boolean", "The default backup storage location"),
        AGE_COLUMN,
    )

    spec: BackupStorageLocationSpec = field(default_factory=BackupStorageLocationSpec, metadata=ALWAYS)
    status: BackupStorageLocationStatus = field(default_factory=BackupStorageLocationStatus)


@dataclass(kw_only=True)
class VolumeSnapshotLocationSpec(ApiObject):
    provider: str = field(default="", metadata=REQUIRED)
    config: dict[str, str] = field(default_factory=dict)
    credential: SecretKeySelector | None = None


@dataclass(kw_only=True)
class VolumeSnapshotLocationStatus(ApiObject):
    phase: VolumeSnapshotLocationPhase | None = None


@dataclass(kw_only=True)
class VolumeSnapshotLocation(Resource):
    """Where a VolumeSnapshotter plugin takes native volume snapshots (e.g. an AWS region)."""

    KIND = "VolumeSnapshotLocation"
    PLURAL = "volumesnapshotlocations"
    SHORT_NAMES = ("vsl",)
    PRINTER_COLUMNS = (
        PrinterColumn("Provider", ".spec.provider", description="Volume snapshotter plugin"),
        AGE_COLUMN,
    )

    spec: VolumeSnapshotLocationSpec = field(default_factory=VolumeSnapshotLocationSpec, metadata=ALWAYS)
    status: VolumeSnapshotLocationStatus = field(default_factory=VolumeSnapshotLocationStatus)
