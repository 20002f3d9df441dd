"""run_backup: validate, discover, collect (streaming the tarball to a temp file), wait for plugin
operations, then upload everything with the metadata LAST (BackupStore.put_backup). A failure at any
point ends as Failed with a reason and leaves nothing complete-looking in the store."""

from __future__ import annotations

import copy
import tempfile
import threading
from datetime import UTC, datetime
from typing import Any, BinaryIO

import structlog

from veloro_core.api import DEFAULT_BACKUP_TTL, DEFAULT_ITEM_OPERATION_TIMEOUT, format_time, parse_duration
from veloro_core.backup.actions import ActionSet, ActionSetupError
from veloro_core.backup.collector import plan_resources
from veloro_core.backup.context import BackupContext, FatalBackupError
from veloro_core.backup.logcapture import CapturedLog
from veloro_core.backup.results import Results
from veloro_core.backup.run import Collector
from veloro_core.backup.spill import JsonLines, ResourceList
from veloro_core.backup.types import BackupResult, BackupRunInput, ProgressUpdate
from veloro_core.backup.upload import upload_backup
from veloro_core.backup.validate import validate_backup
from veloro_core.backup.volumes import VolumeRecorder
from veloro_core.backup.writer import TarballThread, WriterFailed
from veloro_core.kube import APIResource, KubeError
from veloro_core.persistence import BackupStoreError
from veloro_core.plugins import PluginHostError
from veloro_core.selection import ResourceIndex, ResourceInfo, SpecSelection

Obj = dict[str, Any]
FORMAT_VERSION = "1.1.0"


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def run_backup(inp: BackupRunInput) -> BackupResult:
    """Run one backup to completion (see the package docstring). Never raises for backup problems."""
    backup = copy.deepcopy(inp.backup)
    name = str((backup.get("metadata") or {}).get("name") or "")
    inner = inp.log if inp.log is not None else structlog.get_logger("veloro.backup")
    log = CapturedLog(inner, {"backup": name}, inp.settings.temp_dir)
    try:
        problems = validate_backup(backup)
        if problems:
            log.warning("backup failed validation", problems=problems)
            status = backup.setdefault("status", {})
            status.update(phase="FailedValidation", validationErrors=problems)
            return BackupResult(phase="FailedValidation", backup=backup, validation_errors=problems)
        return _BackupRun(inp, backup, name, log).run()
    finally:
        log.close()


def _index(apis: list[APIResource]) -> ResourceIndex:
    return ResourceIndex(ResourceInfo(a.group, a.version, a.name, a.kind, a.namespaced, a.short_names,
                                      a.singular_name, a.verbs) for a in apis)


