"""Helpers shared by the workload controllers: owner references, pods from templates, readiness."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson

from kubesim.controllers.gc import OwnerIndex
from kubesim.objects import clone
from kubesim.store import Entry, Store

Obj = dict[str, Any]
_SAFE = "bcdfghjklmnpqrstvwxz2456789"


def owner_ref(obj: Obj) -> Obj:
    return {
        "apiVersion": obj["apiVersion"],
        "kind": obj["kind"],
        "name": obj["metadata"]["name"],
        "uid": obj["metadata"]["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def controller_of(obj: Obj) -> Obj | None:
    for r in obj["metadata"].get("ownerReferences") or []:
        if isinstance(r, dict) and r.get("controller"):
            return r
    return None


def template_hash(template: Any) -> str:
    """A stable short hash of a pod template (the pod-template-hash label), alphabet as in Kubernetes."""
    digest = hashlib.sha256(orjson.dumps(template, option=orjson.OPT_SORT_KEYS)).digest()
    return "".join(_SAFE[b % len(_SAFE)] for b in digest[:10])


def pod_from_template(
    owner: Obj, template: Obj, *, name: str | None = None, extra_labels: dict[str, str] | None = None
) -> Obj:
    tpl = clone(template or {})
    tmeta = tpl.get("metadata") or {}
    meta: Obj = {
        "namespace": owner["metadata"]["namespace"],
        "ownerReferences": [owner_ref(owner)],
        "labels": {**(tmeta.get("labels") or {}), **(extra_labels or {})},
    }
    if tmeta.get("annotations"):
        meta["annotations"] = tmeta["annotations"]
    if name:
        meta["name"] = name
    else:
        meta["generateName"] = f"{owner['metadata']['name']}-"
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": tpl.get("spec") or {}}


def is_active(pod: Obj) -> bool:
    return not pod["metadata"].get("deletionTimestamp") and (pod.get("status") or {}).get("phase") not in (
        "Succeeded",
        "Failed",
    )


def is_ready(pod: Obj) -> bool:
    status = pod.get("status") or {}
    if status.get("phase") != "Running":
        return False
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or [])


def owned(store: Store, index: OwnerIndex, owner: Obj, bucket: str) -> list[Entry]:
    uid = owner["metadata"]["uid"]
    out = []
    for key in index.dependents(uid, bucket):
        e = store.get(*key)
        if e is not None:
            ref = controller_of(e.obj)
            if ref is not None and ref.get("uid") == uid:
                out.append(e)
    out.sort(key=lambda e: e.name)
    return out
