"""The exclude-from-backup label, in veloro's and Velero's spelling (workloads labelled for Velero
keep working)."""

from __future__ import annotations

from collections.abc import Mapping

EXCLUDE_LABELS = ("veloro.io/exclude-from-backup", "velero.io/exclude-from-backup")


def excluded_by_label(labels: Mapping[str, str] | None) -> bool:
    """True when the object (or namespace) carries an exclude-from-backup label set to "true"."""
    if not labels:
        return False
    return any(labels.get(key) == "true" for key in EXCLUDE_LABELS)
