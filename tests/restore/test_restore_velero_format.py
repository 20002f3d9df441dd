"""A backup written in Velero's own layout (velero.io/v1 metadata, tarball 1.1.0 made with tarfile from
the format reference) restores into kubesim through the real filesystem store and plugin processes."""

from __future__ import annotations

from pathlib import Path

import pytest
from restore_helpers import CONFIGMAPS, DEPLOYMENTS, NAMESPACES, SECRETS, SERVICES, restore_cr, run
from velero_fixture import shop_items, write_velero_backup

from veloro_core.api.restore import RestorePhase
from veloro_core.kube import GroupVersionResource, KubeClient, NotFound
from veloro_core.persistence import BackupStore, RestoreFile
from veloro_core.plugins import PluginManager

CLUSTERROLES = GroupVersionResource("rbac.authorization.k8s.io", "v1", "clusterroles")
SERVICEACCOUNTS = GroupVersionResource("", "v1", "serviceaccounts")
EVENTS = GroupVersionResource("", "v1", "events")


def test_velero_backup_restores(
    kube: KubeClient, plugins: PluginManager, store: BackupStore, store_root: Path, ns: str
) -> None:
    items = shop_items(ns)
    backup = write_velero_backup(store_root / store.bucket, "velero-nightly", items)
    assert store.list_backups() == ["velero-nightly"]
    assert store.get_backup_metadata("velero-nightly")["apiVersion"] == "velero.io/v1"

    result = run(kube, plugins, store, restore_cr("from-velero", "velero-nightly"), backup)

    assert result.phase is RestorePhase.COMPLETED, (result.failure_reason, result.errors.to_dict())
    assert kube.get(NAMESPACES, ns)["metadata"]["labels"]["env"] == "prod"
    cm = kube.get(CONFIGMAPS, "settings", ns)
    assert cm["data"] == {"currency": "EUR", "tax": "0.2"} and cm["metadata"]["uid"] != "uid-settings"
    assert cm["metadata"]["labels"] == {
        "app": "shop",
        "veloro.io/backup-name": "velero-nightly",
        "veloro.io/restore-name": "from-velero",
    }
    assert kube.get(SECRETS, "db-password", ns)["data"] == {"password": "aHVudGVyMg=="}
    kube.get(SERVICEACCOUNTS, "shop-sa", ns)
    assert kube.get(SERVICES, "web", ns)["spec"]["ports"][0]["port"] == 80
    dep = kube.get(DEPLOYMENTS, "web", ns)
    assert dep["spec"]["template"]["spec"]["containers"][0]["image"] == "shop/web:1.4.2"
    assert dep["spec"]["replicas"] == 2
    role = kube.get(CLUSTERROLES, f"{ns}-reader")
    assert role["rules"][0]["resources"] == ["configmaps"]
    with pytest.raises(NotFound):
        kube.get(EVENTS, "web.17c3", ns)  # never restored
    listed = store.get_restore_file("from-velero", RestoreFile.RESOURCE_LIST)
    assert listed["apps/v1/Deployment"] == [f"{ns}/web(created)"]
    assert listed["rbac.authorization.k8s.io/v1/ClusterRole"] == [f"{ns}-reader(created)"]
