"""The CSI snapshot controller and the hostpath driver's snapshotter.

A VolumeSnapshot of a bound PVC gets a VolumeSnapshotContent `snapcontent-<vs uid>` whose snapshot handle
names a copy of the PV's directory under <data>/snapshots; both become readyToUse. A pre-provisioned
content (spec.source.snapshotHandle, as a restore creates it) is ready when its handle's directory exists.
Deleting a snapshot deletes its content (deletionPolicy Delete), which deletes the copied directory.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from kubesim.controllers.base import Context, Controller, WorkKey
from kubesim.controllers.paths import CSI_DRIVER, copy_tree, pv_dir, remove_tree, snapshot_dir
from kubesim.objects import clone, rfc3339
from kubesim.store import Entry, Event

GROUP = "snapshot.storage.k8s.io"
VS = f"{GROUP}/volumesnapshots"
VSC = f"{GROUP}/volumesnapshotcontents"
VSCLASS = f"{GROUP}/volumesnapshotclasses"
DEFAULT_CLASS = "snapshot.storage.kubernetes.io/is-default-class"
VS_GONE, VSC_GONE = "@vsgone", "@vscgone"


class SnapshotController(Controller):
    name = "snapshots"
    buckets = (VS, VSC, "/persistentvolumeclaims")

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self._gone: dict[str, dict[str, Any]] = {}
        self._copying: set[str] = set()

    def keys_for(self, ev: Event) -> list[WorkKey]:
        e = ev.entry
        if ev.bucket == "/persistentvolumeclaims":
            return [
                (VS, v.namespace, v.name)
                for v in self.store.entries(VS, e.namespace)
                if not (v.obj.get("status") or {}).get("readyToUse")
            ]
        if ev.type == "DELETED":
            marker = VS_GONE if ev.bucket == VS else VSC_GONE
            self._gone[f"{marker}/{e.namespace}/{e.name}"] = e.obj
            return [(marker, e.namespace, e.name)]
        keys: list[WorkKey] = [(ev.bucket, e.namespace, e.name)]
        if ev.bucket == VSC:
            ref = (e.obj.get("spec") or {}).get("volumeSnapshotRef") or {}
            if ref.get("name"):
                keys.append((VS, str(ref.get("namespace", "")), str(ref["name"])))
        return keys

    def reconcile(self, key: WorkKey) -> Any:
        if key[0] in (VS_GONE, VSC_GONE):
            obj = self._gone.pop(f"{key[0]}/{key[1]}/{key[2]}", None)
            if obj is not None:
                self._deleted(key[0], obj)
            return None
        entry = self.store.get(*key)
        if entry is None or entry.obj["metadata"].get("deletionTimestamp"):
            return None
        if key[0] == VSC:
            self._content_status(entry)
            return None
        return self._snapshot(entry)

    def _deleted(self, marker: str, obj: dict[str, Any]) -> None:
        if marker == VS_GONE:
            content = (obj.get("status") or {}).get("boundVolumeSnapshotContentName")
            vsc = self.store.get(VSC, "", str(content)) if content else None
            if vsc is not None and (vsc.obj.get("spec") or {}).get("deletionPolicy") == "Delete":
                self.api.delete_internal(VSC, "", vsc.name)
            return
        spec = obj.get("spec") or {}
        handle = (obj.get("status") or {}).get("snapshotHandle") or (spec.get("source") or {}).get(
            "snapshotHandle"
        )
        if spec.get("deletionPolicy") == "Delete" and handle:
            remove_tree(snapshot_dir(self.ctx.data_dir, str(handle)), self.ctx.data_dir / "snapshots")

    def _class(self, name: str | None) -> dict[str, Any] | None:
        if name:
            e = self.store.get(VSCLASS, "", name)
            return e.obj if e else None
        for e in self.store.entries(VSCLASS):
            if (e.obj["metadata"].get("annotations") or {}).get(DEFAULT_CLASS) == "true":
                return e.obj
        return None

    async def _snapshot(self, vs: Entry) -> None:
        obj = vs.obj
        spec = obj.get("spec") or {}
        source = spec.get("source") or {}
        status = obj.get("status") or {}
        if source.get("volumeSnapshotContentName"):
            self._bind_preprovisioned(vs, str(source["volumeSnapshotContentName"]))
            return
        if not spec.get("volumeSnapshotClassName"):
            cls = self._class(None)  # like the snapshot controller: record the default class in the spec
            if cls is not None:
                new = clone(obj)
                new["spec"]["volumeSnapshotClassName"] = cls["metadata"]["name"]
                self.api.replace(VS, new)
            return
        content_name = f"snapcontent-{obj['metadata']['uid']}"
        content = self.store.get(VSC, "", content_name)
        if content is None:
            content = await self._take(vs, str(source.get("persistentVolumeClaimName", "")), content_name)
            if content is None:
                return
        cstatus = content.obj.get("status") or {}
        if not cstatus.get("readyToUse"):
            return  # the content's own reconcile will bring us back
        new_status = {
            "boundVolumeSnapshotContentName": content_name,
            "readyToUse": True,
            "creationTime": status.get("creationTime") or rfc3339(cstatus.get("creationTime", 0) / 1e9),
            "restoreSize": self._restore_size(obj),
        }
        self.api.put_status(VS, obj, new_status)

    def _restore_size(self, vs: dict[str, Any]) -> str:
        claim = ((vs.get("spec") or {}).get("source") or {}).get("persistentVolumeClaimName")
        pvc = (
            self.store.get("/persistentvolumeclaims", vs["metadata"]["namespace"], str(claim))
            if claim
            else None
        )
        if pvc is None:
            return "0"
        return str(((pvc.obj.get("status") or {}).get("capacity") or {}).get("storage", "0"))

    async def _take(self, vs: Entry, claim: str, content_name: str) -> Entry | None:
        obj = vs.obj
        pvc = self.store.get("/persistentvolumeclaims", vs.namespace, claim)
        pv_name = (pvc.obj.get("spec") or {}).get("volumeName") if pvc else None
        pv = self.store.get("/persistentvolumes", "", str(pv_name)) if pv_name else None
        cls = self._class((obj.get("spec") or {}).get("volumeSnapshotClassName"))
        if pv is None or cls is None or cls.get("driver") != CSI_DRIVER:
            return None  # waits for the PVC to bind (a PVC event requeues us)
        source = pv_dir(self.ctx.data_dir, pv.obj)
        handle = f"snapshot-{obj['metadata']['uid']}"
        if handle in self._copying or source is None:
            return None
        self._copying.add(handle)
        try:
            size = await asyncio.to_thread(copy_tree, source, snapshot_dir(self.ctx.data_dir, handle))
        finally:
            self._copying.discard(handle)
        current = self.store.get(VS, vs.namespace, vs.name)
        if current is None or current.obj["metadata"]["uid"] != obj["metadata"]["uid"]:
            remove_tree(snapshot_dir(self.ctx.data_dir, handle), self.ctx.data_dir / "snapshots")
            return None
        content = {
            "apiVersion": f"{GROUP}/v1",
            "kind": "VolumeSnapshotContent",
            "metadata": {"name": content_name},
            "spec": {
                "deletionPolicy": cls.get("deletionPolicy", "Delete"),
                "driver": CSI_DRIVER,
                "source": {"volumeHandle": (pv.obj["spec"].get("csi") or {}).get("volumeHandle", pv.name)},
                "sourceVolumeMode": pv.obj["spec"].get("volumeMode", "Filesystem"),
                "volumeSnapshotClassName": cls["metadata"]["name"],
                "volumeSnapshotRef": {
                    "kind": "VolumeSnapshot",
                    "apiVersion": f"{GROUP}/v1",
                    "name": vs.name,
                    "namespace": vs.namespace,
                    "uid": obj["metadata"]["uid"],
                    "resourceVersion": obj["metadata"]["resourceVersion"],
                },
            },
        }
        created = self.api.create_internal(VSC, content)
        if created is None:
            return None
        status = {
            "creationTime": time.time_ns(),
            "driver": CSI_DRIVER,
            "readyToUse": True,
            "restoreSize": size,
            "snapshotHandle": handle,
        }
        return self.api.put_status(VSC, created.obj, status)

    def _bind_preprovisioned(self, vs: Entry, content_name: str) -> None:
        content = self.store.get(VSC, "", content_name)
        if content is None:
            return
        ref = (content.obj.get("spec") or {}).get("volumeSnapshotRef") or {}
        if ref.get("name") != vs.name or ref.get("namespace") != vs.namespace:
            return
        if ref.get("uid") != vs.obj["metadata"]["uid"]:
            new = clone(content.obj)
            new["spec"]["volumeSnapshotRef"]["uid"] = vs.obj["metadata"]["uid"]
            written = self.api.replace(VSC, new)
            if written is None:
                return
            content = written
        cstatus = content.obj.get("status") or {}
        status = {
            "boundVolumeSnapshotContentName": content_name,
            "readyToUse": bool(cstatus.get("readyToUse")),
            "creationTime": rfc3339((cstatus.get("creationTime") or time.time_ns()) / 1e9),
            "restoreSize": str(cstatus.get("restoreSize", 0)),
        }
        self.api.put_status(VS, vs.obj, status)

    def _content_status(self, content: Entry) -> None:
        obj = content.obj
        spec = obj.get("spec") or {}
        handle = (spec.get("source") or {}).get("snapshotHandle")
        if not handle or (obj.get("status") or {}).get("readyToUse"):
            return
        path = snapshot_dir(self.ctx.data_dir, str(handle))
        ready = path.is_dir()
        status: dict[str, Any] = {
            "snapshotHandle": handle,
            "driver": spec.get("driver", CSI_DRIVER),
            "readyToUse": ready,
            "creationTime": time.time_ns(),
        }
        if ready:
            status["restoreSize"] = sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
        else:
            message = f"snapshot handle {handle} does not exist on this cluster"
            # Writing the same error again would trigger this reconcile again, forever: only report a
            # change (a real snapshot controller also leaves an unchanged error alone).
            if ((obj.get("status") or {}).get("error") or {}).get("message") == message:
                return
            status["error"] = {"message": message, "time": rfc3339()}
        self.api.put_status(VSC, obj, status)
