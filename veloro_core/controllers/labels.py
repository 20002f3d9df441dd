"""Label names the controllers set, in both spellings (veloro.io and Velero's velero.io), and the rule
that makes any name a valid label value."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

STORAGE_LOCATION = ("veloro.io/storage-location", "velero.io/storage-location")
SCHEDULE_NAME = ("veloro.io/schedule-name", "velero.io/schedule-name")
BACKUP_NAME = ("veloro.io/backup-name", "velero.io/backup-name")
BACKUP_UID = ("veloro.io/backup-uid", "velero.io/backup-uid")


def label_value(value: str) -> str:
    """Values over 63 characters are cut to 57 plus 6 hex characters of their sha256 (Velero's rule)."""
    if len(value) <= 63:
        return value
    return value[:57] + hashlib.sha256(value.encode()).hexdigest()[:6]


def both(names: tuple[str, str], value: str) -> dict[str, str]:
    return {name: label_value(value) for name in names}


def first(labels: Mapping[str, str] | None, names: tuple[str, str]) -> str:
    """The value under either spelling ("" when neither is set)."""
    labels = labels or {}
    for name in names:
        if labels.get(name):
            return str(labels[name])
    return ""


def selector(names: tuple[str, str], value: str) -> str:
    """A label selector on the veloro spelling (controllers always set both)."""
    return f"{names[0]}={label_value(value)}"
