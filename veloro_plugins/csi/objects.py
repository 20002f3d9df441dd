"""Names, labels and small accessors for the CSI snapshot objects (snapshot.storage.k8s.io/v1).

Where Velero defined a label or annotation, both Velero's spelling and veloro's are written and either is
read, so backups taken by Velero's CSI plugin restore here and workloads labelled for Velero keep working.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from veloro_sdk.contracts import JSONDict, ResourceIdentifier

GROUP = "snapshot.storage.k8s.io"
API_VERSION = f"{GROUP}/v1"
VOLUME_SNAPSHOTS = "volumesnapshots"
VOLUME_SNAPSHOT_CONTENTS = "volumesnapshotcontents"
VOLUME_SNAPSHOT_CLASSES = "volumesnapshotclasses"

# On the backed-up PVC: which VolumeSnapshot holds its data (restore finds the snapshot through it).
SNAPSHOT_NAME_KEYS = ("velero.io/volume-snapshot-name", "veloro.io/volume-snapshot-name")
# On the VolumeSnapshot (and its content in the cluster): the backup that created it.
BACKUP_NAME_LABELS = ("velero.io/backup-name", "veloro.io/backup-name")
# A VolumeSnapshotClass chosen for its driver by label value "true".
CLASS_SELECTOR_LABELS = ("velero.io/csi-volumesnapshot-class", "veloro.io/csi-volumesnapshot-class")
DEFAULT_CLASS_ANNOTATION = "snapshot.storage.kubernetes.io/is-default-class"
# PVC annotation naming a class; Backup annotation `<prefix>_<driver>` naming one per driver.
PVC_CLASS_ANNOTATIONS = CLASS_SELECTOR_LABELS
# Recorded on the backed-up VolumeSnapshot (Velero's names) so that a restore can rebuild the chain.
HANDLE_ANNOTATION = "velero.io/csi-volumesnapshot-handle"
DRIVER_ANNOTATION = "velero.io/csi-driver-name"
RESTORE_SIZE_ANNOTATION = "velero.io/csi-volumesnapshot-restore-size"
DELETION_POLICY_ANNOTATION = "velero.io/csi-vsc-deletion-policy"
CONTENT_NAME_ANNOTATION = "veloro.io/csi-volumesnapshotcontent-name"

BINDING_ANNOTATIONS = (
    "pv.kubernetes.io/bind-completed",
    "pv.kubernetes.io/bound-by-controller",
    "volume.beta.kubernetes.io/storage-provisioner",
    "volume.kubernetes.io/storage-provisioner",
    "volume.kubernetes.io/selected-node",
)

_LABEL_VALUE_MAX = 63
_NAME_PART = re.compile(r"[^a-z0-9.-]")


def child(obj: JSONDict, key: str) -> JSONDict:
    """obj[key] when it is an object, else an empty dict NOT attached to obj (read-only use)."""
    value = obj.get(key)
    return value if isinstance(value, dict) else {}


def ensure(obj: JSONDict, key: str) -> JSONDict:
    """obj[key] as a dict attached to obj (created when missing or malformed)."""
    value = obj.get(key)
    if not isinstance(value, dict):
        value = obj[key] = {}
    return value


def meta(obj: JSONDict) -> JSONDict:
    return child(obj, "metadata")


def name_of(obj: JSONDict) -> str:
    return str(meta(obj).get("name") or "")


def namespace_of(obj: JSONDict) -> str:
    return str(meta(obj).get("namespace") or "")


def first(mapping: JSONDict, keys: tuple[str, ...]) -> str:
    """The first non-empty string value among keys ("" when none)."""
    for key in keys:
        value = mapping.get(key)
        if isinstance(value, str) and value:
            return value
    return ""


def valid_label_value(value: str) -> str:
    """Velero's rule for names used as label values: over 63 characters, cut to 57 plus 6 hex characters
    of the sha256 of the whole value (so the label stays unique and legal)."""
    if len(value) <= _LABEL_VALUE_MAX:
        return value
    return value[:57] + hashlib.sha256(value.encode()).hexdigest()[:6]


def created_by_backup(obj: JSONDict, backup: JSONDict) -> bool:
    """Whether obj carries the backup-name label of this backup (either spelling)."""
    wanted = valid_label_value(name_of(backup))
    labels = child(meta(obj), "labels")
    return bool(wanted) and any(labels.get(key) == wanted for key in BACKUP_NAME_LABELS)


def _short_hash(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()


def snapshot_name(pvc: JSONDict, backup: JSONDict) -> str:
    """`velero-<pvc>-<5 hex>`: deterministic per (backup, PVC) so a retried Execute finds its own snapshot
    instead of taking a second one; at most 63 characters because it is also used as a label value."""
    backup_id = str(meta(backup).get("uid") or name_of(backup))
    digest = _short_hash(backup_id, namespace_of(pvc), name_of(pvc), str(meta(pvc).get("uid") or ""))[:5]
    base = _NAME_PART.sub("-", name_of(pvc).lower())[:50].rstrip("-.") or "pvc"
    return f"velero-{base}-{digest}"


def restored_content_name(restore: JSONDict, content: str) -> str:
    """The name a backed-up VolumeSnapshotContent gets in a restore. Both the VolumeSnapshot and the
    content restore actions derive it, so they agree without talking; it differs per restore, so the
    content never collides with the original (still present in the source cluster) or an earlier restore."""
    restore_id = f"{namespace_of(restore)}/{name_of(restore)}/{meta(restore).get('uid') or ''}"
    return f"{content[:243].rstrip('-.')}-{_short_hash(restore_id, content)[:8]}"


def namespace_mapping(restore: JSONDict) -> dict[str, str]:
    mapping = child(child(restore, "spec"), "namespaceMapping")
    return {str(k): str(v) for k, v in mapping.items() if isinstance(v, str) and v}


def snapshot_ref(namespace: str, name: str) -> ResourceIdentifier:
    return ResourceIdentifier(GROUP, VOLUME_SNAPSHOTS, namespace, name)


def content_ref(name: str) -> ResourceIdentifier:
    return ResourceIdentifier(GROUP, VOLUME_SNAPSHOT_CONTENTS, "", name)


def class_ref(name: str) -> ResourceIdentifier:
    return ResourceIdentifier(GROUP, VOLUME_SNAPSHOT_CLASSES, "", name)


def snapshot_handle(content: JSONDict) -> str:
    """The storage system's id of the snapshot: status.snapshotHandle (dynamic) or the pre-provisioned
    spec.source.snapshotHandle."""
    handle = child(content, "status").get("snapshotHandle") or child(
        child(content, "spec"), "source"
    ).get("snapshotHandle")
    return str(handle or "")


def error_message(obj: JSONDict) -> str:
    """status.error.message of a VolumeSnapshot or content ("" when none)."""
    error = child(obj, "status").get("error")
    if isinstance(error, dict) and error.get("message"):
        return str(error["message"])
    return ""


def is_true(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")
