"""Which volumes of a pod get a file-level backup (pure functions over the pod as a dict).

Velero's rules, honoured in both spellings (`backup.velero.io/...` and `backup.veloro.io/...`):
- opt-in (default): the volumes named in the annotation `backup-volumes` ("a,b");
- defaultVolumesToFsBackup: every volume except those named in `backup-volumes-excludes` and except
  hostPath, secret, configMap, projected and downwardAPI volumes (their data comes from the API or the
  host, not from the pod) and legacy service-account token volumes (`default-token-*`). emptyDir and PVC
  volumes are included, as Velero includes them.
Whatever the mode, a hostPath volume is never backed up (the node agent cannot reach the host's path under
the kubelet's pods directory), and a volume that no container mounts is skipped (nothing writes to it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

BACKUP_VOLUMES_ANNOTATIONS = ("backup.velero.io/backup-volumes", "backup.veloro.io/backup-volumes")
EXCLUDES_ANNOTATIONS = (
    "backup.velero.io/backup-volumes-excludes",
    "backup.veloro.io/backup-volumes-excludes",
)
# Volume sources whose content the API server (or the host) holds: never backed up by default.
NOT_BY_DEFAULT = ("hostPath", "secret", "configMap", "projected", "downwardAPI")


@dataclass(frozen=True)
class VolumeChoice:
    """A volume of the pod and whether it is backed up; `reason` says why not (for logs and warnings)."""

    name: str
    selected: bool
    reason: str = ""
    warn: bool = False  # the user asked for it (opt-in) but it cannot be backed up


def _names(annotations: Mapping[str, Any], keys: Iterable[str]) -> list[str]:
    out: list[str] = []
    for key in keys:
        for part in str(annotations.get(key) or "").split(","):
            name = part.strip()
            if name and name not in out:
                out.append(name)
    return out


def _annotations(pod: Mapping[str, Any]) -> Mapping[str, Any]:
    return (pod.get("metadata") or {}).get("annotations") or {}


def opted_in_volumes(pod: Mapping[str, Any]) -> list[str]:
    """Names from the backup-volumes annotation (either spelling), in order, without duplicates."""
    return _names(_annotations(pod), BACKUP_VOLUMES_ANNOTATIONS)


def excluded_volumes(pod: Mapping[str, Any]) -> list[str]:
    return _names(_annotations(pod), EXCLUDES_ANNOTATIONS)


def volume_source(volume: Mapping[str, Any]) -> str:
    """The volume's source key ("persistentVolumeClaim", "emptyDir", ...); "" when it has none."""
    for key in volume:
        if key != "name":
            return str(key)
    return ""


def mounted_volumes(pod: Mapping[str, Any]) -> set[str]:
    spec = pod.get("spec") or {}
    names: set[str] = set()
    for group in ("initContainers", "containers", "ephemeralContainers"):
        for container in spec.get(group) or []:
            for mount in (container or {}).get("volumeMounts") or []:
                if (mount or {}).get("name"):
                    names.add(str(mount["name"]))
    return names


def choose_volumes(pod: Mapping[str, Any], default_volumes_to_fs_backup: bool) -> list[VolumeChoice]:
    """One choice per volume of the pod (and per opted-in name the pod does not have)."""
    volumes = {str(v.get("name")): v for v in (pod.get("spec") or {}).get("volumes") or [] if v.get("name")}
    mounted = mounted_volumes(pod)
    opted_in = opted_in_volumes(pod)
    excluded = set(excluded_volumes(pod))
    choices: list[VolumeChoice] = []
    if not default_volumes_to_fs_backup:
        for name in opted_in:
            volume = volumes.get(name)
            if volume is None:
                choices.append(VolumeChoice(name, False, "the pod has no volume of that name", warn=True))
            else:
                choices.append(_check(name, volume, mounted, explicit=True))
        choices += [
            VolumeChoice(n, False, "not opted in (backup-volumes annotation)")
            for n in volumes
            if n not in opted_in
        ]
        return choices
    for name, volume in volumes.items():
        source = volume_source(volume)
        if name in excluded:
            choices.append(VolumeChoice(name, False, "excluded by the backup-volumes-excludes annotation"))
        elif source in NOT_BY_DEFAULT:
            choices.append(VolumeChoice(name, False, f"{source} volumes are not backed up by default"))
        elif name.startswith("default-token"):
            choices.append(VolumeChoice(name, False, "service account token volume"))
        else:
            choices.append(_check(name, volume, mounted, explicit=False))
    return choices


def _check(name: str, volume: Mapping[str, Any], mounted: set[str], *, explicit: bool) -> VolumeChoice:
    if volume_source(volume) == "hostPath":
        return VolumeChoice(
            name, False, "hostPath volumes are not supported by file-level backup", warn=explicit
        )
    if name not in mounted:
        return VolumeChoice(name, False, "no container mounts the volume", warn=explicit)
    return VolumeChoice(name, True)


def volumes_to_back_up(pod: Mapping[str, Any], default_volumes_to_fs_backup: bool) -> list[str]:
    """The names of the volumes the rules select, in the pod's (or the annotation's) order."""
    return [c.name for c in choose_volumes(pod, default_volumes_to_fs_backup) if c.selected]


def pvc_of(pod: Mapping[str, Any], volume_name: str) -> str:
    """The claim name when the pod's volume is a PVC, else ""."""
    for volume in (pod.get("spec") or {}).get("volumes") or []:
        if volume.get("name") == volume_name:
            return str((volume.get("persistentVolumeClaim") or {}).get("claimName") or "")
    return ""
