"""The backup controller: New -> defaults and validation -> InProgress -> run_backup -> final phase.

Defaults (ttl, storage location, snapshot locations, timeouts) are written into the Backup before it runs
so that `describe` shows what was really used. Validation lists every problem at once: the engine's spec
checks plus the locations (missing, unavailable, read-only). The engine call is one function
(`_run_engine`), which is what runs in the worker threads, `backup_concurrency` at a time.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from datetime import timedelta

from veloro_sdk.contracts import VolumeSnapshotter

from veloro_core.api import (
    Backup,
    BackupStorageLocation,
    BackupStorageLocationPhase,
    format_duration,
    format_time,
    parse_duration,
)
from veloro_core.backup import BackupResult, BackupRunInput, BackupSettings, ProgressUpdate, run_backup
from veloro_core.backup.validate import validate_backup
from veloro_core.controllers import labels
from veloro_core.controllers.base import Controller, Obj, one_line
from veloro_core.controllers.lookup import MissingReference, default_bsl_name, get_bsl, get_vsl
from veloro_core.controllers.sync import SYNCED_ANNOTATION
from veloro_core.kube import Conflict, KubeError
from veloro_core.persistence import BackupStore
from veloro_core.server.stores import LocationError

NEW_PHASES = ("", "New")


class BackupController(Controller):
    NAME = "backup"
    RESOURCE = Backup

    def workers(self) -> int:
        return max(1, self.ctx.settings.backup_concurrency)

    def wants(self, obj: Obj) -> bool:
        if SYNCED_ANNOTATION in (obj.get("metadata", {}).get("annotations") or {}):
            return False  # made by backup sync from a location: never run here
        return str((obj.get("status") or {}).get("phase") or "") in NEW_PHASES

    def tick_interval(self) -> float | None:
        return 30.0

    def tick(self) -> None:
        self.ctx.metrics.backup_total.set(len(self.ctx.list(Backup)))

    # ------------------------------------------------------------------------------------ reconcile
    def reconcile(self, name: str) -> None:
        obj = self.ctx.get(Backup, name)
        if obj is None or not self.wants(obj):
            return
        log = self.log.bind(backup=name)
        problems = self._apply_defaults(obj)
        problems += self._validate(obj)
        try:
            # metadata.resourceVersion makes the patch conditional: if another writer changed the Backup
            # since we read it, Conflict, and the watch brings it back to us.
            obj = self.ctx.patch(
                Backup,
                name,
                {
                    "metadata": {
                        "resourceVersion": obj["metadata"]["resourceVersion"],
                        "labels": obj["metadata"].get("labels") or {},
                    },
                    "spec": obj["spec"],
                },
            )
        except Conflict:
            self.queue.add_after(name, 0.2)
            return
        schedule = labels.first(obj["metadata"].get("labels"), labels.SCHEDULE_NAME)
        if problems:
            log.warning("backup failed validation", problems=problems)
            self.ctx.patch_status(Backup, name, {"phase": "FailedValidation", "validationErrors": problems})
            self.ctx.metrics.backup_validation_failure.labels(schedule).inc()
            self.ctx.events.record(obj, "FailedValidation", "; ".join(problems), warning=True)
            return
        self._start(obj, schedule)

    def _apply_defaults(self, obj: Obj) -> list[str]:
        """Fill spec defaults and location labels in `obj` (in place); problems found on the way."""
        spec = obj.setdefault("spec", {}) or {}
        obj["spec"] = spec
        settings = self.ctx.settings
        spec.setdefault("ttl", format_duration(settings.default_backup_ttl))
        spec.setdefault("csiSnapshotTimeout", "10m0s")
        spec.setdefault("itemOperationTimeout", "4h0m0s")
        problems: list[str] = []
        if not spec.get("storageLocation"):
            default = default_bsl_name(self.ctx)
            if default:
                spec["storageLocation"] = default
            else:
                problems.append(
                    "no storageLocation was given and there is no default backup storage location; "
                    "name one with --storage-location or mark one as default"
                )
        if not spec.get("volumeSnapshotLocations") and settings.default_volume_snapshot_locations:
            spec["volumeSnapshotLocations"] = sorted(set(settings.default_volume_snapshot_locations.values()))
        if spec.get("storageLocation"):
            meta_labels = obj["metadata"].setdefault("labels", {})
            meta_labels.update(labels.both(labels.STORAGE_LOCATION, str(spec["storageLocation"])))
        return problems

    def _validate(self, obj: Obj) -> list[str]:
        problems = [p for p in validate_backup(obj) if "metadata.name" not in p]
        spec = obj["spec"]
        if spec.get("storageLocation"):
            try:
                bsl = get_bsl(self.ctx, str(spec["storageLocation"]))
            except MissingReference as exc:
                problems.append(str(exc))
            else:
                if bsl.spec.read_only:
                    problems.append(
                        f"backup can't be created because backup storage location {bsl.name!r} is "
                        "currently in read-only mode"
                    )
                if bsl.status.phase is BackupStorageLocationPhase.UNAVAILABLE:
                    problems.append(
                        f"backup can't be created because backup storage location {bsl.name!r} is "
                        f"Unavailable: {bsl.status.message or 'see its status'}"
                    )
        for vsl in spec.get("volumeSnapshotLocations") or []:
            try:
                get_vsl(self.ctx, str(vsl))
            except MissingReference as exc:
                problems.append(str(exc))
        return problems

    # ------------------------------------------------------------------------------------ running
    def _start(self, obj: Obj, schedule: str) -> None:
        name = obj["metadata"]["name"]
        now = self.ctx.clock()
        ttl = _ttl(obj)
        status = {
            "phase": "InProgress",
            "startTimestamp": format_time(now),
            "expiration": format_time(now + ttl),
            "formatVersion": "1.1.0",
        }
        obj = self.ctx.patch_status(Backup, name, status)
        self.ctx.metrics.backup_attempt.labels(schedule).inc()
        self.ctx.events.record(obj, "BackupStarted", f"backup {name} started")
        started = time.monotonic()
        result = self._run_engine(obj)
        final = dict(result.backup.get("status") or {})
        final["phase"] = result.phase
        self.ctx.patch_status(Backup, name, final)
        self._observe(obj, result, schedule, time.monotonic() - started)

    def _run_engine(self, obj: Obj) -> BackupResult:
        """Open the location (and snapshot location) and run the engine; never raises."""
        name = obj["metadata"]["name"]
        spec = obj["spec"]
        try:
            bsl = get_bsl(self.ctx, str(spec["storageLocation"]))
            with self.ctx.locations.backup_store(bsl) as store, self._snapshotter(spec) as (vsl, snapshotter):
                return run_backup(self._input(obj, store, vsl, snapshotter, bsl))
        except (MissingReference, LocationError, KubeError) as exc:
            status = dict(obj.get("status") or {})
            status.update(
                phase="Failed",
                failureReason=one_line(str(exc)),
                completionTimestamp=format_time(self.ctx.clock()),
            )
            self.log.error("backup failed", backup=name, reason=str(exc))
            return BackupResult(
                phase="Failed", backup={**obj, "status": status}, failure_reason=status["failureReason"]
            )

    @contextlib.contextmanager
    def _snapshotter(self, spec: Obj) -> Iterator[tuple[str, VolumeSnapshotter | None]]:
        names = list(spec.get("volumeSnapshotLocations") or [])
        if not names:
            yield "", None
            return
        vsl = get_vsl(self.ctx, str(names[0]))
        with self.ctx.locations.volume_snapshotter(vsl) as snapshotter:
            yield vsl.name, snapshotter

    def _input(
        self,
        obj: Obj,
        store: BackupStore,
        vsl: str,
        snapshotter: VolumeSnapshotter | None,
        bsl: BackupStorageLocation | None = None,
    ) -> BackupRunInput:
        name = obj["metadata"]["name"]

        def progress(update: ProgressUpdate) -> None:
            self.ctx.patch_status(
                Backup,
                name,
                {
                    "progress": {"totalItems": update.total_items, "itemsBackedUp": update.items_backed_up},
                    "warnings": update.warnings,
                    "errors": update.errors,
                },
            )

        settings = BackupSettings(
            on_progress=progress,
            volume_snapshotter=snapshotter,
            volume_snapshot_location=vsl,
            page_size=self.ctx.settings.kube.page_size,
            # file-level volume backup: PodVolumeBackups in the server namespace, for this location
            server_namespace=self.ctx.namespace,
            storage_location=bsl,
        )
        return BackupRunInput(
            backup=obj,
            kube=self.ctx.kube,
            plugins=self.ctx.plugins,
            store=store,
            settings=settings,
            log=self.log.bind(backup=name),
        )

    def _observe(self, obj: Obj, result: BackupResult, schedule: str, seconds: float) -> None:
        metrics, name = self.ctx.metrics, obj["metadata"]["name"]
        metrics.backup_duration.labels(schedule).observe(seconds)
        metrics.backup_items_total.labels(name).set(result.items_backed_up)
        metrics.backup_items_errors.labels(name).set(result.error_count)
        metrics.volume_snapshot_attempt.labels(schedule).inc(result.volume_snapshots_attempted)
        metrics.volume_snapshot_success.labels(schedule).inc(result.volume_snapshots_completed)
        metrics.volume_snapshot_failure.labels(schedule).inc(
            result.volume_snapshots_attempted - result.volume_snapshots_completed
        )
        metrics.csi_snapshot_attempt.labels(schedule, name).inc(result.csi_volume_snapshots_attempted)
        metrics.csi_snapshot_success.labels(schedule, name).inc(result.csi_volume_snapshots_completed)
        metrics.csi_snapshot_failure.labels(schedule, name).inc(
            result.csi_volume_snapshots_attempted - result.csi_volume_snapshots_completed
        )
        if result.phase == "Completed":
            metrics.backup_success.labels(schedule).inc()
            metrics.backup_tarball_size.labels(schedule).set(result.tarball_bytes)
            metrics.backup_last_successful.labels(schedule).set(time.time())
        elif result.phase == "PartiallyFailed":
            metrics.backup_partial_failure.labels(schedule).inc()
        elif result.phase == "FailedValidation":
            metrics.backup_validation_failure.labels(schedule).inc()
        else:
            metrics.backup_failure.labels(schedule).inc()
        warning = result.phase != "Completed"
        detail = f": {result.failure_reason}" if result.failure_reason else ""
        message = (
            f"backup {name} {result.phase}{detail} ({result.items_backed_up} items, "
            f"{result.warning_count} warnings, {result.error_count} errors)"
        )
        self.ctx.events.record(obj, f"Backup{result.phase}", message, warning=warning)
        self.log.info("backup finished", backup=name, phase=result.phase, items=result.items_backed_up)


def _ttl(obj: Obj) -> timedelta:
    try:
        return parse_duration(str(obj["spec"].get("ttl") or "720h"))
    except ValueError:  # already reported by validation
        return timedelta(hours=720)
