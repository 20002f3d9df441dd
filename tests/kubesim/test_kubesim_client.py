"""The official kubernetes Python client against kubesim: typed APIs, CustomObjectsApi, DynamicClient,
watch.Watch."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from kubernetes import client, dynamic, watch
from kubernetes.client.rest import ApiException


def _deployment(name: str, replicas: int = 2) -> dict[str, Any]:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "c", "image": "nginx"}]},
            },
        },
    }


def _wait(predicate: Any, timeout: float = 5.0) -> Any:
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def test_typed_apis_crud(api_client: Any, ns: str) -> None:
    v1 = client.CoreV1Api(api_client)
    body = client.V1ConfigMap(metadata=client.V1ObjectMeta(name="cfg", labels={"a": "1"}), data={"k": "v"})
    created = v1.create_namespaced_config_map(ns, body)
    assert created.metadata.uid and created.metadata.creation_timestamp is not None
    created.data["k"] = "v2"
    updated = v1.replace_namespaced_config_map("cfg", ns, created)
    assert int(updated.metadata.resource_version) > int(created.metadata.resource_version)
    patched = v1.patch_namespaced_config_map("cfg", ns, {"metadata": {"labels": {"b": "2"}}})
    assert patched.metadata.labels == {"a": "1", "b": "2"}
    assert [c.metadata.name for c in v1.list_namespaced_config_map(ns, label_selector="b=2").items] == ["cfg"]
    v1.delete_namespaced_config_map("cfg", ns)
    with pytest.raises(ApiException) as err:
        v1.read_namespaced_config_map("cfg", ns)
    assert err.value.status == 404


def test_pods_run_and_deployment_status(api_client: Any, ns: str) -> None:
    apps, v1 = client.AppsV1Api(api_client), client.CoreV1Api(api_client)
    apps.create_namespaced_deployment(ns, _deployment("web"))
    status = _wait(
        lambda: (s := apps.read_namespaced_deployment_status("web", ns).status).ready_replicas == 2 and s
    )
    assert status.available_replicas == 2 and status.observed_generation == 1
    pods = v1.list_namespaced_pod(ns, label_selector="app=web").items
    assert len(pods) == 2
    for pod in pods:
        assert pod.status.phase == "Running" and pod.status.pod_ip.startswith("10.244.")
        assert pod.status.container_statuses[0].ready is True
        assert pod.spec.node_name == "kubesim-node"
    running = v1.list_namespaced_pod(ns, field_selector="status.phase=Running").items
    assert len(running) == 2
    scale = apps.patch_namespaced_deployment_scale("web", ns, {"spec": {"replicas": 3}})
    assert scale.spec.replicas == 3
    _wait(lambda: len(v1.list_namespaced_pod(ns, label_selector="app=web").items) == 3)


def test_custom_objects_api(api_client: Any, ns: str) -> None:
    ext = client.ApiextensionsV1Api(api_client)
    ext.create_custom_resource_definition(
        {
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": "backups.demo.example.com"},
            "spec": {
                "group": "demo.example.com",
                "scope": "Namespaced",
                "names": {"plural": "backups", "kind": "Backup"},
                "versions": [
                    {
                        "name": "v1",
                        "served": True,
                        "storage": True,
                        "schema": {
                            "openAPIV3Schema": {
                                "type": "object",
                                "x-kubernetes-preserve-unknown-fields": True,
                            }
                        },
                        "subresources": {"status": {}},
                    }
                ],
            },
        }
    )
    crd = _wait(lambda: ext.read_custom_resource_definition("backups.demo.example.com"))
    _wait(
        lambda: any(
            c.type == "Established" and c.status == "True"
            for c in ext.read_custom_resource_definition("backups.demo.example.com").status.conditions or []
        )
    )
    assert crd.spec.names.kind == "Backup"
    co = client.CustomObjectsApi(api_client)
    obj = co.create_namespaced_custom_object(
        "demo.example.com",
        "v1",
        ns,
        "backups",
        {
            "apiVersion": "demo.example.com/v1",
            "kind": "Backup",
            "metadata": {"name": "b1"},
            "spec": {"ttl": "1h"},
            "status": {"phase": "Ignored"},
        },
    )
    assert obj["metadata"]["generation"] == 1 and "status" not in obj  # status subresource: dropped on create
    obj["status"] = {"phase": "Completed"}
    co.replace_namespaced_custom_object_status("demo.example.com", "v1", ns, "backups", "b1", obj)
    obj = co.get_namespaced_custom_object("demo.example.com", "v1", ns, "backups", "b1")
    assert obj["status"] == {"phase": "Completed"} and obj["metadata"]["generation"] == 1
    obj["spec"]["ttl"] = "2h"
    obj["status"] = {"phase": "ChangedOnMainResource"}
    obj = co.replace_namespaced_custom_object("demo.example.com", "v1", ns, "backups", "b1", obj)
    assert obj["metadata"]["generation"] == 2 and obj["status"] == {"phase": "Completed"}
    listed = co.list_namespaced_custom_object("demo.example.com", "v1", ns, "backups")
    assert [i["metadata"]["name"] for i in listed["items"]] == ["b1"]
    ext.delete_custom_resource_definition("backups.demo.example.com")

    def gone() -> bool:
        try:
            co.list_namespaced_custom_object("demo.example.com", "v1", ns, "backups")
        except ApiException as exc:
            return exc.status == 404
        return False

    _wait(gone)


def test_dynamic_client(api_client: Any, ns: str) -> None:
    dyn = dynamic.DynamicClient(api_client)
    secrets = dyn.resources.get(api_version="v1", kind="Secret")
    secrets.create(
        body={
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "s"},
            "stringData": {"user": "admin"},
        },
        namespace=ns,
    )
    got = secrets.get(name="s", namespace=ns)
    assert got.data.user == "YWRtaW4=" and got.type == "Opaque"
    deployments = dyn.resources.get(api_version="apps/v1", kind="Deployment")
    deployments.create(body=_deployment("dyn", 1), namespace=ns)
    assert [d.metadata.name for d in deployments.get(namespace=ns).items] == ["dyn"]
    snapshots = dyn.resources.get(api_version="snapshot.storage.k8s.io/v1", kind="VolumeSnapshotClass")
    assert [c.metadata.name for c in snapshots.get().items] == ["kubesim-snapclass"]
    hpa = dyn.resources.get(api_version="autoscaling/v2", kind="HorizontalPodAutoscaler")
    assert hpa.namespaced


def test_watch_stream(api_client: Any, ns: str) -> None:
    v1 = client.CoreV1Api(api_client)
    start = v1.list_namespaced_config_map(ns).metadata.resource_version

    def writer() -> None:
        time.sleep(0.2)
        v1.create_namespaced_config_map(ns, {"metadata": {"name": "w", "labels": {"x": "1"}}})
        v1.patch_namespaced_config_map("w", ns, {"data": {"a": "b"}})
        v1.patch_namespaced_config_map("w", ns, {"metadata": {"labels": {"x": "2"}}})  # leaves the selection
        v1.delete_namespaced_config_map("w", ns)

    threading.Thread(target=writer).start()
    seen = []
    w = watch.Watch()
    for event in w.stream(
        v1.list_namespaced_config_map, ns, resource_version=start, label_selector="x=1", timeout_seconds=2
    ):
        seen.append((event["type"], event["object"].metadata.name))
        if len(seen) == 3:
            w.stop()
    assert seen == [("ADDED", "w"), ("MODIFIED", "w"), ("DELETED", "w")]


def test_conflict_on_stale_resource_version(api_client: Any, ns: str) -> None:
    v1 = client.CoreV1Api(api_client)
    cm = v1.create_namespaced_config_map(ns, {"metadata": {"name": "c"}, "data": {"n": "1"}})
    v1.patch_namespaced_config_map("c", ns, {"data": {"n": "2"}})
    cm.data["n"] = "3"
    with pytest.raises(ApiException) as err:
        v1.replace_namespaced_config_map("c", ns, cm)
    assert err.value.status == 409
    assert "the object has been modified" in err.value.body
    with pytest.raises(ApiException) as err:
        v1.create_namespaced_config_map(ns, {"metadata": {"name": "c"}})
    assert err.value.status == 409 and '"AlreadyExists"' in err.value.body
