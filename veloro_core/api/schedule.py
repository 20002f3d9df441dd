"""Schedule: a cron expression (or @every <duration>) and the Backup spec to stamp out on each tick."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

from veloro_core.api.backup import BackupSpec
from veloro_core.api.resource import AGE_COLUMN, PrinterColumn, Resource
from veloro_core.api.serde import ALWAYS, REQUIRED, ApiObject

# Label put on every backup a schedule creates (Velero spells it velero.io/schedule-name).
SCHEDULE_NAME_LABEL = "veloro.io/schedule-name"
# Backup names are "<schedule>-<timestamp>" with this strftime format.
SCHEDULE_BACKUP_TIMESTAMP_FORMAT = "%Y%m%d%H%M%S"


class SchedulePhase(enum.StrEnum):
    NEW = "New"
    ENABLED = "Enabled"
    FAILED_VALIDATION = "FailedValidation"


@dataclass(kw_only=True)
class ScheduleSpec(ApiObject):
    """A new schedule first runs at the next tick (not immediately); paused schedules do not run."""

    template: BackupSpec = field(default_factory=BackupSpec, metadata=ALWAYS)
    schedule: str = field(default="", metadata=REQUIRED)
    use_owner_references_in_backup: bool | None = None
    paused: bool = False
    skip_immediately: bool | None = None


@dataclass(kw_only=True)
class ScheduleStatus(ApiObject):
    phase: SchedulePhase | None = None
    last_backup: datetime | None = None
    last_skipped: datetime | None = None
    validation_errors: list[str] = field(default_factory=list)


@dataclass(kw_only=True)
class Schedule(Resource):
    """Creates a Backup from `template` on every tick of `schedule`."""

    KIND = "Schedule"
    PLURAL = "schedules"
    PRINTER_COLUMNS = (
        PrinterColumn("Status", ".status.phase", description="Status of the schedule"),
        PrinterColumn("Schedule", ".spec.schedule", description="Cron expression or @every <duration>"),
        PrinterColumn("Last Backup", ".status.lastBackup", "date", "Time of the last backup it created"),
        PrinterColumn("Paused", ".spec.paused", "boolean"),
        AGE_COLUMN,
    )

    spec: ScheduleSpec = field(default_factory=ScheduleSpec, metadata=ALWAYS)
    status: ScheduleStatus = field(default_factory=ScheduleStatus)

    @property
    def phase(self) -> SchedulePhase:
        return self.status.phase or SchedulePhase.NEW

    def backup_name(self, moment: datetime) -> str:
        """The name of the backup created at `moment`: <schedule>-YYYYMMDDHHMMSS."""
        return f"{self.name}-{moment.strftime(SCHEDULE_BACKUP_TIMESTAMP_FORMAT)}"
