"""Validation of a Backup before anything runs: every problem is listed (FailedValidation)."""

from __future__ import annotations

from typing import Any

from veloro_core.api import DurationError, parse_duration
from veloro_core.selection import SpecSelection


def _duration(spec: dict[str, Any], key: str, problems: list[str]) -> None:
    value = spec.get(key)
    if value is None or value == "":
        return
    try:
        parse_duration(value)
    except (DurationError, TypeError, ValueError) as exc:
        problems.append(f"{key}: {exc}")


def validate_backup(backup: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    meta = backup.get("metadata")
    if not isinstance(meta, dict) or not meta.get("name"):
        problems.append("the Backup has no metadata.name")
    spec = backup.get("spec")
    if spec is None:
        spec = {}
    if not isinstance(spec, dict):
        return [*problems, "spec must be an object"]
    problems.extend(SpecSelection.parse(spec).problems)
    for key in ("ttl", "itemOperationTimeout", "csiSnapshotTimeout"):
        _duration(spec, key, problems)
    for key in ("snapshotVolumes", "defaultVolumesToFsBackup"):
        if spec.get(key) is not None and not isinstance(spec.get(key), bool):
            problems.append(f"{key} must be true, false or unset")
    ordered = spec.get("orderedResources")
    if ordered is not None and (
        not isinstance(ordered, dict) or not all(isinstance(v, str) for v in ordered.values())
    ):
        problems.append("orderedResources must map resource names to 'namespace/name,...' strings")
    return problems
