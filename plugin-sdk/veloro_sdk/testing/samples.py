"""Sample Kubernetes objects the action checks run on, with what a selector needs to match them."""

from __future__ import annotations

import copy
import zlib
from dataclasses import dataclass, field
from typing import Any

NAMESPACE = "conformance"
LABELS = {"app": "conformance-sample", "tier": "backend"}


@dataclass(frozen=True)
class Sample:
    """One object, its plural resource and API group, and the other spellings a selector may use."""

    resource: str
    group: str
    kind: str
    aliases: tuple[str, ...]
    obj: dict[str, Any] = field(hash=False, compare=False)

    @property
    def namespaced(self) -> bool:
        return bool(self.obj["metadata"].get("namespace"))

    @property
    def label(self) -> str:
        return self.kind.lower()

    def item(self) -> dict[str, Any]:
        """A fresh deep copy: an action may change what it gets."""
        return copy.deepcopy(self.obj)


def _meta(name: str, namespaced: bool = True) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "uid": f"00000000-0000-4000-8000-{zlib.crc32(name.encode()):012x}"}
    if namespaced:
        meta["namespace"] = NAMESPACE
    meta["labels"] = dict(LABELS)
    meta["annotations"] = {"example.com/note": "conformance sample"}
    meta["resourceVersion"] = "1"
    return meta


def _pod() -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": _meta("web-0"),
        "spec": {
            "serviceAccountName": "web",
            "containers": [{"name": "web", "image": "nginx:1.27", "ports": [{"containerPort": 80}]}],
            "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "data-web-0"}}],
            "nodeName": "node-1",
        },
        "status": {"phase": "Running", "podIP": "10.0.0.7"},
    }


def _pvc() -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": _meta("data-web-0"),
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": "1Gi"}},
            "storageClassName": "standard",
            "volumeName": "pv-data-web-0",
        },
        "status": {"phase": "Bound"},
    }


def _pv(name: str, source: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": _meta(name, namespaced=False),
        "spec": {
            "capacity": {"storage": "1Gi"},
            "accessModes": ["ReadWriteOnce"],
            "persistentVolumeReclaimPolicy": "Delete",
            "storageClassName": "standard",
            "claimRef": {"kind": "PersistentVolumeClaim", "namespace": NAMESPACE, "name": "data-web-0"},
            **source,
        },
        "status": {"phase": "Bound"},
    }


# PersistentVolumes of the common volume sources, for VolumeSnapshotter.get_volume_id.
SAMPLE_PVS: list[dict[str, Any]] = [
    _pv("pv-data-web-0", {"csi": {"driver": "ebs.csi.aws.com", "volumeHandle": "vol-0123456789abcdef0"}}),
    _pv(
        "pv-ebs",
        {"awsElasticBlockStore": {"volumeID": "aws://us-east-1a/vol-0fedcba9876543210", "fsType": "ext4"}},
    ),
    _pv("pv-gce", {"gcePersistentDisk": {"pdName": "disk-1", "fsType": "ext4"}}),
    _pv("pv-hostpath", {"hostPath": {"path": "/mnt/data"}}),
]


def _simple(api_version: str, kind: str, name: str, **body: Any) -> dict[str, Any]:
    return {"apiVersion": api_version, "kind": kind, "metadata": _meta(name), **body}


