"""CustomResourceDefinitions: serve their resources, set conditions, clean up on deletion.

Registration happens inside the store listener, synchronously, so a CRD's resource is in discovery the
moment the create call returns; the status conditions (NamesAccepted, Established) follow a moment later
through the normal reconcile loop, as with a real API server.
"""

from __future__ import annotations

import re
from typing import Any

from kubesim.controllers.base import Context, Controller, WorkKey
from kubesim.objects import rfc3339
from kubesim.resources import Column, ResourceType
from kubesim.store import Event

CRD_KEY = "apiextensions.k8s.io/customresourcedefinitions"
CLEANUP_FINALIZER = "customresourcecleanup.apiextensions.k8s.io"
APISERVICES = "apiregistration.k8s.io/apiservices"
_VERSION = re.compile(r"^v(\d+)(?:(alpha|beta)(\d+))?$")


def version_priority(v: str) -> tuple[int, int, int, str]:
    """Kubernetes version ordering: GA before beta before alpha, higher numbers first, others last."""
    m = _VERSION.match(v)
    if not m:
        return (3, 0, 0, v)
    major, stage, minor = int(m.group(1)), m.group(2), int(m.group(3) or 0)
    rank = {None: 0, "beta": 1, "alpha": 2}[stage]
    return (rank, -major, -minor, v)


def resource_type(crd: dict[str, Any]) -> ResourceType | None:
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    served = [v for v in spec.get("versions") or [] if isinstance(v, dict) and v.get("served", True)]
    if not served or not names.get("plural") or not names.get("kind") or not spec.get("group"):
        return None
    served.sort(key=lambda v: version_priority(str(v.get("name"))))
    preferred = served[0]
    subs: list[str] = []
    scale_paths: dict[str, str] = {}
    for v in served:
        sr = v.get("subresources") or {}
        if "status" in sr and "status" not in subs:
            subs.append("status")
        if isinstance(sr.get("scale"), dict) and "scale" not in subs:
            subs.append("scale")
            scale_paths = {
                "spec": sr["scale"].get("specReplicasPath", ".spec.replicas"),
                "status": sr["scale"].get("statusReplicasPath", ".status.replicas"),
                "selector": sr["scale"].get("labelSelectorPath", ""),
            }
    columns = [
        Column(
            name=c.get("name", ""),
            type=c.get("type", "string"),
            path=c.get("jsonPath", ""),
            priority=int(c.get("priority", 0)),
            description=c.get("description", ""),
        )
        for c in preferred.get("additionalPrinterColumns") or []
        if isinstance(c, dict)
    ]
    return ResourceType(
        group=spec["group"],
        versions=[str(v["name"]) for v in served],
        plural=names["plural"],
        kind=names["kind"],
        namespaced=spec.get("scope", "Namespaced") == "Namespaced",
        short_names=tuple(names.get("shortNames") or ()),
        categories=tuple(names.get("categories") or ()),
        subresources=tuple(subs),
        storage=next(
            (str(v["name"]) for v in spec.get("versions") or [] if isinstance(v, dict) and v.get("storage")),
            "",
        ),
        columns=columns,
        custom=True,
        scale_paths=scale_paths,
    )


