"""run_restore: validate, download and safely extract the backup, restore (passes.py), upload the log,
results and resource list. A restore creates and (with existingResourcePolicy=update) patches objects;
it never deletes anything in the cluster.

Outcomes: FailedValidation (every problem listed, nothing touched), Failed (the backup could not be read
or the cluster/store could not be used at all; failureReason says why), PartiallyFailed (some items had
errors), Completed.
"""

from __future__ import annotations

import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import BinaryIO

from veloro_core.api.restore import RestorePhase
from veloro_core.archive import ArchiveError, BackupContents, extract_tarball
from veloro_core.kube import KubeError
from veloro_core.persistence import BackupStoreError, RestoreFile, StoreUnavailableError, gzip_json
from veloro_core.restore.actions import load_actions
from veloro_core.restore.cluster import ClusterView
from veloro_core.restore.context import RestoreContext
from veloro_core.restore.extractdir import extract_parent, no_space
from veloro_core.restore.logcapture import RestoreLog
from veloro_core.restore.model import RestoreResult, RestoreRunInput, RestoreSettings
from veloro_core.restore.modifiers import load_modifiers
from veloro_core.restore.objects import restore_labels
from veloro_core.restore.operations import wait_operations
from veloro_core.restore.passes import RestorePasses
from veloro_core.restore.podvolumes import PodVolumeRestores, restore_volume_info
from veloro_core.restore.results import Progress
from veloro_core.restore.validation import ValidatedRestore, validate_restore
from veloro_core.restore.volumes import build_plan

CLEANUP_THREAD = "veloro-restore-cleanup"


class _Failed(Exception):
    """The restore cannot go on; the message is its failureReason."""


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def run_restore(inp: RestoreRunInput) -> RestoreResult:
    """Run one restore to its end (see the module docstring). Never raises for restore problems."""
    name = str((inp.restore.get("metadata") or {}).get("name") or "")
    rlog = RestoreLog(inp.log, name or "<unnamed>", inp.settings.temp_dir)
    result = RestoreResult(phase=RestorePhase.IN_PROGRESS, start_timestamp=_now())
    progress = Progress(
        inp.on_progress,
        inp.settings.progress_interval,
        lambda exc: rlog.warning("progress update failed", error=str(exc)),
    )
    rlog.info("restore started", backup=str((inp.backup.get("metadata") or {}).get("name") or ""))
    try:
        validated = _validate(inp, rlog, result)
        if validated is not None:
            _restore(inp, *validated, rlog, progress, result)
    except _Failed as exc:
        result.phase, result.failure_reason = RestorePhase.FAILED, str(exc)
        rlog.error("restore failed", reason=str(exc))
    except Exception as exc:  # a bug must still end the restore with a reason, not a stuck InProgress
        result.phase = RestorePhase.FAILED
        result.failure_reason = f"unexpected error: {type(exc).__name__}: {exc}"
        rlog.error("restore failed unexpectedly", error=repr(exc))
    result.total_items, result.items_restored = progress.total, progress.done
    result.completion_timestamp = _now()
    rlog.info(
        "restore finished",
        phase=str(result.phase),
        warnings=result.warnings.count(),
        errors=result.errors.count(),
        items=result.items_restored,
    )
    progress.report()
    if name:
        _upload(inp, name, rlog, result)
    result.log_lines = rlog.lines
    rlog.close()
    return result


def _validate(
    inp: RestoreRunInput, rlog: RestoreLog, result: RestoreResult
) -> tuple[ValidatedRestore, ClusterView] | None:
    cluster = ClusterView(inp.kube)
    try:
        cluster.load()
    except KubeError as exc:
        raise _Failed(f"cannot read the target cluster's API (discovery failed): {exc}") from exc
    try:
        validated = validate_restore(inp.restore, inp.backup, inp.store, cluster.index)
    except StoreUnavailableError as exc:
        raise _Failed(f"the backup storage location is unavailable: {exc}") from exc
    validated.modifiers, problems = load_modifiers(inp.kube, inp.restore, inp.settings.server_namespace)
    validated.problems.extend(problems)
    if validated.problems:
        result.phase = RestorePhase.FAILED_VALIDATION
        result.validation_errors = validated.problems
        for problem in validated.problems:
            rlog.error("validation failed", problem=problem)
        return None
    return validated, cluster


def _download(inp: RestoreRunInput, backup_name: str, rlog: RestoreLog) -> BackupContents:
    settings = inp.settings
    with tempfile.TemporaryFile(dir=settings.temp_dir) as tarball:
        try:
            size = inp.store.download_backup_contents(backup_name, tarball)
        except BackupStoreError as exc:
            raise _Failed(f"downloading the backup tarball failed: {exc}") from exc
        rlog.info("backup tarball downloaded", bytes=size)
        parent = extract_parent(settings.temp_dir, settings.extract_in_memory, size)
        try:
            return _extract(tarball, settings, parent)
        except (ArchiveError, OSError) as exc:
            if parent is None or not no_space(exc):
                raise _failed_extract(backup_name, exc) from exc
            rlog.warning("no room left to extract the backup in memory; extracting it on disk", dir=parent)
        try:
            return _extract(tarball, settings, settings.temp_dir)
        except (ArchiveError, OSError) as exc:
            raise _failed_extract(backup_name, exc) from exc


