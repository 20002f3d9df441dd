"""Prometheus metrics with Velero's names under the `veloro_` prefix (engine.md, Metrics).

Label names follow Velero: `schedule` on the per-outcome counters (empty for backups not made by a
schedule), `backupName` on per-backup values, `backup_location_name` on the location gauge.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

PREFIX = "veloro_"
# Velero's buckets for backup/restore durations (seconds): 10 s .. 4 h.
DURATION_BUCKETS = (10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1200.0, 1800.0, 3600.0, 7200.0, 14400.0)


# attribute -> (metric name without prefix, help text, label names) of the counters/gauges below.
_COUNTERS = {
    "backup_attempt": ("backup_attempt_total", "Total number of attempted backups", ("schedule",)),
    "backup_success": ("backup_success_total", "Total number of successful backups", ("schedule",)),
    "backup_partial_failure": (
        "backup_partial_failure_total",
        "Total number of partially failed backups",
        ("schedule",),
    ),
    "backup_failure": ("backup_failure_total", "Total number of failed backups", ("schedule",)),
    "backup_validation_failure": (
        "backup_validation_failure_total",
        "Total number of validation failed backups",
        ("schedule",),
    ),
    "backup_deletion_attempt": (
        "backup_deletion_attempt_total",
        "Total number of attempted backup deletions",
        ("schedule",),
    ),
    "backup_deletion_success": (
        "backup_deletion_success_total",
        "Total number of successful backup deletions",
        ("schedule",),
    ),
    "backup_deletion_failure": (
        "backup_deletion_failure_total",
        "Total number of failed backup deletions",
        ("schedule",),
    ),
    "restore_attempt": ("restore_attempt_total", "Total number of attempted restores", ("schedule",)),
    "restore_success": ("restore_success_total", "Total number of successful restores", ("schedule",)),
    "restore_partial_failure": (
        "restore_partial_failure_total",
        "Total number of partially failed restores",
        ("schedule",),
    ),
    "restore_failed": ("restore_failed_total", "Total number of failed restores", ("schedule",)),
    "restore_validation_failed": (
        "restore_validation_failed_total",
        "Total number of failed restores failing validations",
        ("schedule",),
    ),
    "volume_snapshot_attempt": (
        "volume_snapshot_attempt_total",
        "Total number of attempted volume snapshots",
        ("schedule",),
    ),
    "volume_snapshot_success": (
        "volume_snapshot_success_total",
        "Total number of successful volume snapshots",
        ("schedule",),
    ),
    "volume_snapshot_failure": (
        "volume_snapshot_failure_total",
        "Total number of failed volume snapshots",
        ("schedule",),
    ),
    "csi_snapshot_attempt": (
        "csi_snapshot_attempt_total",
        "Total number of CSI attempted volume snapshots",
        ("schedule", "backupName"),
    ),
    "csi_snapshot_success": (
        "csi_snapshot_success_total",
        "Total number of CSI successful volume snapshots",
        ("schedule", "backupName"),
    ),
    "csi_snapshot_failure": (
        "csi_snapshot_failure_total",
        "Total number of CSI failed volume snapshots",
        ("schedule", "backupName"),
    ),
}
_GAUGES = {
    "backup_total": ("backup_total", "Current number of existent backups", ()),
    "restore_total": ("restore_total", "Current number of existent restores", ()),
    "backup_tarball_size": ("backup_tarball_size_bytes", "Size, in bytes, of a backup", ("schedule",)),
    "backup_items_total": ("backup_items_total", "Total number of items backed up", ("backupName",)),
    "backup_items_errors": (
        "backup_items_errors",
        "Total number of items that failed to be backed up",
        ("backupName",),
    ),
    "backup_last_successful": (
        "backup_last_successful_timestamp",
        "Last time a backup ran successfully, Unix timestamp in seconds",
        ("schedule",),
    ),
    "location_status": (
        "backup_location_status_gauge",
        "The status of backup storage locations: 1 available, 0 unavailable",
        ("backup_location_name",),
    ),
    # veloro's own: whether this server holds the leader lease (a standby shows 0).
    "leader": ("server_leader", "1 when this server is the leader and runs the controllers", ()),
}


class Metrics:
    """One registry per server (tests run several servers in one process)."""

    backup_attempt: Counter
    backup_success: Counter
    backup_partial_failure: Counter
    backup_failure: Counter
    backup_validation_failure: Counter
    backup_deletion_attempt: Counter
    backup_deletion_success: Counter
    backup_deletion_failure: Counter
    restore_attempt: Counter
    restore_success: Counter
    restore_partial_failure: Counter
    restore_failed: Counter
    restore_validation_failed: Counter
    volume_snapshot_attempt: Counter
    volume_snapshot_success: Counter
    volume_snapshot_failure: Counter
    csi_snapshot_attempt: Counter
    csi_snapshot_success: Counter
    csi_snapshot_failure: Counter
    backup_total: Gauge
    restore_total: Gauge
    backup_tarball_size: Gauge
    backup_items_total: Gauge
    backup_items_errors: Gauge
    backup_last_successful: Gauge
    location_status: Gauge
    leader: Gauge

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        for attr, (name, doc, labels) in _COUNTERS.items():
            setattr(self, attr, Counter(PREFIX + name, doc, labels, registry=self.registry))
        for attr, (name, doc, labels) in _GAUGES.items():
            setattr(self, attr, Gauge(PREFIX + name, doc, labels, registry=self.registry))
        self.backup_duration = Histogram(
            PREFIX + "backup_duration_seconds",
            "Time taken to complete backup, in seconds",
            ["schedule"],
            buckets=DURATION_BUCKETS,
            registry=self.registry,
        )
