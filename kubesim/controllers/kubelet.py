"""Scheduler + kubelet for the single simulated node.

A pod is scheduled once its PVCs are bound, gets kubelet-like volume directories on disk, and is Running
with a podIP and container statuses shortly after. Pods with restartPolicy Never/OnFailure (job pods)
complete successfully a moment later. Nothing is executed: containers are simulated.
"""

from __future__ import annotations

import base64
import hashlib
import shutil
from pathlib import Path
from typing import Any

from kubesim.controllers.base import Context, Controller, WorkKey
from kubesim.controllers.paths import pod_dir, pv_dir
from kubesim.objects import clone, rfc3339
from kubesim.store import Event

PODS = "/pods"
PVCS = "/persistentvolumeclaims"
GONE = "@podgone"
RUN_TO_COMPLETION = 0.2  # seconds a Never/OnFailure pod runs before it succeeds


def _cond(
    type_: str, status: str = "True", reason: str | None = None, message: str | None = None
) -> dict[str, Any]:
    c: dict[str, Any] = {
        "type": type_,
        "status": status,
        "lastProbeTime": None,
        "lastTransitionTime": rfc3339(),
    }
    if reason:
        c["reason"] = reason
    if message:
        c["message"] = message
    return c


def _running(pod: dict[str, Any], container: dict[str, Any], now: str) -> dict[str, Any]:
    image = str(container.get("image", ""))
    digest = hashlib.sha256(image.encode()).hexdigest()
    cid = hashlib.sha256(f"{pod['metadata']['uid']}/{container.get('name')}".encode()).hexdigest()
    return {
        "name": container.get("name"),
        "image": image,
        "imageID": f"{image}@sha256:{digest}",
        "containerID": f"containerd://{cid}",
        "ready": True,
        "started": True,
        "restartCount": 0,
        "state": {"running": {"startedAt": now}},
        "lastState": {},
    }


def _claims(pod: dict[str, Any]) -> list[tuple[str, str]]:
    out = []
    for v in (pod.get("spec") or {}).get("volumes") or []:
        claim = (v.get("persistentVolumeClaim") or {}).get("claimName") if isinstance(v, dict) else None
        if claim:
            out.append((str(v["name"]), str(claim)))
    return out


