"""What a backup stores about its pod volume backups: `<name>-podvolumebackups.json.gz` and volumeinfo."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from veloro_core.podvolume.objects import Obj, VolumeResult

# Server-set metadata that means nothing outside the cluster that made the object.
_DROP_METADATA = ("managedFields",)


def pod_volume_backups_document(results: Iterable[VolumeResult]) -> list[Obj]:
    """The list written (gzipped JSON) to `<backup>-podvolumebackups.json.gz`: every PodVolumeBackup that
    was created, as last read (Completed and Failed alike, as Velero writes them)."""
    out: list[Obj] = []
    for result in results:
        if not result.obj:
            continue
        obj = dict(result.obj)
        obj["metadata"] = {k: v for k, v in (obj.get("metadata") or {}).items() if k not in _DROP_METADATA}
        out.append(obj)
    return sorted(out, key=lambda o: str(o["metadata"].get("name", "")))


def volume_info_records(results: Iterable[VolumeResult]) -> list[Obj]:
    """One `-volumeinfo.json.gz` record per PodVolumeBackup (backupMethod PodVolumeBackup); pvcName/pvName
    stay empty for volumes that are not claims (emptyDir)."""
    records: list[Obj] = []
    for result in results:
        if not result.obj:
            continue
        spec: dict[str, Any] = result.obj.get("spec") or {}
        status: dict[str, Any] = result.obj.get("status") or {}
        record: Obj = {
            "pvcName": result.pvc,
            "pvcNamespace": result.namespace if result.pvc else "",
            "pvName": result.pv,
            "backupMethod": "PodVolumeBackup",
            "snapshotDataMoved": False,
            "skipped": False,
            "pvbInfo": {
                "snapshotHandle": status.get("snapshotID", ""),
                "size": int((status.get("progress") or {}).get("totalBytes") or 0),
                "uploaderType": spec.get("uploaderType", ""),
                "volumeName": result.volume,
                "podName": result.pod,
                "podNamespace": result.namespace,
                "nodeName": spec.get("node", ""),
            },
        }
        for key in ("startTimestamp", "completionTimestamp"):
            if status.get(key):
                record[key] = status[key]
        if result.phase != "Completed":
            record["result"] = "failed"
            record["message"] = result.message
        records.append(record)
    return records
