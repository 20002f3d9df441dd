"""The schedule controller: validates the cron expression (5 fields, @daily and friends, or
`@every <duration>`), and on each tick creates `<schedule>-YYYYMMDDHHMMSS` from the template.

A new schedule first runs at its next tick after creation (not immediately); no backup is created while
one of the schedule's backups is still New or InProgress (that tick is recorded as lastSkipped).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from croniter import croniter

from veloro_core.api import (
    API_VERSION,
    Backup,
    DurationError,
    Schedule,
    format_time,
    parse_duration,
    parse_time,
)
from veloro_core.controllers import labels
from veloro_core.controllers.base import Controller, Obj, gvr
from veloro_core.kube import AlreadyExists, Conflict

EVERY = "@every "
IN_FLIGHT = ("", "New", "Queued", "ReadyToStart", "InProgress")
NextRun = Callable[[datetime], datetime]


class ScheduleError(ValueError):
    pass


def parse_schedule(expression: str) -> NextRun:
    """A function giving the next run after a moment; ScheduleError says what is wrong with the text."""
    text = expression.strip()
    if text.startswith(EVERY):
        try:
            period = parse_duration(text[len(EVERY) :].strip())
        except DurationError as exc:
            raise ScheduleError(f"invalid schedule {expression!r}: {exc}") from exc
        if period <= timedelta(0):
            raise ScheduleError(f"invalid schedule {expression!r}: the period must be positive")
        return lambda moment: moment + period
    if not text.startswith("@") and len(text.split()) != 5:
        raise ScheduleError(
            f"invalid schedule {expression!r}: a cron expression has 5 fields (minute hour "
            "day-of-month month day-of-week), e.g. '0 1 * * *'; or use @every 6h, @daily"
        )
    if not croniter.is_valid(text):
        raise ScheduleError(
            f"invalid schedule {expression!r}: not a valid cron expression; use 5 fields, "
            "e.g. '0 1 * * *', or @hourly, @daily, @weekly, @monthly, @every <duration>"
        )
    return lambda moment: croniter(text, moment).get_next(datetime)


class ScheduleController(Controller):
    NAME = "schedule"
    RESOURCE = Schedule

    def tick_interval(self) -> float | None:
        return self.ctx.settings.tick_period

    def tick(self) -> None:
        for item in self.ctx.list(Schedule):
            self.queue.add(str(item["metadata"]["name"]))

    def reconcile(self, name: str) -> None:
        obj = self.ctx.get(Schedule, name)
        if obj is None or obj["metadata"].get("deletionTimestamp"):
            return
        spec, status = obj.get("spec") or {}, obj.get("status") or {}
        try:
            next_run = parse_schedule(str(spec.get("schedule") or ""))
        except ScheduleError as exc:
            if status.get("phase") != "FailedValidation" or status.get("validationErrors") != [str(exc)]:
                self.ctx.patch_status(
                    Schedule, name, {"phase": "FailedValidation", "validationErrors": [str(exc)]}
                )
                self.ctx.events.record(obj, "FailedValidation", str(exc), warning=True)
            return
        if status.get("phase") != "Enabled":
            self.ctx.patch_status(Schedule, name, {"phase": "Enabled", "validationErrors": None})
        if spec.get("paused"):
            return
        now = self.ctx.clock()
        base = parse_time(status["lastBackup"]) if status.get("lastBackup") else _created(obj, now)
        if now < next_run(base):
            return
        if self._in_flight(name):
            self.ctx.patch_status(Schedule, name, {"lastSkipped": format_time(now)})
            return
        self._create_backup(obj, now)

    def _in_flight(self, schedule: str) -> bool:
        backups = self.ctx.list(Backup, label_selector=labels.selector(labels.SCHEDULE_NAME, schedule))
        return any(str((b.get("status") or {}).get("phase") or "") in IN_FLIGHT for b in backups)

    def _create_backup(self, obj: Obj, now: datetime) -> None:
        name = obj["metadata"]["name"]
        backup_name = Schedule.from_dict({"metadata": {"name": name}}).backup_name(now)
        template: Obj = dict((obj.get("spec") or {}).get("template") or {})
        meta_labels: dict[str, Any] = dict(((template.get("metadata") or {}).get("labels")) or {})
        meta_labels.update(labels.both(labels.SCHEDULE_NAME, name))
        metadata: Obj = {"name": backup_name, "namespace": self.ctx.namespace, "labels": meta_labels}
        if (obj.get("spec") or {}).get("useOwnerReferencesInBackup"):
            metadata["ownerReferences"] = [
                {
                    "apiVersion": API_VERSION,
                    "kind": "Schedule",
                    "name": name,
                    "uid": obj["metadata"].get("uid"),
                    "controller": True,
                }
            ]
        backup = {"apiVersion": API_VERSION, "kind": "Backup", "metadata": metadata, "spec": template}
        try:
            # lastBackup first, conditional on the Schedule we read: a second writer gets Conflict, so a tick
            # never produces two backups.
            self.ctx.kube.patch_status(
                gvr(Schedule),
                name,
                {
                    "metadata": {"resourceVersion": obj["metadata"]["resourceVersion"]},
                    "status": {"lastBackup": format_time(now)},
                },
                self.ctx.namespace,
            )
        except Conflict:
            self.queue.add_after(name, 0.2)
            return
        try:
            self.ctx.create(Backup, backup)
        except AlreadyExists:
            return
        self.log.info("schedule created a backup", schedule=name, backup=backup_name)
        self.ctx.events.record(obj, "BackupCreated", f"created backup {backup_name}")


def _created(obj: Obj, fallback: datetime) -> datetime:
    text = obj["metadata"].get("creationTimestamp")
    return parse_time(text) if isinstance(text, str) else fallback
