"""CRDs (pass 1 + Established), skip rules, non-restorable resources, restoreStatus, priorities, volumes."""

from __future__ import annotations

import re
from typing import Any

import pytest
from restore_helpers import (
    CONFIGMAPS,
    CRDS,
    JOBS,
    NAMESPACES,
    PODS,
    SECRETS,
    delete_namespace,
    restore_cr,
    run,
    write_backup,
)

from veloro_core.api.restore import RestorePhase
from veloro_core.kube import GroupVersionResource, KubeClient, NotFound
from veloro_core.persistence import BackupFile, BackupStore, RestoreFile, gzip_json
from veloro_core.plugins import PluginManager
from veloro_core.restore import Priorities, RestoreSettings

Obj = dict[str, Any]
PVS = GroupVersionResource("", "v1", "persistentvolumes")
PVCS = GroupVersionResource("", "v1", "persistentvolumeclaims")


def crd(plural: str, group: str) -> Obj:
    kind = plural[:-1].capitalize()
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{group}", "uid": "u1", "resourceVersion": "5"},
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": {"plural": plural, "singular": plural[:-1], "kind": kind, "listKind": f"{kind}List"},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "schema": {
                        "openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
                    },
                }
            ],
        },
        "status": {"conditions": [{"type": "Established", "status": "True"}]},
    }


def cr(plural: str, group: str, ns: str, name: str) -> Obj:
    return {
        "apiVersion": f"{group}/v1",
        "kind": plural[:-1].capitalize(),
        "metadata": {
            "name": name,
            "namespace": ns,
            "uid": "x",
            "resourceVersion": "9",
            "creationTimestamp": "2024-01-01T00:00:00Z",
        },
        "spec": {"size": 3},
        "status": {"phase": "Ready", "observed": 7},
    }


def ns_obj(name: str) -> Obj:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "uid": "n"}, "status": {}}


def cm(ns: str, name: str, **labels: str) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": ns, "labels": labels},
        "data": {"a": "b"},
    }


@pytest.mark.parametrize("restore_status", [False, True])
def test_crd_then_custom_resources_after_established(
    kube: KubeClient, plugins: PluginManager, store: BackupStore, ns: str, restore_status: bool
) -> None:
    plural, group = (f"gadgets{ns}", "example.com")
    items = [
        ("customresourcedefinitions.apiextensions.k8s.io", "v1", crd(plural, group)),
        ("namespaces", "v1", ns_obj(ns)),
        (f"{plural}.{group}", "v1", cr(plural, group, ns, "g1")),
        (f"{plural}.{group}", "v1", cr(plural, group, ns, "g2")),
    ]
    backup = write_backup(store, "b-crd", items)
    spec: Obj = {"restoreStatus": {"includedResources": [f"{plural}.{group}"]}} if restore_status else {}
    result = run(kube, plugins, store, restore_cr("r-crd", "b-crd", **spec), backup)
    assert result.phase is RestorePhase.COMPLETED, (result.failure_reason, result.errors.to_dict())
    live_crd = kube.get(CRDS, f"{plural}.{group}")
    assert any(c["type"] == "Established" and c["status"] == "True" for c in live_crd["status"]["conditions"])
    widgets = GroupVersionResource(group, "v1", plural)
    g1 = kube.get(widgets, "g1", ns)
    assert g1["spec"] == {"size": 3} and g1["metadata"]["uid"] != "x"
    assert g1["metadata"]["labels"]["veloro.io/restore-name"] == "r-crd"
    if restore_status:
        assert g1.get("status") == {"phase": "Ready", "observed": 7}
    else:
        assert not g1.get("status")
    log = b"".join(store.get_restore_log("r-crd")).decode()
    assert log.index("customresourcedefinitions") < log.index(f"resource={plural}.{group}")


