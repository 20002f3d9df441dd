"""StatefulSets and Jobs (small, honest versions).

StatefulSets: pods <name>-<ordinal> with their PVCs from volumeClaimTemplates (<template>-<name>-<ordinal>,
kept on scale-down and deletion like the default Retain policy); all ordinals are created at once
(podManagementPolicy is not honoured); a template change replaces outdated pods one at a time from the
highest ordinal once the others are ready. No ControllerRevision objects are written.
Jobs: up to `parallelism` pods at a time until `completions` pods succeeded (simulated pods succeed);
then the Complete condition. Indexed completion mode, pod failure policies and TTL are not simulated.
CronJobs are stored but never run.
"""

from __future__ import annotations

from typing import Any

from kubesim.controllers.base import WorkKey
from kubesim.controllers.podutil import is_active, is_ready, owned, pod_from_template, template_hash
from kubesim.controllers.workloads import PODS, OwnedController
from kubesim.objects import rfc3339

STS = "apps/statefulsets"
JOBS = "batch/jobs"
PVCS = "/persistentvolumeclaims"
Obj = dict[str, Any]


class StatefulSetController(OwnedController):
    name = "statefulsets"
    owner_bucket = STS
    child_bucket = PODS
    owner_kinds = ("StatefulSet",)

    def reconcile(self, key: WorkKey) -> None:
        obj = self.live_owner(key)
        if obj is None:
            return
        spec = obj.get("spec") or {}
        name, ns = obj["metadata"]["name"], obj["metadata"]["namespace"]
        want = int(spec.get("replicas", 1) or 0)
        revision = f"{name}-{template_hash(spec.get('template') or {})}"
        pods = {p.name: p for p in owned(self.store, self.index, obj, PODS)}
        for pname, _p in list(pods.items()):
            ordinal = pname.rsplit("-", 1)[-1]
            if not ordinal.isdigit() or int(ordinal) >= want:
                self.api.delete_internal(PODS, ns, pname)
                del pods[pname]
        for i in range(want):
            pname = f"{name}-{i}"
            if pname not in pods and self.store.get(PODS, ns, pname) is None:
                self._claims(obj, i)
                created = self.api.create_internal(PODS, self._pod(obj, i, revision))
                if created is not None:
                    pods[pname] = created
        self._roll(obj, pods, revision)
        self._status(obj, list(pods.values()), revision, want)

    def _pod(self, obj: Obj, i: int, revision: str) -> Obj:
        spec = obj.get("spec") or {}
        name = obj["metadata"]["name"]
        pod = pod_from_template(
            obj,
            spec.get("template") or {},
            name=f"{name}-{i}",
            extra_labels={
                "statefulset.kubernetes.io/pod-name": f"{name}-{i}",
                "apps.kubernetes.io/pod-index": str(i),
                "controller-revision-hash": revision,
            },
        )
        pod["spec"]["hostname"] = f"{name}-{i}"
        if spec.get("serviceName"):
            pod["spec"]["subdomain"] = spec["serviceName"]
        volumes = [v for v in pod["spec"].get("volumes") or []]
        present = {v.get("name") for v in volumes if isinstance(v, dict)}
        for t in spec.get("volumeClaimTemplates") or []:
            tname = (t.get("metadata") or {}).get("name")
            if tname and tname not in present:
                volumes.append({"name": tname, "persistentVolumeClaim": {"claimName": f"{tname}-{name}-{i}"}})
        if volumes:
            pod["spec"]["volumes"] = volumes
        return pod

    def _claims(self, obj: Obj, i: int) -> None:
        spec = obj.get("spec") or {}
        name, ns = obj["metadata"]["name"], obj["metadata"]["namespace"]
        match = (spec.get("selector") or {}).get("matchLabels") or {}
        for t in spec.get("volumeClaimTemplates") or []:
            tmeta = t.get("metadata") or {}
            claim = f"{tmeta.get('name')}-{name}-{i}"
            if self.store.get(PVCS, ns, claim) is not None:
                continue
            meta: Obj = {"name": claim, "namespace": ns, "labels": {**(tmeta.get("labels") or {}), **match}}
            if tmeta.get("annotations"):
                meta["annotations"] = tmeta["annotations"]
            self.api.create_internal(
                PVCS,
                {
                    "apiVersion": "v1",
                    "kind": "PersistentVolumeClaim",
                    "metadata": meta,
                    "spec": dict(t.get("spec") or {}),
                },
            )

    def _roll(self, obj: Obj, pods: dict[str, Any], revision: str) -> None:
        strategy = ((obj.get("spec") or {}).get("updateStrategy") or {}).get("type", "RollingUpdate")
        if strategy != "RollingUpdate":
            return
        outdated = [
            p
            for p in pods.values()
            if (p.obj["metadata"].get("labels") or {}).get("controller-revision-hash") != revision
        ]
        if not outdated or not all(is_ready(p.obj) for p in pods.values()):
            return
        victim = max(outdated, key=lambda p: int(p.name.rsplit("-", 1)[-1]))
        self.api.delete_internal(PODS, victim.namespace, victim.name)
        del pods[victim.name]
        self.enqueue((STS, victim.namespace, obj["metadata"]["name"]), delay=0.01)

    def _status(self, obj: Obj, pods: list[Any], revision: str, want: int) -> None:
        ready = sum(1 for p in pods if is_ready(p.obj))
        updated = sum(
            1
            for p in pods
            if (p.obj["metadata"].get("labels") or {}).get("controller-revision-hash") == revision
        )
        status: Obj = {
            "observedGeneration": obj["metadata"].get("generation", 1),
            "replicas": len(pods),
            "readyReplicas": ready,
            "currentReplicas": updated,
            "updatedReplicas": updated,
            "availableReplicas": ready,
            "currentRevision": revision,
            "updateRevision": revision,
            "collisionCount": 0,
        }
        for k in ("readyReplicas", "currentReplicas", "updatedReplicas"):
            if not status[k]:
                del status[k]
        self.set_status(obj, status)


