"""Which PVCs the CSI plugin snapshots, and with which VolumeSnapshotClass.

A PVC is snapshotted when the backup does not set snapshotVolumes=false, it is bound to a PV provisioned
by a CSI driver (pv.spec.csi), no pod mounting it opted the volume into file-system backup, and a class
is found for the driver, in this order (Velero's):
1. the PVC annotation `velero.io/csi-volumesnapshot-class` (or veloro.io/...) naming a class;
2. the Backup annotation `velero.io/csi-volumesnapshot-class_<driver>` naming a class;
3. the one class of that driver labelled `velero.io/csi-volumesnapshot-class=true` (or veloro.io/...);
4. the one class of that driver annotated `snapshot.storage.kubernetes.io/is-default-class=true`.
A named class that is missing or belongs to another driver, or two candidates at the same step, is an
error (a silent pick could snapshot with the wrong parameters).
"""

from __future__ import annotations

from veloro_sdk.contracts import JSONDict

from veloro_plugins.actions.cluster import RunMemo
from veloro_plugins.actions.fields import cr_key
from veloro_plugins.csi.cluster import Cluster, CSIError
from veloro_plugins.csi.objects import (
    CLASS_SELECTOR_LABELS,
    DEFAULT_CLASS_ANNOTATION,
    PVC_CLASS_ANNOTATIONS,
    VOLUME_SNAPSHOT_CLASSES,
    child,
    first,
    is_true,
    meta,
    name_of,
)

# Pod annotations naming volumes for file-system backup (opt-in) and, with defaultVolumesToFsBackup,
# the volumes left out (opt-out); Velero's spelling first, veloro's second.
FS_BACKUP_VOLUMES = ("backup.velero.io/backup-volumes", "backup.veloro.io/backup-volumes")
FS_BACKUP_EXCLUDES = ("backup.velero.io/backup-volumes-excludes", "backup.veloro.io/backup-volumes-excludes")

# Pods per (backup run, namespace): one list per namespace, not one per claim.
_pods_memo: RunMemo[list[JSONDict]] = RunMemo(keep=64)


def _split(value: str) -> set[str]:
    return {part.strip() for part in value.split(",") if part.strip()}


def _claim_volumes(pod: JSONDict, claim: str) -> list[str]:
    volumes = child(pod, "spec").get("volumes")
    names = []
    for volume in volumes if isinstance(volumes, list) else []:
        if isinstance(volume, dict) and child(volume, "persistentVolumeClaim").get("claimName") == claim:
            names.append(str(volume.get("name") or ""))
    return names


def fs_backup_pod(cluster: Cluster, pvc: JSONDict, backup: JSONDict) -> str:
    """The pod (ns/name) that backs this claim up file by file, or "" when none does."""
    namespace = str(meta(pvc).get("namespace") or "")
    default_fs = is_true(child(backup, "spec").get("defaultVolumesToFsBackup"))
    key = cr_key(backup)
    pods = _pods_memo.get(f"{key}|{namespace}" if key else "", lambda: list(cluster.list("pods", namespace)))
    for pod in pods:
        annotations = child(meta(pod), "annotations")
        included = _split(first(annotations, FS_BACKUP_VOLUMES))
        excluded = _split(first(annotations, FS_BACKUP_EXCLUDES))
        for volume in _claim_volumes(pod, name_of(pvc)):
            if volume in included or (default_fs and volume not in excluded):
                return f"{namespace}/{name_of(pod)}"
    return ""


def _named_class(cluster: Cluster, name: str, driver: str, why: str) -> JSONDict:
    found = cluster.get(VOLUME_SNAPSHOT_CLASSES, name)
    if found is None:
        raise CSIError(
            f"VolumeSnapshotClass {name!r} named by {why} does not exist; create it or fix the name"
        )
    if found.get("driver") != driver:
        raise CSIError(
            f"VolumeSnapshotClass {name!r} named by {why} is for driver {found.get('driver')!r}, but the "
            f"volume is provisioned by {driver!r}; name a class of driver {driver!r}"
        )
    return found


def _only(candidates: list[JSONDict], driver: str, how: str) -> JSONDict | None:
    if len(candidates) > 1:
        names = ", ".join(sorted(name_of(c) for c in candidates))
        raise CSIError(
            f"several VolumeSnapshotClasses of driver {driver!r} are {how} ({names}); keep exactly one, or "
            "name the class with the PVC annotation velero.io/csi-volumesnapshot-class"
        )
    return candidates[0] if candidates else None


def snapshot_class(cluster: Cluster, driver: str, pvc: JSONDict, backup: JSONDict) -> JSONDict | None:
    """The class to snapshot this PVC with (see the module docstring); None when the driver has none."""
    named = first(child(meta(pvc), "annotations"), PVC_CLASS_ANNOTATIONS)
    if named:
        return _named_class(cluster, named, driver, f"the annotation of PVC {name_of(pvc)!r}")
    backup_annotations = child(meta(backup), "annotations")
    named = first(backup_annotations, tuple(f"{key}_{driver}" for key in PVC_CLASS_ANNOTATIONS))
    if named:
        return _named_class(cluster, named, driver, f"the annotation of backup {name_of(backup)!r}")
    classes = [c for c in cluster.list(VOLUME_SNAPSHOT_CLASSES) if c.get("driver") == driver]
    labelled = [
        c for c in classes if any(is_true(child(meta(c), "labels").get(k)) for k in CLASS_SELECTOR_LABELS)
    ]
    chosen = _only(labelled, driver, "labelled velero.io/csi-volumesnapshot-class=true")
    if chosen is not None:
        return chosen
    defaults = [c for c in classes if is_true(child(meta(c), "annotations").get(DEFAULT_CLASS_ANNOTATION))]
    return _only(defaults, driver, "marked as the default class")