def test_skip_rules_and_non_restorable(
    kube: KubeClient, plugins: PluginManager, store: BackupStore, ns: str
) -> None:
    pod_spec = {"containers": [{"name": "c", "image": "busybox"}]}
    items = [
        ("namespaces", "v1", ns_obj(ns)),
        (
            "pods",
            "v1",
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": "done", "namespace": ns},
                "spec": pod_spec,
                "status": {"phase": "Succeeded"},
            },
        ),
        (
            "pods",
            "v1",
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": "crashed", "namespace": ns},
                "spec": pod_spec,
                "status": {"phase": "Failed"},
            },
        ),
        (
            "pods",
            "v1",
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {
                    "name": "mirror",
                    "namespace": ns,
                    "annotations": {"kubernetes.io/config.mirror": "abc"},
                },
                "spec": pod_spec,
                "status": {"phase": "Running"},
            },
        ),
        (
            "pods",
            "v1",
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": "live", "namespace": ns},
                "spec": pod_spec,
                "status": {"phase": "Running"},
            },
        ),
        (
            "jobs.batch",
            "v1",
            {
                "apiVersion": "batch/v1",
                "kind": "Job",
                "metadata": {"name": "finished", "namespace": ns},
                "spec": {"template": {"spec": {**pod_spec, "restartPolicy": "Never"}}},
                "status": {"completionTime": "2024-01-01T00:00:00Z"},
            },
        ),
        ("nodes", "v1", {"apiVersion": "v1", "kind": "Node", "metadata": {"name": f"node-{ns}"}}),
        (
            "events",
            "v1",
            {
                "apiVersion": "v1",
                "kind": "Event",
                "metadata": {"name": "ev", "namespace": ns},
                "involvedObject": {"kind": "Pod", "name": "live", "namespace": ns},
            },
        ),
    ]
    backup = write_backup(store, "b-skip", items)
    result = run(kube, plugins, store, restore_cr("r-skip", "b-skip"), backup)
    assert result.phase is RestorePhase.COMPLETED, result.errors.to_dict()
    kube.get(PODS, "live", ns)
    for ref, name in ((PODS, "done"), (PODS, "crashed"), (PODS, "mirror"), (JOBS, "finished")):
        with pytest.raises(NotFound):
            kube.get(ref, name, ns)
    with pytest.raises(NotFound):
        kube.get(GroupVersionResource("", "v1", "nodes"), f"node-{ns}")
    assert "events" not in str(result.resource_list) and "Node" not in str(result.resource_list)
    assert result.total_items == result.items_restored == 1

    for asked in (
        ["nodes"],
        ["events"],
        ["backups.veloro.io"],
        ["restores.velero.io"],
        ["configmaps", "csinodes"],
    ):
        bad = run(kube, plugins, store, restore_cr("r-bad", "b-skip", includedResources=asked), backup)
        assert bad.phase is RestorePhase.FAILED_VALIDATION, asked
        assert any("non-restorable" in p for p in bad.validation_errors), bad.validation_errors


def test_label_selector_namespace_filter_and_priorities(
    kube: KubeClient, plugins: PluginManager, store: BackupStore, ns: str
) -> None:
    other = f"{ns}-other"
    items = [
        ("namespaces", "v1", ns_obj(ns)),
        ("namespaces", "v1", ns_obj(other)),
        ("configmaps", "v1", cm(ns, "picked", tier="web")),
        ("configmaps", "v1", cm(ns, "left", tier="db")),
        ("configmaps", "v1", cm(other, "elsewhere", tier="web")),
        (
            "secrets",
            "v1",
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": "s", "namespace": ns, "labels": {"tier": "web"}},
            },
        ),
    ]
    backup = write_backup(store, "b-sel", items)
    # a user priority list REPLACES the default one: configmaps first, secrets last (low)
    settings = RestoreSettings(priorities=Priorities.parse("configmaps,-,secrets"), poll_interval=0.05)
    result = run(
        kube,
        plugins,
        store,
        restore_cr("r-sel", "b-sel", includedNamespaces=[ns], labelSelector={"matchLabels": {"tier": "web"}}),
        backup,
        settings,
    )
    assert result.phase is RestorePhase.COMPLETED, result.errors.to_dict()
    kube.get(CONFIGMAPS, "picked", ns)
    kube.get(SECRETS, "s", ns)
    with pytest.raises(NotFound):
        kube.get(CONFIGMAPS, "left", ns)
    with pytest.raises(NotFound):
        kube.get(NAMESPACES, other)
    log = b"".join(store.get_restore_log("r-sel")).decode()
    order = re.findall(r'msg="restoring resource" resource=(\S+)', log)
    assert order == ["configmaps", "secrets"]