def _done(type_: str, now: str) -> Obj:
    return {
        "type": type_,
        "status": "True",
        "lastProbeTime": now,
        "lastTransitionTime": now,
        "reason": "CompletionsReached",
        "message": "Reached expected number of succeeded pods",
    }


class JobController(OwnedController):
    name = "jobs"
    owner_bucket = JOBS
    child_bucket = PODS
    owner_kinds = ("Job",)

    def reconcile(self, key: WorkKey) -> None:
        obj = self.live_owner(key)
        if obj is None:
            return
        spec = obj.get("spec") or {}
        status: Obj = dict(obj.get("status") or {})
        if any(
            c.get("type") in ("Complete", "Failed") and c.get("status") == "True"
            for c in status.get("conditions") or []
        ):
            return
        pods = owned(self.store, self.index, obj, PODS)
        succeeded = sum(1 for p in pods if (p.obj.get("status") or {}).get("phase") == "Succeeded")
        failed = sum(1 for p in pods if (p.obj.get("status") or {}).get("phase") == "Failed")
        active = [p for p in pods if is_active(p.obj)]
        completions = spec.get("completions")
        target = int(completions) if completions is not None else 1
        parallelism = int(spec.get("parallelism", 1) or 0)
        status.setdefault("startTime", rfc3339())
        if spec.get("suspend"):
            for p in active:
                self.api.delete_internal(PODS, p.namespace, p.name)
            active = []
        elif succeeded >= target:
            now = rfc3339()
            status["completionTime"] = now
            status["conditions"] = [_done(t, now) for t in ("SuccessCriteriaMet", "Complete")]
        else:
            for _ in range(min(parallelism, target - succeeded) - len(active)):
                created = self.api.create_internal(PODS, pod_from_template(obj, spec.get("template") or {}))
                if created is not None:
                    active.append(created)
        status.update(
            {
                "active": len(active),
                "succeeded": succeeded,
                "failed": failed,
                "ready": sum(1 for p in active if is_ready(p.obj)),
                "terminating": 0,
                "uncountedTerminatedPods": {},
            }
        )
        for k in ("active", "succeeded", "failed"):
            if not status[k]:
                del status[k]
        self.set_status(obj, status)
