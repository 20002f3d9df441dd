"""Deployments -> ReplicaSets -> Pods, ReplicationControllers and DaemonSets (small, honest versions).

Deployment rollouts are immediate: the ReplicaSet of the current template gets all replicas and older ones
are scaled to 0 at once (no maxSurge/maxUnavailable pacing); old ReplicaSets beyond revisionHistoryLimit are
deleted. Pod readiness is what the simulated kubelet reports.
"""

from __future__ import annotations

from typing import Any

from kubesim.controllers.base import Context, Controller, WorkKey
from kubesim.controllers.gc import OwnerIndex
from kubesim.controllers.podutil import (
    controller_of,
    is_active,
    is_ready,
    owned,
    owner_ref,
    pod_from_template,
)
from kubesim.controllers.podutil import template_hash as hash_of
from kubesim.objects import clone, rfc3339
from kubesim.store import Event

PODS = "/pods"
RS = "apps/replicasets"
RC = "/replicationcontrollers"
DEPLOY = "apps/deployments"
DS = "apps/daemonsets"
Obj = dict[str, Any]


class OwnedController(Controller):
    """A controller of `owner_bucket` objects that is woken by events on the objects it owns."""

    owner_bucket = ""
    child_bucket = ""
    owner_kinds: tuple[str, ...] = ()

    def __init__(self, ctx: Context, index: OwnerIndex) -> None:
        super().__init__(ctx)
        self.index = index
        self.buckets = (self.owner_bucket, self.child_bucket)

    def keys_for(self, ev: Event) -> list[WorkKey]:
        if ev.bucket == self.owner_bucket:
            return [(ev.bucket, ev.entry.namespace, ev.entry.name)]
        ref = controller_of(ev.entry.obj)
        if ref is None or ref.get("kind") not in self.owner_kinds:
            return []
        return [(self.owner_bucket, ev.entry.namespace, str(ref.get("name", "")))]

    def live_owner(self, key: WorkKey) -> Obj | None:
        e = self.store.get(*key)
        if e is None or e.obj["metadata"].get("deletionTimestamp"):
            return None
        return e.obj

    def set_status(self, obj: Obj, status: Obj) -> None:
        if obj.get("status") != status:
            self.api.put_status(self.owner_bucket, obj, status)


class ReplicaSetController(OwnedController):
    name = "replicasets"
    owner_bucket = RS
    child_bucket = PODS
    owner_kinds = ("ReplicaSet",)

    def reconcile(self, key: WorkKey) -> None:
        obj = self.live_owner(key)
        if obj is None:
            return
        pods = [p for p in owned(self.store, self.index, obj, PODS) if is_active(p.obj)]
        want = int((obj.get("spec") or {}).get("replicas", 1) or 0)
        template = (obj.get("spec") or {}).get("template") or {}
        for _ in range(want - len(pods)):
            created = self.api.create_internal(PODS, pod_from_template(obj, template))
            if created is not None:
                pods.append(created)
        if len(pods) > want:
            # Prefer removing pods that are not ready, then the newest.
            victims = sorted(pods, key=lambda p: (is_ready(p.obj), p.obj["metadata"]["creationTimestamp"]))
            for p in victims[: len(pods) - want]:
                self.api.delete_internal(PODS, p.namespace, p.name)
            pods = [p for p in pods if self.store.get(PODS, p.namespace, p.name) is not None]
        ready = sum(1 for p in pods if is_ready(p.obj))
        status: Obj = {
            "replicas": len(pods),
            "fullyLabeledReplicas": len(pods),
            "readyReplicas": ready,
            "availableReplicas": ready,
            "observedGeneration": obj["metadata"].get("generation", 1),
        }
        if not ready:
            status.pop("readyReplicas")
            status.pop("availableReplicas")
        self.set_status(obj, status)


class ReplicationControllerController(ReplicaSetController):
    name = "replicationcontrollers"
    owner_bucket = RC
    owner_kinds = ("ReplicationController",)