SAMPLES: list[Sample] = [
    Sample("pods", "", "Pod", ("pod", "po"), _pod()),
    Sample("persistentvolumeclaims", "", "PersistentVolumeClaim", ("persistentvolumeclaim", "pvc"), _pvc()),
    Sample("persistentvolumes", "", "PersistentVolume", ("persistentvolume", "pv"), SAMPLE_PVS[0]),
    Sample(
        "configmaps",
        "",
        "ConfigMap",
        ("configmap", "cm"),
        _simple("v1", "ConfigMap", "settings", data={"a": "1"}),
    ),
    Sample(
        "secrets",
        "",
        "Secret",
        ("secret",),
        _simple("v1", "Secret", "creds", type="Opaque", data={"k": "dmFsdWU="}),
    ),
    Sample(
        "serviceaccounts",
        "",
        "ServiceAccount",
        ("serviceaccount", "sa"),
        _simple("v1", "ServiceAccount", "web"),
    ),
    Sample(
        "services",
        "",
        "Service",
        ("service", "svc"),
        _simple(
            "v1",
            "Service",
            "web",
            spec={"type": "ClusterIP", "clusterIP": "10.96.0.10", "ports": [{"port": 80, "targetPort": 80}]},
        ),
    ),
    Sample(
        "deployments",
        "apps",
        "Deployment",
        ("deployment", "deploy"),
        _simple(
            "apps/v1",
            "Deployment",
            "web",
            spec={
                "replicas": 1,
                "selector": {"matchLabels": {"app": "conformance-sample"}},
                "template": {"metadata": {"labels": dict(LABELS)}, "spec": _pod()["spec"]},
            },
        ),
    ),
    Sample(
        "jobs",
        "batch",
        "Job",
        ("job",),
        _simple(
            "batch/v1",
            "Job",
            "migrate",
            spec={
                "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": "1234"}},
                "template": {
                    "metadata": {"labels": {"batch.kubernetes.io/controller-uid": "1234", **LABELS}},
                    "spec": {
                        "restartPolicy": "Never",
                        "containers": [{"name": "m", "image": "busybox:1.36"}],
                    },
                },
            },
        ),
    ),
    Sample(
        "statefulsets",
        "apps",
        "StatefulSet",
        ("statefulset", "sts"),
        _simple(
            "apps/v1",
            "StatefulSet",
            "db",
            spec={
                "replicas": 1,
                "serviceName": "db",
                "selector": {"matchLabels": {"app": "conformance-sample"}},
                "template": {"metadata": {"labels": dict(LABELS)}, "spec": _pod()["spec"]},
                "volumeClaimTemplates": [_pvc()],
            },
        ),
    ),
    Sample(
        "rolebindings",
        "rbac.authorization.k8s.io",
        "RoleBinding",
        ("rolebinding",),
        _simple(
            "rbac.authorization.k8s.io/v1",
            "RoleBinding",
            "web-reader",
            roleRef={"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "reader"},
            subjects=[{"kind": "ServiceAccount", "name": "web", "namespace": NAMESPACE}],
        ),
    ),
    Sample(
        "clusterrolebindings",
        "rbac.authorization.k8s.io",
        "ClusterRoleBinding",
        ("clusterrolebinding",),
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": _meta("web-viewer", namespaced=False),
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
            "subjects": [{"kind": "ServiceAccount", "name": "web", "namespace": NAMESPACE}],
        },
    ),
    Sample(
        "apiservices",
        "apiregistration.k8s.io",
        "APIService",
        ("apiservice",),
        {
            "apiVersion": "apiregistration.k8s.io/v1",
            "kind": "APIService",
            "metadata": {
                **_meta("v1beta1.metrics.k8s.io", namespaced=False),
                "labels": {**LABELS, "kube-aggregator.kubernetes.io/automanaged": "onstart"},
            },
            "spec": {
                "group": "metrics.k8s.io",
                "version": "v1beta1",
                "groupPriorityMinimum": 100,
                "versionPriority": 100,
            },
        },
    ),
    Sample(
        "mutatingwebhookconfigurations",
        "admissionregistration.k8s.io",
        "MutatingWebhookConfiguration",
        ("mutatingwebhookconfiguration",),
        {
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "MutatingWebhookConfiguration",
            "metadata": _meta("inject", namespaced=False),
            "webhooks": [
                {
                    "name": "inject.example.com",
                    "clientConfig": {"service": {"namespace": NAMESPACE, "name": "web"}},
                }
            ],
        },
    ),
    Sample(
        "validatingwebhookconfigurations",
        "admissionregistration.k8s.io",
        "ValidatingWebhookConfiguration",
        ("validatingwebhookconfiguration",),
        {
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "ValidatingWebhookConfiguration",
            "metadata": _meta("policy", namespaced=False),
            "webhooks": [
                {
                    "name": "policy.example.com",
                    "clientConfig": {"service": {"namespace": NAMESPACE, "name": "web"}},
                }
            ],
        },
    ),
    Sample(
        "namespaces",
        "",
        "Namespace",
        ("namespace", "ns"),
        {"apiVersion": "v1", "kind": "Namespace", "metadata": _meta(NAMESPACE, namespaced=False)},
    ),
]


def sample_backup() -> dict[str, Any]:
    """The Backup custom resource an action receives alongside each item."""
    return {
        "apiVersion": "veloro.io/v1",
        "kind": "Backup",
        "metadata": {
            "name": "conformance",
            "namespace": "veloro",
            "uid": "00000000-0000-4000-8000-00000000b001",
        },
        "spec": {"includedNamespaces": [NAMESPACE], "storageLocation": "default", "ttl": "720h0m0s"},
        "status": {"phase": "InProgress"},
    }


def sample_restore() -> dict[str, Any]:
    """The Restore custom resource a restore action receives alongside each item."""
    return {
        "apiVersion": "veloro.io/v1",
        "kind": "Restore",
        "metadata": {
            "name": "conformance-restore",
            "namespace": "veloro",
            "uid": "00000000-0000-4000-8000-0000000000f1",
        },
        "spec": {"backupName": "conformance", "includedNamespaces": [NAMESPACE]},
        "status": {"phase": "InProgress"},
    }