class Kubelet(Controller):
    name = "kubelet"
    buckets = (PODS, PVCS)

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self._ips: set[str] = set()
        self._next_ip = 2

    def start(self) -> None:
        for e in self.store.entries(PODS):
            ip = (e.obj.get("status") or {}).get("podIP")
            if ip:
                self._ips.add(ip)
        super().start()

    def keys_for(self, ev: Event) -> list[WorkKey]:
        if ev.bucket == PVCS:
            return [
                (PODS, p.namespace, p.name)
                for p in self.store.entries(PODS, ev.entry.namespace)
                if (p.obj.get("status") or {}).get("phase") == "Pending"
            ]
        if ev.type == "DELETED":
            return [(GONE, "", ev.entry.obj["metadata"].get("uid", ""))]
        return [(PODS, ev.entry.namespace, ev.entry.name)]

    def _allocate_ip(self) -> str:
        while True:
            n = self._next_ip
            self._next_ip += 1
            ip = f"10.244.{(n // 254) % 256}.{n % 254 + 1}"
            if ip not in self._ips:
                self._ips.add(ip)
                return ip

    def reconcile(self, key: WorkKey) -> None:
        if key[0] == GONE:
            shutil.rmtree(pod_dir(self.ctx.data_dir, key[2]), ignore_errors=True)
            return
        entry = self.store.get(*key)
        if entry is None:
            return
        pod = entry.obj
        if pod["metadata"].get("deletionTimestamp"):
            return
        phase = (pod.get("status") or {}).get("phase")
        spec = pod.get("spec") or {}
        if not spec.get("nodeName"):
            self._schedule(key, pod)
        elif phase == "Pending":
            self._run(pod)
        elif phase == "Running" and spec.get("restartPolicy") in ("Never", "OnFailure"):
            self._complete(pod)

    def _unbound(self, pod: dict[str, Any]) -> list[str]:
        ns = pod["metadata"]["namespace"]
        out = []
        for _, claim in _claims(pod):
            pvc = self.store.get(PVCS, ns, claim)
            if pvc is None or (pvc.obj.get("status") or {}).get("phase") != "Bound":
                out.append(claim)
        return out

    def _schedule(self, key: WorkKey, pod: dict[str, Any]) -> None:
        unbound = self._unbound(pod)
        if unbound:
            status = clone(pod.get("status") or {})
            status["conditions"] = [
                _cond(
                    "PodScheduled",
                    "False",
                    "Unschedulable",
                    "0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims.",
                )
            ]
            if [c.get("reason") for c in (pod.get("status") or {}).get("conditions") or []] != [
                "Unschedulable"
            ]:
                self.api.put_status(PODS, pod, status)
            return
        new = clone(pod)
        new["spec"]["nodeName"] = self.ctx.node_name
        new.setdefault("status", {})["conditions"] = [_cond("PodScheduled")]
        if self.api.replace(PODS, new) is not None:
            self.enqueue(key, delay=self.ctx.pod_delay)

    def _run(self, pod: dict[str, Any]) -> None:
        self._volume_dirs(pod)
        spec = pod.get("spec") or {}
        status = self._running_status(pod, rfc3339())
        written = self.api.put_status(PODS, pod, status)
        if written is not None and spec.get("restartPolicy") in ("Never", "OnFailure"):
            key = (PODS, pod["metadata"]["namespace"], pod["metadata"]["name"])
            self.enqueue(key, delay=RUN_TO_COMPLETION)

    def _running_status(self, pod: dict[str, Any], now: str) -> dict[str, Any]:
        spec = pod.get("spec") or {}
        old = pod.get("status") or {}
        pod_ip = old.get("podIP") or self._allocate_ip()
        status: dict[str, Any] = {
            "phase": "Running",
            "conditions": [
                _cond(t)
                for t in (
                    "PodReadyToStartContainers",
                    "Initialized",
                    "Ready",
                    "ContainersReady",
                    "PodScheduled",
                )
            ],
            "hostIP": "10.0.0.10",
            "hostIPs": [{"ip": "10.0.0.10"}],
            "podIP": pod_ip,
            "podIPs": [{"ip": pod_ip}],
            "startTime": now,
            "containerStatuses": [_running(pod, c, now) for c in spec.get("containers") or []],
            "qosClass": old.get("qosClass", "BestEffort"),
        }
        init = spec.get("initContainers") or []
        if init:
            done = {"exitCode": 0, "reason": "Completed", "startedAt": now, "finishedAt": now}
            status["initContainerStatuses"] = [
                {
                    "name": c.get("name"),
                    "image": c.get("image"),
                    "imageID": "",
                    "ready": True,
                    "restartCount": 0,
                    "started": False,
                    "state": {"terminated": done},
                    "lastState": {},
                }
                for c in init
            ]
        return status

    def _complete(self, pod: dict[str, Any]) -> None:
        now = rfc3339()
        status = clone(pod.get("status") or {})
        status["phase"] = "Succeeded"
        for cs in status.get("containerStatuses") or []:
            started = (cs.get("state") or {}).get("running", {}).get("startedAt", now)
            cs["state"] = {
                "terminated": {
                    "exitCode": 0,
                    "reason": "Completed",
                    "startedAt": started,
                    "finishedAt": now,
                    "containerID": cs.get("containerID"),
                }
            }
            cs["ready"] = False
            cs["started"] = False
        status["conditions"] = [
            _cond("PodReadyToStartContainers", "False"),
            _cond("Initialized"),
            _cond("Ready", "False", "PodCompleted"),
            _cond("ContainersReady", "False", "PodCompleted"),
            _cond("PodScheduled"),
        ]
        self.api.put_status(PODS, pod, status)

    # ---- kubelet volume directories ----------------------------------------------------------
    def _volume_dirs(self, pod: dict[str, Any]) -> None:
        ns = pod["metadata"]["namespace"]
        base = pod_dir(self.ctx.data_dir, pod["metadata"]["uid"]) / "volumes"
        for v in (pod.get("spec") or {}).get("volumes") or []:
            if not isinstance(v, dict) or "name" not in v:
                continue
            name = str(v["name"])
            if "emptyDir" in v:
                (base / "kubernetes.io~empty-dir" / name).mkdir(parents=True, exist_ok=True)
            elif "configMap" in v:
                cm = self.store.get("/configmaps", ns, str((v["configMap"] or {}).get("name", "")))
                self._write_files(
                    base / "kubernetes.io~configmap" / name,
                    {k: s.encode() for k, s in ((cm.obj.get("data") or {}) if cm else {}).items()},
                )
            elif "secret" in v:
                sec = self.store.get("/secrets", ns, str((v["secret"] or {}).get("secretName", "")))
                data = (sec.obj.get("data") or {}) if sec else {}
                self._write_files(
                    base / "kubernetes.io~secret" / name, {k: base64.b64decode(s) for k, s in data.items()}
                )
            elif "projected" in v:
                (base / "kubernetes.io~projected" / name).mkdir(parents=True, exist_ok=True)
            elif "downwardAPI" in v:
                (base / "kubernetes.io~downward-api" / name).mkdir(parents=True, exist_ok=True)
            elif "persistentVolumeClaim" in v:
                self._pvc_link(base, ns, str((v["persistentVolumeClaim"] or {}).get("claimName", "")))

    def _write_files(self, path: Path, files: dict[str, bytes]) -> None:
        path.mkdir(parents=True, exist_ok=True)
        for k, data in files.items():
            if "/" not in k and k not in (".", ".."):
                (path / k).write_bytes(data)

    def _pvc_link(self, base: Path, ns: str, claim: str) -> None:
        pvc = self.store.get(PVCS, ns, claim)
        pv_name = (pvc.obj.get("spec") or {}).get("volumeName") if pvc else None
        pv = self.store.get("/persistentvolumes", "", str(pv_name)) if pv_name else None
        if pv is None:
            return
        target = pv_dir(self.ctx.data_dir, pv.obj)
        if target is None:
            return
        target.mkdir(parents=True, exist_ok=True)
        if (pv.obj.get("spec") or {}).get("csi"):
            link = base / "kubernetes.io~csi" / str(pv_name) / "mount"
        else:
            link = base / "kubernetes.io~local-volume" / str(pv_name)
        link.parent.mkdir(parents=True, exist_ok=True)
        if not link.is_symlink():
            link.symlink_to(target.resolve(), target_is_directory=True)