class _BackupRun:
    def __init__(self, inp: BackupRunInput, backup: Obj, name: str, log: CapturedLog) -> None:
        self.inp = inp
        self.backup = backup
        self.name = name
        self.log = log
        self.spec: Obj = backup.get("spec") or {}
        self.warnings = Results(inp.settings.max_messages_per_scope)
        self.errors = Results(inp.settings.max_messages_per_scope)
        self.start = _now()
        self.ctx: BackupContext | None = None
        self._stop_progress = threading.Event()

    def _status_started(self) -> None:
        ttl = parse_duration(self.spec["ttl"]) if self.spec.get("ttl") else DEFAULT_BACKUP_TTL.timedelta
        status = self.backup.setdefault("status", {})
        status.update(phase="InProgress", formatVersion=FORMAT_VERSION,
                      startTimestamp=format_time(self.start), expiration=format_time(self.start + ttl))
        status.pop("validationErrors", None)

    def run(self) -> BackupResult:
        self._status_started()
        self.log.info("backup started")
        temp_dir = self.inp.settings.temp_dir
        # closed in the finally below (it lives across the whole run, so no with-block)
        tarball: BinaryIO = tempfile.TemporaryFile(  # noqa: SIM115
            prefix="veloro-backup-", suffix=".tar.gz", dir=temp_dir)
        resources = ResourceList(temp_dir)
        infos, snapshots = JsonLines(temp_dir), JsonLines(temp_dir)
        try:
            self._check_store()
            ctx = self._context()
            ctx.volumes = self._volumes(ctx, infos, snapshots)
            collector = self._collector(ctx)
            writer = TarballThread(tarball, resources, maxsize=self.inp.settings.writer_queue,
                                   compresslevel=self.inp.settings.compresslevel)
            ctx.writer = writer
            ticker = threading.Thread(target=self._progress_loop, name="veloro-backup-progress", daemon=True)
            ticker.start()
            try:
                self._collect(ctx, collector)
                size = writer.finish(ok=True)
            except BaseException:
                try:
                    writer.finish(ok=False)
                except WriterFailed:
                    pass
                raise
            finally:
                self._stop_progress.set()
                ticker.join()
            self._emit_progress()
            tarball.seek(0)
            return upload_backup(self, ctx, tarball, size, resources, infos, snapshots)
        except (FatalBackupError, WriterFailed, BackupStoreError, PluginHostError) as exc:
            return self._failed(str(exc))
        except Exception as exc:  # a bug must still end the backup cleanly as Failed, with the reason
            self.log.error("backup failed unexpectedly", error=repr(exc))
            return self._failed(f"unexpected error: {exc!r}")
        finally:
            self._stop_progress.set()
            tarball.close()
            resources.close()
            infos.close()
            snapshots.close()

    def _check_store(self) -> None:
        store = self.inp.store
        if store.is_complete(self.name):  # StoreUnavailableError propagates: Failed with its message
            raise FatalBackupError(
                f"backup {self.name!r} already exists in location {store.location!r}; choose another name")

    def _context(self) -> BackupContext:
        kube = self.inp.kube
        try:
            kube.discovery.refresh()
            apis = kube.discovery.backup_resources()
            for warning in kube.discovery.warnings:
                self.warnings.add(warning, velero=True)
        except KubeError as exc:
            raise FatalBackupError(f"discovery of the cluster's API resources failed: {exc}") from exc
        index = _index(apis)
        selection = SpecSelection.parse(self.spec)
        rfilter = selection.resource_filter(index)
        for warning in rfilter.warnings:
            self.warnings.add(warning, velero=True)
        try:
            actions, action_warnings = ActionSet.load(self.inp.plugins, index)
        except ActionSetupError as exc:
            raise FatalBackupError(str(exc)) from exc
        for warning in action_warnings:
            self.warnings.add(warning, velero=True)
        self.ctx = BackupContext(
            backup=self.backup, kube=kube, settings=self.inp.settings, index=index,
            apis={a.group_resource: a for a in apis}, selection=selection, resource_filter=rfilter,
            actions=actions, log=self.log, warnings=self.warnings, errors=self.errors)
        self.log.info("backup resources discovered", resources=len(apis), actions=len(actions.actions))
        return self.ctx

    def _volumes(self, ctx: BackupContext, infos: JsonLines, snapshots: JsonLines) -> VolumeRecorder:
        return VolumeRecorder.for_context(ctx, infos, snapshots)

    def _collector(self, ctx: BackupContext) -> Collector:
        plan = plan_resources(list(ctx.apis.values()), ctx.filter)
        ordered: dict[str, list[str]] = {}
        for resource, entries in (self.spec.get("orderedResources") or {}).items():
            info = ctx.index.resolve(resource)
            if info is None:
                self.warnings.add(f"orderedResources: resource {resource!r} is not served; ignored",
                                  velero=True)
                continue
            ordered[info.group_resource] = [e.strip() for e in entries.split(",") if e.strip()]
        collector = Collector(ctx, plan, ordered)
        collector.load_namespaces()
        self.log.info("resources planned", resources=[a.group_resource for a in plan])
        return collector

    def _collect(self, ctx: BackupContext, collector: Collector) -> None:
        collector.run()
        timeout = DEFAULT_ITEM_OPERATION_TIMEOUT.timedelta.total_seconds()
        if self.spec.get("itemOperationTimeout"):
            timeout = parse_duration(self.spec["itemOperationTimeout"]).total_seconds()
        if ctx.operations.operations:
            self.log.info("waiting for plugin operations", count=len(ctx.operations.operations))
            ctx.operations.wait(self.backup, timeout, self.inp.settings.operation_poll_interval, self.log)
            for op in ctx.operations.operations:
                if op.phase == "Failed":
                    self.errors.add(f"operation {op.operation_id!r} of action {op.action_name!r} on "
                                    f"{op.item.group_resource} {op.item.namespace}/{op.item.name} failed: "
                                    f"{op.error}", op.item.namespace)
            collector.post_operation_items()
        collector.add_crds()
        if ctx.volumes is not None:  # pod volume backups finish; file-level and CSI volume records
            ctx.volumes.finish(ctx.operations.operations)

    # ------------------------------------------------------------------ progress
    def progress(self) -> ProgressUpdate:
        ctx = self.ctx
        done = ctx.writer.items_written if ctx is not None and ctx.writer is not None else 0
        total = ctx.counters.total(done) if ctx is not None else 0
        return ProgressUpdate(total, done, self.warnings.count, self.errors.count)

    def _emit_progress(self) -> None:
        callback = self.inp.settings.on_progress
        if callback is None:
            return
        try:
            callback(self.progress())
        except Exception as exc:  # a status update failing must not fail the backup
            self.log.warning("progress callback failed", error=str(exc))

    def _progress_loop(self) -> None:
        last: ProgressUpdate | None = None
        while not self._stop_progress.wait(self.inp.settings.progress_interval):
            current = self.progress()
            if current != last:
                self._emit_progress()
                last = current

    def _failed(self, reason: str) -> BackupResult:
        self.log.error("backup failed", reason=reason)
        status = self.backup.setdefault("status", {})
        status.update(phase="Failed", failureReason=reason, completionTimestamp=format_time(_now()),
                      warnings=self.warnings.count, errors=self.errors.count)
        progress = self.progress()
        return BackupResult(
            phase="Failed", backup=self.backup, failure_reason=reason, warnings=self.warnings.as_dict(),
            errors=self.errors.as_dict(), warning_count=self.warnings.count, error_count=self.errors.count,
            total_items=progress.total_items, items_backed_up=progress.items_backed_up)
