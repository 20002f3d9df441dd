"""Backup: what to capture (spec) and how it went (status)."""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass, field
from datetime import datetime

from veloro_core.api.common import (
    DEFAULT_BACKUP_TTL,
    DEFAULT_CSI_SNAPSHOT_TIMEOUT,
    DEFAULT_ITEM_OPERATION_TIMEOUT,
    HookStatus,
    LabelSelector,
    TypedLocalObjectReference,
)
from veloro_core.api.duration import Duration
from veloro_core.api.hooks import BackupHooks
from veloro_core.api.resource import AGE_COLUMN, PrinterColumn, Resource
from veloro_core.api.serde import ALWAYS, ApiObject


class BackupPhase(enum.StrEnum):
    NEW = "New"
    QUEUED = "Queued"
    READY_TO_START = "ReadyToStart"
    FAILED_VALIDATION = "FailedValidation"
    IN_PROGRESS = "InProgress"
    WAITING_FOR_PLUGIN_OPERATIONS = "WaitingForPluginOperations"
    WAITING_FOR_PLUGIN_OPERATIONS_PARTIALLY_FAILED = "WaitingForPluginOperationsPartiallyFailed"
    FINALIZING = "Finalizing"
    FINALIZING_PARTIALLY_FAILED = "FinalizingPartiallyFailed"
    COMPLETED = "Completed"
    PARTIALLY_FAILED = "PartiallyFailed"
    FAILED = "Failed"
    DELETING = "Deleting"

    @property
    def is_terminal(self) -> bool:
        """No controller will move a backup out of this phase (except deletion)."""
        return self in _TERMINAL_BACKUP_PHASES


_TERMINAL_BACKUP_PHASES = frozenset(
    {BackupPhase.FAILED_VALIDATION, BackupPhase.COMPLETED, BackupPhase.PARTIALLY_FAILED, BackupPhase.FAILED}
)


@dataclass(kw_only=True)
class BackupMetadata(ApiObject):
    """Labels to put on the Backup's own metadata (Velero's spec.metadata)."""

    labels: dict[str, str] = field(default_factory=dict)


@dataclass(kw_only=True)
class UploaderConfigForBackup(ApiObject):
    parallel_files_upload: int = 0


@dataclass(kw_only=True)
class BackupSpec(ApiObject):
    """What to back up. Nil/empty filters mean "everything"; defaults are applied by the controller."""

    metadata: BackupMetadata | None = None
    included_namespaces: list[str] = field(default_factory=list)
    excluded_namespaces: list[str] = field(default_factory=list)
    included_resources: list[str] = field(default_factory=list)
    excluded_resources: list[str] = field(default_factory=list)
    included_cluster_scoped_resources: list[str] = field(default_factory=list)
    excluded_cluster_scoped_resources: list[str] = field(default_factory=list)
    included_namespace_scoped_resources: list[str] = field(default_factory=list)
    excluded_namespace_scoped_resources: list[str] = field(default_factory=list)
    label_selector: LabelSelector | None = None
    or_label_selectors: list[LabelSelector] = field(default_factory=list)
    snapshot_volumes: bool | None = None
    ttl: Duration | None = None
    include_cluster_resources: bool | None = None
    hooks: BackupHooks | None = None
    storage_location: str = ""
    volume_snapshot_locations: list[str] = field(default_factory=list)
    default_volumes_to_restic: bool | None = None  # deprecated by Velero; read for old backups
    default_volumes_to_fs_backup: bool | None = None
    ordered_resources: dict[str, str] = field(default_factory=dict)
    csi_snapshot_timeout: Duration | None = None
    item_operation_timeout: Duration | None = None
    resource_policy: TypedLocalObjectReference | None = None
    snapshot_move_data: bool | None = None
    datamover: str = ""
    uploader_config: UploaderConfigForBackup | None = None

    def with_defaults(self) -> BackupSpec:
        """A copy with ttl, csiSnapshotTimeout and itemOperationTimeout filled in (the controller's job)."""
        return dataclasses.replace(
            self,
            ttl=self.ttl or DEFAULT_BACKUP_TTL,
            csi_snapshot_timeout=self.csi_snapshot_timeout or DEFAULT_CSI_SNAPSHOT_TIMEOUT,
            item_operation_timeout=self.item_operation_timeout or DEFAULT_ITEM_OPERATION_TIMEOUT,
        )

    @property
    def uses_new_resource_filters(self) -> bool:
        """True when any of the newer cluster/namespace-scoped filters is set (mixing is invalid)."""
        return bool(
            self.included_cluster_scoped_resources
            or self.excluded_cluster_scoped_resources
            or self.included_namespace_scoped_resources
            or self.excluded_namespace_scoped_resources
        )

    @property
    def uses_old_resource_filters(self) -> bool:
        return bool(
            self.included_resources or self.excluded_resources or self.include_cluster_resources is not None
        )


@dataclass(kw_only=True)
class BackupProgress(ApiObject):
    total_items: int = 0
    items_backed_up: int = 0


@dataclass(kw_only=True)
class BackupStatus(ApiObject):
    version: int = 0  # deprecated by Velero in favour of formatVersion; read for old backups
    format_version: str = ""
    expiration: datetime | None = None
    phase: BackupPhase | None = None
    validation_errors: list[str] = field(default_factory=list)
    start_timestamp: datetime | None = None
    completion_timestamp: datetime | None = None
    volume_snapshots_attempted: int = 0
    volume_snapshots_completed: int = 0
    failure_reason: str = ""
    warnings: int = 0
    errors: int = 0
    progress: BackupProgress | None = None
    csi_volume_snapshots_attempted: int = 0
    csi_volume_snapshots_completed: int = 0
    backup_item_operations_attempted: int = 0
    backup_item_operations_completed: int = 0
    backup_item_operations_failed: int = 0
    hook_status: HookStatus | None = None


@dataclass(kw_only=True)
class Backup(Resource):
    """A backup of cluster resources (and volume data) to a BackupStorageLocation."""

    KIND = "Backup"
    PLURAL = "backups"
    PRINTER_COLUMNS = (
        PrinterColumn("Status", ".status.phase", description="Backup status such as InProgress/Completed"),
        PrinterColumn("Errors", ".status.errors", "integer", "Errors encountered during the backup"),
        PrinterColumn("Warnings", ".status.warnings", "integer", "Warnings encountered during the backup"),
        PrinterColumn("Created", ".status.startTimestamp", "date", "Time the backup started"),
        PrinterColumn("Expires", ".status.expiration", "date", "Time the backup is garbage-collected"),
        PrinterColumn("Storage Location", ".spec.storageLocation", description="Backup storage location"),
        PrinterColumn("Selector", ".spec.labelSelector", description="Label selector of the backup"),
        AGE_COLUMN,
    )

    spec: BackupSpec = field(default_factory=BackupSpec, metadata=ALWAYS)
    status: BackupStatus = field(default_factory=BackupStatus)

    @property
    def phase(self) -> BackupPhase:
        """The phase, an unset one read as New (as the controllers treat it)."""
        return self.status.phase or BackupPhase.NEW