class DeploymentController(OwnedController):
    name = "deployments"
    owner_bucket = DEPLOY
    child_bucket = RS
    owner_kinds = ("Deployment",)

    def reconcile(self, key: WorkKey) -> None:
        obj = self.live_owner(key)
        if obj is None:
            return
        spec = obj.get("spec") or {}
        if spec.get("paused"):
            return
        sets = owned(self.store, self.index, obj, RS)
        template = spec.get("template") or {}
        thash = hash_of(template)
        current = next(
            (r for r in sets if (r.obj["metadata"].get("labels") or {}).get("pod-template-hash") == thash),
            None,
        )
        revisions = [
            int((r.obj["metadata"].get("annotations") or {}).get("deployment.kubernetes.io/revision", 0))
            for r in sets
        ]
        want = int(spec.get("replicas", 1) or 0)
        if current is None:
            current = self.api.create_internal(
                RS, self._replicaset(obj, template, thash, max(revisions, default=0) + 1)
            )
            if current is None:
                return
        elif int((current.obj.get("spec") or {}).get("replicas", 0)) != want:
            new = clone(current.obj)
            new["spec"]["replicas"] = want
            new["metadata"].setdefault("annotations", {})["deployment.kubernetes.io/desired-replicas"] = str(
                want
            )
            self.api.replace(RS, new)
        old = [r for r in sets if r.name != current.name]
        for r in old:
            if int((r.obj.get("spec") or {}).get("replicas", 0)) != 0:
                new = clone(r.obj)
                new["spec"]["replicas"] = 0
                self.api.replace(RS, new)
        limit = int(spec.get("revisionHistoryLimit", 10))
        if len(old) > limit:
            by_rev = sorted(
                old,
                key=lambda r: int(
                    (r.obj["metadata"].get("annotations") or {}).get("deployment.kubernetes.io/revision", 0)
                ),
            )
            for r in by_rev[: len(old) - limit]:
                self.api.delete_internal(RS, r.namespace, r.name)
        self._record_revision(obj, current.obj)
        self._status(obj, want, current.obj, [r.obj for r in old])

    def _record_revision(self, obj: Obj, current: Obj) -> None:
        """The Deployment carries its current revision, as `kubectl rollout undo/history` expect."""
        key = "deployment.kubernetes.io/revision"
        revision = (current["metadata"].get("annotations") or {}).get(key)
        if revision and (obj["metadata"].get("annotations") or {}).get(key) != revision:
            new = clone(obj)
            new["metadata"].setdefault("annotations", {})[key] = revision
            self.api.replace(DEPLOY, new)

    def _replicaset(self, obj: Obj, template: Obj, thash: str, revision: int) -> Obj:
        meta = obj["metadata"]
        spec = obj.get("spec") or {}
        tpl = clone(template)
        tpl.setdefault("metadata", {}).setdefault("labels", {})["pod-template-hash"] = thash
        selector = clone(spec.get("selector") or {})
        selector.setdefault("matchLabels", {})["pod-template-hash"] = thash
        want = int(spec.get("replicas", 1) or 0)
        return {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {
                "name": f"{meta['name']}-{thash}",
                "namespace": meta["namespace"],
                "labels": dict(tpl["metadata"]["labels"]),
                "ownerReferences": [owner_ref(obj)],
                "annotations": {
                    "deployment.kubernetes.io/revision": str(revision),
                    "deployment.kubernetes.io/desired-replicas": str(want),
                    "deployment.kubernetes.io/max-replicas": str(want + 1),
                },
            },
            "spec": {"replicas": want, "selector": selector, "template": tpl},
        }

    def _status(self, obj: Obj, want: int, current: Obj, old: list[Obj]) -> None:
        cur = current.get("status") or {}
        total = int(cur.get("replicas", 0)) + sum(
            int((r.get("status") or {}).get("replicas", 0)) for r in old
        )
        ready = int(cur.get("readyReplicas", 0)) + sum(
            int((r.get("status") or {}).get("readyReplicas", 0)) for r in old
        )
        updated = int(cur.get("replicas", 0))
        done = updated == want and total == want and ready == want
        prev = {c.get("type"): c for c in (obj.get("status") or {}).get("conditions") or []}

        def cond(type_: str, status: str, reason: str, message: str) -> Obj:
            p = prev.get(type_)
            since = p["lastTransitionTime"] if p and p.get("status") == status else rfc3339()
            upd = p["lastUpdateTime"] if p and p.get("reason") == reason else rfc3339()
            return {
                "type": type_,
                "status": status,
                "lastUpdateTime": upd,
                "lastTransitionTime": since,
                "reason": reason,
                "message": message,
            }

        name = current["metadata"]["name"]
        status: Obj = {
            "observedGeneration": obj["metadata"].get("generation", 1),
            "replicas": total,
            "updatedReplicas": updated,
            "readyReplicas": ready,
            "availableReplicas": ready,
            "conditions": [
                cond(
                    "Available",
                    "True" if ready >= want else "False",
                    "MinimumReplicasAvailable" if ready >= want else "MinimumReplicasUnavailable",
                    "Deployment has minimum availability."
                    if ready >= want
                    else "Deployment does not have minimum availability.",
                ),
                cond(
                    "Progressing",
                    "True",
                    "NewReplicaSetAvailable" if done else "ReplicaSetUpdated",
                    f'ReplicaSet "{name}" has successfully progressed.'
                    if done
                    else f'ReplicaSet "{name}" is progressing.',
                ),
            ],
        }
        if total - ready > 0:
            status["unavailableReplicas"] = total - ready
        for k in ("replicas", "updatedReplicas", "readyReplicas", "availableReplicas"):
            if not status[k]:
                del status[k]
        self.set_status(obj, status)


class DaemonSetController(OwnedController):
    name = "daemonsets"
    owner_bucket = DS
    child_bucket = PODS
    owner_kinds = ("DaemonSet",)

    def reconcile(self, key: WorkKey) -> None:
        obj = self.live_owner(key)
        if obj is None:
            return
        pods = [p for p in owned(self.store, self.index, obj, PODS) if is_active(p.obj)]
        template = (obj.get("spec") or {}).get("template") or {}
        thash = hash_of(template)
        for p in pods:
            if (p.obj["metadata"].get("labels") or {}).get("controller-revision-hash") != thash:
                self.api.delete_internal(PODS, p.namespace, p.name)
        pods = [p for p in pods if self.store.get(PODS, p.namespace, p.name) is not None]
        if not pods:
            pod = pod_from_template(
                obj,
                template,
                extra_labels={
                    "controller-revision-hash": thash,
                    "pod-template-generation": str(obj["metadata"].get("generation", 1)),
                },
            )
            pod["spec"]["nodeName"] = self.ctx.node_name
            created = self.api.create_internal(PODS, pod)
            pods = [created] if created else []
        ready = sum(1 for p in pods if is_ready(p.obj))
        status = {
            "currentNumberScheduled": len(pods),
            "desiredNumberScheduled": 1,
            "numberMisscheduled": 0,
            "numberReady": ready,
            "numberAvailable": ready,
            "updatedNumberScheduled": len(pods),
            "observedGeneration": obj["metadata"].get("generation", 1),
        }
        if ready < 1:
            status["numberUnavailable"] = 1
            status.pop("numberAvailable")
        self.set_status(obj, status)
