"""Volume records (`-volumeinfo.json.gz`) for every PVC/PV seen, native PV snapshots through the
VolumeSnapshotLocation's VolumeSnapshotter (`-volumesnapshots.json.gz`), and the hooks of file-level
(podvolumes.py) and CSI (csivolumes.py) volume backup.

Which way a PV is backed up, in Velero's order: its claim is backed up file by file -> no native snapshot,
record backupMethod PodVolumeBackup (written at the end, from the PodVolumeBackups); it is a CSI volume and
the CSI plugin is loaded -> no native snapshot, record CSISnapshot (completed at the end from this backup's
VolumeSnapshots); otherwise the native snapshotter, or a skipped record with the reason.

Native and skipped records are spilled to disk as they are made (one per PV, plus one per unbound PVC), so
memory does not grow with the number of volumes; file-level and CSI records are held until the end.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from veloro_sdk.contracts import CreateSnapshotRequest, VolumeSnapshotter

from veloro_core.api import DEFAULT_ITEM_OPERATION_TIMEOUT, parse_duration
from veloro_core.backup.csivolumes import VOLUME_SNAPSHOTS, CsiVolumes, csi_counts, csi_plugin_loaded
from veloro_core.backup.operations import Operation
from veloro_core.backup.podvolumes import DEFAULT_SERVER_NAMESPACE, PodVolumes
from veloro_core.backup.results import Results
from veloro_core.backup.spill import JsonLines
from veloro_core.podvolume import VolumeResult

if TYPE_CHECKING:
    from veloro_core.backup.context import BackupContext

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
        pod_volumes: PodVolumes | None = None,
        csi_plugin: bool = False,
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
        self.pod_volumes = pod_volumes
        self.csi_plugin = csi_plugin
        self.csi = CsiVolumes(backup_name)
        self.csi_attempted = 0
        self.csi_completed = 0
        self._fs_pvs: list[tuple[str, str, str]] = []  # (pvc namespace, pvc name, pv) backed up file by file

    @classmethod
    def for_context(cls, ctx: BackupContext, infos: JsonLines, snapshots: JsonLines) -> VolumeRecorder:
        """The recorder of one run, with file-level backup wired from the run's settings."""
        settings = ctx.settings
        spec = ctx.backup.get("spec") or {}
        timeout = settings.pod_volume_timeout
        if timeout is None:
            timeout = (parse_duration(spec["itemOperationTimeout"]).total_seconds()
                       if spec.get("itemOperationTimeout") else DEFAULT_ITEM_OPERATION_TIMEOUT.seconds)
        own_namespace = str((ctx.backup.get("metadata") or {}).get("namespace") or "")
        namespace = settings.server_namespace or own_namespace or DEFAULT_SERVER_NAMESPACE
        location = settings.storage_location or str(spec.get("storageLocation") or "default")

        def in_backup(pod: dict[str, Any]) -> bool:
            meta = pod.get("metadata") or {}
            return ctx.namespace_ok(str(meta.get("namespace") or "")) and ctx.selection.labels_match(
                meta.get("labels"))

        pod_volumes = PodVolumes(
            kube=ctx.kube, namespace=namespace, location=location, backup=ctx.backup, timeout=timeout,
            poll=settings.pod_volume_poll, in_backup=in_backup, warnings=ctx.warnings, errors=ctx.errors,
            log=ctx.log)
        return cls(
            backup_name=ctx.name, backup_uid=ctx.uid,
            snapshot_volumes=spec.get("snapshotVolumes") is not False,
            snapshotter=settings.volume_snapshotter, location=settings.volume_snapshot_location, infos=infos,
            snapshots=snapshots, errors=ctx.errors, log=ctx.log, pod_volumes=pod_volumes,
            csi_plugin=csi_plugin_loaded(a.name for a in ctx.actions.actions))

    def on_item(self, group_resource: str, item: dict[str, Any]) -> None:
        """Every backed-up item passes here (after its actions); volume-related ones are recorded."""
        if group_resource == "persistentvolumes":
            self.on_pv(item)
        elif group_resource == "persistentvolumeclaims":
            self.on_pvc(item)
        elif group_resource == "pods":
            if self.pod_volumes is not None:
                self.pod_volumes.on_pod(item)
        elif group_resource == VOLUME_SNAPSHOTS:
            self.csi.on_snapshot(item)

    def finish(self, operations: list[Operation]) -> None:
        """After the items and operations: wait for the pod volume backups and write the held records."""
        if self.pod_volumes is not None:
            self.pod_volumes.finish()
            for record in self.pod_volumes.records(self._fs_pvs):
                self.infos.append(record)
        for record in self.csi.records(operations):
            self.infos.append(record)
        self.csi_attempted, self.csi_completed = csi_counts(operations)

    @property
    def pod_volume_results(self) -> list[VolumeResult]:
        return self.pod_volumes.results if self.pod_volumes is not None else []

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
        if self.pod_volumes is not None and self.pod_volumes.covers(pv):
            with self._lock:
                self._fs_pvs.append((record["pvcNamespace"], record["pvcName"], record["pvName"]))
            self.log.info("volume is backed up file by file; no snapshot", persistentVolume=record["pvName"])
            return
        if self.csi_plugin and self.snapshot_volumes and spec.get("csi"):
            self.csi.hold(record)
            return
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
