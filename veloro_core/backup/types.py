"""The engine's API: BackupRunInput -> run_backup -> BackupResult, and BackupSettings.

Settings are a dataclass passed explicitly (no globals). The Backup custom resource travels as its dict
(camelCase, as read from the API); the engine returns the same dict with its final status filled in, and
that dict is what the controller writes back and what is stored as velero-backup.json.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from veloro_sdk.contracts import VolumeSnapshotter

from veloro_core.api import BackupStorageLocation
from veloro_core.kube import KubeClient
from veloro_core.persistence import BackupStore
from veloro_core.plugins import PluginManager

Obj = dict[str, Any]


@dataclass(frozen=True)
class ProgressUpdate:
    """What the progress callback receives (at most about once per `progress_interval`)."""

    total_items: int
    items_backed_up: int
    warnings: int
    errors: int


@dataclass
class BackupSettings:
    """Tuning and optional components of one backup run."""

    # Lists of different resources fetched concurrently; each keeps at most `prefetch_pages` pages ahead.
    list_workers: int = 4
    prefetch_pages: int = 1
    page_size: int | None = None  # None = the KubeClient's setting (500)
    # Items that some action applies to go through the actions in groups of up to `action_batch_size`
    # items (one execute_batch per action and group, not one call per item); `action_workers` groups
    # are processed at once, so the next group is prepared while the plugin works on one. Memory: at
    # most action_workers x action_batch_size items in flight.
    action_batch_size: int = 500
    action_workers: int = 2
    writer_queue: int = 1024
    # Up to this many included namespaces are listed one by one; more (or patterns) list cluster-wide.
    per_namespace_list_limit: int = 16
    progress_interval: float = 1.0
    on_progress: Callable[[ProgressUpdate], None] | None = None
    # v2 asynchronous operations: how often Progress is polled (the timeout is spec.itemOperationTimeout).
    operation_poll_interval: float = 5.0
    # Native snapshots: the VolumeSnapshotter of the backup's VolumeSnapshotLocation (already Init'ed),
    # and that location's name. None = no VSL: PV snapshots are recorded as skipped.
    volume_snapshotter: VolumeSnapshotter | None = None
    volume_snapshot_location: str = ""
    # File-level volume backup: PodVolumeBackups are created in `server_namespace` (where the node agents
    # watch; "" = the Backup's own namespace) for the backup's location (`storage_location`: the model, or
    # its name; None = spec.storageLocation), and waited for at most `pod_volume_timeout` seconds (None =
    # the backup's itemOperationTimeout), polled every `pod_volume_poll` seconds.
    server_namespace: str = ""
    storage_location: BackupStorageLocation | str | None = None
    pod_volume_timeout: float | None = None
    pod_volume_poll: float = 0.5
    # A line per backed-up item in the backup's own log (the uploaded log; not forwarded to the console).
    log_items: bool = True
    # Results keep at most this many messages per namespace and section (counts are always exact).
    max_messages_per_scope: int = 1000
    compresslevel: int = 1
    temp_dir: str | None = None


@dataclass
class BackupRunInput:
    backup: Obj  # the Backup custom resource (dict)
    kube: KubeClient
    plugins: PluginManager | None
    store: BackupStore
    settings: BackupSettings = field(default_factory=BackupSettings)
    log: Any = None  # a structlog logger; None = structlog.get_logger("veloro.backup")


@dataclass
class BackupResult:
    """The outcome. `backup` is the Backup dict with its final status (what was stored, if stored)."""

    phase: str
    backup: Obj
    validation_errors: list[str] = field(default_factory=list)
    failure_reason: str = ""
    warnings: Obj = field(default_factory=dict)  # R = {"velero": [...], "cluster": [...], "namespaces": {}}
    errors: Obj = field(default_factory=dict)
    warning_count: int = 0
    error_count: int = 0
    total_items: int = 0
    items_backed_up: int = 0
    tarball_bytes: int = 0
    volume_snapshots_attempted: int = 0
    volume_snapshots_completed: int = 0
    csi_volume_snapshots_attempted: int = 0
    csi_volume_snapshots_completed: int = 0
    pod_volume_backups_attempted: int = 0
    pod_volume_backups_completed: int = 0
    operations_attempted: int = 0
    operations_completed: int = 0
    operations_failed: int = 0
    stored: bool = False
