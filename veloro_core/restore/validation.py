"""Validation of a Restore before anything is touched: every problem is listed (FailedValidation).

Checked: the spec's filters and selectors (through veloro_core.selection), non-restorable resources asked
for explicitly, existingResourcePolicy, namespaceMapping, restoreStatus, itemOperationTimeout, the backup's
phase, and that the backup exists complete in its store (metadata present). An unreachable store is not a
validation problem but a failure (StoreUnavailableError propagates to the engine).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from veloro_core.api.duration import DurationError, parse_duration
from veloro_core.persistence import (
    BackupNotFoundError,
    BackupStore,
    CorruptStoreFileError,
    IncompleteBackupError,
)
from veloro_core.restore.modifiers import ResourceModifiers
from veloro_core.selection import (
    IncludesExcludes,
    ResourceIndex,
    SpecSelection,
    validate_includes_excludes,
)

Obj = dict[str, Any]

# Never restored (Velero's list, plus veloro's own group): restoring them is meaningless or harmful.
NON_RESTORABLE = frozenset(
    {
        "nodes",
        "events",
        "events.events.k8s.io",
        "backups.velero.io",
        "restores.velero.io",
        "backuprepositories.velero.io",
        "resticrepositories.velero.io",
        "backups.veloro.io",
        "restores.veloro.io",
        "backuprepositories.veloro.io",
        "csinodes.storage.k8s.io",
        "volumeattachments.storage.k8s.io",
    }
)
_OWN_PLURALS = frozenset({"backups", "restores", "backuprepositories", "resticrepositories"})
RESTORABLE_BACKUP_PHASES = ("Completed", "PartiallyFailed")
POLICIES = ("none", "update")
DEFAULT_ITEM_OPERATION_TIMEOUT = timedelta(hours=4)
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


@dataclass
class ValidatedRestore:
    """The parts of a Restore the engine uses, parsed; `problems` empty = valid."""

    name: str
    backup_name: str
    selection: SpecSelection
    namespace_mapping: dict[str, str] = field(default_factory=dict)
    policy: str = "none"
    restore_pvs: bool = True
    status_filter: IncludesExcludes = field(default_factory=IncludesExcludes)
    item_operation_timeout: timedelta = DEFAULT_ITEM_OPERATION_TIMEOUT
    backup_metadata: Obj = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    modifiers: ResourceModifiers | None = None  # spec.resourceModifier, read by the engine (needs the API)

    def target_namespace(self, namespace: str) -> str:
        return self.namespace_mapping.get(namespace, namespace)


def is_non_restorable(name: str, index: ResourceIndex | None) -> bool:
    resolved = index.resolve_group_resource(name) if index is not None else None
    return name in NON_RESTORABLE or resolved in NON_RESTORABLE or name.lower() in _OWN_PLURALS


def _explicit_non_restorable(spec: Mapping[str, Any], index: ResourceIndex) -> list[str]:
    names: list[str] = []
    for key in ("includedResources", "includedClusterScopedResources", "includedNamespaceScopedResources"):
        value = spec.get(key)
        if isinstance(value, list):
            names.extend(v for v in value if isinstance(v, str) and v != "*")
    return [
        f"{name!r} is a non-restorable resource: {', '.join(sorted(NON_RESTORABLE))} are never restored - "
        "remove it from includedResources"
        for name in names
        if is_non_restorable(name, index)
    ]


def _mapping(spec: Mapping[str, Any], problems: list[str]) -> dict[str, str]:
    raw = spec.get("namespaceMapping") or {}
    if not isinstance(raw, dict):
        problems.append("namespaceMapping must be a map of source namespace to target namespace")
        return {}
    out: dict[str, str] = {}
    for source, target in raw.items():
        if not isinstance(target, str) or not _DNS_LABEL.match(target):
            problems.append(
                f"namespaceMapping {source!r}: target {target!r} is not a valid namespace name (lowercase "
                "letters, digits and '-', at most 63 characters)"
            )
            continue
        out[str(source)] = target
    targets = list(out.values())
    for dup in sorted({t for t in targets if targets.count(t) > 1}):
        problems.append(f"namespaceMapping maps several namespaces to {dup!r}; each target must be unique")
    return out


def _status_filter(spec: Mapping[str, Any], index: ResourceIndex, problems: list[str]) -> IncludesExcludes:
    raw = spec.get("restoreStatus")
    if raw is None:
        return IncludesExcludes.of(None, ["*"])  # no restoreStatus: no status is restored
    if not isinstance(raw, dict):
        problems.append("restoreStatus must be an object with includedResources / excludedResources")
        return IncludesExcludes.of(None, ["*"])
    inc = [str(v) for v in raw.get("includedResources") or []]
    exc = [str(v) for v in raw.get("excludedResources") or []]
    problems.extend(validate_includes_excludes(inc, exc, "restoreStatus resources"))
    if not inc:
        return IncludesExcludes.of(None, ["*"])  # Velero: an empty include list restores no status

    def resolve(names: list[str]) -> list[str]:
        return [n if n == "*" else (index.resolve_group_resource(n) or n) for n in names]

    return IncludesExcludes.of(resolve(inc), resolve(exc))


def _policy(spec: Mapping[str, Any], problems: list[str]) -> str:
    policy = spec.get("existingResourcePolicy") or "none"
    if policy not in POLICIES:
        problems.append(f"invalid existingResourcePolicy {policy!r}: use 'none' or 'update'")
        return "none"
    return str(policy)


def _timeout(spec: Mapping[str, Any], problems: list[str]) -> timedelta:
    raw = spec.get("itemOperationTimeout")
    if not raw:
        return DEFAULT_ITEM_OPERATION_TIMEOUT
    try:
        return parse_duration(str(raw))
    except DurationError as exc:
        problems.append(f"invalid itemOperationTimeout: {exc}")
        return DEFAULT_ITEM_OPERATION_TIMEOUT


def _check_backup(backup: Obj, backup_name: str, store: BackupStore, problems: list[str]) -> Obj:
    phase = (backup.get("status") or {}).get("phase")
    if phase is not None and phase not in RESTORABLE_BACKUP_PHASES:
        problems.append(
            f"backup {backup_name!r} is in phase {phase}; only a Completed or PartiallyFailed backup can be "
            "restored"
        )
    try:
        return store.get_backup_metadata(backup_name)
    except (BackupNotFoundError, IncompleteBackupError, CorruptStoreFileError) as exc:
        problems.append(str(exc))
        return {}


def validate_restore(restore: Obj, backup: Obj, store: BackupStore, index: ResourceIndex) -> ValidatedRestore:
    """Parse and validate; raises StoreUnavailableError only (the store could not be asked)."""
    spec = restore.get("spec") or {}
    problems: list[str] = []
    name = str((restore.get("metadata") or {}).get("name") or "")
    if not name:
        problems.append("the restore has no metadata.name")
    backup_name = str((backup.get("metadata") or {}).get("name") or spec.get("backupName") or "")
    if not backup_name:
        problems.append("the restore names no backup: set spec.backupName (or spec.scheduleName)")
    elif spec.get("backupName") and spec.get("backupName") != backup_name:
        problems.append(
            f"spec.backupName {spec.get('backupName')!r} is not the backup given ({backup_name!r})"
        )
    selection = SpecSelection.parse(spec, scoped_filters=True)
    problems.extend(selection.problems)
    problems.extend(_explicit_non_restorable(spec, index))
    result = ValidatedRestore(
        name=name,
        backup_name=backup_name,
        selection=selection,
        namespace_mapping=_mapping(spec, problems),
        policy=_policy(spec, problems),
        restore_pvs=spec.get("restorePVs") is not False,
        status_filter=_status_filter(spec, index, problems),
        item_operation_timeout=_timeout(spec, problems),
    )
    if backup_name:
        result.backup_metadata = _check_backup(backup, backup_name, store, problems)
    result.problems = problems
    return result
