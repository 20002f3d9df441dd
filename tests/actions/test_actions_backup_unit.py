"""The backup actions in-process: what each returns for an item (pure functions of the request)."""

from __future__ import annotations

from typing import Any

from veloro_sdk.contracts import BackupItemActionExecuteRequest, ResourceIdentifier

from veloro_plugins.actions.backup_actions import (
    PodBackupAction,
    PVCBackupAction,
    ServiceAccountBackupAction,
    index_cluster_role_bindings,
)

BACKUP: dict[str, Any] = {
    "apiVersion": "veloro.io/v1",
    "kind": "Backup",
    "metadata": {"name": "b", "uid": "u1"},
}


def _run(action: Any, item: dict[str, Any]) -> Any:
    return action.execute(BackupItemActionExecuteRequest(item=item, backup=BACKUP))


def test_pod_adds_its_claims_once_and_its_priority_class() -> None:
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {
            "priorityClassName": "high",
            "volumes": [
                {"name": "a", "persistentVolumeClaim": {"claimName": "data"}},
                {"name": "b", "persistentVolumeClaim": {"claimName": "data"}},
                {"name": "c", "persistentVolumeClaim": {"claimName": "logs"}},
                {"name": "cfg", "configMap": {"name": "settings"}},
            ],
        },
    }
    response = _run(PodBackupAction(), pod)
    assert response.item is None  # unchanged
    assert response.additional_items == [
        ResourceIdentifier("scheduling.k8s.io", "priorityclasses", "", "high"),
        ResourceIdentifier("", "persistentvolumeclaims", "shop", "data"),
        ResourceIdentifier("", "persistentvolumeclaims", "shop", "logs"),
    ]


def test_pod_without_claims_or_priority_adds_nothing() -> None:
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "n"}, "spec": {}}
    assert _run(PodBackupAction(), pod).additional_items == []
    assert PodBackupAction().applies_to().included_resources == ["pods"]


def test_pvc_adds_its_bound_volume_only_when_bound() -> None:
    pvc = {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": "d", "namespace": "n"},
        "spec": {"volumeName": "pv-1"},
    }
    assert _run(PVCBackupAction(), pvc).additional_items == [
        ResourceIdentifier("", "persistentvolumes", "", "pv-1")
    ]
    pvc["spec"] = {}
    assert _run(PVCBackupAction(), pvc).additional_items == []
    assert PVCBackupAction().applies_to().included_resources == ["persistentvolumeclaims"]


def test_binding_index_keys_service_account_subjects_only() -> None:
    bindings = [
        {
            "metadata": {"name": "crb1"},
            "roleRef": {"kind": "ClusterRole", "name": "view"},
            "subjects": [
                {"kind": "ServiceAccount", "namespace": "shop", "name": "web"},
                {"kind": "User", "name": "alice"},
            ],
        },
        {
            "metadata": {"name": "crb2"},
            "roleRef": {"kind": "ClusterRole", "name": "edit"},
            "subjects": [{"kind": "ServiceAccount", "namespace": "shop", "name": "web"}],
        },
    ]
    index = index_cluster_role_bindings(bindings)
    assert index == {("shop", "web"): [("crb1", "view"), ("crb2", "edit")]}


def test_service_account_action_selects_service_accounts() -> None:
    assert ServiceAccountBackupAction().applies_to().included_resources == ["serviceaccounts"]
