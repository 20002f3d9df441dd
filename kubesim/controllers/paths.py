"""Where simulated volumes, snapshots and kubelet pod directories live under the data dir.

<data>/volumes/<pv-name>             a provisioned volume (hostpath CSI driver; volumeHandle = PV name)
<data>/snapshots/<snapshot-handle>   a CSI snapshot (a copy of the volume directory)
<data>/kubelet/pods/<pod-uid>/volumes/kubernetes.io~<plugin>/<volume>   like a real kubelet:
    emptyDir -> kubernetes.io~empty-dir/<volume>, configMap -> kubernetes.io~configmap/<volume>,
    secret -> kubernetes.io~secret/<volume>, projected -> kubernetes.io~projected/<volume>,
    downwardAPI -> kubernetes.io~downward-api/<volume>,
    PVC bound to a CSI PV -> kubernetes.io~csi/<pv-name>/mount (a symlink to the PV's directory),
    PVC bound to another PV (hostPath/local) -> kubernetes.io~local-volume/<pv-name> (a symlink).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

CSI_DRIVER = "hostpath.csi.kubesim.io"


def volumes_root(data_dir: Path) -> Path:
    return data_dir / "volumes"


def pv_dir(data_dir: Path, pv: dict[str, Any]) -> Path | None:
    spec = pv.get("spec") or {}
    csi = spec.get("csi") or {}
    if csi.get("driver") == CSI_DRIVER and csi.get("volumeHandle"):
        return volumes_root(data_dir) / str(csi["volumeHandle"])
    for kind in ("hostPath", "local"):
        path = (spec.get(kind) or {}).get("path")
        if path:
            return Path(str(path))
    return None


def snapshot_dir(data_dir: Path, handle: str) -> Path:
    return data_dir / "snapshots" / handle


def pod_dir(data_dir: Path, uid: str) -> Path:
    return data_dir / "kubelet" / "pods" / uid


def copy_tree(src: Path, dst: Path) -> int:
    """Copy a volume directory (symlinks kept as links); returns the number of bytes copied."""
    if dst.exists():
        shutil.rmtree(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    if src.is_dir():
        shutil.copytree(src, dst, symlinks=True)
    else:
        dst.mkdir(parents=True)
    return sum(p.stat().st_size for p in dst.rglob("*") if p.is_file() and not p.is_symlink())


def remove_tree(path: Path, root: Path) -> None:
    """Delete a directory only when it lies under root (never a user's hostPath)."""
    try:
        path.resolve().relative_to(root.resolve())
    except ValueError:
        return
    shutil.rmtree(path, ignore_errors=True)
