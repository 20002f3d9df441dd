"""A whole app backed up through kubesim (real HTTP), the real plugin processes (built-in actions and a
test action plugin) and the filesystem store served by `veloro run-plugins`."""

from __future__ import annotations

import orjson
from backup_helpers import backup_cr, create, items_of, make_app, tar_members

from veloro_core.backup import BackupRunInput, BackupSettings, ProgressUpdate, run_backup
from veloro_core.kube import KubeClient
from veloro_core.persistence import BackupStore
from veloro_core.plugins import PluginManager


def _run(kube: KubeClient, manager: PluginManager, store: BackupStore, name: str, **spec: object):  # type: ignore[no-untyped-def]
    updates: list[ProgressUpdate] = []
    settings = BackupSettings(
        operation_poll_interval=0.05, progress_interval=0.05, on_progress=updates.append
    )
    result = run_backup(
        BackupRunInput(
            backup=backup_cr(name, **spec), kube=kube, plugins=manager, store=store, settings=settings
        )
    )
    return result, updates


def test_app_namespace_backup(kube: KubeClient, manager: PluginManager, store: BackupStore) -> None:
    result, updates = _run(kube, manager, store, "app", includedNamespaces=["shop"])
    assert result.phase == "Completed", (result.failure_reason, result.errors)
    names, files = tar_members(store, "app")
    assert names[0] == "metadata/version" and files["metadata/version"] == b"1.1.0\n"
    items = items_of(names)
    for expected in (
        "configmaps/namespaces/shop/settings",
        "secrets/namespaces/shop/creds",
        "services/namespaces/shop/web",
        "deployments.apps/namespaces/shop/web",
        "serviceaccounts/namespaces/shop/runner",
        "persistentvolumeclaims/namespaces/shop/data",
        "widgets.example.com/namespaces/shop/gear",
        "namespaces/cluster/shop",
        # cluster-scoped, pulled in: the PV by the PVC action, the CRD at the end
        "persistentvolumes/cluster/pv-shop",
        "customresourcedefinitions.apiextensions.k8s.io/cluster/widgets.example.com",
    ):
        assert expected in items
    assert not any("/default/" in i or i.startswith("storageclasses") for i in items)
    # every item twice: unversioned and at <version>-preferredversion, same bytes
    assert (
        files["resources/deployments.apps/v1-preferredversion/namespaces/shop/web.json"]
        == files["resources/deployments.apps/namespaces/shop/web.json"]
    )
    assert "resources/persistentvolumes/v1-preferredversion/cluster/pv-shop.json" in files
    assert len([n for n in names if n.startswith("resources/")]) == 2 * len(items)
    # the test action (a v1 plugin process) changed the configmap on its way into the tarball
    cm = orjson.loads(files["resources/configmaps/namespaces/shop/settings.json"])
    assert cm["metadata"]["annotations"]["test.veloro.io/annotated"] == "app"
    # metadata: final status, written last
    meta = store.get_backup_metadata("app")
    status = meta["status"]
    assert status["phase"] == "Completed" and status["formatVersion"] == "1.1.0"
    assert (
        status["progress"]["itemsBackedUp"] == len(items) and status["expiration"] > status["startTimestamp"]
    )
    assert status["backupItemOperationsCompleted"] == 1
    resource_list = store.get_backup_resource_list("app")
    assert resource_list["v1/PersistentVolume"] == ["pv-shop"]
    assert resource_list["apps/v1/Deployment"] == ["shop/web"]
    assert sum(len(v) for v in resource_list.values()) == len(items)
    volumes = store.get_backup_volume_info("app")
    assert volumes == [
        {**volumes[0], "pvcName": "data", "pvcNamespace": "shop", "pvName": "pv-shop", "skipped": True}
    ]
    assert "VolumeSnapshotLocation" in volumes[0]["skippedReason"]
    ops = store.get_backup_item_operations("app")
    assert ops[0]["spec"]["operationID"] == "op-shop-gear" and ops[0]["status"]["phase"] == "Completed"
    assert store.get_backup_results("app") == {"warnings": {}, "errors": {}}
    log = b"".join(store.get_backup_log("app")).decode()
    assert "backup started" in log and "name=settings" in log
    assert updates and updates[-1].items_backed_up == len(items)


def test_additional_items_skip_the_label_selector(
    kube: KubeClient, manager: PluginManager, store: BackupStore
) -> None:
    make_app(kube, "extra", pv="pv-extra")
    create(kube, "secrets", {"metadata": {"name": "side", "namespace": "extra"}, "stringData": {"a": "b"}})
    create(
        kube,
        "configmaps",
        {
            "metadata": {
                "name": "pointer",
                "namespace": "extra",
                "labels": {"app": "web"},
                "annotations": {"test.veloro.io/also": "secrets/side"},
            }
        },
    )
    result, _ = _run(
        kube,
        manager,
        store,
        "sel",
        includedNamespaces=["extra"],
        labelSelector={"matchLabels": {"app": "web"}},
    )
    assert result.phase == "Completed", result.errors
    items = items_of(tar_members(store, "sel")[0])
    assert "secrets/namespaces/extra/side" in items  # added by the action although unlabelled
    assert "configmaps/namespaces/extra/pointer" in items
    assert "serviceaccounts/namespaces/extra/default" not in items  # not labelled app=web
    assert "namespaces/cluster/extra" not in items


def test_async_operation_timeout_is_an_error(
    kube: KubeClient, manager: PluginManager, store: BackupStore
) -> None:
    create(kube, "namespaces", {"metadata": {"name": "slow"}})
    create(
        kube,
        "widgets.example.com",
        {
            "apiVersion": "example.com/v1",
            "kind": "Widget",
            "metadata": {"name": "slow-1", "namespace": "slow"},
        },
    )
    result, _ = _run(kube, manager, store, "slow", includedNamespaces=["slow"], itemOperationTimeout="300ms")
    assert result.phase == "PartiallyFailed"
    assert result.operations_failed == 1
    assert "timed out" in result.errors["namespaces"]["slow"][0]
    ops = store.get_backup_item_operations("slow")
    assert ops[0]["status"]["phase"] == "Failed"
