"""CRUD, patch types, status subresource and delete options through KubeClient against kubesim."""

from __future__ import annotations

import time
from typing import Any

import pytest
from kube_helpers import CONFIGMAPS, CRDS, DEPLOYMENTS, widget_crd

from veloro_core.kube import GroupVersionResource, KubeClient, NotFound, PatchType, PropagationPolicy

WIDGETS = GroupVersionResource("kt.example.com", "v1", "widgets")


def _deployment(name: str, ns: str) -> dict[str, Any]:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": ns, "labels": labels},
        "spec": {"replicas": 1, "selector": {"matchLabels": labels},
                 "template": {"metadata": {"labels": labels},
                              "spec": {"containers": [{"name": "web", "image": "nginx:1"}]}}},
    }


def test_configmap_crud(kube: KubeClient, ns: str) -> None:
    created = kube.create(CONFIGMAPS, {"metadata": {"name": "c1", "namespace": ns}, "data": {"a": "1"}})
    assert created["metadata"]["uid"] and created["kind"] == "ConfigMap"
    got = kube.get(CONFIGMAPS, "c1", ns)
    assert got["data"] == {"a": "1"}
    got["data"]["b"] = "2"
    updated = kube.update(CONFIGMAPS, got)
    assert updated["data"] == {"a": "1", "b": "2"}
    assert updated["metadata"]["resourceVersion"] != got["metadata"]["resourceVersion"]
    kube.delete(CONFIGMAPS, "c1", ns)
    with pytest.raises(NotFound):
        kube.get(CONFIGMAPS, "c1", ns)


def test_namespace_argument_overrides_metadata(kube: KubeClient, ns: str) -> None:
    kube.create(CONFIGMAPS, {"metadata": {"name": "moved"}, "data": {}}, namespace=ns)
    assert kube.get(CONFIGMAPS, "moved", ns)["metadata"]["namespace"] == ns


def test_dry_run_create_stores_nothing(kube: KubeClient, ns: str) -> None:
    out = kube.create(CONFIGMAPS, {"metadata": {"name": "dry", "namespace": ns}}, dry_run=True)
    assert out["metadata"]["name"] == "dry"
    with pytest.raises(NotFound):
        kube.get(CONFIGMAPS, "dry", ns)


def test_deployment_patch_types(kube: KubeClient, ns: str) -> None:
    kube.create(DEPLOYMENTS, _deployment("web", ns))
    merged = kube.patch(DEPLOYMENTS, "web", {"metadata": {"labels": {"tier": "front"}}}, ns)
    assert merged["metadata"]["labels"] == {"app": "web", "tier": "front"}
    jp = [{"op": "replace", "path": "/spec/replicas", "value": 3}]
    assert kube.patch(DEPLOYMENTS, "web", jp, ns, patch_type=PatchType.JSON)["spec"]["replicas"] == 3
    # Strategic merge keys containers by name: the image changes, the container list is not replaced.
    smp = {"spec": {"template": {"spec": {"containers": [{"name": "side", "image": "busybox"}]}}}}
    out = kube.patch(DEPLOYMENTS, "web", smp, ns, patch_type=PatchType.STRATEGIC)
    names = [c["name"] for c in out["spec"]["template"]["spec"]["containers"]]
    assert sorted(names) == ["side", "web"]
    # A plain merge patch replaces the list wholesale.
    out = kube.patch(DEPLOYMENTS, "web", smp, ns, patch_type=PatchType.MERGE)
    assert [c["name"] for c in out["spec"]["template"]["spec"]["containers"]] == ["side"]
    raw = b'{"metadata":{"annotations":{"raw":"bytes"}}}'
    assert kube.patch(DEPLOYMENTS, "web", raw, ns)["metadata"]["annotations"]["raw"] == "bytes"


def test_apply_patch_needs_field_manager(kube: KubeClient, ns: str) -> None:
    with pytest.raises(ValueError, match="field_manager"):
        kube.patch(CONFIGMAPS, "x", {}, ns, patch_type=PatchType.APPLY)


def test_status_subresource(kube: KubeClient, ns: str) -> None:
    kube.create(DEPLOYMENTS, _deployment("st", ns))
    obj = kube.get_status(DEPLOYMENTS, "st", ns)
    obj["status"] = {**(obj.get("status") or {}), "observedGeneration": 42}
    obj["spec"]["replicas"] = 7  # ignored by the status subresource
    out = kube.update_status(DEPLOYMENTS, obj)
    assert out["status"]["observedGeneration"] == 42
    assert out["spec"]["replicas"] == 1
    # kubesim's deployment controller rewrites status soon after: check the PATCH's own answer.
    out = kube.patch_status(DEPLOYMENTS, "st", {"status": {"observedGeneration": 43}}, ns)
    assert out["status"]["observedGeneration"] == 43
    assert out["spec"]["replicas"] == 1


def test_delete_with_propagation_policy(kube: KubeClient, ns: str) -> None:
    kube.create(CONFIGMAPS, {"metadata": {"name": "gone", "namespace": ns}})
    kube.delete(CONFIGMAPS, "gone", ns, propagation_policy=PropagationPolicy.FOREGROUND,
                grace_period_seconds=0)
    with pytest.raises(NotFound):
        kube.get(CONFIGMAPS, "gone", ns)


def _wait_established(kube: KubeClient, name: str) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        conds = kube.get(CRDS, name).get("status", {}).get("conditions") or []
        if any(c.get("type") == "Established" and c.get("status") == "True" for c in conds):
            return
        time.sleep(0.05)
    raise AssertionError(f"CRD {name} never became Established")


@pytest.fixture(scope="session")
def widget_crd_ready(kube: KubeClient) -> None:
    kube.create(CRDS, widget_crd())
    _wait_established(kube, "widgets.kt.example.com")


def test_custom_resource_crud(kube: KubeClient, ns: str, widget_crd_ready: None) -> None:
    body = {"apiVersion": "kt.example.com/v1", "kind": "Widget",
            "metadata": {"name": "w1", "namespace": ns}, "spec": {"size": 1}}
    assert kube.create(WIDGETS, body)["spec"] == {"size": 1}
    out = kube.patch(WIDGETS, "w1", {"spec": {"size": 2}}, ns)
    assert out["spec"]["size"] == 2
    kube.patch_status(WIDGETS, "w1", {"status": {"ready": True}, "spec": {"size": 9}}, ns)
    got = kube.get_status(WIDGETS, "w1", ns)
    assert got["status"] == {"ready": True} and got["spec"] == {"size": 2}
    got["status"] = {"ready": False}
    assert kube.update_status(WIDGETS, got)["status"] == {"ready": False}
    # The main resource ignores status changes when the status subresource is enabled.
    got = kube.get(WIDGETS, "w1", ns)
    got["status"] = {"ready": "ignored"}
    assert kube.update(WIDGETS, got)["status"] == {"ready": False}
    items = list(kube.list_items(WIDGETS, ns))
    assert [(i["kind"], i["apiVersion"], i["metadata"]["name"]) for i in items] == [
        ("Widget", "kt.example.com/v1", "w1")]
    kube.delete(WIDGETS, "w1", ns)
    assert list(kube.list_items(WIDGETS, ns)) == []
