"""The objects a fresh cluster has: namespaces, a node, storage and snapshot classes, the snapshot CRDs.

Created with "create if missing", so a restart with a data dir leaves existing (possibly edited) objects
alone and only fills in what is absent.
"""

from __future__ import annotations

from typing import Any

from kubesim.admission import DEFAULT_SC_ANNOTATION
from kubesim.controllers.paths import CSI_DRIVER
from kubesim.objects import Api

Obj = dict[str, Any]
SNAPSHOT_GROUP = "snapshot.storage.k8s.io"
SNAPSHOT_CLASS = "kubesim-snapclass"
STORAGE_CLASS = "standard"


def _col(name: str, path: str, type_: str = "string", priority: int = 0) -> Obj:
    return {"name": name, "type": type_, "jsonPath": path, "priority": priority}


def _snapshot_crd(
    plural: str, kind: str, scope: str, short: list[str], columns: list[Obj], status: bool
) -> Obj:
    version: Obj = {
        "name": "v1",
        "served": True,
        "storage": True,
        "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}},
        "additionalPrinterColumns": [*columns, _col("Age", ".metadata.creationTimestamp", "date")],
    }
    if status:
        version["subresources"] = {"status": {}}
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {
            "name": f"{plural}.{SNAPSHOT_GROUP}",
            "annotations": {
                "api-approved.kubernetes.io": "https://github.com/kubernetes-csi/"
                "external-snapshotter/pull/814"
            },
        },
        "spec": {
            "group": SNAPSHOT_GROUP,
            "scope": scope,
            "versions": [version],
            "names": {
                "plural": plural,
                "singular": kind.lower(),
                "kind": kind,
                "listKind": f"{kind}List",
                "shortNames": short,
            },
        },
    }


def snapshot_crds() -> list[Obj]:
    return [
        _snapshot_crd(
            "volumesnapshotclasses",
            "VolumeSnapshotClass",
            "Cluster",
            ["vsclass", "vsclasses"],
            [_col("Driver", ".driver"), _col("DeletionPolicy", ".deletionPolicy")],
            False,
        ),
        _snapshot_crd(
            "volumesnapshotcontents",
            "VolumeSnapshotContent",
            "Cluster",
            ["vsc", "vscs"],
            [
                _col("ReadyToUse", ".status.readyToUse", "boolean"),
                _col("RestoreSize", ".status.restoreSize", "integer"),
                _col("DeletionPolicy", ".spec.deletionPolicy"),
                _col("Driver", ".spec.driver"),
                _col("VolumeSnapshotClass", ".spec.volumeSnapshotClassName"),
                _col("VolumeSnapshot", ".spec.volumeSnapshotRef.name"),
                _col("VolumeSnapshotNamespace", ".spec.volumeSnapshotRef.namespace"),
            ],
            True,
        ),
        _snapshot_crd(
            "volumesnapshots",
            "VolumeSnapshot",
            "Namespaced",
            ["vs"],
            [
                _col("ReadyToUse", ".status.readyToUse", "boolean"),
                _col("SourcePVC", ".spec.source.persistentVolumeClaimName"),
                _col("SourceSnapshotContent", ".spec.source.volumeSnapshotContentName"),
                _col("RestoreSize", ".status.restoreSize"),
                _col("SnapshotClass", ".spec.volumeSnapshotClassName"),
                _col("SnapshotContent", ".status.boundVolumeSnapshotContentName"),
                _col("CreationTime", ".status.creationTime", "date"),
            ],
            True,
        ),
    ]


