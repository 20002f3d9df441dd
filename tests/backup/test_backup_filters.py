"""Filters, validation, exclusion labels, item errors and store failures, through kubesim and plugins."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pytest
from backup_helpers import backup_cr, create, items_of, make_app, tar_members
from veloro_sdk.contracts import ObjectStore

from veloro_core.backup import BackupResult, BackupRunInput, BackupSettings, run_backup
from veloro_core.kube import KubeClient
from veloro_core.persistence import BackupStore
from veloro_core.plugins import PluginManager


@pytest.fixture(scope="module", autouse=True)
def apps(kube: KubeClient) -> None:
    for ns in ("f-eu", "f-us", "f-old"):
        make_app(kube, ns)
    make_app(kube, "f-skip", labels={"velero.io/exclude-from-backup": "true"})
    create(
        kube,
        "configmaps",
        {
            "metadata": {
                "name": "hidden",
                "namespace": "f-eu",
                "labels": {"veloro.io/exclude-from-backup": "true"},
            }
        },
    )
    create(
        kube, "configmaps", {"metadata": {"name": "tagged", "namespace": "f-us", "labels": {"tier": "gold"}}}
    )


def _backup(
    kube: KubeClient,
    manager: PluginManager,
    store: BackupStore,
    name: str,
    settings: BackupSettings | None = None,
    **spec: Any,
) -> BackupResult:
    return run_backup(
        BackupRunInput(
            backup=backup_cr(name, **spec),
            kube=kube,
            plugins=manager,
            store=store,
            settings=settings or BackupSettings(),
        )
    )


def _namespaces(items: Iterable[str]) -> set[str]:
    return {i.split("/")[2] for i in items if "/namespaces/" in i}


def test_namespace_wildcards_and_exclusion_labels(
    kube: KubeClient, manager: PluginManager, store: BackupStore
) -> None:
    result = _backup(kube, manager, store, "ns", includedNamespaces=["f-*"], excludedNamespaces=["f-o*"])
    assert result.phase == "Completed", result.errors
    items = items_of(tar_members(store, "ns")[0])
    assert _namespaces(items) == {"f-eu", "f-us"}  # f-old excluded, f-skip labelled velero.io/exclude...
    assert "configmaps/namespaces/f-eu/settings" in items
    assert "configmaps/namespaces/f-eu/hidden" not in items  # veloro.io/exclude-from-backup on the object
    assert {"persistentvolumes/cluster/pv-f-eu", "persistentvolumes/cluster/pv-f-us"} <= items
    assert "persistentvolumes/cluster/pv-f-old" not in items


def test_old_resource_filters(kube: KubeClient, manager: PluginManager, store: BackupStore) -> None:
    result = _backup(
        kube,
        manager,
        store,
        "old",
        includedNamespaces=["f-eu"],
        includedResources=["cm", "deploy", "gizmos"],
        excludedResources=["secrets"],
    )
    assert result.phase == "Completed"
    assert "gizmos" in result.warnings["velero"][0]
    items = items_of(tar_members(store, "old")[0])
    assert {i.split("/")[0] for i in items} == {"configmaps", "deployments.apps"}


def test_new_resource_filters(kube: KubeClient, manager: PluginManager, store: BackupStore) -> None:
    result = _backup(
        kube,
        manager,
        store,
        "new",
        includedNamespaces=["f-us"],
        includedNamespaceScopedResources=["persistentvolumeclaims", "configmaps"],
        includedClusterScopedResources=["storageclasses"],
    )
    assert result.phase == "Completed", result.errors
    kinds = {i.split("/")[0] for i in items_of(tar_members(store, "new")[0])}
    # the PV comes with its PVC (additional item); storage classes were asked for explicitly
    assert kinds == {
        "configmaps",
        "persistentvolumeclaims",
        "persistentvolumes",
        "storageclasses.storage.k8s.io",
    }


def test_or_label_selectors(kube: KubeClient, manager: PluginManager, store: BackupStore) -> None:
    result = _backup(
        kube,
        manager,
        store,
        "or",
        includedNamespaces=["f-us"],
        orLabelSelectors=[
            {"matchLabels": {"tier": "gold"}},
            {"matchExpressions": [{"key": "app", "operator": "In", "values": ["web"]}]},
        ],
    )
    assert result.phase == "Completed"
    items = items_of(tar_members(store, "or")[0])
    assert "configmaps/namespaces/f-us/tagged" in items and "configmaps/namespaces/f-us/settings" in items
    assert "serviceaccounts/namespaces/f-us/default" not in items


def test_validation_lists_every_problem_and_stores_nothing(
    kube: KubeClient, manager: PluginManager, store: BackupStore
) -> None:
    result = _backup(
        kube,
        manager,
        store,
        "bad",
        includedResources=["pods"],
        excludedNamespaceScopedResources=["x"],
        labelSelector={"matchLabels": {"a": "b"}},
        orLabelSelectors=[{"matchLabels": {"c": "d"}}],
        includedNamespaces=["Not Valid"],
        ttl="forever",
    )
    assert result.phase == "FailedValidation"
    text = "\n".join(result.validation_errors)
    for part in ("cannot be used together", "only one can be specified", "'Not Valid'", "ttl"):
        assert part in text
    assert result.backup["status"]["validationErrors"] == result.validation_errors
    assert store.list_backups() == []


def test_item_errors_make_a_partially_failed_backup(
    kube: KubeClient, manager: PluginManager, store: BackupStore
) -> None:
    create(kube, "namespaces", {"metadata": {"name": "f-err"}})
    create(kube, "configmaps", {"metadata": {"name": "good", "namespace": "f-err"}})
    create(
        kube,
        "configmaps",
        {"metadata": {"name": "bad", "namespace": "f-err", "labels": {"test-fail": "true"}}},
    )
    create(
        kube,
        "configmaps",
        {"metadata": {"name": "boom", "namespace": "f-err", "labels": {"test-crash": "true"}}},
    )
    create(kube, "configmaps", {"metadata": {"name": "zafter", "namespace": "f-err"}})
    # one action worker: with several, calls in flight when the plugin dies fail too (also item errors)
    result = _backup(
        kube, manager, store, "err", BackupSettings(action_workers=1), includedNamespaces=["f-err"]
    )
    assert result.phase == "PartiallyFailed"
    messages = result.errors["namespaces"]["f-err"]
    assert len(messages) == 2 and any("test-fail" in m for m in messages)
    assert any("boom" in m for m in messages)  # the plugin process died mid-call: an item error
    items = items_of(tar_members(store, "err")[0])
    # the action's plugin was restarted (Init replayed) and later items still went through it
    assert {"configmaps/namespaces/f-err/good", "configmaps/namespaces/f-err/zafter"} <= items
    assert "configmaps/namespaces/f-err/bad" not in items
    assert store.get_backup_metadata("err")["status"]["errors"] == 2


class _FailingPuts(ObjectStore):
    """The real plugin store, with PutObject of keys ending in `suffix` failing."""

    def __init__(self, inner: ObjectStore, suffix: str) -> None:
        self.inner, self.suffix = inner, suffix

    def init(self, config: dict[str, str]) -> None:
        self.inner.init(config)

    def put_object(self, bucket: str, key: str, body: Iterable[bytes]) -> None:
        if key.endswith(self.suffix):
            raise OSError("disk quota exceeded")
        self.inner.put_object(bucket, key, body)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    object_exists = property(lambda self: self.inner.object_exists)  # type: ignore[assignment]
    get_object = property(lambda self: self.inner.get_object)  # type: ignore[assignment]
    list_common_prefixes = property(lambda self: self.inner.list_common_prefixes)  # type: ignore[assignment]
    list_objects = property(lambda self: self.inner.list_objects)  # type: ignore[assignment]
    delete_object = property(lambda self: self.inner.delete_object)  # type: ignore[assignment]
    create_signed_url = property(lambda self: self.inner.create_signed_url)  # type: ignore[assignment]


@pytest.mark.parametrize("suffix", ["-results.gz", "velero-backup.json"])
def test_store_failure_fails_and_leaves_nothing_complete(
    kube: KubeClient, manager: PluginManager, store: BackupStore, suffix: str
) -> None:
    broken = BackupStore(_FailingPuts(store.store, suffix), store.bucket, store.layout.prefix)
    result = _backup(kube, manager, broken, "lost", includedNamespaces=["f-eu"])
    assert result.phase == "Failed" and "disk quota exceeded" in result.failure_reason
    assert result.backup["status"]["failureReason"] == result.failure_reason
    assert not store.is_complete("lost") and store.store.list_objects(store.bucket, store.layout.prefix) == []


class _Down(_FailingPuts):
    """A store whose every call fails, as an unreachable bucket does."""

    def _down(self, *args: Any) -> Any:
        raise ConnectionError("connection refused")

    object_exists = list_objects = list_common_prefixes = get_object = _down  # type: ignore[assignment]


def test_unavailable_store_fails_before_any_work(
    kube: KubeClient, manager: PluginManager, store: BackupStore
) -> None:
    result = _backup(kube, manager, BackupStore(_Down(store.store, ""), "velero"), "nowhere")
    assert result.phase == "Failed" and "connection refused" in result.failure_reason
    assert "backup storage location" in result.failure_reason
