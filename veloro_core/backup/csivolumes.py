"""CSI snapshots inside the backup engine (the work itself is the CSI plugin's, see docs/csi.md).

- A CSI PV (`spec.csi`) is not snapshotted natively when the CSI plugin is loaded and snapshotVolumes is
  not false (decided from the PV alone: the PV may be backed up before the plugin ran on its claim).
- Its volumeinfo record waits until the end of the backup: the VolumeSnapshot this backup made of its
  claim (as backed up, with the annotations the plugin set once the driver cut it) completes it as
  backupMethod CSISnapshot; a CSI PV without such a snapshot is recorded as skipped with the reason.
- status.csiVolumeSnapshotsAttempted/Completed count the operations of the `*/csi-pvc-backupper` action.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

from veloro_core.backup.operations import Operation

Obj = dict[str, Any]
PVC_BACKUPPER_SUFFIX = "/csi-pvc-backupper"
VOLUME_SNAPSHOTS = "volumesnapshots.snapshot.storage.k8s.io"
BACKUP_NAME_LABELS = ("velero.io/backup-name", "veloro.io/backup-name")
HANDLE = "velero.io/csi-volumesnapshot-handle"
DRIVER = "velero.io/csi-driver-name"
RESTORE_SIZE = "velero.io/csi-volumesnapshot-restore-size"
CONTENT_NAME = "veloro.io/csi-volumesnapshotcontent-name"


def csi_plugin_loaded(action_names: Iterable[str]) -> bool:
    return any(name.endswith(PVC_BACKUPPER_SUFFIX) for name in action_names)


def csi_counts(operations: Iterable[Operation]) -> tuple[int, int]:
    """(attempted, completed) CSI snapshots: the operations of the CSI PVC action."""
    ops = [o for o in operations if o.action_name.endswith(PVC_BACKUPPER_SUFFIX)]
    return len(ops), sum(o.phase == "Completed" for o in ops)


class CsiVolumes:
    """Pending CSI PV records and this backup's VolumeSnapshots, joined at the end of the backup."""

    def __init__(self, backup_name: str) -> None:
        self.backup_name = backup_name
        self._pending: dict[tuple[str, str], Obj] = {}  # (pvc namespace, pvc name) -> PV record
        self._snapshots: dict[tuple[str, str], Obj] = {}  # (pvc namespace, pvc name) -> snapshot
        self._lock = threading.Lock()

    def hold(self, record: Obj) -> None:
        """Keep a CSI PV's record until the snapshots are known."""
        with self._lock:
            self._pending[(str(record["pvcNamespace"]), str(record["pvcName"]))] = record

    def on_snapshot(self, snapshot: Obj) -> None:
        """A backed-up VolumeSnapshot; only those this backup made count (foreign ones are just items)."""
        meta = snapshot.get("metadata") or {}
        labels = meta.get("labels") or {}
        if not any(labels.get(key) == self.backup_name for key in BACKUP_NAME_LABELS):
            return
        claim = ((snapshot.get("spec") or {}).get("source") or {}).get("persistentVolumeClaimName")
        if claim:
            with self._lock:
                self._snapshots[(str(meta.get("namespace") or ""), str(claim))] = snapshot

    def records(self, operations: Iterable[Operation]) -> list[Obj]:
        """The CSI records: every held PV (completed or skipped) and snapshots whose PV was not backed up."""
        op_ids = {(op.item.namespace, op.item.name): op for op in operations
                  if op.action_name.endswith(PVC_BACKUPPER_SUFFIX)}
        with self._lock:
            pending, snapshots = dict(self._pending), dict(self._snapshots)
        out: list[Obj] = []
        for key, record in sorted(pending.items()):
            snapshot = snapshots.pop(key, None)
            if snapshot is None:
                record.update(skipped=True, skippedReason=(
                    "the CSI plugin took no VolumeSnapshot of this claim (no VolumeSnapshotClass for its "
                    "driver, the claim is backed up file by file, or the claim was not in the backup)"))
            else:
                _complete(record, snapshot, op_ids.get(key))
            out.append(record)
        for (ns, claim), snapshot in sorted(snapshots.items()):
            record = {"pvcName": claim, "pvcNamespace": ns, "pvName": "", "skipped": False}
            _complete(record, snapshot, op_ids.get((ns, claim)))
            out.append(record)
        return out


def _complete(record: Obj, snapshot: Obj, op: Operation | None) -> None:
    annotations = (snapshot.get("metadata") or {}).get("annotations") or {}
    size = str(annotations.get(RESTORE_SIZE) or "")
    info: Obj = {
        "snapshotHandle": str(annotations.get(HANDLE) or ""),
        "size": int(size) if size.isdigit() else 0,
        "driver": str(annotations.get(DRIVER) or ""),
        "vscName": str(annotations.get(CONTENT_NAME) or ""),
        "operationID": op.operation_id if op is not None else "",
    }
    record.update(backupMethod="CSISnapshot", snapshotDataMoved=False, skipped=False, csiSnapshotInfo=info)
    record.pop("skippedReason", None)
    if op is not None and op.phase == "Failed":
        record.update(result="failed", message=op.error)
    elif op is not None:
        record["result"] = "succeeded" if op.phase == "Completed" else ""
