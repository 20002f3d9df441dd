"""Finalizing a backup: its final status, then every file uploaded with the metadata LAST."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, BinaryIO

from veloro_core.api import format_time
from veloro_core.backup.context import BackupContext
from veloro_core.backup.spill import JsonLines, ResourceList
from veloro_core.backup.types import BackupResult
from veloro_core.persistence import BackupFile, BackupStoreError, gzip_json, gzip_stream
from veloro_core.podvolume import pod_volume_backups_document

if TYPE_CHECKING:
    from veloro_core.backup.engine import _BackupRun


_OMIT_EMPTY = (
    "warnings", "errors", "volumeSnapshotsAttempted", "volumeSnapshotsCompleted",
    "csiVolumeSnapshotsAttempted", "csiVolumeSnapshotsCompleted",
    "backupItemOperationsAttempted", "backupItemOperationsCompleted", "backupItemOperationsFailed",
)


def _final_status(run: _BackupRun, ctx: BackupContext, phase: str) -> dict[str, Any]:
    attempted, completed, failed = ctx.operations.counts()
    volumes = ctx.volumes
    progress = run.progress()
    status: dict[str, Any] = run.backup.setdefault("status", {})
    status.update(
        phase=phase,
        completionTimestamp=format_time(datetime.now(UTC).replace(microsecond=0)),
        progress={"totalItems": progress.total_items, "itemsBackedUp": progress.items_backed_up},
        warnings=run.warnings.count,
        errors=run.errors.count,
        volumeSnapshotsAttempted=volumes.attempted if volumes else 0,
        volumeSnapshotsCompleted=volumes.completed if volumes else 0,
        csiVolumeSnapshotsAttempted=volumes.csi_attempted if volumes else 0,
        csiVolumeSnapshotsCompleted=volumes.csi_completed if volumes else 0,
        backupItemOperationsAttempted=attempted,
        backupItemOperationsCompleted=completed,
        backupItemOperationsFailed=failed,
    )
    for key in _OMIT_EMPTY:
        if not status[key]:
            del status[key]  # omitempty, as the API server would store it
    return status


def upload_backup(run: _BackupRun, ctx: BackupContext, tarball: BinaryIO, size: int, resources: ResourceList,
                  infos: JsonLines, snapshots: JsonLines) -> BackupResult:
    phase = "PartiallyFailed" if run.errors.count else "Completed"
    status = _final_status(run, ctx, phase)
    run.log.info("backup finished; uploading", phase=phase, items=status["progress"]["itemsBackedUp"],
                 warnings=run.warnings.count, errors=run.errors.count, tarball_bytes=size)
    files: dict[BackupFile, Any] = {
        BackupFile.RESOURCE_LIST: resources.gzip_json(),
        BackupFile.RESULTS: gzip_json({"warnings": run.warnings.as_dict(), "errors": run.errors.as_dict()}),
        BackupFile.VOLUME_INFO: infos.gzip_json(),
    }
    if snapshots.count:
        files[BackupFile.VOLUME_SNAPSHOTS] = snapshots.gzip_json()
    pod_volumes = ctx.volumes.pod_volume_results if ctx.volumes else []
    pod_volume_backups = pod_volume_backups_document(pod_volumes)  # those that were created
    if pod_volume_backups:
        files[BackupFile.POD_VOLUME_BACKUPS] = gzip_json(pod_volume_backups)
    operations = ctx.operations.operations
    if operations:
        files[BackupFile.ITEM_OPERATIONS] = gzip_json([op.record(run.name, ctx.uid) for op in operations])
    try:
        store_warnings = run.inp.store.put_backup(run.name, run.backup, tarball,
                                                  log_body=gzip_stream(run.log.chunks()), files=files)
    except BackupStoreError as exc:
        return run._failed(str(exc))
    for warning in store_warnings:
        run.log.warning("backup stored with a warning", warning=warning)
    run.log.info("backup stored", location=run.inp.store.location)
    attempted, completed, failed = ctx.operations.counts()
    volumes = ctx.volumes
    return BackupResult(
        phase=phase, backup=run.backup, warnings=run.warnings.as_dict(), errors=run.errors.as_dict(),
        warning_count=run.warnings.count, error_count=run.errors.count,
        total_items=status["progress"]["totalItems"], items_backed_up=status["progress"]["itemsBackedUp"],
        tarball_bytes=size, volume_snapshots_attempted=volumes.attempted if volumes else 0,
        volume_snapshots_completed=volumes.completed if volumes else 0,
        csi_volume_snapshots_attempted=volumes.csi_attempted if volumes else 0,
        csi_volume_snapshots_completed=volumes.csi_completed if volumes else 0,
        pod_volume_backups_attempted=len(pod_volumes),
        pod_volume_backups_completed=sum(r.ok for r in pod_volumes), operations_attempted=attempted,
        operations_completed=completed, operations_failed=failed, stored=True)
