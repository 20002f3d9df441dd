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

What these rules read is the same for every claim of one backup, so `ClaimLookups` reads it once per backup
run (keyed by its uid, see veloro_plugins.actions.cluster.RunMemo): the VolumeSnapshotClasses (one list),
which claims of a namespace pods back up file by file (one pod list per namespace), and the PVs' drivers
(the first few claims of a backup GET their PV, so a small backup does not list every PV in the cluster;
after that all PVs are listed once). A PV missing from that list (created since) is fetched on its own.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from veloro_sdk.contracts import JSONDict
from veloro_sdk.serve import get_logger

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

log = get_logger("veloro.csi.selection")

# Pod annotations naming volumes for file-system backup (opt-in) and, with defaultVolumesToFsBackup,
# the volumes left out (opt-out); Velero's spelling first, veloro's second.
FS_BACKUP_VOLUMES = ("backup.velero.io/backup-volumes", "backup.veloro.io/backup-volumes")
FS_BACKUP_EXCLUDES = ("backup.velero.io/backup-volumes-excludes", "backup.veloro.io/backup-volumes-excludes")
PERSISTENT_VOLUMES = "persistentvolumes"
# Claims of one backup whose PV is fetched with a GET before all PVs are listed instead.
SINGLE_PV_LOOKUPS = 8
_RUNS_KEPT = 8


def _split(value: str) -> set[str]:
    return {part.strip() for part in value.split(",") if part.strip()}


def _claim_volumes(pod: JSONDict) -> list[tuple[str, str]]:
    """(volume name, claim name) of each PVC volume of the pod."""
    volumes = child(pod, "spec").get("volumes")
    found = []
    for volume in volumes if isinstance(volumes, list) else []:
        claim = child(volume, "persistentVolumeClaim").get("claimName") if isinstance(volume, dict) else None
        if claim:
            found.append((str(volume.get("name") or ""), str(claim)))
    return found


def _driver(pv: JSONDict | None) -> str:
    return str(child(child(pv or {}, "spec"), "csi").get("driver") or "")


def names_a_class(pvc: JSONDict, backup: JSONDict) -> bool:
    """Whether the claim or the backup names a class (then a missing class is an error, not a skip)."""
    if first(child(meta(pvc), "annotations"), PVC_CLASS_ANNOTATIONS):
        return True
    prefixes = tuple(f"{key}_" for key in PVC_CLASS_ANNOTATIONS)
    return any(str(key).startswith(prefixes) for key in child(meta(backup), "annotations"))


class ClaimLookups:
    """The cluster reads behind the selection rules, memoised per backup run (see the module docstring).
    One instance lives as long as its action (the plugin process), so it serves every backup."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self._classes: RunMemo[list[JSONDict]] = RunMemo(keep=_RUNS_KEPT)
        self._drivers: RunMemo[dict[str, str]] = RunMemo(keep=_RUNS_KEPT)
        # (run, namespace) -> {claim: "ns/pod"}: small, so many namespaces of a run can stay.
        self._fs_claims: RunMemo[dict[str, str]] = RunMemo(keep=512)
        self._pv_gets: OrderedDict[str, int] = OrderedDict()
        self._lock = threading.Lock()

    def classes(self, backup: JSONDict) -> list[JSONDict]:
        """Every VolumeSnapshotClass (listed once per backup)."""

        def fetch() -> list[JSONDict]:
            found = list(self.cluster.list(VOLUME_SNAPSHOT_CLASSES))
            if not found:
                log.warning("no VolumeSnapshotClass exists in the cluster; this backup takes no CSI "
                            "snapshots", backup=name_of(backup))
            return found

        return self._classes.get(cr_key(backup), fetch)

    def volume_driver(self, backup: JSONDict, volume: str) -> str:
        """The CSI driver of the PV ("" when it is not a CSI volume or does not exist)."""
        key = cr_key(backup)
        if key and self._listing(key):
            drivers = self._drivers.get(key, self._list_drivers)
            if volume in drivers:
                return drivers[volume]
        return _driver(self.cluster.get(PERSISTENT_VOLUMES, volume))

    def _listing(self, key: str) -> bool:
        """Whether this run has looked up enough claims that listing every PV is cheaper."""
        with self._lock:
            count = self._pv_gets[key] = self._pv_gets.pop(key, 0) + 1
            while len(self._pv_gets) > _RUNS_KEPT:
                self._pv_gets.popitem(last=False)
        return count > SINGLE_PV_LOOKUPS

    def _list_drivers(self) -> dict[str, str]:
        return {name_of(pv): _driver(pv) for pv in self.cluster.list(PERSISTENT_VOLUMES)}

    def fs_backup_pod(self, pvc: JSONDict, backup: JSONDict) -> str:
        """The pod (ns/name) that backs this claim up file by file, or "" when none does."""
        namespace = str(meta(pvc).get("namespace") or "")
        default_fs = is_true(child(backup, "spec").get("defaultVolumesToFsBackup"))
        key = cr_key(backup)
        claims = self._fs_claims.get(f"{key}|{namespace}" if key else "",
                                     lambda: self._fs_claims_of(namespace, default_fs))
        return claims.get(name_of(pvc), "")

    def _fs_claims_of(self, namespace: str, default_fs: bool) -> dict[str, str]:
        """claim -> the first pod (in list order) that opts one of its volumes of that claim in."""
        claims: dict[str, str] = {}
        for pod in self.cluster.list("pods", namespace):
            annotations = child(meta(pod), "annotations")
            included = _split(first(annotations, FS_BACKUP_VOLUMES))
            excluded = _split(first(annotations, FS_BACKUP_EXCLUDES))
            for volume, claim in _claim_volumes(pod):
                if volume in included or (default_fs and volume not in excluded):
                    claims.setdefault(claim, f"{namespace}/{name_of(pod)}")
        return claims

    def snapshot_class(self, driver: str, pvc: JSONDict, backup: JSONDict) -> JSONDict | None:
        """The class to snapshot this PVC with (see the module docstring); None when the driver has none."""
        named = first(child(meta(pvc), "annotations"), PVC_CLASS_ANNOTATIONS)
        if named:
            return self._named_class(backup, named, driver, f"the annotation of PVC {name_of(pvc)!r}")
        backup_annotations = child(meta(backup), "annotations")
        named = first(backup_annotations, tuple(f"{key}_{driver}" for key in PVC_CLASS_ANNOTATIONS))
        if named:
            return self._named_class(backup, named, driver, f"the annotation of backup {name_of(backup)!r}")
        classes = [c for c in self.classes(backup) if c.get("driver") == driver]
        labelled = [
            c for c in classes if any(is_true(child(meta(c), "labels").get(k)) for k in CLASS_SELECTOR_LABELS)
        ]
        chosen = _only(labelled, driver, "labelled velero.io/csi-volumesnapshot-class=true")
        if chosen is not None:
            return chosen
        defaults = [
            c for c in classes if is_true(child(meta(c), "annotations").get(DEFAULT_CLASS_ANNOTATION))
        ]
        return _only(defaults, driver, "marked as the default class")

    def _named_class(self, backup: JSONDict, name: str, driver: str, why: str) -> JSONDict:
        listed = [c for c in self.classes(backup) if name_of(c) == name]
        found = listed[0] if listed else self.cluster.get(VOLUME_SNAPSHOT_CLASSES, name)
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
