"""Field defaulting the real API server applies, so objects read back the way a cluster shows them.

Pure functions on plain dicts, applied on create and update (defaulting is idempotent).
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

Obj = dict[str, Any]


def _set(d: Obj, key: str, value: Any) -> None:
    if key not in d or d[key] is None:
        d[key] = value


def _image_policy(image: str) -> str:
    tail = image.rsplit("/", 1)[-1]
    if "@" in tail:
        return "IfNotPresent"
    if ":" not in tail or tail.endswith(":latest"):
        return "Always"
    return "IfNotPresent"


def _container(c: Obj) -> None:
    if not isinstance(c, dict):
        return
    if c.get("image"):
        _set(c, "imagePullPolicy", _image_policy(str(c["image"])))
    _set(c, "terminationMessagePath", "/dev/termination-log")
    _set(c, "terminationMessagePolicy", "File")
    _set(c, "resources", {})
    for p in c.get("ports") or []:
        if isinstance(p, dict):
            _set(p, "protocol", "TCP")


def pod_spec(spec: Any, restart_policy: str | None = "Always") -> None:
    if not isinstance(spec, dict):
        return
    for c in (spec.get("containers") or []) + (spec.get("initContainers") or []):
        _container(c)
    if restart_policy:
        _set(spec, "restartPolicy", restart_policy)
    _set(spec, "dnsPolicy", "ClusterFirst")
    _set(spec, "schedulerName", "default-scheduler")
    _set(spec, "terminationGracePeriodSeconds", 30)
    _set(spec, "securityContext", {})
    for v in spec.get("volumes") or []:
        if not isinstance(v, dict):
            continue
        for kind in ("secret", "configMap"):
            if isinstance(v.get(kind), dict):
                _set(v[kind], "defaultMode", 420)
        if "emptyDir" in v and v["emptyDir"] is None:  # `emptyDir:` in YAML means an empty source
            v["emptyDir"] = {}


def _template(obj: Obj, restart_policy: str | None = "Always") -> None:
    tpl = (obj.get("spec") or {}).get("template")
    if isinstance(tpl, dict):
        tpl.setdefault("metadata", {})
        pod_spec(tpl.get("spec"), restart_policy)


def pod(obj: Obj) -> None:
    spec = obj.get("spec")
    pod_spec(spec)
    if isinstance(spec, dict):
        _set(spec, "serviceAccountName", "default")
        _set(spec, "serviceAccount", spec["serviceAccountName"])
        _set(spec, "enableServiceLinks", True)
        _set(spec, "preemptionPolicy", "PreemptLowerPriority")
        _set(spec, "priority", 0)


def deployment(obj: Obj) -> None:
    spec = obj.setdefault("spec", {})
    _set(spec, "replicas", 1)
    _set(spec, "revisionHistoryLimit", 10)
    _set(spec, "progressDeadlineSeconds", 600)
    strategy = spec.setdefault("strategy", {})
    _set(strategy, "type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        ru = strategy.setdefault("rollingUpdate", {})
        _set(ru, "maxSurge", "25%")
        _set(ru, "maxUnavailable", "25%")
    _template(obj)


def replicaset(obj: Obj) -> None:
    _set(obj.setdefault("spec", {}), "replicas", 1)
    _template(obj)


def statefulset(obj: Obj) -> None:
    spec = obj.setdefault("spec", {})
    _set(spec, "replicas", 1)
    _set(spec, "podManagementPolicy", "OrderedReady")
    _set(spec, "revisionHistoryLimit", 10)
    us = spec.setdefault("updateStrategy", {})
    _set(us, "type", "RollingUpdate")
    if us["type"] == "RollingUpdate":
        _set(us.setdefault("rollingUpdate", {}), "partition", 0)
    _set(spec, "persistentVolumeClaimRetentionPolicy", {"whenDeleted": "Retain", "whenScaled": "Retain"})
    for t in spec.get("volumeClaimTemplates") or []:
        if isinstance(t, dict):
            t.setdefault("apiVersion", "v1")
            t.setdefault("kind", "PersistentVolumeClaim")
            _set(t.setdefault("spec", {}), "volumeMode", "Filesystem")
    _template(obj)


def daemonset(obj: Obj) -> None:
    spec = obj.setdefault("spec", {})
    _set(spec, "revisionHistoryLimit", 10)
    us = spec.setdefault("updateStrategy", {})
    _set(us, "type", "RollingUpdate")
    _template(obj)


def job(obj: Obj) -> None:
    spec = obj.setdefault("spec", {})
    _set(spec, "parallelism", 1)
    _set(spec, "completions", 1)
    _set(spec, "backoffLimit", 6)
    _set(spec, "completionMode", "NonIndexed")
    _set(spec, "suspend", False)
    _template(obj, restart_policy=None)


def cronjob(obj: Obj) -> None:
    spec = obj.setdefault("spec", {})
    _set(spec, "concurrencyPolicy", "Allow")
    _set(spec, "suspend", False)
    _set(spec, "successfulJobsHistoryLimit", 3)
    _set(spec, "failedJobsHistoryLimit", 1)
    jt = (spec.get("jobTemplate") or {}).get("spec")
    if isinstance(jt, dict):
        _set(jt, "backoffLimit", 6)
        tpl = jt.get("template")
        if isinstance(tpl, dict):
            pod_spec(tpl.get("spec"), restart_policy=None)


def service_ports(obj: Obj) -> None:
    spec = obj.setdefault("spec", {})
    _set(spec, "type", "ClusterIP")
    _set(spec, "sessionAffinity", "None")
    if spec["type"] != "ExternalName":
        _set(spec, "internalTrafficPolicy", "Cluster")
    if spec["type"] in ("NodePort", "LoadBalancer"):
        _set(spec, "externalTrafficPolicy", "Cluster")
    for p in spec.get("ports") or []:
        if isinstance(p, dict):
            _set(p, "protocol", "TCP")
            if "port" in p:
                _set(p, "targetPort", p["port"])


def secret(obj: Obj) -> None:
    _set(obj, "type", "Opaque")
    string_data = obj.pop("stringData", None)
    if isinstance(string_data, dict):
        data = obj.get("data") or {}
        for k, v in string_data.items():
            data[k] = base64.b64encode(str(v).encode()).decode()
        obj["data"] = data


def pvc(obj: Obj) -> None:
    _set(obj.setdefault("spec", {}), "volumeMode", "Filesystem")


def pv(obj: Obj) -> None:
    spec = obj.setdefault("spec", {})
    _set(spec, "persistentVolumeReclaimPolicy", "Retain")
    _set(spec, "volumeMode", "Filesystem")


def namespace(obj: Obj) -> None:
    obj.setdefault("metadata", {}).setdefault("labels", {})["kubernetes.io/metadata.name"] = obj["metadata"][
        "name"
    ]


def storageclass(obj: Obj) -> None:
    _set(obj, "reclaimPolicy", "Delete")
    _set(obj, "volumeBindingMode", "Immediate")


def crd(obj: Obj) -> None:
    spec = obj.setdefault("spec", {})
    names = spec.setdefault("names", {})
    if names.get("kind"):
        _set(names, "singular", str(names["kind"]).lower())
        _set(names, "listKind", f"{names['kind']}List")
    _set(spec, "conversion", {"strategy": "None"})


def pod_template(obj: Obj) -> None:
    tpl = obj.get("template")
    if isinstance(tpl, dict):
        pod_spec(tpl.get("spec"))


DEFAULTERS: dict[str, Callable[[Obj], None]] = {
    "/pods": pod,
    "/podtemplates": pod_template,
    "/replicationcontrollers": replicaset,
    "apps/deployments": deployment,
    "apps/replicasets": replicaset,
    "apps/statefulsets": statefulset,
    "apps/daemonsets": daemonset,
    "batch/jobs": job,
    "batch/cronjobs": cronjob,
    "/services": service_ports,
    "/secrets": secret,
    "/persistentvolumeclaims": pvc,
    "/persistentvolumes": pv,
    "/namespaces": namespace,
    "storage.k8s.io/storageclasses": storageclass,
    "apiextensions.k8s.io/customresourcedefinitions": crd,
}


def apply_defaults(bucket_key: str, obj: Obj) -> None:
    fn = DEFAULTERS.get(bucket_key)
    if fn is not None:
        fn(obj)
