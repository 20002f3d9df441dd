"""Endpoints and EndpointSlices for services with a selector, from the pods that match it.

Like the real endpoints and endpointslice controllers: ready pods are addresses, others notReadyAddresses;
named target ports resolve through the pods' container ports; a service without a selector is left alone.
"""

from __future__ import annotations

from typing import Any

from kubesim.controllers.base import Controller, WorkKey
from kubesim.controllers.podutil import is_ready
from kubesim.objects import clone
from kubesim.store import Event

SERVICES = "/services"
PODS = "/pods"
ENDPOINTS = "/endpoints"
SLICES = "discovery.k8s.io/endpointslices"
SERVICE_LABEL = "kubernetes.io/service-name"
MANAGED_BY = "endpointslice.kubernetes.io/managed-by"
Obj = dict[str, Any]


def _selected(pod: Obj, selector: dict[str, str]) -> bool:
    labels = pod["metadata"].get("labels") or {}
    return all(labels.get(k) == v for k, v in selector.items())


def _port_number(port: Obj, pods: list[Obj]) -> int:
    target = port.get("targetPort", port.get("port"))
    if isinstance(target, int):
        return target
    for pod in pods:
        for c in (pod.get("spec") or {}).get("containers") or []:
            for p in c.get("ports") or []:
                if p.get("name") == target:
                    return int(p["containerPort"])
    return int(port.get("port", 0))


def _slice_object(svc: Obj, pods: list[Obj]) -> Obj:
    meta = svc["metadata"]
    endpoints = [
        {
            "addresses": [p["status"]["podIP"]],
            "conditions": {"ready": is_ready(p), "serving": is_ready(p), "terminating": False},
            "nodeName": (p.get("spec") or {}).get("nodeName"),
            "targetRef": {
                "kind": "Pod",
                "namespace": p["metadata"]["namespace"],
                "name": p["metadata"]["name"],
                "uid": p["metadata"]["uid"],
            },
        }
        for p in pods
    ]
    ports = [
        {"name": p.get("name", ""), "port": _port_number(p, pods), "protocol": p.get("protocol", "TCP")}
        for p in (svc.get("spec") or {}).get("ports") or []
    ]
    owner = {
        "apiVersion": "v1",
        "kind": "Service",
        "name": meta["name"],
        "uid": meta["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }
    labels = {
        **(meta.get("labels") or {}),
        SERVICE_LABEL: meta["name"],
        MANAGED_BY: "endpointslice-controller.k8s.io",
    }
    return {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {"namespace": meta["namespace"], "labels": labels, "ownerReferences": [owner]},
        "addressType": "IPv4",
        "endpoints": endpoints,
        "ports": ports,
    }


class EndpointsController(Controller):
    name = "endpoints"
    buckets = (SERVICES, PODS)

    def keys_for(self, ev: Event) -> list[WorkKey]:
        if ev.bucket == SERVICES:
            return [(SERVICES, ev.entry.namespace, ev.entry.name)]
        return [(SERVICES, s.namespace, s.name) for s in self.store.entries(SERVICES, ev.entry.namespace)]

    def reconcile(self, key: WorkKey) -> None:
        _, ns, name = key
        svc = self.store.get(*key)
        selector = ((svc.obj.get("spec") or {}).get("selector") if svc else None) or {}
        if svc is None:
            self.api.delete_internal(ENDPOINTS, ns, name)  # slices go with their owner (GC)
            return
        if not selector or svc.obj["metadata"].get("deletionTimestamp"):
            return
        pods = [
            p.obj
            for p in self.store.entries(PODS, ns)
            if (p.obj.get("status") or {}).get("podIP")
            and not p.obj["metadata"].get("deletionTimestamp")
            and (p.obj.get("status") or {}).get("phase") not in ("Succeeded", "Failed")
            and _selected(p.obj, selector)
        ]
        pods.sort(key=lambda p: p["metadata"]["name"])
        self._endpoints(svc.obj, pods)
        self._slice(svc.obj, pods)

    def _endpoints(self, svc: Obj, pods: list[Obj]) -> None:
        meta = svc["metadata"]
        ports = [
            {
                k: v
                for k, v in (
                    ("name", p.get("name")),
                    ("port", _port_number(p, pods)),
                    ("protocol", p.get("protocol", "TCP")),
                )
                if v is not None
            }
            for p in (svc.get("spec") or {}).get("ports") or []
        ]
        ready = [self._address(p) for p in pods if is_ready(p)]
        not_ready = [self._address(p) for p in pods if not is_ready(p)]
        subset: Obj = {}
        if ready:
            subset["addresses"] = ready
        if not_ready:
            subset["notReadyAddresses"] = not_ready
        obj: Obj = {
            "apiVersion": "v1",
            "kind": "Endpoints",
            "metadata": {
                "name": meta["name"],
                "namespace": meta["namespace"],
                "labels": dict(meta.get("labels") or {}),
            },
        }
        if subset:
            subset["ports"] = ports
            obj["subsets"] = [subset]
        self._write(
            ENDPOINTS,
            obj,
            lambda cur: (
                cur.get("subsets") == obj.get("subsets")
                and cur["metadata"].get("labels") == obj["metadata"]["labels"]
            ),
        )

    @staticmethod
    def _address(pod: Obj) -> Obj:
        meta = pod["metadata"]
        return {
            "ip": pod["status"]["podIP"],
            "nodeName": (pod.get("spec") or {}).get("nodeName"),
            "targetRef": {
                "kind": "Pod",
                "namespace": meta["namespace"],
                "name": meta["name"],
                "uid": meta["uid"],
            },
        }

    def _slice(self, svc: Obj, pods: list[Obj]) -> None:
        meta = svc["metadata"]
        existing = next(
            (
                e
                for e in self.store.entries(SLICES, meta["namespace"])
                if (e.obj["metadata"].get("labels") or {}).get(SERVICE_LABEL) == meta["name"]
            ),
            None,
        )
        obj = _slice_object(svc, pods)
        if existing is None:
            obj["metadata"]["generateName"] = f"{meta['name']}-"
            self.api.create_internal(SLICES, obj)
            return
        cur = existing.obj
        labels = obj["metadata"]["labels"]
        if (
            all(cur.get(k) == obj[k] for k in ("endpoints", "ports"))
            and cur["metadata"].get("labels") == labels
        ):
            return
        new = clone(cur)
        new.update({"endpoints": obj["endpoints"], "ports": obj["ports"]})
        new["metadata"]["labels"] = labels
        self.api.replace(SLICES, new)

    def _write(self, key: str, obj: Obj, unchanged: Any) -> None:
        meta = obj["metadata"]
        cur = self.store.get(key, meta["namespace"], meta["name"])
        if cur is None:
            self.api.create_internal(key, obj)
        elif not unchanged(cur.obj):
            new = clone(cur.obj)
            new.pop("subsets", None)
            new.update({k: v for k, v in obj.items() if k != "metadata"})
            new["metadata"]["labels"] = meta["labels"]
            self.api.replace(key, new)
