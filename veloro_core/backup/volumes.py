"""Volume records (`-volumeinfo.json.gz`) for every PVC/PV seen, and native PV snapshots through the
VolumeSnapshotLocation's VolumeSnapshotter (`-volumesnapshots.json.gz`).

Records are spilled to disk as they are made (one per PV, plus one per unbound PVC), so memory does not
grow with the number of volumes. File-level (pod volume) and CSI snapshots are other plugins' business;
a PV without a native snapshot is recorded as skipped with the reason.
"""

from __future__ import annotations

import threading
from typing import Any

from veloro_sdk.contracts import CreateSnapshotRequest, VolumeSnapshotter

from veloro_core.backup.results import Results
from veloro_core.backup.spill import JsonLines

_ZONE_LABELS = ("topology.kubernetes.io/zone", "failure-domain.beta.kubernetes.io/zone")


class VolumeRecorder:
    def __init__(
        self,
        *,
        backup_name: str,
        backup_uid: str,
        snapshot_volumes: bool,
        snapshotter: VolumeSnapshotter | None,
        location: str,
        infos: JsonLines,
        snapshots: JsonLines,
        errors: Results,
        log: Any,
    ) -> None:
        self.backup_name = backup_name
        self.backup_uid = backup_uid
        self.snapshot_volumes = snapshot_volumes
        self.snapshotter = snapshotter
        self.location = location
        self.infos = infos
        self.snapshots = snapshots
        self.errors = errors
        self.log = log
        self._lock = threading.Lock()
        self.attempted = 0
        self.completed = 0

    def on_pvc(self, pvc: dict[str, Any]) -> None:
        """Unbound PVCs get a (skipped) record here; bound ones are recorded with their PV."""
        spec = pvc.get("spec") or {}
        if spec.get("volumeName"):
            return
        meta = pvc.get("metadata") or {}
        self.infos.append({
            "pvcName": meta.get("name", ""), "pvcNamespace": meta.get("namespace", ""), "pvName": "",
            "backupMethod": "", "skipped": True,
            "skippedReason": "the PVC is not bound to a PersistentVolume; there is no volume to back up",
        })

    def on_pv(self, pv: dict[str, Any]) -> None:
        meta = pv.get("metadata") or {}
        spec = pv.get("spec") or {}
        claim = spec.get("claimRef") or {}
        record: dict[str, Any] = {
            "pvcName": claim.get("name", ""), "pvcNamespace": claim.get("namespace", ""),
            "pvName": meta.get("name", ""), "backupMethod": "", "skipped": False, "snapshotDataMoved": False,
            "pvInfo": {"reclaimPolicy": spec.get("persistentVolumeReclaimPolicy", ""),
                       "labels": meta.get("labels") or {}},
        }
        reason = self._skip_reason()
        if reason:
            record.update(skipped=True, skippedReason=reason)
        else:
            self._snapshot(pv, record)
        self.infos.append(record)

    def _skip_reason(self) -> str:
        if not self.snapshot_volumes:
            return "volume snapshots are disabled for this backup (snapshotVolumes=false)"
        if self.snapshotter is None:
            return "no VolumeSnapshotLocation is configured for this backup, so no native snapshot was taken"
        return ""

    def _snapshot(self, pv: dict[str, Any], record: dict[str, Any]) -> None:
        assert self.snapshotter is not None
        meta = pv.get("metadata") or {}
        name = str(meta.get("name", ""))
        labels = meta.get("labels") or {}
        zone = next((labels[k] for k in _ZONE_LABELS if labels.get(k)), "")
        try:
            volume_id = self.snapshotter.get_volume_id(pv)
        except Exception as exc:
            self._failed(record, name, f"GetVolumeID failed: {exc}")
            return
        if not volume_id:
            record.update(skipped=True, skippedReason=(
                f"the volume snapshotter of location {self.location!r} does not handle this volume"))
            return
        with self._lock:
            self.attempted += 1
        snapshot: dict[str, Any] = {"spec": {
            "backupName": self.backup_name, "backupUID": self.backup_uid, "location": self.location,
            "persistentVolumeName": name, "providerVolumeID": volume_id, "volumeAZ": zone,
        }, "status": {"phase": "New"}}
        try:
            info = self.snapshotter.get_volume_info(volume_id, zone)
            snapshot["spec"].update(volumeType=info.volume_type, volumeIOPS=info.iops)
            snapshot_id = self.snapshotter.create_snapshot(CreateSnapshotRequest(
                volume_id=volume_id, volume_az=zone,
                tags={"velero.io/backup": self.backup_name, "velero.io/pv": name}))
        except Exception as exc:
            snapshot["status"]["phase"] = "Failed"
            self.snapshots.append(snapshot)
            self._failed(record, name, f"CreateSnapshot failed: {exc}")
            return
        with self._lock:
            self.completed += 1
        snapshot["status"].update(phase="Completed", providerSnapshotID=snapshot_id)
        self.snapshots.append(snapshot)
        record.update(backupMethod="NativeSnapshot", result="succeeded", nativeSnapshotInfo={
            "snapshotHandle": snapshot_id, "location": self.location, "volumeID": volume_id,
            "volumeAZ": zone, "volumeType": snapshot["spec"].get("volumeType", ""),
            "iops": snapshot["spec"].get("volumeIOPS"),
        })
        self.log.info("volume snapshot taken", persistentVolume=name, snapshot=snapshot_id)

    def _failed(self, record: dict[str, Any], pv_name: str, why: str) -> None:
        record.update(backupMethod="NativeSnapshot", result="failed", skippedReason=why)
        self.errors.add(f"snapshot of PersistentVolume {pv_name!r} failed: {why}")
        self.log.error("volume snapshot failed", persistentVolume=pv_name, error=why)
