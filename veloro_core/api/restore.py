"""Restore: which backup to restore, with what filters and mappings, and how it went."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

from veloro_core.api.common import HookStatus, LabelSelector, TypedLocalObjectReference
from veloro_core.api.duration import Duration
from veloro_core.api.hooks import RestoreHooks
from veloro_core.api.resource import AGE_COLUMN, PrinterColumn, Resource
from veloro_core.api.serde import ALWAYS, ApiObject, wire_name


class RestorePhase(enum.StrEnum):
    NEW = "New"
    FAILED_VALIDATION = "FailedValidation"
    IN_PROGRESS = "InProgress"
    WAITING_FOR_PLUGIN_OPERATIONS = "WaitingForPluginOperations"
    WAITING_FOR_PLUGIN_OPERATIONS_PARTIALLY_FAILED = "WaitingForPluginOperationsPartiallyFailed"
    FINALIZING = "Finalizing"
    FINALIZING_PARTIALLY_FAILED = "FinalizingPartiallyFailed"
    COMPLETED = "Completed"
    PARTIALLY_FAILED = "PartiallyFailed"
    FAILED = "Failed"

    @property
    def is_terminal(self) -> bool:
        return self in _TERMINAL_RESTORE_PHASES


_TERMINAL_RESTORE_PHASES = frozenset(
    {
        RestorePhase.FAILED_VALIDATION,
        RestorePhase.COMPLETED,
        RestorePhase.PARTIALLY_FAILED,
        RestorePhase.FAILED,
    }
)


class ExistingResourcePolicy(enum.StrEnum):
    """What to do when a restored object already exists and differs: warn (none) or merge-patch (update)."""

    NONE = "none"
    UPDATE = "update"


@dataclass(kw_only=True)
class RestoreStatusSpec(ApiObject):
    """Resource types whose status is restored (through the status subresource)."""

    included_resources: list[str] = field(default_factory=list)
    excluded_resources: list[str] = field(default_factory=list)


@dataclass(kw_only=True)
class UploaderConfigForRestore(ApiObject):
    write_sparse_files: bool | None = None
    parallel_files_download: int = 0


@dataclass(kw_only=True)
class RestoreSpec(ApiObject):
    """Exactly one of backupName and scheduleName (= the newest Completed backup of that schedule)."""

    backup_name: str = ""
    schedule_name: str = ""
    included_namespaces: list[str] = field(default_factory=list)
    excluded_namespaces: list[str] = field(default_factory=list)
    included_resources: list[str] = field(default_factory=list)
    excluded_resources: list[str] = field(default_factory=list)
    namespace_mapping: dict[str, str] = field(default_factory=dict)
    label_selector: LabelSelector | None = None
    or_label_selectors: list[LabelSelector] = field(default_factory=list)
    restore_pvs: bool | None = field(default=None, metadata=wire_name("restorePVs"))
    restore_status: RestoreStatusSpec | None = None
    preserve_node_ports: bool | None = None
    include_cluster_resources: bool | None = None
    hooks: RestoreHooks | None = None
    existing_resource_policy: ExistingResourcePolicy | None = None
    item_operation_timeout: Duration | None = None
    resource_modifier: TypedLocalObjectReference | None = None
    uploader_config: UploaderConfigForRestore | None = None


@dataclass(kw_only=True)
class RestoreProgress(ApiObject):
    total_items: int = 0
    items_restored: int = 0


@dataclass(kw_only=True)
class RestoreStatus(ApiObject):
    phase: RestorePhase | None = None
    validation_errors: list[str] = field(default_factory=list)
    warnings: int = 0
    errors: int = 0
    failure_reason: str = ""
    start_timestamp: datetime | None = None
    completion_timestamp: datetime | None = None
    progress: RestoreProgress | None = None
    restore_item_operations_attempted: int = 0
    restore_item_operations_completed: int = 0
    restore_item_operations_failed: int = 0
    hook_status: HookStatus | None = None


@dataclass(kw_only=True)
class Restore(Resource):
    """A restore of (part of) a backup into the cluster."""

    KIND = "Restore"
    PLURAL = "restores"
    PRINTER_COLUMNS = (
        PrinterColumn("Backup", ".spec.backupName", description="Backup being restored"),
        PrinterColumn("Status", ".status.phase", description="Restore status such as InProgress/Completed"),
        PrinterColumn("Errors", ".status.errors", "integer", "Errors encountered during the restore"),
        PrinterColumn("Warnings", ".status.warnings", "integer", "Warnings encountered during the restore"),
        PrinterColumn("Created", ".status.startTimestamp", "date", "Time the restore started"),
        AGE_COLUMN,
    )

    spec: RestoreSpec = field(default_factory=RestoreSpec, metadata=ALWAYS)
    status: RestoreStatus = field(default_factory=RestoreStatus)

    @property
    def phase(self) -> RestorePhase:
        return self.status.phase or RestorePhase.NEW
