"""Persistent volumes: which PVs are restored as they are, from a native snapshot, or not at all.

The plan is made once, before pass 2, from the backup's side files and contents, so the PVC handling does
not depend on the order of the resources (a user priority list may put PVCs before PVs):

- file-level (pod volume) or CSI backup of the volume -> the PV is NOT restored; its PVC is restored with
  `spec.volumeName` and the bind annotations cleared, so it is re-provisioned dynamically (the data comes
  back through the file-level restore or the CSI snapshot). The engine does this itself (before the
  restore item actions run), so the PVC action of the built-in plugins sees the PVC already cleared;
- a native snapshot (volumesnapshots file, phase Completed) and restorePVs != false -> the
  VolumeSnapshotter of the snapshot's location creates a volume, set_volume_id points the PV at it.
  With restorePVs=false the PV is restored as it is (Velero). With no VolumeSnapshotter configured for
  the location the PV is restored as it is, with a warning (this iteration has no snapshot plugins);
- no snapshot, reclaim policy Delete -> not restored, the PVC re-provisioned (the volume is gone anyway);
- no snapshot, reclaim policy Retain (or Recycle) -> restored as it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from veloro_sdk.contracts import CreateVolumeRequest, VolumeSnapshotter

from veloro_core.archive import ArchiveError, BackupContents, ItemRef
from veloro_core.persistence import BackupStore, BackupStoreError

Obj = dict[str, Any]
PVS = "persistentvolumes"
PVCS = "persistentvolumeclaims"
BIND_ANNOTATIONS = ("pv.kubernetes.io/bind-completed", "pv.kubernetes.io/bound-by-controller")
REPROVISIONED_METHODS = {
    "PodVolumeBackup": "a file-level (pod volume) backup",
    "CSISnapshot": "a CSI snapshot",
}


@dataclass
class VolumePlan:
    snapshots: dict[str, Obj] = field(default_factory=dict)  # PV name -> completed native snapshot record
    reprovision: dict[str, str] = field(default_factory=dict)  # PV name -> why it is not restored
    pod_volume_backups: list[Obj] = field(default_factory=list)  # the backup's podvolumebackups file
    warnings: list[str] = field(default_factory=list)


def _read(contents: BackupContents, ref: ItemRef) -> Obj | None:
    try:
        return contents.read_item(ref)
    except ArchiveError:
        return None


def _pvc_volume(contents: BackupContents, namespace: str, claim: str) -> str | None:
    pvc = _read(contents, ItemRef(PVCS, namespace, claim))
    name = ((pvc or {}).get("spec") or {}).get("volumeName")
    return str(name) if name else None


def _side_file(store: BackupStore, name: str, getter: str, plan: VolumePlan) -> list[Obj]:
    try:
        data = getattr(store, getter)(name)
    except BackupStoreError as exc:
        plan.warnings.append(f"could not read the backup's {getter.removeprefix('get_')}: {exc}")
        return []
    return [d for d in data or [] if isinstance(d, dict)]


def _pod_volume_pvs(contents: BackupContents, pvbs: list[Obj]) -> list[str]:
    """PVs whose pod volume was backed up file by file (PodVolumeBackup -> pod -> volume -> PVC -> PV)."""
    out: list[str] = []
    for pvb in pvbs:
        spec = pvb.get("spec") or {}
        pod_ref = spec.get("pod") or {}
        pod = _read(
            contents, ItemRef("pods", str(pod_ref.get("namespace") or ""), str(pod_ref.get("name") or ""))
        )
        if pod is None:
            continue
        for vol in (pod.get("spec") or {}).get("volumes") or []:
            claim = (vol.get("persistentVolumeClaim") or {}).get("claimName")
            if vol.get("name") == spec.get("volume") and claim:
                pv = _pvc_volume(contents, str(pod_ref.get("namespace")), str(claim))
                if pv:
                    out.append(pv)
    return out


def _csi_pvs(contents: BackupContents) -> list[str]:
    """PVs of PVCs that have a CSI VolumeSnapshot in the backup."""
    out: list[str] = []
    for ref in contents.items("volumesnapshots.snapshot.storage.k8s.io"):
        snap = _read(contents, ref)
        claim = (((snap or {}).get("spec") or {}).get("source") or {}).get("persistentVolumeClaimName")
        if claim and ref.namespace:
            pv = _pvc_volume(contents, ref.namespace, str(claim))
            if pv:
                out.append(pv)
    return out


def build_plan(store: BackupStore, backup_name: str, contents: BackupContents) -> VolumePlan:
    plan = VolumePlan()
    if contents.items("pods"):
        plan.pod_volume_backups = _side_file(store, backup_name, "get_pod_volume_backups", plan)
    if not contents.items(PVS):
        return plan
    for snap in _side_file(store, backup_name, "get_backup_volume_snapshots", plan):
        pv = (snap.get("spec") or {}).get("persistentVolumeName")
        if pv and (snap.get("status") or {}).get("phase") == "Completed":
            plan.snapshots[str(pv)] = snap
    for info in _side_file(store, backup_name, "get_backup_volume_info", plan):
        method = str(info.get("backupMethod") or "")
        if info.get("pvName") and method in REPROVISIONED_METHODS:
            plan.reprovision[str(info["pvName"])] = REPROVISIONED_METHODS[method]
    for pv in _pod_volume_pvs(contents, plan.pod_volume_backups):
        plan.reprovision.setdefault(pv, REPROVISIONED_METHODS["PodVolumeBackup"])
    for pv in _csi_pvs(contents):
        plan.reprovision.setdefault(pv, REPROVISIONED_METHODS["CSISnapshot"])
    for ref in contents.items(PVS):
        pv_obj = _read(contents, ref) or {}
        policy = (pv_obj.get("spec") or {}).get("persistentVolumeReclaimPolicy")
        if ref.name not in plan.snapshots and ref.name not in plan.reprovision and policy == "Delete":
            plan.reprovision[ref.name] = "no snapshot and reclaim policy Delete"
    return plan


def reset_binding(obj: Obj, mapping: Mapping[str, str]) -> None:
    """PVs and PVCs: drop the bind annotations and the claimRef's uid/resourceVersion; remap the claimRef
    namespace (the PV must point at the PVC in its new namespace)."""
    annotations = (obj.get("metadata") or {}).get("annotations")
    if isinstance(annotations, dict):
        for key in BIND_ANNOTATIONS:
            annotations.pop(key, None)
    claim = (obj.get("spec") or {}).get("claimRef")
    if isinstance(claim, dict):
        claim.pop("uid", None)
        claim.pop("resourceVersion", None)
        ns = claim.get("namespace")
        if isinstance(ns, str) and ns in mapping:
            claim["namespace"] = mapping[ns]


def reprovision_pvc(obj: Obj, plan: VolumePlan) -> bool:
    """Clear the PVC's volumeName when its PV is not restored; True if it did."""
    spec = obj.get("spec") or {}
    if spec.get("volumeName") and spec["volumeName"] in plan.reprovision:
        del spec["volumeName"]
        return True
    return False


def restore_from_snapshot(pv: Obj, snap: Obj, snapshotters: Mapping[str, VolumeSnapshotter]) -> Obj | None:
    """A new volume from the PV's native snapshot; None when no snapshotter serves its location."""
    spec = snap.get("spec") or {}
    snapshotter = snapshotters.get(str(spec.get("location") or ""))
    if snapshotter is None and len(snapshotters) == 1:
        snapshotter = next(iter(snapshotters.values()))
    if snapshotter is None:
        return None
    iops = spec.get("volumeIOPS")
    volume_id = snapshotter.create_volume_from_snapshot(
        CreateVolumeRequest(
            snapshot_id=str((snap.get("status") or {}).get("providerSnapshotID") or ""),
            volume_type=str(spec.get("volumeType") or ""),
            volume_az=str(spec.get("volumeAZ") or ""),
            iops=int(iops) if iops else None,
        )
    )
    return snapshotter.set_volume_id(pv, volume_id)
