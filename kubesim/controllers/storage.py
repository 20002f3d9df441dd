"""PersistentVolume provisioning and binding for the hostpath CSI driver behind StorageClass `standard`.

A PVC of a class whose provisioner is the kubesim driver gets a PV `pvc-<pvc uid>` backed by
<data>/volumes/<pv name>; a PVC whose dataSource is a VolumeSnapshot (or another PVC) starts with a copy
of that data. Pre-created PVs bind to the PVC named in their claimRef / the PV named in spec.volumeName.
Released PVs with reclaim policy Delete are deleted with their directory.
"""

from __future__ import annotations

import asyncio
from typing import Any

from kubesim.controllers.base import Context, Controller, WorkKey
from kubesim.controllers.paths import CSI_DRIVER, copy_tree, pv_dir, remove_tree, snapshot_dir, volumes_root
from kubesim.objects import clone
from kubesim.store import Entry, Event

PVC = "/persistentvolumeclaims"
PV = "/persistentvolumes"
VS = "snapshot.storage.k8s.io/volumesnapshots"
VSC = "snapshot.storage.k8s.io/volumesnapshotcontents"
SC = "storage.k8s.io/storageclasses"
PV_GONE = "@pvgone"


class VolumeController(Controller):
    name = "volumes"
    buckets = (PVC, PV, VS, VSC)

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self._copying: set[str] = set()
        self._deleted: dict[str, dict[str, Any]] = {}

    def keys_for(self, ev: Event) -> list[WorkKey]:
        e = ev.entry
        if ev.bucket in (VS, VSC):
            # A snapshot became ready: PVCs waiting to be restored from one may proceed.
            return [
                (PVC, p.namespace, p.name)
                for p in self.store.entries(PVC)
                if (p.obj.get("status") or {}).get("phase") == "Pending"
                and (p.obj.get("spec") or {}).get("dataSource")
            ]
        if ev.bucket == PV:
            if ev.type == "DELETED":
                self._deleted[e.name] = e.obj
                return [(PV_GONE, "", e.name)]
            keys: list[WorkKey] = [(PV, "", e.name)]
            ref = (e.obj.get("spec") or {}).get("claimRef")
            if ref:
                keys.append((PVC, str(ref.get("namespace", "")), str(ref.get("name", ""))))
            return keys
        keys = [(PVC, e.namespace, e.name)]
        vol = (e.obj.get("spec") or {}).get("volumeName")
        if vol:
            keys.append((PV, "", str(vol)))
        return keys

    def reconcile(self, key: WorkKey) -> Any:
        if key[0] == PV_GONE:
            self._reclaim(self._deleted.pop(key[2], None))
            return None
        entry = self.store.get(*key)
        if entry is None:
            return None
        if key[0] == PV:
            self._reconcile_pv(entry)
            return None
        return self._reconcile_pvc(key, entry)

    # ---- PVs ---------------------------------------------------------------------------------
    def _reconcile_pv(self, pv: Entry) -> None:
        obj = pv.obj
        if obj["metadata"].get("deletionTimestamp"):
            return
        spec = obj.get("spec") or {}
        phase = (obj.get("status") or {}).get("phase")
        ref = spec.get("claimRef")
        if not ref:
            if phase != "Available":
                self.api.put_status(PV, obj, {"phase": "Available"})
            return
        pvc = self.store.get(PVC, str(ref.get("namespace", "")), str(ref.get("name", "")))
        if pvc is not None and (not ref.get("uid") or ref["uid"] == pvc.obj["metadata"]["uid"]):
            if not ref.get("uid") and phase != "Available":
                self.api.put_status(PV, obj, {"phase": "Available"})
            return
        if not ref.get("uid"):
            if phase != "Available":
                self.api.put_status(PV, obj, {"phase": "Available"})  # pre-bound, waiting for its claim
            return
        # The claim this PV was bound to is gone: Released, then reclaimed.
        if spec.get("persistentVolumeReclaimPolicy") == "Delete":
            self.api.delete_internal(PV, "", pv.name)
        elif phase != "Released":
            self.api.put_status(PV, obj, {"phase": "Released"})

    def _reclaim(self, obj: dict[str, Any] | None) -> None:
        """A deleted PV of ours with reclaim policy Delete takes its directory with it."""
        if obj is None or (obj.get("spec") or {}).get("persistentVolumeReclaimPolicy") != "Delete":
            return
        if (obj["metadata"].get("annotations") or {}).get("pv.kubernetes.io/provisioned-by") != CSI_DRIVER:
            return
        path = pv_dir(self.ctx.data_dir, obj)
        if path is not None:
            remove_tree(path, volumes_root(self.ctx.data_dir))

    # ---- PVCs --------------------------------------------------------------------------------
    def _reconcile_pvc(self, key: WorkKey, pvc: Entry) -> Any:
        obj = pvc.obj
        if obj["metadata"].get("deletionTimestamp"):
            return None
        spec = obj.get("spec") or {}
        if spec.get("volumeName"):
            self._bind_existing(pvc, str(spec["volumeName"]))
            return None
        prebound = self._find_prebound(pvc)
        if prebound is not None:
            self._bind(pvc, prebound)
            return None
        sc = self.store.get(SC, "", str(spec.get("storageClassName") or ""))
        if sc is None or sc.obj.get("provisioner") != CSI_DRIVER:
            return None  # no provisioner for this class: stays Pending, like a real cluster
        return self._provision(key, pvc)

    def _find_prebound(self, pvc: Entry) -> Entry | None:
        for pv in self.store.entries(PV):
            ref = (pv.obj.get("spec") or {}).get("claimRef") or {}
            if (
                ref.get("name") == pvc.name
                and ref.get("namespace") == pvc.namespace
                and (not ref.get("uid") or ref["uid"] == pvc.obj["metadata"]["uid"])
            ):
                return pv
        return None

    def _bind_existing(self, pvc: Entry, pv_name: str) -> None:
        pv = self.store.get(PV, "", pv_name)
        if pv is None:
            return
        ref = (pv.obj.get("spec") or {}).get("claimRef")
        if ref and (
            ref.get("name") != pvc.name
            or ref.get("namespace") != pvc.namespace
            or (ref.get("uid") and ref["uid"] != pvc.obj["metadata"]["uid"])
        ):
            return  # bound to another claim
        self._bind(pvc, pv)

    def _bind(self, pvc: Entry, pv: Entry) -> None:
        pvc_obj, pv_obj = pvc.obj, pv.obj
        ref = {
            "kind": "PersistentVolumeClaim",
            "namespace": pvc.namespace,
            "name": pvc.name,
            "uid": pvc_obj["metadata"]["uid"],
            "apiVersion": "v1",
            "resourceVersion": pvc_obj["metadata"]["resourceVersion"],
        }
        old_ref = (pv_obj.get("spec") or {}).get("claimRef") or {}
        if old_ref.get("uid") != ref["uid"]:
            new_pv = clone(pv_obj)
            new_pv["spec"]["claimRef"] = ref
            written = self.api.replace(PV, new_pv)
            if written is None:
                return
            pv_obj = written.obj
        if (pv_obj.get("status") or {}).get("phase") != "Bound":
            self.api.put_status(PV, pv_obj, {"phase": "Bound"})
        ann = pvc_obj["metadata"].get("annotations") or {}
        if (
            pvc_obj["spec"].get("volumeName") != pv.name
            or ann.get("pv.kubernetes.io/bind-completed") != "yes"
        ):
            new_pvc = clone(pvc_obj)
            new_pvc["spec"]["volumeName"] = pv.name
            anns = new_pvc["metadata"].setdefault("annotations", {})
            anns["pv.kubernetes.io/bind-completed"] = "yes"
            if pvc_obj["spec"].get("volumeName") != pv.name:
                anns["pv.kubernetes.io/bound-by-controller"] = "yes"
            written = self.api.replace(PVC, new_pvc)
            if written is None:
                return
            pvc_obj = written.obj
        pv_spec = pv_obj.get("spec") or {}
        status = {
            "phase": "Bound",
            "accessModes": pv_spec.get("accessModes") or [],
            "capacity": pv_spec.get("capacity") or {},
        }
        self.api.put_status(PVC, pvc_obj, status)

    async def _provision(self, key: WorkKey, pvc: Entry) -> None:
        obj = pvc.obj
        name = f"pvc-{obj['metadata']['uid']}"
        if name in self._copying:
            return
        existing = self.store.get(PV, "", name)
        if existing is None:
            source = self._source_dir(obj)
            if source is False:
                self.enqueue(key, delay=0.1)  # snapshot not ready yet
                return
            target = volumes_root(self.ctx.data_dir) / name
            self._copying.add(name)
            try:
                if source is None:
                    target.mkdir(parents=True, exist_ok=True)
                else:
                    await asyncio.to_thread(copy_tree, source, target)
            finally:
                self._copying.discard(name)
            pvc_now = self.store.get(*key)
            if pvc_now is None or pvc_now.obj["metadata"]["uid"] != obj["metadata"]["uid"]:
                remove_tree(target, volumes_root(self.ctx.data_dir))
                return
            existing = self.api.create_internal(PV, self._pv_object(pvc_now.obj, name))
            pvc = pvc_now
            if existing is None:
                return
        anns = pvc.obj["metadata"].get("annotations") or {}
        if anns.get("volume.kubernetes.io/storage-provisioner") != CSI_DRIVER:
            new = clone(pvc.obj)
            a = new["metadata"].setdefault("annotations", {})
            a["volume.kubernetes.io/storage-provisioner"] = CSI_DRIVER
            a["volume.beta.kubernetes.io/storage-provisioner"] = CSI_DRIVER
            written = self.api.replace(PVC, new)
            if written is None:
                return
            pvc = written
        self._bind(pvc, existing)

    def _source_dir(self, pvc: dict[str, Any]) -> Any:
        """The directory to copy into a new volume: None (empty), a Path, or False (not ready yet)."""
        src = (pvc.get("spec") or {}).get("dataSourceRef") or (pvc.get("spec") or {}).get("dataSource")
        if not src:
            return None
        ns = pvc["metadata"]["namespace"]
        if src.get("kind") == "VolumeSnapshot":
            vs = self.store.get(VS, ns, str(src.get("name", "")))
            content_name = (vs.obj.get("status") or {}).get("boundVolumeSnapshotContentName") if vs else None
            content = self.store.get(VSC, "", str(content_name)) if content_name else None
            cstatus = (content.obj.get("status") or {}) if content else {}
            if not cstatus.get("readyToUse") or not cstatus.get("snapshotHandle"):
                return False
            return snapshot_dir(self.ctx.data_dir, str(cstatus["snapshotHandle"]))
        if src.get("kind") == "PersistentVolumeClaim":
            other = self.store.get(PVC, ns, str(src.get("name", "")))
            vol = (other.obj.get("spec") or {}).get("volumeName") if other else None
            pv = self.store.get(PV, "", str(vol)) if vol else None
            if pv is None:
                return False
            return pv_dir(self.ctx.data_dir, pv.obj)
        return None

    def _pv_object(self, pvc: dict[str, Any], name: str) -> dict[str, Any]:
        spec = pvc.get("spec") or {}
        sc = self.store.get(SC, "", str(spec.get("storageClassName") or ""))
        policy = (sc.obj.get("reclaimPolicy") if sc else None) or "Delete"
        return {
            "apiVersion": "v1",
            "kind": "PersistentVolume",
            "metadata": {"name": name, "annotations": {"pv.kubernetes.io/provisioned-by": CSI_DRIVER}},
            "spec": {
                "capacity": {
                    "storage": ((spec.get("resources") or {}).get("requests") or {}).get("storage", "1Gi")
                },
                "accessModes": spec.get("accessModes") or ["ReadWriteOnce"],
                "persistentVolumeReclaimPolicy": policy,
                "storageClassName": spec.get("storageClassName"),
                "volumeMode": spec.get("volumeMode", "Filesystem"),
                "csi": {
                    "driver": CSI_DRIVER,
                    "volumeHandle": name,
                    "fsType": "ext4",
                    "volumeAttributes": {"storage.kubernetes.io/csiProvisionerIdentity": "kubesim"},
                },
                "claimRef": {
                    "kind": "PersistentVolumeClaim",
                    "namespace": pvc["metadata"]["namespace"],
                    "name": pvc["metadata"]["name"],
                    "uid": pvc["metadata"]["uid"],
                    "apiVersion": "v1",
                    "resourceVersion": pvc["metadata"]["resourceVersion"],
                },
            },
        }
