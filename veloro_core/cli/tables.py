"""`get` output for every kind: the table columns Velero prints, and -o json|yaml (one object, or a
v1 List for several)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from veloro_core.api import (
    Backup,
    BackupStorageLocation,
    Resource,
    Restore,
    Schedule,
    VolumeSnapshotLocation,
)
from veloro_core.cli.output import dump, print_table
from veloro_core.cli.parsing import format_label_selector

Row = dict[str, Any]
_PHASE_STYLE = {
    "Completed": "green",
    "Available": "green",
    "Enabled": "green",
    "PartiallyFailed": "yellow",
    "Failed": "bold red",
    "FailedValidation": "bold red",
    "Unavailable": "bold red",
}


def show_time(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S +0000 UTC") if moment else "<nil>"


def humanize(delta_seconds: float) -> str:
    seconds = int(abs(delta_seconds))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def expires_in(moment: datetime | None) -> str:
    if moment is None:
        return "n/a"
    left = (moment - datetime.now(UTC)).total_seconds()
    return humanize(left) if left > 0 else "expired"


def _backup_row(b: Backup) -> Row:
    return {
        "name": b.name,
        "status": str(b.phase),
        "errors": b.status.errors,
        "warnings": b.status.warnings,
        "created": show_time(b.status.start_timestamp or b.creation_timestamp),
        "expires": expires_in(b.status.expiration),
        "location": b.spec.storage_location or "default",
        "selector": format_label_selector(b.spec.label_selector),
    }


def _restore_row(r: Restore) -> Row:
    return {
        "name": r.name,
        "backup": r.spec.backup_name or f"(schedule {r.spec.schedule_name})",
        "status": str(r.phase),
        "started": show_time(r.status.start_timestamp),
        "completed": show_time(r.status.completion_timestamp),
        "errors": r.status.errors,
        "warnings": r.status.warnings,
        "created": show_time(r.creation_timestamp),
        "selector": format_label_selector(r.spec.label_selector),
    }


def _schedule_row(s: Schedule) -> Row:
    return {
        "name": s.name,
        "status": str(s.phase),
        "created": show_time(s.creation_timestamp),
        "schedule": s.spec.schedule,
        "ttl": str(s.spec.template.ttl or "720h0m0s"),
        "last": humanize((datetime.now(UTC) - s.status.last_backup).total_seconds()) + " ago"
        if s.status.last_backup
        else "n/a",
        "selector": format_label_selector(s.spec.template.label_selector),
        "paused": str(s.spec.paused).lower(),
    }


def _bsl_row(loc: BackupStorageLocation) -> Row:
    bucket = loc.spec.bucket + (f"/{loc.spec.prefix}" if loc.spec.prefix else "")
    return {
        "name": loc.name,
        "provider": loc.spec.provider,
        "bucket": bucket,
        "phase": str(loc.status.phase or "Unknown"),
        "validated": show_time(loc.status.last_validation_time),
        "access": str(loc.spec.access_mode or "ReadWrite"),
        "default": "true" if loc.spec.default else "",
    }


def _vsl_row(loc: VolumeSnapshotLocation) -> Row:
    return {"name": loc.name, "provider": loc.spec.provider, "phase": str(loc.status.phase or "")}


TableSpec = tuple[Callable[[Any], Row], Sequence[tuple[str, str]]]
TABLES: dict[str, TableSpec] = {
    Backup.KIND: (
        _backup_row,
        [
            ("name", "NAME"),
            ("status", "STATUS"),
            ("errors", "ERRORS"),
            ("warnings", "WARNINGS"),
            ("created", "CREATED"),
            ("expires", "EXPIRES"),
            ("location", "STORAGE LOCATION"),
            ("selector", "SELECTOR"),
        ],
    ),
    Restore.KIND: (
        _restore_row,
        [
            ("name", "NAME"),
            ("backup", "BACKUP"),
            ("status", "STATUS"),
            ("started", "STARTED"),
            ("completed", "COMPLETED"),
            ("errors", "ERRORS"),
            ("warnings", "WARNINGS"),
            ("created", "CREATED"),
            ("selector", "SELECTOR"),
        ],
    ),
    Schedule.KIND: (
        _schedule_row,
        [
            ("name", "NAME"),
            ("status", "STATUS"),
            ("created", "CREATED"),
            ("schedule", "SCHEDULE"),
            ("ttl", "BACKUP TTL"),
            ("last", "LAST BACKUP"),
            ("selector", "SELECTOR"),
            ("paused", "PAUSED"),
        ],
    ),
    BackupStorageLocation.KIND: (
        _bsl_row,
        [
            ("name", "NAME"),
            ("provider", "PROVIDER"),
            ("bucket", "BUCKET/PREFIX"),
            ("phase", "PHASE"),
            ("validated", "LAST VALIDATED"),
            ("access", "ACCESS MODE"),
            ("default", "DEFAULT"),
        ],
    ),
    VolumeSnapshotLocation.KIND: (_vsl_row, [("name", "NAME"), ("provider", "PROVIDER"), ("phase", "PHASE")]),
}


def _style(value: Any) -> str:
    return _PHASE_STYLE.get(str(value), "")


def print_objects(
    objects: Sequence[Resource], output: str, *, kind: type[Resource], single: bool = False
) -> None:
    """Print `objects` as the kind's table, or as JSON/YAML (one object when `single`, else a List)."""
    if output != "table":
        if single and len(objects) == 1:
            dump(objects[0].to_dict(), output)
        else:
            dump({"apiVersion": "v1", "kind": "List", "items": [o.to_dict() for o in objects]}, output)
        return
    row_of, columns = TABLES[kind.KIND]
    print_table(
        [row_of(o) for o in objects],
        columns,
        styles={"status": _style, "phase": _style},
        empty=f"No {kind.PLURAL} found.",
    )
