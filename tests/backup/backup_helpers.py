"""Helpers of the backup tests: the demo app, Backup objects, reading a stored backup back."""

from __future__ import annotations

import io
import tarfile
from typing import Any

from veloro_core.kube import KubeClient
from veloro_core.persistence import BackupStore

CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.example.com"},
    "spec": {
        "group": "example.com",
        "scope": "Namespaced",
        "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "shortNames": ["wd"]},
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "schema": {
                    "openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
                },
            }
        ],
    },
}


def backup_cr(name: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "veloro.io/v1",
        "kind": "Backup",
        "metadata": {"name": name, "namespace": "veloro", "uid": f"uid-{name}"},
        "spec": spec,
    }


def create(kube: KubeClient, group_resource: str, obj: dict[str, Any]) -> dict[str, Any]:
    api = kube.discovery.resolve(group_resource)
    return kube.create(api, obj)


def make_app(
    kube: KubeClient, ns: str, *, pv: str | None = None, labels: dict[str, str] | None = None
) -> None:
    """A namespace with a deployment, service, configmap, secret, SA, PVC bound to a PV, and a widget."""
    labels = labels or {}
    pv = pv or f"pv-{ns}"
    create(kube, "namespaces", {"metadata": {"name": ns, "labels": labels}})
    meta = lambda name, **extra: {"name": name, "namespace": ns, "labels": {"app": "web", **extra}}  # noqa: E731
    create(kube, "configmaps", {"metadata": meta("settings"), "data": {"k": "v"}})
    create(kube, "secrets", {"metadata": meta("creds"), "stringData": {"password": "pw"}})
    create(kube, "serviceaccounts", {"metadata": meta("runner")})
    create(
        kube,
        "services",
        {"metadata": meta("web"), "spec": {"ports": [{"port": 80}], "selector": {"app": "web"}}},
    )
    create(
        kube,
        "deployments.apps",
        {
            "metadata": meta("web"),
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]},
                },
            },
        },
    )
    create(
        kube,
        "persistentvolumes",
        {
            "metadata": {"name": pv},
            "spec": {
                "capacity": {"storage": "1Gi"},
                "accessModes": ["ReadWriteOnce"],
                "hostPath": {"path": f"/data/{pv}"},
                "persistentVolumeReclaimPolicy": "Retain",
                "storageClassName": "manual",
                "claimRef": {"namespace": ns, "name": "data"},
            },
        },
    )
    create(
        kube,
        "persistentvolumeclaims",
        {
            "metadata": meta("data"),
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "resources": {"requests": {"storage": "1Gi"}},
                "storageClassName": "manual",
                "volumeName": pv,
            },
        },
    )
    create(
        kube,
        "widgets.example.com",
        {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": meta("gear"), "spec": {"size": 3}},
    )


def tar_members(store: BackupStore, name: str) -> tuple[list[str], dict[str, bytes]]:
    data = b"".join(store.get_backup_contents(name))
    names: list[str] = []
    files: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        for member in tar:
            names.append(member.name)
            f = tar.extractfile(member)
            assert f is not None
            files[member.name] = f.read()
    return names, files


def items_of(names: list[str]) -> set[str]:
    """Unversioned item paths without the resources/ prefix and .json suffix."""
    return {
        n[len("resources/") : -len(".json")]
        for n in names
        if n.startswith("resources/") and "-preferredversion/" not in n
    }
