"""Finding a pod volume's directory on this node, the way the kubelet lays it out.

`<pods-dir>/<pod-uid>/volumes/kubernetes.io~<plugin>/<name>` where <name> is the volume's name, except for
claims: the kubelet names those after the PersistentVolume, and CSI volumes add a `mount` folder
(`kubernetes.io~csi/<pv-name>/mount`). The plugin folder is matched with a wildcard, as Velero does, so
any volume plugin works.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from veloro_core.kube import KubeClient, NotFound
from veloro_core.podvolume.errors import VolumeDirNotFoundError
from veloro_core.podvolume.objects import PVCS, PVS


def volume_dir_name(kube: KubeClient, pod: Mapping[str, Any], volume_name: str) -> str:
    """The folder name below `kubernetes.io~<plugin>/` ("<pv>/mount" for a CSI claim)."""
    namespace = str((pod.get("metadata") or {}).get("namespace") or "")
    volume = next(
        (v for v in (pod.get("spec") or {}).get("volumes") or [] if v.get("name") == volume_name), None
    )
    if volume is None:
        raise VolumeDirNotFoundError(
            f"pod {namespace}/{pod['metadata'].get('name')} has no volume {volume_name!r}"
        )
    claim = (volume.get("persistentVolumeClaim") or {}).get("claimName")
    if not claim:
        return volume_name
    try:
        pvc = kube.get(PVCS, str(claim), namespace)
    except NotFound as exc:
        raise VolumeDirNotFoundError(
            f"the claim {namespace}/{claim} of volume {volume_name!r} does not exist"
        ) from exc
    pv_name = str((pvc.get("spec") or {}).get("volumeName") or "")
    if not pv_name:
        raise VolumeDirNotFoundError(
            f"the claim {namespace}/{claim} of volume {volume_name!r} is not bound yet"
        )
    try:
        pv = kube.get(PVS, pv_name)
    except NotFound as exc:
        raise VolumeDirNotFoundError(
            f"the PersistentVolume {pv_name} of claim {namespace}/{claim} is gone"
        ) from exc
    return f"{pv_name}/mount" if (pv.get("spec") or {}).get("csi") else pv_name


def find_volume_dir(kube: KubeClient, pods_dir: Path, pod: Mapping[str, Any], volume_name: str) -> Path:
    """The volume's directory for the pod (VolumeDirNotFoundError when the kubelet has not made it)."""
    uid = str((pod.get("metadata") or {}).get("uid") or "")
    if not uid:
        raise VolumeDirNotFoundError("the pod has no uid")
    name = volume_dir_name(kube, pod, volume_name)
    volumes = pods_dir / uid / "volumes"
    matches = sorted(p for p in volumes.glob(f"*/{name}") if p.is_dir())
    if not matches:
        raise VolumeDirNotFoundError(
            f"no directory for volume {volume_name!r} under {volumes}/*/{name}: the pod does not run on this "
            "node, the kubelet has not mounted the volume yet, or --kubelet-root is wrong"
        )
    if len(matches) > 1:
        raise VolumeDirNotFoundError(f"several directories match volume {volume_name!r}: {matches}")
    return matches[0]
