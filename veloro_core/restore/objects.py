"""What the restore does to one object's JSON: skip rules, metadata reset, restore labels, the
"already exists and equal?" comparison and the merge patch for existingResourcePolicy=update."""

from __future__ import annotations

import hashlib
from typing import Any

Obj = dict[str, Any]

BACKUP_NAME_LABEL = "veloro.io/backup-name"
RESTORE_NAME_LABEL = "veloro.io/restore-name"
# Velero's spellings: a cluster restored by Velero before carries them; equality ignores both.
RESTORE_LABELS = frozenset(
    {
        BACKUP_NAME_LABEL,
        RESTORE_NAME_LABEL,
        "velero.io/backup-name",
        "velero.io/restore-name",
    }
)
MIRROR_POD_ANNOTATION = "kubernetes.io/config.mirror"
MAX_LABEL_VALUE = 63
_HASH_CHARS = 6

# Fields the API server sets: never sent on create, ignored when comparing with the live object.
_RESET_METADATA = (
    "selfLink",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "ownerReferences",
    "managedFields",
)
_SERVER_METADATA = ("uid", "resourceVersion", "creationTimestamp", "generation", "managedFields", "selfLink")


def label_value(value: str) -> str:
    """A label value of at most 63 characters: longer ones are cut to 57 characters plus the first 6 hex
    characters of the sha256 of the whole value (Velero's rule, so both tools label alike)."""
    if len(value) <= MAX_LABEL_VALUE:
        return value
    digest = hashlib.sha256(value.encode()).hexdigest()
    return value[: MAX_LABEL_VALUE - _HASH_CHARS] + digest[:_HASH_CHARS]


def restore_labels(backup_name: str, restore_name: str) -> dict[str, str]:
    return {BACKUP_NAME_LABEL: label_value(backup_name), RESTORE_NAME_LABEL: label_value(restore_name)}


def skip_reason(group_resource: str, obj: Obj) -> str | None:
    """Why Velero never restores this object (finished pods and jobs, mirror pods), or None."""
    meta = obj.get("metadata") or {}
    status = obj.get("status") or {}
    if group_resource == "pods":
        if status.get("phase") in ("Succeeded", "Failed"):
            return f"the pod has finished (phase {status.get('phase')})"
        if MIRROR_POD_ANNOTATION in (meta.get("annotations") or {}):
            return "it is a mirror pod (the kubelet recreates it from its static manifest)"
    if group_resource == "jobs.batch" and status.get("completionTime"):
        return "the job has completed"
    return None


def reset_metadata(obj: Obj, keep_status: bool) -> Obj:
    """Drop the server-set metadata (and status unless it is restored through the status subresource).

    generateName is dropped only when a name is present: without a name it is the only way to create it.
    """
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        meta = obj["metadata"] = {}
    for key in _RESET_METADATA:
        meta.pop(key, None)
    if meta.get("name"):
        meta.pop("generateName", None)
    if not keep_status:
        obj.pop("status", None)
    return obj


def add_labels(obj: Obj, labels: dict[str, str]) -> None:
    meta = obj.setdefault("metadata", {})
    current = meta.get("labels")
    if not isinstance(current, dict):
        current = meta["labels"] = {}
    current.update(labels)


def _normalized(obj: Obj, drop_restore_labels: bool) -> Obj:
    out = {k: v for k, v in obj.items() if k != "status"}
    meta = dict(out.get("metadata") or {})
    for key in _SERVER_METADATA:
        meta.pop(key, None)
    for key in ("annotations", "labels"):
        if key in meta and not meta[key]:
            del meta[key]  # {} and absent are the same object
    if drop_restore_labels and meta.get("labels"):
        labels = {k: v for k, v in meta["labels"].items() if k not in RESTORE_LABELS}
        if labels:
            meta["labels"] = labels
        else:
            del meta["labels"]
    out["metadata"] = meta
    return out


def equal_ignoring_server_fields(desired: Obj, live: Obj) -> bool:
    """Whether the live object is the backed-up one: server-set metadata, status and the restore labels
    do not count (a second restore of the same backup finds everything "equal")."""
    return _normalized(desired, True) == _normalized(live, True)


def merge_patch(live: Obj, desired: Obj) -> Obj:
    """An RFC 7386 merge patch turning `live` into `desired` (server-set fields and status left alone):
    changed and new fields are set, fields absent from `desired` are nulled."""
    return _diff(_normalized(live, False), _normalized(desired, False))


def _diff(old: Obj, new: Obj) -> Obj:
    patch: Obj = {}
    for key, value in new.items():
        before = old.get(key)
        if isinstance(value, dict) and isinstance(before, dict):
            sub = _diff(before, value)
            if sub:
                patch[key] = sub
        elif key not in old or before != value:
            patch[key] = value
    for key in old:
        if key not in new:
            patch[key] = None
    return patch


def object_ref(namespace: str | None, name: str) -> str:
    return f"{namespace}/{name}" if namespace else name
