"""The RBAC veloro's service account gets, each rule with the reason it exists (docs/install.md explains
the same rules to operators).

Honest summary: a backup tool must READ every resource type, including custom resources it has never
heard of, so get/list/watch on `*` cannot be narrowed. A restore must CREATE and PATCH whatever the
backup holds, so create/update/patch on `*` cannot be narrowed either. Deletion is granted only where
veloro deletes things: CSI snapshot objects cluster-wide, and its own objects in its namespace.
Restoring Roles/ClusterRoles needs `escalate`/`bind`, which makes the account cluster-admin equivalent
in effect; that is inherent to restoring RBAC (Velero binds cluster-admin outright).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from veloro_core.api import GROUP


@dataclass(frozen=True)
class Rule:
    api_groups: tuple[str, ...]
    resources: tuple[str, ...]
    verbs: tuple[str, ...]
    why: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "apiGroups": list(self.api_groups),
            "resources": list(self.resources),
            "verbs": list(self.verbs),
        }


CLUSTER_RULES: tuple[Rule, ...] = (
    Rule(
        ("*",),
        ("*",),
        ("get", "list", "watch"),
        "backup discovers and reads every resource type, custom resources included; the controllers watch",
    ),
    Rule(
        ("*",),
        ("*",),
        ("create", "update", "patch"),
        "restore recreates whatever a backup holds (any type); `--existing-resource-policy update` patches "
        "existing objects; status is restored through */status",
    ),
    Rule(
        ("rbac.authorization.k8s.io",),
        ("roles", "clusterroles"),
        ("bind", "escalate"),
        "restoring Roles, ClusterRoles and their bindings that grant more than veloro holds",
    ),
    Rule(("",), ("pods/exec",), ("create",), "backup hooks run commands in pods (pre/post hooks)"),
    Rule(
        ("snapshot.storage.k8s.io",),
        ("volumesnapshots", "volumesnapshotcontents"),
        ("delete",),
        "deleting a backup deletes the CSI snapshots it took",
    ),
)

NAMESPACE_RULES: tuple[Rule, ...] = (
    Rule(
        (GROUP,), ("*",), ("*",), "veloro's own custom resources (backups, restores, requests...) and status"
    ),
    Rule(
        ("coordination.k8s.io",),
        ("leases",),
        ("get", "list", "watch", "create", "update", "patch", "delete"),
        "leader election, so that two servers never both act",
    ),
    Rule(("", "events.k8s.io"), ("events",), ("create", "patch", "update"), "events on backups and restores"),
    Rule(
        ("",),
        ("pods", "persistentvolumeclaims", "configmaps", "secrets"),
        ("create", "delete"),
        "helper pods/volumes of file-system backups and repository credentials, in veloro's namespace only",
    ),
    Rule(
        ("batch",), ("jobs",), ("create", "delete"), "repository maintenance jobs, in veloro's namespace only"
    ),
)


def cluster_role(name: str, labels: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {"name": name, "labels": dict(labels)},
        "rules": [rule.to_dict() for rule in CLUSTER_RULES],
    }


def role(name: str, namespace: str, labels: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": {"name": name, "namespace": namespace, "labels": dict(labels)},
        "rules": [rule.to_dict() for rule in NAMESPACE_RULES],
    }


def bindings(name: str, namespace: str, service_account: str, labels: dict[str, str]) -> list[dict[str, Any]]:
    subject = [{"kind": "ServiceAccount", "name": service_account, "namespace": namespace}]
    return [
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": cluster_binding_name(name, namespace), "labels": dict(labels)},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": cluster_role_name(name, namespace),
            },
            "subjects": subject,
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": name, "namespace": namespace, "labels": dict(labels)},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
            "subjects": subject,
        },
    ]


def cluster_role_name(name: str, namespace: str) -> str:
    """Cluster-scoped names carry the namespace, so two installs in two namespaces do not collide."""
    return name if namespace == name else f"{name}-{namespace}"


def cluster_binding_name(name: str, namespace: str) -> str:
    return cluster_role_name(name, namespace)