def node(name: str) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": {
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "beta.kubernetes.io/os": "linux",
                "beta.kubernetes.io/arch": "amd64",
                "node-role.kubernetes.io/control-plane": "",
            },
        },
        "spec": {"podCIDR": "10.244.0.0/24", "podCIDRs": ["10.244.0.0/24"]},
        "status": {
            "capacity": {"cpu": "8", "memory": "32Gi", "pods": "110", "ephemeral-storage": "100Gi"},
            "allocatable": {"cpu": "8", "memory": "32Gi", "pods": "110", "ephemeral-storage": "100Gi"},
            "conditions": [
                {
                    "type": t,
                    "status": s,
                    "reason": r,
                    "message": m,
                    "lastHeartbeatTime": None,
                    "lastTransitionTime": None,
                }
                for t, s, r, m in [
                    (
                        "MemoryPressure",
                        "False",
                        "KubeletHasSufficientMemory",
                        "kubelet has sufficient memory",
                    ),
                    ("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                    ("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID"),
                    ("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
                ]
            ],
            "addresses": [
                {"type": "InternalIP", "address": "10.0.0.10"},
                {"type": "Hostname", "address": name},
            ],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {
                "machineID": "kubesim",
                "systemUUID": "kubesim",
                "bootID": "kubesim",
                "kernelVersion": "6.1.0",
                "osImage": "kubesim",
                "containerRuntimeVersion": "containerd://1.7.0",
                "kubeletVersion": "v1.32.0",
                "kubeProxyVersion": "v1.32.0",
                "operatingSystem": "linux",
                "architecture": "amd64",
            },
        },
    }


def _fill_times(obj: Obj, now: str) -> Obj:
    for c in obj.get("status", {}).get("conditions", []):
        c["lastHeartbeatTime"] = c["lastTransitionTime"] = now
    return obj


def bootstrap(api: Api, node_name: str) -> None:
    from kubesim.objects import rfc3339

    create = api.create_internal
    for ns in ("default", "kube-system", "kube-public", "kube-node-lease"):
        create("/namespaces", {"metadata": {"name": ns}})
    create("/nodes", _fill_times(node(node_name), rfc3339()))
    _storage(api, node_name)
    _system(api)
    for group in api.registry.groups():
        if group != SNAPSHOT_GROUP:
            for version in api.registry.group_versions(group):
                api_service(api, group, version, "onstart")


def api_service(api: Api, group: str, version: str, managed: str) -> None:
    """The local APIService a real control plane registers for every served group-version."""
    obj = api.create_internal(
        "apiregistration.k8s.io/apiservices",
        {
            "metadata": {
                "name": f"{version}.{group}",
                "labels": {"kube-aggregator.kubernetes.io/automanaged": managed},
            },
            "spec": {
                "group": group,
                "version": version,
                "groupPriorityMinimum": 18000 if not group else (17000 if managed == "onstart" else 1000),
                "versionPriority": 15 if managed == "onstart" else 100,
            },
        },
    )
    if obj is not None:
        from kubesim.objects import rfc3339

        api.put_status(
            "apiregistration.k8s.io/apiservices",
            obj.obj,
            {
                "conditions": [
                    {
                        "type": "Available",
                        "status": "True",
                        "lastTransitionTime": rfc3339(),
                        "reason": "Local",
                        "message": "Local APIServices are always available",
                    }
                ]
            },
        )


def _storage(api: Api, node_name: str) -> None:
    """The CSI driver, the default StorageClass, the snapshot CRDs and the default snapshot class."""
    create = api.create_internal
    create(
        "storage.k8s.io/csidrivers",
        {
            "metadata": {"name": CSI_DRIVER},
            "spec": {
                "attachRequired": False,
                "podInfoOnMount": False,
                "volumeLifecycleModes": ["Persistent"],
                "fsGroupPolicy": "File",
                "requiresRepublish": False,
                "storageCapacity": False,
            },
        },
    )
    create(
        "storage.k8s.io/csinodes",
        {
            "metadata": {"name": node_name},
            "spec": {"drivers": [{"name": CSI_DRIVER, "nodeID": node_name, "topologyKeys": None}]},
        },
    )
    create(
        "storage.k8s.io/storageclasses",
        {
            "metadata": {"name": STORAGE_CLASS, "annotations": {DEFAULT_SC_ANNOTATION: "true"}},
            "provisioner": CSI_DRIVER,
            "reclaimPolicy": "Delete",
            "volumeBindingMode": "Immediate",
            "allowVolumeExpansion": True,
        },
    )
    for crd in snapshot_crds():
        create("apiextensions.k8s.io/customresourcedefinitions", crd)
    create(
        f"{SNAPSHOT_GROUP}/volumesnapshotclasses",
        {
            "apiVersion": f"{SNAPSHOT_GROUP}/v1",
            "kind": "VolumeSnapshotClass",
            "metadata": {
                "name": SNAPSHOT_CLASS,
                "annotations": {"snapshot.storage.kubernetes.io/is-default-class": "true"},
            },
            "driver": CSI_DRIVER,
            "deletionPolicy": "Delete",
        },
    )


def _system(api: Api) -> None:
    """What every cluster has: the kubernetes service, system priority classes, cluster-admin."""
    create = api.create_internal
    create(
        "/services",
        {
            "metadata": {
                "name": "kubernetes",
                "namespace": "default",
                "labels": {"component": "apiserver", "provider": "kubernetes"},
            },
            "spec": {"clusterIP": "10.96.0.1", "ports": [{"name": "https", "port": 443, "targetPort": 6443}]},
        },
    )
    for name, value in (("system-cluster-critical", 2000000000), ("system-node-critical", 2000001000)):
        create(
            "scheduling.k8s.io/priorityclasses",
            {
                "metadata": {"name": name},
                "value": value,
                "preemptionPolicy": "PreemptLowerPriority",
                "description": "Used for system critical pods.",
            },
        )
    create(
        "rbac.authorization.k8s.io/clusterroles",
        {
            "metadata": {"name": "cluster-admin", "labels": {"kubernetes.io/bootstrapping": "rbac-defaults"}},
            "rules": [
                {"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]},
                {"nonResourceURLs": ["*"], "verbs": ["*"]},
            ],
        },
    )
