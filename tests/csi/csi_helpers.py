"""Shared helpers of the CSI plugin tests: a kubesim cluster with claims holding real data, and what the
restore engine does to an item before the restore actions see it."""

from __future__ import annotations

import copy
import itertools
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from veloro_core.kube import GroupVersionResource, KubeClient, NotFound

Obj = dict[str, Any]
NAMESPACES = GroupVersionResource("", "v1", "namespaces")
PVCS = GroupVersionResource("", "v1", "persistentvolumeclaims")
PVS = GroupVersionResource("", "v1", "persistentvolumes")
PODS = GroupVersionResource("", "v1", "pods")
VS = GroupVersionResource("snapshot.storage.k8s.io", "v1", "volumesnapshots")
VSC = GroupVersionResource("snapshot.storage.k8s.io", "v1", "volumesnapshotcontents")
VSCLASS = GroupVersionResource("snapshot.storage.k8s.io", "v1", "volumesnapshotclasses")
DRIVER = "hostpath.csi.kubesim.io"
_counter = itertools.count()


def unique(prefix: str) -> str:
    return f"{prefix}{next(_counter)}-{int(time.time() * 1000) % 100000}"


def wait_for(check: Callable[[], Any], timeout: float = 10.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


def namespace(kube: KubeClient, name: str) -> str:
    kube.create(NAMESPACES, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    return name


def pvc_object(ns: str, name: str, storage_class: str | None = "standard", **spec: Any) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": name, "namespace": ns},
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": "1Gi"}},
            "storageClassName": storage_class,
            **spec,
        },
    }


def bound_pvc(kube: KubeClient, ns: str, name: str, **spec: Any) -> Obj:
    kube.create(PVCS, pvc_object(ns, name, **spec), ns)
    return wait_for(lambda: _bound(kube, ns, name), what=f"PVC {ns}/{name} to bind")  # type: ignore[no-any-return]


def _bound(kube: KubeClient, ns: str, name: str) -> Obj | None:
    pvc = kube.get(PVCS, name, ns)
    return pvc if (pvc.get("status") or {}).get("phase") == "Bound" else None


def write_volume(data_dir: Path, pv_name: str, files: dict[str, str]) -> None:
    root = data_dir / "volumes" / pv_name
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def read_volume(data_dir: Path, pv_name: str) -> dict[str, str]:
    root = data_dir / "volumes" / pv_name
    return {str(p.relative_to(root)): p.read_text() for p in sorted(root.rglob("*")) if p.is_file()}


def get_or_none(kube: KubeClient, gvr: GroupVersionResource, name: str, ns: str | None = None) -> Obj | None:
    try:
        return kube.get(gvr, name, ns)
    except NotFound:
        return None


def backup_cr(name: str, **spec: Any) -> Obj:
    return {
        "apiVersion": "veloro.io/v1",
        "kind": "Backup",
        "metadata": {"name": name, "namespace": "veloro-system", "uid": f"uid-{name}"},
        "spec": spec,
    }


def restore_cr(name: str, backup: str, **spec: Any) -> Obj:
    return {
        "apiVersion": "veloro.io/v1",
        "kind": "Restore",
        "metadata": {"name": name, "namespace": "veloro-system", "uid": f"uid-{name}"},
        "spec": {"backupName": backup, **spec},
    }


def as_restored(obj: Obj, mapping: dict[str, str] | None = None) -> Obj:
    """What the restore engine hands a restore action: server-set metadata and status dropped, the
    namespace mapped (the actions see the object as it will be created)."""
    item = copy.deepcopy(obj)
    meta = item["metadata"]
    for key in ("uid", "resourceVersion", "creationTimestamp", "generation", "managedFields",
                "selfLink", "deletionTimestamp", "ownerReferences", "finalizers"):
        meta.pop(key, None)
    item.pop("status", None)
    if meta.get("namespace") and mapping:
        meta["namespace"] = mapping.get(meta["namespace"], meta["namespace"])
    return item


def create_restored(kube: KubeClient, gvr: GroupVersionResource, item: Obj) -> Obj:
    ns = (item.get("metadata") or {}).get("namespace")
    return kube.create(gvr, item, ns)