class CrdController(Controller):
    name = "crds"
    buckets = (CRD_KEY,)

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self._served: dict[str, str] = {}  # CRD name -> bucket key

    def start(self) -> None:
        for e in list(self.store.entries(CRD_KEY)):
            self._register(e.obj)
        super().start()

    def on_event(self, ev: Event) -> None:
        if ev.type == "DELETED":
            self._unregister(ev.entry.name)
        else:
            self._register(ev.entry.obj)
        super().on_event(ev)

    def _register(self, crd: dict[str, Any]) -> None:
        rt = resource_type(crd)
        name = crd["metadata"]["name"]
        if rt is None:
            return
        old = self._served.get(name)
        if old and old != rt.key:
            self.api.registry.remove(old)
        existing = self.api.registry.get(rt.key)
        if existing is not None and not existing.custom:
            return  # never let a CRD shadow a built-in resource
        self.api.registry.add(rt)
        self._served[name] = rt.key

    def _unregister(self, name: str) -> None:
        key = self._served.pop(name, None)
        if key:
            self.api.registry.remove(key)
            self.store.drop_bucket(key)

    def reconcile(self, key: WorkKey) -> None:
        entry = self.store.get(*key)
        if entry is None:
            return
        crd = entry.obj
        meta = crd["metadata"]
        if meta.get("deletionTimestamp"):
            self._cleanup(crd, key)
            return
        if CLEANUP_FINALIZER not in (meta.get("finalizers") or []):
            new = dict(crd)
            new["metadata"] = {**meta, "finalizers": [*(meta.get("finalizers") or []), CLEANUP_FINALIZER]}
            self.api.replace(CRD_KEY, new)
            return
        self._set_status(crd)
        self._api_services(crd)

    def _api_services(self, crd: dict[str, Any]) -> None:
        """Like the control plane's CRD registration: an automanaged APIService per served version."""
        from kubesim.bootstrap import api_service

        spec = crd.get("spec") or {}
        for v in spec.get("versions") or []:
            name = f"{v.get('name')}.{spec.get('group')}"
            if v.get("served", True) and self.store.get(APISERVICES, "", name) is None:
                api_service(self.api, str(spec.get("group")), str(v.get("name")), "true")

    def _drop_api_services(self, crd: dict[str, Any]) -> None:
        group = (crd.get("spec") or {}).get("group")
        still = {
            f"{v.get('name')}.{group}"
            for e in self.store.entries(CRD_KEY)
            if e.name != crd["metadata"]["name"] and (e.obj.get("spec") or {}).get("group") == group
            for v in (e.obj.get("spec") or {}).get("versions") or []
        }
        for v in (crd.get("spec") or {}).get("versions") or []:
            name = f"{v.get('name')}.{group}"
            if name not in still:
                self.api.delete_internal(APISERVICES, "", name)

    def _set_status(self, crd: dict[str, Any]) -> None:
        spec = crd.get("spec") or {}
        status = dict(crd.get("status") or {})
        now = rfc3339()
        old = {c.get("type"): c for c in status.get("conditions") or []}

        def cond(type_: str, reason: str, message: str) -> dict[str, Any]:
            prev = old.get(type_)
            since = prev["lastTransitionTime"] if prev and prev.get("status") == "True" else now
            return {
                "type": type_,
                "status": "True",
                "lastTransitionTime": since,
                "reason": reason,
                "message": message,
            }

        status["conditions"] = [
            cond("NamesAccepted", "NoConflicts", "no conflicts found"),
            cond("Established", "InitialNamesAccepted", "the initial names have been accepted"),
        ]
        names = dict(spec.get("names") or {})
        status["acceptedNames"] = names
        storage = [v["name"] for v in spec.get("versions") or [] if v.get("storage")]
        stored = list(status.get("storedVersions") or [])
        for v in storage:
            if v not in stored:
                stored.append(v)
        status["storedVersions"] = stored
        self.api.put_status(CRD_KEY, crd, status)

    def _cleanup(self, crd: dict[str, Any], key: WorkKey) -> None:
        bucket = self._served.get(crd["metadata"]["name"])
        if bucket:
            remaining = list(self.store.entries(bucket))
            for e in remaining:
                if not e.obj["metadata"].get("deletionTimestamp"):
                    self.api.delete_internal(bucket, e.namespace, e.name)
            if any(True for _ in self.store.entries(bucket)):
                self.enqueue(key, delay=0.1)
                return
        self._drop_api_services(crd)
        meta = crd["metadata"]
        new = dict(crd)
        new["metadata"] = {
            **meta,
            "finalizers": [f for f in meta.get("finalizers") or [] if f != CLEANUP_FINALIZER],
        }
        self.api.replace(CRD_KEY, new)
