"""Namespace lifecycle: a default ServiceAccount and the kube-root-ca.crt ConfigMap in each namespace
(recreated when deleted); deletion empties the namespace, then removes it."""

from __future__ import annotations

from kubesim.controllers.base import Controller, WorkKey
from kubesim.objects import clone, rfc3339
from kubesim.store import Event

NS = "/namespaces"
SA = "/serviceaccounts"
CM = "/configmaps"
ROOT_CA = "kube-root-ca.crt"
_CA_NOTE = (
    "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints "
    "such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across "
    "distributions of Kubernetes clusters."
)
# Not a usable certificate: kubesim serves plain HTTP; the ConfigMap exists because every cluster has it.
_FAKE_CA = "-----BEGIN CERTIFICATE-----\na3ViZXNpbSBkb2VzIG5vdCB1c2UgVExT\n-----END CERTIFICATE-----\n"


class NamespaceController(Controller):
    name = "namespaces"
    buckets = (NS, SA, CM)

    def keys_for(self, ev: Event) -> list[WorkKey]:
        if ev.bucket in (SA, CM):
            if ev.type == "DELETED" and ev.entry.name in ("default", ROOT_CA):
                return [(NS, "", ev.entry.namespace)]
            return []
        return [(NS, "", ev.entry.name)]

    def reconcile(self, key: WorkKey) -> None:
        entry = self.store.get(*key)
        if entry is None:
            return
        if entry.obj["metadata"].get("deletionTimestamp"):
            self._terminate(key)
            return
        if self.store.get(SA, entry.name, "default") is None:
            self.api.create_internal(SA, {"metadata": {"name": "default", "namespace": entry.name}})
        if self.store.get(CM, entry.name, ROOT_CA) is None:
            self.api.create_internal(
                CM,
                {
                    "metadata": {
                        "name": ROOT_CA,
                        "namespace": entry.name,
                        "annotations": {"kubernetes.io/description": _CA_NOTE},
                    },
                    "data": {"ca.crt": _FAKE_CA},
                },
            )

    def _terminate(self, key: WorkKey) -> None:
        ns = key[2]
        remaining = 0
        for rt in self.api.registry:
            if not rt.namespaced:
                continue
            bucket = self.store.buckets.get(rt.key)
            objs = bucket.by_ns.get(ns) if bucket else None
            if not objs:
                continue
            for e in list(objs.values()):
                remaining += 1
                if not e.obj["metadata"].get("deletionTimestamp"):
                    self.api.delete_internal(rt.key, ns, e.name, "Background")
        if remaining:
            self._set_condition(key, remaining)
            self.enqueue(key, delay=0.05)
            return
        entry = self.store.get(*key)
        if entry is None:
            return
        new = clone(entry.obj)
        new.setdefault("spec", {})["finalizers"] = []
        self.api.finalize_namespace(entry, new)

    def _set_condition(self, key: WorkKey, remaining: int) -> None:
        entry = self.store.get(*key)
        if entry is None:
            return
        status = clone(entry.obj.get("status") or {})
        conds = [c for c in status.get("conditions") or [] if c.get("type") != "NamespaceContentRemaining"]
        old = next(
            (c for c in status.get("conditions") or [] if c.get("type") == "NamespaceContentRemaining"), None
        )
        if old is not None:
            conds.append(old)
        else:
            conds.append(
                {
                    "type": "NamespaceContentRemaining",
                    "status": "True",
                    "reason": "SomeResourcesRemain",
                    "message": f"Some resources are remaining: {remaining} objects",
                    "lastTransitionTime": rfc3339(),
                }
            )
        status["conditions"] = conds
        self.api.put_status(NS, entry.obj, status)
