"""Backup sync: every backupSyncPeriod, each location's complete backups that the cluster lacks are
created (status from the store; Velero's velero.io/v1 metadata becomes veloro.io/v1), and the cluster's
Completed/PartiallyFailed backups of that location that are gone from the store are deleted."""

from __future__ import annotations

import time
from typing import Any

from veloro_core.api import (
    API_VERSION,
    ApiValidationError,
    Backup,
    BackupStorageLocation,
    format_time,
)
from veloro_core.controllers import labels
from veloro_core.controllers.base import Controller, Obj
from veloro_core.kube import AlreadyExists, KubeError
from veloro_core.persistence import BackupStore, BackupStoreError
from veloro_core.server.stores import LocationError

SYNCED_PHASES = ("Completed", "PartiallyFailed")
# Set on backups created by sync: between the create and the status write the Backup has no phase, and the
# backup controller must not take it for a new backup to run.
SYNCED_ANNOTATION = "veloro.io/synced-from-location"
# metadata fields that belong to the cluster the backup was made in, not to the copy made here
_CLUSTER_FIELDS = (
    "uid",
    "resourceVersion",
    "creationTimestamp",
    "generation",
    "managedFields",
    "selfLink",
    "ownerReferences",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "finalizers",
)


def cluster_copy(stored: Obj, location: str, namespace: str) -> tuple[Obj, Obj]:
    """(the Backup to create, its status) from a stored velero-backup.json."""
    metadata = {k: v for k, v in (stored.get("metadata") or {}).items() if k not in _CLUSTER_FIELDS}
    metadata["namespace"] = namespace
    metadata["labels"] = {**(metadata.get("labels") or {}), **labels.both(labels.STORAGE_LOCATION, location)}
    metadata["annotations"] = {**(metadata.get("annotations") or {}), SYNCED_ANNOTATION: location}
    spec = {**(stored.get("spec") or {}), "storageLocation": location}
    obj = {"apiVersion": API_VERSION, "kind": "Backup", "metadata": metadata, "spec": spec}
    return obj, dict(stored.get("status") or {})


class BackupSyncController(Controller):
    NAME = "backup-sync"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._last: dict[str, float] = {}

    def tick_interval(self) -> float | None:
        return self.ctx.settings.tick_period

    def tick(self) -> None:
        for item in self.ctx.list(BackupStorageLocation):
            try:
                bsl = BackupStorageLocation.from_dict(item)
            except ApiValidationError:
                continue  # the location controller reports it
            period = (
                bsl.spec.backup_sync_period.seconds
                if bsl.spec.backup_sync_period is not None
                else self.ctx.settings.backup_sync_period.total_seconds()
            )
            if period <= 0 or bsl.status.phase == "Unavailable":
                continue
            if time.monotonic() - self._last.get(bsl.name, -1e12) < period:
                continue
            self._last[bsl.name] = time.monotonic()
            try:
                with self.ctx.locations.backup_store(bsl, timeout=5.0) as store:
                    self.sync(bsl, store)
            except (LocationError, BackupStoreError, KubeError) as exc:
                self.log.warning("backup sync failed", location=bsl.name, error=str(exc))

    def sync(self, bsl: BackupStorageLocation, store: BackupStore) -> None:
        in_store = set(store.list_backups())
        in_cluster = {str(b["metadata"]["name"]): b for b in self.ctx.list(Backup)}
        for name in sorted(in_store - set(in_cluster)):
            self._create(bsl, store, name)
        for name, backup in in_cluster.items():
            phase = (backup.get("status") or {}).get("phase")
            location = (backup.get("spec") or {}).get("storageLocation")
            synced = SYNCED_ANNOTATION in (backup["metadata"].get("annotations") or {})
            if synced and not phase and name in in_store:  # its status write failed last time
                self._create(bsl, store, name)
            if location == bsl.name and phase in SYNCED_PHASES and name not in in_store:
                self.log.info("backup gone from its location: deleting it from the cluster", backup=name)
                self.ctx.delete(Backup, name)
        self.ctx.patch_status(
            BackupStorageLocation, bsl.name, {"lastSyncedTime": format_time(self.ctx.clock())}
        )

    def _create(self, bsl: BackupStorageLocation, store: BackupStore, name: str) -> None:
        try:
            stored = store.get_backup_metadata(name)
        except BackupStoreError as exc:  # incomplete (being written or deleted) or corrupt: not synced
            self.log.debug("backup not synced", backup=name, reason=str(exc))
            return
        obj, status = cluster_copy(stored, bsl.name, self.ctx.namespace)
        try:
            self.ctx.create(Backup, obj)
        except AlreadyExists:
            existing = self.ctx.get(Backup, name) or {}
            if SYNCED_ANNOTATION not in (existing.get("metadata", {}).get("annotations") or {}):
                return
            if (existing.get("status") or {}).get("phase"):
                return
        self.ctx.patch_status(Backup, name, status)
        self.log.info("backup synced from its location", backup=name, location=bsl.name)
