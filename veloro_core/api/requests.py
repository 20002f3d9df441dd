"""Request objects the CLI creates and the server answers: delete a backup, download a file, status."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

from veloro_core.api.resource import AGE_COLUMN, PrinterColumn, Resource
from veloro_core.api.serde import ALWAYS, REQUIRED, ApiObject, wire_name


class DeleteBackupRequestPhase(enum.StrEnum):
    NEW = "New"
    IN_PROGRESS = "InProgress"
    PROCESSED = "Processed"


class DownloadRequestPhase(enum.StrEnum):
    NEW = "New"
    PROCESSED = "Processed"


class ServerStatusRequestPhase(enum.StrEnum):
    NEW = "New"
    PROCESSED = "Processed"


class DownloadTargetKind(enum.StrEnum):
    """The files of a backup or restore in the storage location that can be downloaded."""

    BACKUP_LOG = "BackupLog"
    BACKUP_CONTENTS = "BackupContents"
    BACKUP_VOLUME_SNAPSHOTS = "BackupVolumeSnapshots"
    BACKUP_ITEM_OPERATIONS = "BackupItemOperations"
    BACKUP_RESOURCE_LIST = "BackupResourceList"
    BACKUP_RESULTS = "BackupResults"
    BACKUP_VOLUME_INFOS = "BackupVolumeInfos"
    CSI_BACKUP_VOLUME_SNAPSHOTS = "CSIBackupVolumeSnapshots"
    CSI_BACKUP_VOLUME_SNAPSHOT_CONTENTS = "CSIBackupVolumeSnapshotContents"
    RESTORE_LOG = "RestoreLog"
    RESTORE_RESULTS = "RestoreResults"
    RESTORE_RESOURCE_LIST = "RestoreResourceList"
    RESTORE_ITEM_OPERATIONS = "RestoreItemOperations"
    RESTORE_VOLUME_INFO = "RestoreVolumeInfo"


@dataclass(kw_only=True)
class DeleteBackupRequestSpec(ApiObject):
    backup_name: str = field(default="", metadata=REQUIRED)


@dataclass(kw_only=True)
class DeleteBackupRequestStatus(ApiObject):
    phase: DeleteBackupRequestPhase | None = None
    errors: list[str] = field(default_factory=list)


@dataclass(kw_only=True)
class DeleteBackupRequest(Resource):
    """Asks the server to delete a backup with everything it owns (store objects, snapshots, restores)."""

    KIND = "DeleteBackupRequest"
    PLURAL = "deletebackuprequests"
    PRINTER_COLUMNS = (
        PrinterColumn("BackupName", ".spec.backupName", description="The backup to delete"),
        PrinterColumn("Status", ".status.phase", description="Status of the deletion request"),
        AGE_COLUMN,
    )

    spec: DeleteBackupRequestSpec = field(default_factory=DeleteBackupRequestSpec, metadata=ALWAYS)
    status: DeleteBackupRequestStatus = field(default_factory=DeleteBackupRequestStatus)


@dataclass(kw_only=True)
class DownloadTarget(ApiObject):
    kind: DownloadTargetKind | None = field(default=None, metadata=REQUIRED)
    name: str = field(default="", metadata=REQUIRED)


@dataclass(kw_only=True)
class DownloadRequestSpec(ApiObject):
    target: DownloadTarget = field(default_factory=DownloadTarget, metadata=REQUIRED)


@dataclass(kw_only=True)
class DownloadRequestStatus(ApiObject):
    phase: DownloadRequestPhase | None = None
    download_url: str = field(default="", metadata=wire_name("downloadURL"))
    expiration: datetime | None = None


@dataclass(kw_only=True)
class DownloadRequest(Resource):
    """Asks the server for a short-lived URL to one file of a backup or restore."""

    KIND = "DownloadRequest"
    PLURAL = "downloadrequests"
    PRINTER_COLUMNS = (AGE_COLUMN,)

    spec: DownloadRequestSpec = field(default_factory=DownloadRequestSpec, metadata=ALWAYS)
    status: DownloadRequestStatus = field(default_factory=DownloadRequestStatus)


@dataclass(kw_only=True)
class PluginInfo(ApiObject):
    """One plugin the server has: its name (e.g. veloro.io/aws) and kind (e.g. ObjectStore)."""

    name: str = ""
    kind: str = ""


@dataclass(kw_only=True)
class ServerStatusRequestSpec(ApiObject):
    """Empty: creating the request is the question."""


@dataclass(kw_only=True)
class ServerStatusRequestStatus(ApiObject):
    phase: ServerStatusRequestPhase | None = None
    processed_timestamp: datetime | None = None
    server_version: str = ""
    plugins: list[PluginInfo] = field(default_factory=list)


@dataclass(kw_only=True)
class ServerStatusRequest(Resource):
    """Asks the server for its version and plugin list (`veloro version`, `veloro plugin get`)."""

    KIND = "ServerStatusRequest"
    PLURAL = "serverstatusrequests"
    SHORT_NAMES = ("ssr",)
    PRINTER_COLUMNS = (AGE_COLUMN,)

    spec: ServerStatusRequestSpec = field(default_factory=ServerStatusRequestSpec, metadata=ALWAYS)
    status: ServerStatusRequestStatus = field(default_factory=ServerStatusRequestStatus)
