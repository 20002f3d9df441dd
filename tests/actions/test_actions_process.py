"""The core actions through the real path: `veloro run-plugins` started by PluginManager, every call over
gRPC; the actions that read the cluster (ConfigMaps, ClusterRoleBindings) read a kubesim over HTTP through
the KUBECONFIG the host passes them. Also `veloro plugin verify` on the built-in process."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from veloro_sdk.client import RemotePluginError
from veloro_sdk.contracts import (
    BackupItemActionExecuteRequest,
    PluginKind,
    ResourceIdentifier,
    RestoreItemActionExecuteRequest,
)

from kubesim.testing import KubeSimProcess
from veloro_core.kube import GroupVersionResource, KubeClient
from veloro_core.plugins import PluginManager, PluginSettings
from veloro_plugins.actions import CORE_ACTIONS

RUN_PLUGINS = [sys.executable, "-m", "veloro_core.cli", "run-plugins"]
CONFIG_NS = "veloro-system"
CONFIGMAPS = GroupVersionResource("", "v1", "configmaps")
NAMESPACES = GroupVersionResource("", "v1", "namespaces")
RBAC = "rbac.authorization.k8s.io"


def _settings(env: dict[str, str]) -> PluginSettings:
    return PluginSettings(
        builtin_commands=[RUN_PLUGINS],
        plugin_dirs=[],
        entry_point_group=None,
        start_timeout=30.0,
        call_timeout=30.0,
        extra_env=env,
    )


def _config_map(name: str, domain: str, plugin: str, data: dict[str, str]) -> dict[str, Any]:
    labels = {f"{domain}/plugin-config": "", f"{domain}/{plugin}": "RestoreItemAction"}
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": CONFIG_NS, "labels": labels},
        "data": data,
    }


def _binding(name: str, role: str, *accounts: tuple[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": f"{RBAC}/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": name},
        "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": role},
        "subjects": [{"kind": "ServiceAccount", "namespace": ns, "name": sa} for ns, sa in accounts],
    }


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KubeSimProcess]:
    with KubeSimProcess(data_dir=tmp_path_factory.mktemp("actions-kubesim")) as process:
        with KubeClient.from_kubeconfig(process.kubeconfig) as kube:
            kube.create(
                NAMESPACES, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": CONFIG_NS}}
            )
            # Velero's label spelling for one plugin, veloro's for the other: both are found.
            kube.create(
                CONFIGMAPS,
                _config_map("storage", "veloro.io", "change-storage-class", {"fast": "gold"}),
                CONFIG_NS,
            )
            kube.create(
                CONFIGMAPS,
                _config_map(
                    "images", "velero.io", "change-image-name", {"case1": "registry.old,registry.new"}
                ),
                CONFIG_NS,
            )
            crbs = GroupVersionResource(RBAC, "v1", "clusterrolebindings")
            kube.create(crbs, _binding("web-view", "view", ("shop", "web"), ("other", "x")))
            kube.create(crbs, _binding("web-edit", "edit", ("shop", "web")))
            kube.create(crbs, _binding("db-admin", "admin", ("shop", "db")))
        yield process


@pytest.fixture(scope="module")
def manager(sim: KubeSimProcess) -> Iterator[PluginManager]:
    env = {"KUBECONFIG": str(sim.kubeconfig), "VELORO_NAMESPACE": CONFIG_NS}
    with PluginManager.discover(_settings(env)) as plugins:
        yield plugins


def _restore(uid: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "veloro.io/v1",
        "kind": "Restore",
        "metadata": {"name": f"r-{uid}", "uid": uid},
        "spec": {"backupName": "b", **spec},
    }


def _restore_call(manager: PluginManager, name: str, item: dict[str, Any], cr: dict[str, Any]) -> Any:
    request = RestoreItemActionExecuteRequest(item=item, restore=cr, item_from_backup=copy.deepcopy(item))
    return manager.restore_item_action(name).execute(request)


def test_every_core_action_is_listed_by_the_builtin_process(manager: PluginManager) -> None:
    listed = {(info.kind, info.name) for info in manager.list_plugins()}
    expected = {(kind, name) for kind, name, _ in CORE_ACTIONS}
    assert expected <= listed
    assert (PluginKind.OBJECT_STORE, "veloro.io/filesystem") in listed
    names = [name for name, _ in manager.restore_item_actions()]
    assert "veloro.io/change-image-name" in names and "veloro.io/pod" in names


def test_backup_actions_over_grpc(manager: PluginManager) -> None:
    backup = {"apiVersion": "veloro.io/v1", "kind": "Backup", "metadata": {"name": "b", "uid": "b-1"}}
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web-0", "namespace": "shop"},
        "spec": {
            "priorityClassName": "high",
            "containers": [{"name": "c", "image": "i"}],
            "volumes": [{"name": "d", "persistentVolumeClaim": {"claimName": "data"}}],
        },
    }
    response = manager.backup_item_action("veloro.io/pod").execute(
        BackupItemActionExecuteRequest(pod, backup)
    )
    assert response.additional_items == [
        ResourceIdentifier("scheduling.k8s.io", "priorityclasses", "", "high"),
        ResourceIdentifier("", "persistentvolumeclaims", "shop", "data"),
    ]
    pvc = {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": "data", "namespace": "shop"},
        "spec": {"volumeName": "pv-9"},
    }
    response = manager.backup_item_action("veloro.io/pvc").execute(
        BackupItemActionExecuteRequest(pvc, backup)
    )
    assert response.additional_items == [ResourceIdentifier("", "persistentvolumes", "", "pv-9")]


def test_service_account_backup_reads_cluster_role_bindings_from_kubesim(manager: PluginManager) -> None:
    backup = {"apiVersion": "veloro.io/v1", "kind": "Backup", "metadata": {"name": "b", "uid": "b-2"}}
    action = manager.backup_item_action("veloro.io/service-account")

    def extra(namespace: str, name: str) -> set[tuple[str, str]]:
        sa = {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": name, "namespace": namespace},
        }
        response = action.execute(BackupItemActionExecuteRequest(sa, backup))
        assert all(i.group == RBAC and not i.namespace for i in response.additional_items)
        return {(i.resource, i.name) for i in response.additional_items}

    assert extra("shop", "web") == {
        ("clusterrolebindings", "web-view"),
        ("clusterroles", "view"),
        ("clusterrolebindings", "web-edit"),
        ("clusterroles", "edit"),
    }
    assert extra("shop", "db") == {("clusterrolebindings", "db-admin"), ("clusterroles", "admin")}
    assert extra("elsewhere", "web") == set()


def test_config_map_driven_actions_read_kubesim(manager: PluginManager) -> None:
    cr = _restore("r-1")
    pvc = {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": "d", "namespace": "shop"},
        "spec": {"storageClassName": "fast"},
    }
    item = _restore_call(manager, "veloro.io/change-storage-class", pvc, cr).item
    assert item["spec"]["storageClassName"] == "gold"
    deploy = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "d", "namespace": "shop"},
        "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "registry.old/app:2"}]}}},
    }
    item = _restore_call(manager, "veloro.io/change-image-name", deploy, cr).item
    assert item["spec"]["template"]["spec"]["containers"][0]["image"] == "registry.new/app:2"


def test_two_matching_config_maps_are_a_clear_error(manager: PluginManager, sim: KubeSimProcess) -> None:
    with KubeClient.from_kubeconfig(sim.kubeconfig) as kube:
        kube.create(
            CONFIGMAPS, _config_map("storage-2", "velero.io", "change-storage-class", {"a": "b"}), CONFIG_NS
        )
        try:
            pvc = {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "metadata": {"name": "d", "namespace": "shop"},
                "spec": {"storageClassName": "fast"},
            }
            with pytest.raises(RemotePluginError, match=r"more than one ConfigMap .*\(storage, storage-2\)"):
                _restore_call(manager, "veloro.io/change-storage-class", pvc, _restore("r-dup"))
        finally:
            kube.delete(CONFIGMAPS, "storage-2", CONFIG_NS)


def test_pure_restore_actions_over_grpc(manager: PluginManager) -> None:
    cr = _restore("r-2", namespaceMapping={"shop": "shop-copy"})
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p", "namespace": "shop-copy"},
        "spec": {"nodeName": "n1", "containers": [{"name": "c", "image": "i"}]},
    }
    assert "nodeName" not in _restore_call(manager, "veloro.io/pod", pod, cr).item["spec"]
    binding = {
        "apiVersion": f"{RBAC}/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": "x"},
        "roleRef": {"kind": "ClusterRole", "name": "view"},
        "subjects": [{"kind": "ServiceAccount", "namespace": "shop", "name": "web"}],
    }
    item = _restore_call(manager, "veloro.io/cluster-role-bindings", binding, cr).item
    assert item["subjects"][0]["namespace"] == "shop-copy"
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "kubernetes.io/service-account-token",
        "metadata": {
            "name": "web-token-x1y2z",
            "namespace": "shop",
            "annotations": {"kubernetes.io/service-account.name": "web"},
        },
    }
    assert _restore_call(manager, "veloro.io/secret", secret, cr).skip_restore is True
    apiservice = {
        "apiVersion": "apiregistration.k8s.io/v1",
        "kind": "APIService",
        "metadata": {"name": "v1.apps", "labels": {"kube-aggregator.kubernetes.io/automanaged": "onstart"}},
    }
    assert _restore_call(manager, "veloro.io/apiservice", apiservice, cr).skip_restore is True


def test_without_a_cluster_config_the_error_says_what_to_set(tmp_path: Path) -> None:
    env = {"KUBECONFIG": str(tmp_path / "missing-kubeconfig")}
    backup = {"apiVersion": "veloro.io/v1", "kind": "Backup", "metadata": {"name": "b", "uid": "b-3"}}
    sa = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "web", "namespace": "shop"}}
    with PluginManager.discover(_settings(env)) as plugins:
        action = plugins.backup_item_action("veloro.io/service-account")
        with pytest.raises(
            RemotePluginError, match=r"no Kubernetes config.*missing-kubeconfig.*Set KUBECONFIG"
        ):
            action.execute(BackupItemActionExecuteRequest(sa, backup))
        # Pure actions are unaffected.
        pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "n"}, "spec": {}}
        assert (
            plugins.backup_item_action("veloro.io/pod")
            .execute(BackupItemActionExecuteRequest(pod, backup))
            .additional_items
            == []
        )


def test_veloro_plugin_verify_passes_for_every_builtin(sim: KubeSimProcess, tmp_path: Path) -> None:
    env = {**os.environ, "KUBECONFIG": str(sim.kubeconfig)}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "veloro_core.cli",
            "plugin",
            "verify",
            "-o",
            "json",
            "--config",
            f"root={tmp_path}",
            *RUN_PLUGINS,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] is True
    statuses: dict[tuple[str, str], set[str]] = {}
    for row in report["results"]:
        statuses.setdefault((row["kind"], row["name"]), set()).add(row["status"])
    for kind, name, _ in CORE_ACTIONS:
        assert "pass" in statuses[(kind.value, name)] and "fail" not in statuses[(kind.value, name)]