def test_invalid_filters_fail_validation_listing_every_problem(
    kube: KubeClient, plugins: PluginManager, store: BackupStore
) -> None:
    backup = write_backup(store, "b-val", [("namespaces", "v1", ns_obj("whatever"))])
    restore = restore_cr(
        "r-val",
        "b-val",
        includedResources=["configmaps"],
        includedNamespaceScopedResources=["secrets"],
        labelSelector={"matchLabels": {"a": "b"}},
        orLabelSelectors=[{"matchLabels": {"c": "d"}}],
        existingResourcePolicy="overwrite",
        namespaceMapping={"a": "Not_Valid"},
    )
    result = run(kube, plugins, store, restore, backup)
    assert result.phase is RestorePhase.FAILED_VALIDATION
    text = "\n".join(result.validation_errors)
    for needle in (
        "cannot be used together",
        "labelSelector and orLabelSelectors",
        "existingResourcePolicy",
        "Not_Valid",
    ):
        assert needle in text, text
    assert store.get_restore_file("r-val", RestoreFile.RESULTS) == {"warnings": {}, "errors": {}}


def test_persistent_volumes(kube: KubeClient, plugins: PluginManager, store: BackupStore, ns: str) -> None:
    def pv(name: str, policy: str, claim: str) -> Obj:
        return {
            "apiVersion": "v1",
            "kind": "PersistentVolume",
            "metadata": {"name": name, "annotations": {"pv.kubernetes.io/bound-by-controller": "yes"}},
            "spec": {
                "capacity": {"storage": "1Gi"},
                "accessModes": ["ReadWriteOnce"],
                "hostPath": {"path": "/x"},
                "persistentVolumeReclaimPolicy": policy,
                "storageClassName": "manual",
                "claimRef": {"namespace": ns, "name": claim, "uid": "old", "resourceVersion": "1"},
            },
            "status": {"phase": "Bound"},
        }

    def pvc(name: str, volume: str) -> Obj:
        return {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": name, "namespace": ns},
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "resources": {"requests": {"storage": "1Gi"}},
                "storageClassName": "manual",
                "volumeName": volume,
            },
        }

    retain, delete, fsb = f"pv-keep-{ns}", f"pv-del-{ns}", f"pv-fsb-{ns}"
    items = [
        ("namespaces", "v1", ns_obj(ns)),
        ("persistentvolumes", "v1", pv(retain, "Retain", "keep")),
        ("persistentvolumes", "v1", pv(delete, "Delete", "del")),
        ("persistentvolumes", "v1", pv(fsb, "Retain", "fsb")),
        ("persistentvolumeclaims", "v1", pvc("keep", retain)),
        ("persistentvolumeclaims", "v1", pvc("del", delete)),
        ("persistentvolumeclaims", "v1", pvc("fsb", fsb)),
    ]
    volume_info = [{"pvcName": "fsb", "pvcNamespace": ns, "pvName": fsb, "backupMethod": "PodVolumeBackup"}]
    backup = write_backup(store, "b-pv", items, files={BackupFile.VOLUME_INFO: gzip_json(volume_info)})
    target = f"{ns}-m"
    result = run(kube, plugins, store, restore_cr("r-pv", "b-pv", namespaceMapping={ns: target}), backup)
    assert result.phase is RestorePhase.COMPLETED, result.errors.to_dict()
    kept = kube.get(PVS, retain)
    assert kept["spec"]["claimRef"]["namespace"] == target  # remapped
    assert kept["spec"]["claimRef"].get("uid") != "old"  # dropped (kubesim binds it to the new claim)
    for name in (delete, fsb):
        with pytest.raises(NotFound):
            kube.get(PVS, name)
    assert kube.get(PVCS, "keep", target)["spec"]["volumeName"] == retain
    for claim, old in (("del", delete), ("fsb", fsb)):
        assert kube.get(PVCS, claim, target)["spec"].get("volumeName") != old


def test_namespace_terminating_is_waited_for(
    kube: KubeClient, plugins: PluginManager, store: BackupStore, ns: str
) -> None:
    kube.create(NAMESPACES, {"metadata": {"name": ns}})
    for i in range(50):
        kube.create(CONFIGMAPS, cm(ns, f"c{i}"))
    backup = write_backup(
        store, "b-term", [("namespaces", "v1", ns_obj(ns)), ("configmaps", "v1", cm(ns, "c0"))]
    )
    kube.delete(NAMESPACES, ns)  # not waited for: the restore must wait until it is gone
    result = run(kube, plugins, store, restore_cr("r-term", "b-term"), backup)
    assert result.phase is RestorePhase.COMPLETED, result.errors.to_dict()
    assert not kube.get(NAMESPACES, ns)["metadata"].get("deletionTimestamp")
    kube.get(CONFIGMAPS, "c0", ns)
    delete_namespace(kube, ns)
