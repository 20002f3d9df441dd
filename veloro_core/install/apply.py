"""Send the install manifests to a cluster (server-side apply: create or update, idempotent), wait for
the result, and take it all away again (uninstall). Only veloro_core.kube talks to the API server.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from veloro_core.api import GROUP
from veloro_core.install import rbac
from veloro_core.install.options import COMPONENT_LABELS, DEPLOYMENT, NODE_AGENT, SERVICE_ACCOUNT
from veloro_core.kube import GroupVersionResource, KubeClient, NotFound, PatchType

Obj = dict[str, Any]
FIELD_MANAGER = "veloro-install"
Report = Callable[[str], None]

# kind -> (group, version, plural, namespaced): the kinds install writes, no discovery round trip needed.
KINDS: dict[str, tuple[str, str, str, bool]] = {
    "Namespace": ("", "v1", "namespaces", False),
    "CustomResourceDefinition": ("apiextensions.k8s.io", "v1", "customresourcedefinitions", False),
    "ServiceAccount": ("", "v1", "serviceaccounts", True),
    "Secret": ("", "v1", "secrets", True),
    "ClusterRole": ("rbac.authorization.k8s.io", "v1", "clusterroles", False),
    "ClusterRoleBinding": ("rbac.authorization.k8s.io", "v1", "clusterrolebindings", False),
    "Role": ("rbac.authorization.k8s.io", "v1", "roles", True),
    "RoleBinding": ("rbac.authorization.k8s.io", "v1", "rolebindings", True),
    "Deployment": ("apps", "v1", "deployments", True),
    "DaemonSet": ("apps", "v1", "daemonsets", True),
    "BackupStorageLocation": (GROUP, "v1", "backupstoragelocations", True),
    "VolumeSnapshotLocation": (GROUP, "v1", "volumesnapshotlocations", True),
}
NAMESPACES = GroupVersionResource("", "v1", "namespaces")
CRDS = GroupVersionResource("apiextensions.k8s.io", "v1", "customresourcedefinitions")
DEPLOYMENTS = GroupVersionResource("apps", "v1", "deployments")
DAEMONSETS = GroupVersionResource("apps", "v1", "daemonsets")
CLUSTER_ROLES = GroupVersionResource("rbac.authorization.k8s.io", "v1", "clusterroles")
CLUSTER_ROLE_BINDINGS = GroupVersionResource("rbac.authorization.k8s.io", "v1", "clusterrolebindings")


class WaitTimeout(Exception):
    """Something did not become ready in time; the message says what and where to look."""


def gvr_for(obj: Obj) -> tuple[GroupVersionResource, str | None]:
    group, version, plural, namespaced = KINDS[obj["kind"]]
    namespace = obj["metadata"].get("namespace") if namespaced else None
    return GroupVersionResource(group, version, plural), namespace


def describe(obj: Obj) -> str:
    meta = obj["metadata"]
    where = f"{meta['namespace']}/" if meta.get("namespace") else ""
    return f"{obj['kind']}/{where}{meta['name']}"


def apply_all(client: KubeClient, objects: list[Obj], report: Report, crd_timeout: float = 60.0) -> None:
    """Server-side apply every object in order; after the CRDs, wait until they are Established (the
    locations that follow are custom resources and would be refused before)."""
    crd_names = [o["metadata"]["name"] for o in objects if o["kind"] == "CustomResourceDefinition"]
    crds_ready = not crd_names
    for obj in objects:
        if not crds_ready and obj["kind"] not in ("Namespace", "CustomResourceDefinition"):
            wait_crds_established(client, crd_names, crd_timeout)
            crds_ready = True
        gvr, namespace = gvr_for(obj)
        client.patch(
            gvr,
            obj["metadata"]["name"],
            obj,
            namespace,
            patch_type=PatchType.APPLY,
            field_manager=FIELD_MANAGER,
            force=True,
        )
        report(f"{describe(obj)}: applied")
    if not crds_ready:
        wait_crds_established(client, crd_names, crd_timeout)


def _established(crd: Obj) -> bool:
    conditions = (crd.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Established" and c.get("status") == "True" for c in conditions)


def wait_until(check: Callable[[], bool], timeout: float, what: str, interval: float = 0.5) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() >= deadline:
            raise WaitTimeout(f"{what} within {timeout:g}s")
        time.sleep(interval)


def wait_crds_established(client: KubeClient, names: list[str], timeout: float) -> None:
    pending = set(names)

    def check() -> bool:
        for name in sorted(pending):
            if _established(client.get(CRDS, name)):
                pending.discard(name)
        return not pending

    wait_until(check, timeout, f"the CRDs {', '.join(sorted(pending))} were not Established", 0.2)


def _deployment_available(obj: Obj) -> bool:
    status = obj.get("status") or {}
    conditions = status.get("conditions") or []
    available = any(c.get("type") == "Available" and c.get("status") == "True" for c in conditions)
    return available and int(status.get("availableReplicas") or 0) >= 1


def _daemonset_ready(obj: Obj) -> bool:
    status = obj.get("status") or {}
    desired = int(status.get("desiredNumberScheduled") or 0)
    return desired > 0 and int(status.get("numberReady") or 0) >= desired


@dataclass
class WaitTargets:
    namespace: str
    node_agent: bool


def wait_ready(client: KubeClient, targets: WaitTargets, timeout: float) -> None:
    """Wait for the server Deployment (and the node-agent DaemonSet) to be available."""
    hint = (
        f"the pods never became ready; look at `kubectl -n {targets.namespace} get pods` and "
        f"`kubectl -n {targets.namespace} describe deployment {DEPLOYMENT}` (image pull, credentials)"
    )
    wait_until(
        lambda: _deployment_available(client.get(DEPLOYMENTS, DEPLOYMENT, targets.namespace)),
        timeout,
        f"deployment {DEPLOYMENT} was not available ({hint})",
    )
    if targets.node_agent:
        wait_until(
            lambda: _daemonset_ready(client.get(DAEMONSETS, NODE_AGENT, targets.namespace)),
            timeout,
            f"daemonset {NODE_AGENT} was not ready ({hint})",
        )


def _delete(
    client: KubeClient, gvr: GroupVersionResource, name: str, report: Report, namespace: str | None = None
) -> None:
    try:
        client.delete(gvr, name, namespace, propagation_policy="Foreground")
        report(f"{gvr.resource}/{name}: deleted")
    except NotFound:
        report(f"{gvr.resource}/{name}: already gone")


def uninstall(client: KubeClient, namespace: str, report: Report) -> None:
    """Delete what install created: the namespace (with everything in it), veloro's CRDs (with every
    custom resource) and the cluster-scoped RBAC objects."""
    selector = ",".join(f"{k}={v}" for k, v in COMPONENT_LABELS.items())
    _delete(client, NAMESPACES, namespace, report)
    for crd in list(client.list_items(CRDS, label_selector=selector)):
        if (crd.get("spec") or {}).get("group") == GROUP:
            _delete(client, CRDS, crd["metadata"]["name"], report)
    name = rbac.cluster_role_name(SERVICE_ACCOUNT, namespace)
    _delete(client, CLUSTER_ROLE_BINDINGS, rbac.cluster_binding_name(SERVICE_ACCOUNT, namespace), report)
    _delete(client, CLUSTER_ROLES, name, report)


def wait_gone(client: KubeClient, namespace: str, timeout: float) -> None:
    def gone() -> bool:
        try:
            client.get(NAMESPACES, namespace)
        except NotFound:
            return True
        return False

    wait_until(
        gone,
        timeout,
        f"namespace {namespace} was not deleted (look for finalizers: "
        f"`kubectl get namespace {namespace} -o yaml`)",
    )
