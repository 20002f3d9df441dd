"""Inputs and outputs of the restore engine: RestoreSettings, RestoreRunInput, RestoreResult."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from veloro_sdk.contracts import VolumeSnapshotter

from veloro_core.api.restore import RestorePhase
from veloro_core.archive import ExtractLimits
from veloro_core.kube import KubeClient
from veloro_core.persistence import BackupStore
from veloro_core.plugins import PluginManager
from veloro_core.restore.priorities import DEFAULT_PRIORITIES, Priorities
from veloro_core.restore.results import Results

Obj = dict[str, Any]
# (total items, items restored so far); called at most about once per `progress_interval` and at the end.
ProgressCallback = Callable[[int, int], None]


@dataclass(frozen=True)
class RestoreSettings:
    """Server-level knobs of the restore engine (Velero's server flags where one exists).

    `priorities`: the pass-2 order (`--restore-resource-priorities`); a user value REPLACES the default.
    `volume_snapshotters`: initialized VolumeSnapshotters by VolumeSnapshotLocation name, used to create
    volumes from native snapshots; none configured = PVs with snapshots are restored as they are (warning).
    `workers`: concurrent creates within one resource type (and namespace creations).
    `temp_dir`: where the tarball is downloaded and extracted (default: the system temp dir, the tree
    on /dev/shm when `extract_in_memory` and it has room; a tmpfs makes extracting many small items much
    faster, see extractdir.py).
    """

    priorities: Priorities = DEFAULT_PRIORITIES
    workers: int = 16
    extract_limits: ExtractLimits = field(default_factory=ExtractLimits)
    temp_dir: str | None = None
    extract_in_memory: bool = True
    crd_established_timeout: float = 60.0
    namespace_terminating_timeout: float = 120.0
    additional_items_ready_timeout: float = 600.0
    item_operation_poll_interval: float = 1.0
    poll_interval: float = 0.2
    progress_interval: float = 1.0
    volume_snapshotters: Mapping[str, VolumeSnapshotter] = field(default_factory=dict)
    field_manager: str = "veloro-restore"
    # File-level volume restore: PodVolumeRestores are created in this namespace (the server's; "" = the
    # Restore's own namespace) and waited for at most `pod_volume_timeout` seconds (None = the restore's
    # itemOperationTimeout), polled every `pod_volume_poll` seconds.
    server_namespace: str = ""
    pod_volume_timeout: float | None = None
    pod_volume_poll: float = 0.5
    # remove the extracted backup in a background thread after the restore (its outcome does not wait)
    background_cleanup: bool = True

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise ValueError(f"workers must be >= 1, got {self.workers}")


@dataclass
class RestoreRunInput:
    """One restore to run. `restore` is the Restore CR dict (veloro.io/v1 or velero.io/v1 shape);
    `backup` the Backup CR it names (the store's copy of its metadata is checked too)."""

    restore: Obj
    backup: Obj
    kube: KubeClient
    plugins: PluginManager | None
    store: BackupStore
    settings: RestoreSettings = field(default_factory=RestoreSettings)
    log: Any = None  # a structlog logger; None = veloro's default logger
    on_progress: ProgressCallback | None = None


@dataclass
class RestoreResult:
    """How the restore went; `status_fields()` gives the Restore status to write."""

    phase: RestorePhase
    validation_errors: list[str] = field(default_factory=list)
    failure_reason: str = ""
    warnings: Results = field(default_factory=Results)
    errors: Results = field(default_factory=Results)
    resource_list: dict[str, list[str]] = field(default_factory=dict)
    total_items: int = 0
    items_restored: int = 0
    operations_attempted: int = 0
    operations_completed: int = 0
    operations_failed: int = 0
    start_timestamp: datetime | None = None
    completion_timestamp: datetime | None = None
    log_lines: int = 0

    def status_fields(self) -> Obj:
        """The Restore `.status` fields this result determines (camelCase, ready for a status patch)."""
        status: Obj = {
            "phase": str(self.phase),
            "warnings": self.warnings.count(),
            "errors": self.errors.count(),
            "progress": {"totalItems": self.total_items, "itemsRestored": self.items_restored},
        }
        if self.validation_errors:
            status["validationErrors"] = list(self.validation_errors)
        if self.failure_reason:
            status["failureReason"] = self.failure_reason
        if self.operations_attempted:
            status["restoreItemOperationsAttempted"] = self.operations_attempted
            status["restoreItemOperationsCompleted"] = self.operations_completed
            status["restoreItemOperationsFailed"] = self.operations_failed
        for key, value in (
            ("startTimestamp", self.start_timestamp),
            ("completionTimestamp", self.completion_timestamp),
        ):
            if value is not None:
                status[key] = value.strftime("%Y-%m-%dT%H:%M:%SZ")
        return status
