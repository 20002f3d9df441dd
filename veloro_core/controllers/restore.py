"""The restore controller: New -> validation (which backup: backupName or the newest Completed backup of
scheduleName, and it must be Completed or PartiallyFailed) -> InProgress -> run_restore -> final phase."""

from __future__ import annotations

import time

from veloro_core.api import Backup, Restore, format_time
from veloro_core.controllers import labels
from veloro_core.controllers.base import Controller, Obj, one_line
from veloro_core.controllers.lookup import MissingReference, backup_location_name, get_bsl
from veloro_core.kube import Conflict, KubeError
from veloro_core.restore import Priorities, RestoreRunInput, RestoreSettings, run_restore
from veloro_core.server.stores import LocationError

NEW_PHASES = ("", "New")
RESTORABLE_PHASES = ("Completed", "PartiallyFailed")


def newest_backup_of_schedule(backups: list[Obj], schedule: str) -> Obj | None:
    """The most recently started Completed backup made by `schedule` (either label spelling)."""
    candidates = [
        b
        for b in backups
        if labels.first(b["metadata"].get("labels"), labels.SCHEDULE_NAME) == labels.label_value(schedule)
        and (b.get("status") or {}).get("phase") == "Completed"
    ]
    candidates.sort(key=lambda b: str((b.get("status") or {}).get("startTimestamp") or ""))
    return candidates[-1] if candidates else None


class RestoreController(Controller):
    NAME = "restore"
    RESOURCE = Restore

    def workers(self) -> int:
        return max(1, self.ctx.settings.restore_concurrency)

    def wants(self, obj: Obj) -> bool:
        return str((obj.get("status") or {}).get("phase") or "") in NEW_PHASES

    def tick_interval(self) -> float | None:
        return 30.0

    def tick(self) -> None:
        self.ctx.metrics.restore_total.set(len(self.ctx.list(Restore)))

    def reconcile(self, name: str) -> None:
        obj = self.ctx.get(Restore, name)
        if obj is None or not self.wants(obj):
            return
        problems, backup = self._validate(obj)
        spec = obj.setdefault("spec", {})
        patch: Obj = {"metadata": {"resourceVersion": obj["metadata"]["resourceVersion"]}}
        if backup is not None and not spec.get("backupName"):
            patch["spec"] = {"backupName": backup["metadata"]["name"]}  # show which backup the schedule gave
        try:
            obj = self.ctx.patch(Restore, name, patch)
        except Conflict:
            self.queue.add_after(name, 0.2)
            return
        schedule = labels.first((backup or {}).get("metadata", {}).get("labels"), labels.SCHEDULE_NAME)
        if problems or backup is None:
            self.log.warning("restore failed validation", restore=name, problems=problems)
            self.ctx.patch_status(Restore, name, {"phase": "FailedValidation", "validationErrors": problems})
            self.ctx.metrics.restore_validation_failed.labels(schedule).inc()
            self.ctx.events.record(obj, "FailedValidation", "; ".join(problems), warning=True)
            return
        self._start(obj, backup, schedule)

    def _validate(self, obj: Obj) -> tuple[list[str], Obj | None]:
        spec = obj.get("spec") or {}
        backup_name, schedule = str(spec.get("backupName") or ""), str(spec.get("scheduleName") or "")
        if bool(backup_name) == bool(schedule):
            return ["exactly one of spec.backupName and spec.scheduleName must be set"], None
        if schedule:
            backup = newest_backup_of_schedule(self.ctx.list(Backup), schedule)
            if backup is None:
                return [f"no Completed backup was found for schedule {schedule!r}"], None
        else:
            backup = self.ctx.get(Backup, backup_name)
            if backup is None:
                return [
                    f"backup {backup_name!r} was not found in namespace {self.ctx.namespace!r}; list the "
                    "backups with `veloro backup get` (a backup only in a storage location appears "
                    "after the next backup sync)"
                ], None
        phase = str((backup.get("status") or {}).get("phase") or "New")
        if phase not in RESTORABLE_PHASES:
            return [
                f"backup {backup['metadata']['name']!r} is {phase}: only a Completed or PartiallyFailed "
                "backup can be restored"
            ], backup
        return [], backup

    def _start(self, obj: Obj, backup: Obj, schedule: str) -> None:
        name = obj["metadata"]["name"]
        obj = self.ctx.patch_status(
            Restore, name, {"phase": "InProgress", "startTimestamp": format_time(self.ctx.clock())}
        )
        self.ctx.metrics.restore_attempt.labels(schedule).inc()
        self.ctx.events.record(
            obj, "RestoreStarted", f"restore {name} of backup {backup['metadata']['name']} started"
        )
        started = time.monotonic()
        status = self._run_engine(obj, backup)
        status.setdefault("completionTimestamp", format_time(self.ctx.clock()))
        self.ctx.patch_status(Restore, name, status)
        self._observe(obj, status, schedule)
        self.log.info(
            "restore finished",
            restore=name,
            phase=status.get("phase"),
            seconds=round(time.monotonic() - started, 3),
        )

    def _run_engine(self, obj: Obj, backup: Obj) -> Obj:
        """Run the restore engine on the backup's location; the final status fields. Never raises."""
        name = obj["metadata"]["name"]

        def progress(total: int, done: int) -> None:
            self.ctx.patch_status(Restore, name, {"progress": {"totalItems": total, "itemsRestored": done}})

        try:
            bsl = get_bsl(self.ctx, backup_location_name(backup))
            with self.ctx.locations.backup_store(bsl) as store:
                result = run_restore(
                    RestoreRunInput(
                        restore=obj,
                        backup=backup,
                        kube=self.ctx.kube,
                        plugins=self.ctx.plugins,
                        store=store,
                        settings=self._engine_settings(),
                        log=self.log.bind(restore=name),
                        on_progress=progress,
                    )
                )
        except (MissingReference, LocationError, KubeError) as exc:
            return {"phase": "Failed", "failureReason": one_line(str(exc))}
        status: Obj = result.status_fields()
        return status

    def _engine_settings(self) -> RestoreSettings:
        priorities = self.ctx.settings.restore_resource_priorities
        # PodVolumeRestores live in the server's namespace, where the node agents watch for them
        if priorities is None:
            return RestoreSettings(server_namespace=self.ctx.namespace)
        return RestoreSettings(priorities=Priorities.parse(priorities), server_namespace=self.ctx.namespace)

    def _observe(self, obj: Obj, status: Obj, schedule: str) -> None:
        phase = str(status.get("phase") or "")
        metrics = self.ctx.metrics
        counter = {
            "Completed": metrics.restore_success,
            "PartiallyFailed": metrics.restore_partial_failure,
            "FailedValidation": metrics.restore_validation_failed,
        }.get(phase, metrics.restore_failed)
        counter.labels(schedule).inc()
        reason = f": {status['failureReason']}" if status.get("failureReason") else ""
        self.ctx.events.record(
            obj,
            f"Restore{phase}",
            f"restore {obj['metadata']['name']} {phase}{reason}",
            warning=phase != "Completed",
        )