def _extract(tarball: BinaryIO, settings: RestoreSettings, parent: str | None) -> BackupContents:
    tarball.seek(0)
    return extract_tarball(tarball, limits=settings.extract_limits, parent_dir=parent, versioned_copies=False)


def _failed_extract(backup_name: str, exc: Exception) -> _Failed:
    if isinstance(exc, ArchiveError):
        return _Failed(f"backup {backup_name!r} cannot be restored: {exc}")
    return _Failed(
        f"extracting backup {backup_name!r} failed: {exc}; check the space and permissions of the "
        "server's temp dir"
    )


def _restore(
    inp: RestoreRunInput,
    v: ValidatedRestore,
    cluster: ClusterView,
    rlog: RestoreLog,
    progress: Progress,
    result: RestoreResult,
) -> None:
    actions, problems = load_actions(inp.plugins, cluster.index)
    if problems:
        raise _Failed("restore item actions could not be loaded: " + "; ".join(problems))
    contents = _download(inp, v.backup_name, rlog)
    try:
        ctx = RestoreContext(
            restore=inp.restore,
            spec=v,
            kube=inp.kube,
            cluster=cluster,
            contents=contents,
            settings=inp.settings,
            log=rlog,
            progress=progress,
            labels=restore_labels(v.backup_name, v.name),
            actions=actions,
            warnings=result.warnings,
            errors=result.errors,
        )
        _restore_items(inp, ctx, rlog, result)
    finally:
        _cleanup(contents, inp.settings.background_cleanup)
    result.phase = RestorePhase.PARTIALLY_FAILED if result.errors.count() else RestorePhase.COMPLETED


def _restore_items(
    inp: RestoreRunInput, ctx: RestoreContext, rlog: RestoreLog, result: RestoreResult
) -> None:
    for warning in ctx.contents.warnings:
        ctx.warnings.add_velero(warning)
    ctx.plan = build_plan(inp.store, ctx.spec.backup_name, ctx.contents)
    for warning in ctx.plan.warnings:
        ctx.warnings.add_velero(warning)
    if ctx.plan.pod_volume_backups:
        ctx.pod_volumes = _pod_volumes(inp, ctx)
    with ThreadPoolExecutor(max_workers=inp.settings.workers, thread_name_prefix="veloro-restore") as pool:
        RestorePasses(ctx, pool).run()
    counts = wait_operations(ctx, ctx.spec.item_operation_timeout)
    if ctx.pod_volumes is not None:
        volume_results = ctx.pod_volumes.wait(ctx.warnings, ctx.errors, rlog)
        if volume_results:
            body = gzip_json(restore_volume_info(volume_results))
            _put(inp, ctx.spec.name, RestoreFile.VOLUME_INFO, body, rlog, result)
    result.operations_attempted = counts.attempted
    result.operations_completed = counts.completed
    result.operations_failed = counts.failed
    result.resource_list = ctx.resources.to_dict()
    if counts.records:
        _put(inp, ctx.spec.name, RestoreFile.ITEM_OPERATIONS, gzip_json(counts.records), rlog, result)


def _pod_volumes(inp: RestoreRunInput, ctx: RestoreContext) -> PodVolumeRestores:
    settings = inp.settings
    timeout = settings.pod_volume_timeout
    return PodVolumeRestores(
        inp.kube,
        settings.server_namespace,
        inp.restore,
        ctx.plan.pod_volume_backups,
        timeout=timeout if timeout is not None else ctx.spec.item_operation_timeout.total_seconds(),
        poll=settings.pod_volume_poll,
    )


def _cleanup(contents: BackupContents, background: bool) -> None:
    """Remove the extracted tree; in a background thread when asked, because deleting many small files
    takes a while on ordinary disks and the restore's outcome does not depend on it."""
    if background:
        threading.Thread(target=contents.cleanup, name=CLEANUP_THREAD, daemon=False).start()
    else:
        contents.cleanup()


def _put(
    inp: RestoreRunInput, name: str, file: RestoreFile, body: bytes, rlog: RestoreLog, result: RestoreResult
) -> None:
    try:
        inp.store.put_restore_file(name, file, body)
    except BackupStoreError as exc:
        message = f"uploading the restore's {file.name.lower().replace('_', ' ')} failed: {exc}"
        result.warnings.add_velero(message)
        rlog.warning(message)


def _upload(inp: RestoreRunInput, name: str, rlog: RestoreLog, result: RestoreResult) -> None:
    """Results, resource list, then the log (last, so it records the other uploads' failures)."""
    results = {"warnings": result.warnings.to_dict(), "errors": result.errors.to_dict()}
    _put(inp, name, RestoreFile.RESULTS, gzip_json(results), rlog, result)
    _put(inp, name, RestoreFile.RESOURCE_LIST, gzip_json(result.resource_list), rlog, result)
    _put(inp, name, RestoreFile.LOG, b"".join(rlog.gzipped()), rlog, result)
