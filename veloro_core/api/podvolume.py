"""File-level volume backup objects handled by the node agent, and the repositories they write to."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

from veloro_core.api.common import DataMoveProgress, ObjectReference
from veloro_core.api.duration import Duration
from veloro_core.api.resource import AGE_COLUMN, PrinterColumn, Resource
from veloro_core.api.serde import ALWAYS, REQUIRED, ApiObject, wire_name


class PodVolumeBackupPhase(enum.StrEnum):
    NEW = "New"
    IN_PROGRESS = "InProgress"
    COMPLETED = "Completed"
    FAILED = "Failed"


class PodVolumeRestorePhase(enum.StrEnum):
    NEW = "New"
    IN_PROGRESS = "InProgress"
    COMPLETED = "Completed"
    FAILED = "Failed"


class BackupRepositoryPhase(enum.StrEnum):
    NEW = "New"
    READY = "Ready"
    NOT_READY = "NotReady"


class RepositoryType(enum.StrEnum):
    RESTIC = "restic"
    KOPIA = "kopia"


@dataclass(kw_only=True)
class PodVolumeBackupSpec(ApiObject):
    node: str = ""
    pod: ObjectReference = field(default_factory=ObjectReference)
    volume: str = ""
    backup_storage_location: str = ""
    repo_identifier: str = ""
    uploader_type: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    uploader_settings: dict[str, str] = field(default_factory=dict)


@dataclass(kw_only=True)
class PodVolumeBackupStatus(ApiObject):
    phase: PodVolumeBackupPhase | None = None
    path: str = ""
    snapshot_id: str = field(default="", metadata=wire_name("snapshotID"))
    message: str = ""
    start_timestamp: datetime | None = None
    completion_timestamp: datetime | None = None
    progress: DataMoveProgress | None = None


_STORAGE_LOCATION = PrinterColumn(
    "Storage Location", ".spec.backupStorageLocation", description="Backup storage location"
)


@dataclass(kw_only=True)
class PodVolumeBackup(Resource):
    """A file-level backup of one pod volume, done by the node agent on the pod's node."""

    KIND = "PodVolumeBackup"
    PLURAL = "podvolumebackups"
    PRINTER_COLUMNS = (
        PrinterColumn("Status", ".status.phase", description="New/InProgress/Completed/Failed"),
        PrinterColumn("Created", ".status.startTimestamp", "date", "Time the volume backup started"),
        PrinterColumn("Namespace", ".spec.pod.namespace", description="Namespace of the pod"),
        PrinterColumn("Pod", ".spec.pod.name", description="Pod with the volume"),
        PrinterColumn("Volume", ".spec.volume", description="Volume backed up"),
        PrinterColumn("Uploader Type", ".spec.uploaderType", description="restic or kopia"),
        _STORAGE_LOCATION,
        AGE_COLUMN,
    )

    spec: PodVolumeBackupSpec = field(default_factory=PodVolumeBackupSpec, metadata=ALWAYS)
    status: PodVolumeBackupStatus = field(default_factory=PodVolumeBackupStatus)


@dataclass(kw_only=True)
class PodVolumeRestoreSpec(ApiObject):
    pod: ObjectReference = field(default_factory=ObjectReference)
    volume: str = ""
    backup_storage_location: str = ""
    repo_identifier: str = ""
    uploader_type: str = ""
    snapshot_id: str = field(default="", metadata=wire_name("snapshotID"))
    source_namespace: str = ""
    uploader_settings: dict[str, str] = field(default_factory=dict)


@dataclass(kw_only=True)
class PodVolumeRestoreStatus(ApiObject):
    phase: PodVolumeRestorePhase | None = None
    message: str = ""
    start_timestamp: datetime | None = None
    completion_timestamp: datetime | None = None
    progress: DataMoveProgress | None = None


@dataclass(kw_only=True)
class PodVolumeRestore(Resource):
    """A file-level restore of one volume snapshot into a restored pod's volume."""

    KIND = "PodVolumeRestore"
    PLURAL = "podvolumerestores"
    PRINTER_COLUMNS = (
        PrinterColumn("Namespace", ".spec.pod.namespace", description="Namespace of the pod"),
        PrinterColumn("Pod", ".spec.pod.name", description="Pod with the volume"),
        PrinterColumn("Uploader Type", ".spec.uploaderType", description="restic or kopia"),
        PrinterColumn("Volume", ".spec.volume", description="Volume restored"),
        PrinterColumn("Status", ".status.phase", description="New/InProgress/Completed/Failed"),
        PrinterColumn("TotalBytes", ".status.progress.totalBytes", "integer", "Bytes to restore"),
        PrinterColumn("BytesDone", ".status.progress.bytesDone", "integer", "Bytes restored"),
        AGE_COLUMN,
    )

    spec: PodVolumeRestoreSpec = field(default_factory=PodVolumeRestoreSpec, metadata=ALWAYS)
    status: PodVolumeRestoreStatus = field(default_factory=PodVolumeRestoreStatus)


@dataclass(kw_only=True)
class BackupRepositorySpec(ApiObject):
    """One repository per (storage location, volume namespace, repository type)."""

    volume_namespace: str = field(default="", metadata=REQUIRED)
    backup_storage_location: str = field(default="", metadata=REQUIRED)
    repository_type: RepositoryType | None = None
    restic_identifier: str = ""
    maintenance_frequency: Duration | None = None
    repository_config: dict[str, str] = field(default_factory=dict)


@dataclass(kw_only=True)
class BackupRepositoryStatus(ApiObject):
    phase: BackupRepositoryPhase | None = None
    message: str = ""
    last_maintenance_time: datetime | None = None


@dataclass(kw_only=True)
class BackupRepository(Resource):
    """A restic/kopia repository inside a backup storage location, holding pod volume data."""

    KIND = "BackupRepository"
    PLURAL = "backuprepositories"
    PRINTER_COLUMNS = (
        PrinterColumn("Repository Type", ".spec.repositoryType", description="restic or kopia"),
        AGE_COLUMN,
    )

    spec: BackupRepositorySpec = field(default_factory=BackupRepositorySpec, metadata=ALWAYS)
    status: BackupRepositoryStatus = field(default_factory=BackupRepositoryStatus)
