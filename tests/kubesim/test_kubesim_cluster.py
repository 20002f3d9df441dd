"""The simulated cluster a backup tool needs: volumes on disk, CSI snapshots, kubelet pod directories,
workload controllers."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from kubesim_helpers import Http

from kubesim.testing import KubeSimProcess

VS = "/apis/snapshot.storage.k8s.io/v1"


def _wait(predicate: Any, timeout: float = 5.0) -> Any:
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def _pvc(name: str, source: str | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}
    if source:
        spec["dataSource"] = {"name": source, "kind": "VolumeSnapshot", "apiGroup": "snapshot.storage.k8s.io"}
    return {"metadata": {"name": name}, "spec": spec}


def _pod(name: str, claim: str) -> dict[str, Any]:
    return {
        "metadata": {"name": name},
        "spec": {
            "containers": [
                {"name": "c", "image": "busybox", "volumeMounts": [{"name": "data", "mountPath": "/d"}]}
            ],
            "volumes": [
                {"name": "data", "persistentVolumeClaim": {"claimName": claim}},
                {"name": "scratch", "emptyDir": {}},
            ],
        },
    }


@pytest.fixture
def sim(kubesim_factory: Callable[..., KubeSimProcess], tmp_path: Path) -> KubeSimProcess:
    return kubesim_factory(data_dir=tmp_path / "data")


def _bound(http: Http, ns: str, name: str) -> dict[str, Any]:
    return _wait(
        lambda: (
            (b := http("GET", f"/api/v1/namespaces/{ns}/persistentvolumeclaims/{name}")[1])
            .get("status", {})
            .get("phase")
            == "Bound"
            and b
        )
    )


def test_pvc_provisioning_pod_volume_dirs_snapshot_and_restore(sim: KubeSimProcess) -> None:
    http = Http(sim.url)
    assert sim.data_dir is not None
    ns = "default"
    http("POST", f"/api/v1/namespaces/{ns}/persistentvolumeclaims", _pvc("data"))
    pvc = _bound(http, ns, "data")
    assert pvc["spec"]["storageClassName"] == "standard"  # the default class
    pv_name = pvc["spec"]["volumeName"]
    _, pv = http("GET", f"/api/v1/persistentvolumes/{pv_name}")
    assert pv["spec"]["claimRef"]["uid"] == pvc["metadata"]["uid"] and pv["status"]["phase"] == "Bound"
    assert pv["spec"]["csi"]["driver"] == "hostpath.csi.kubesim.io"

    _, pod = http("POST", f"/api/v1/namespaces/{ns}/pods", _pod("writer", "data"))
    _wait(lambda: http("GET", f"/api/v1/namespaces/{ns}/pods/writer")[1]["status"]["phase"] == "Running")
    volumes = sim.data_dir / "kubelet/pods" / pod["metadata"]["uid"] / "volumes"
    assert (volumes / "kubernetes.io~empty-dir/scratch").is_dir()
    mount = volumes / "kubernetes.io~csi" / pv_name / "mount"
    (mount / "db.txt").write_text("precious")  # what the application writes into its volume
    assert (sim.data_dir / "volumes" / pv_name / "db.txt").read_text() == "precious"

    status, _ = http(
        "POST",
        f"{VS}/namespaces/{ns}/volumesnapshots",
        {"metadata": {"name": "snap"}, "spec": {"source": {"persistentVolumeClaimName": "data"}}},
    )
    assert status == 201
    snap = _wait(
        lambda: (
            (s := http("GET", f"{VS}/namespaces/{ns}/volumesnapshots/snap")[1])
            .get("status", {})
            .get("readyToUse")
            and s
        )
    )
    assert snap["spec"]["volumeSnapshotClassName"] == "kubesim-snapclass"
    _, content = http(
        "GET", f"{VS}/volumesnapshotcontents/{snap['status']['boundVolumeSnapshotContentName']}"
    )
    handle = content["status"]["snapshotHandle"]
    assert content["status"]["readyToUse"] is True and content["status"]["restoreSize"] == len("precious")
    (mount / "db.txt").write_text("changed after the snapshot")

    http("POST", f"/api/v1/namespaces/{ns}/persistentvolumeclaims", _pvc("restored", source="snap"))
    restored = _bound(http, ns, "restored")
    assert (sim.data_dir / "volumes" / restored["spec"]["volumeName"] / "db.txt").read_text() == "precious"

    # Deleting the snapshot deletes its content and the copy; deleting the PVC reclaims the PV (Delete).
    http("DELETE", f"{VS}/namespaces/{ns}/volumesnapshots/snap")
    _wait(lambda: not (sim.data_dir / "snapshots" / handle).exists())
    http("DELETE", f"/api/v1/namespaces/{ns}/pods/writer")
    _wait(lambda: not volumes.exists())
    http("DELETE", f"/api/v1/namespaces/{ns}/persistentvolumeclaims/data")
    _wait(lambda: http("GET", f"/api/v1/persistentvolumes/{pv_name}")[0] == 404)
    _wait(lambda: not (sim.data_dir / "volumes" / pv_name).exists())


def test_content_with_a_missing_handle_reports_once_and_settles(sim: KubeSimProcess) -> None:
    # A pre-provisioned content whose data is gone (e.g. restoring a deleted backup's snapshot) gets an
    # error status once; the controller must not rewrite it forever (that starved the API server).
    http = Http(sim.url)
    body = {
        "apiVersion": "snapshot.storage.k8s.io/v1",
        "kind": "VolumeSnapshotContent",
        "metadata": {"name": "orphan-content"},
        "spec": {
            "deletionPolicy": "Retain",
            "driver": "hostpath.csi.kubesim.io",
            "source": {"snapshotHandle": "snapshot-does-not-exist"},
            "volumeSnapshotRef": {"namespace": "default", "name": "orphan"},
        },
    }
    status, _ = http("POST", f"{VS}/volumesnapshotcontents", body)
    assert status == 201
    url = f"{VS}/volumesnapshotcontents/orphan-content"
    first = _wait(lambda: (c := http("GET", url)[1]).get("status", {}).get("error") and c)
    assert "does not exist" in first["status"]["error"]["message"]
    time.sleep(1.0)
    status, later = http("GET", url)
    assert status == 200
    assert later["metadata"]["resourceVersion"] == first["metadata"]["resourceVersion"]


def test_static_pv_binds_to_claim_named_in_claim_ref(sim: KubeSimProcess, tmp_path: Path) -> None:
    http = Http(sim.url)
    backing = tmp_path / "static"
    backing.mkdir()
    http(
        "POST",
        "/api/v1/persistentvolumes",
        {
            "metadata": {"name": "static-pv"},
            "spec": {
                "capacity": {"storage": "1Gi"},
                "accessModes": ["ReadWriteOnce"],
                "storageClassName": "",
                "hostPath": {"path": str(backing)},
                "persistentVolumeReclaimPolicy": "Retain",
                "claimRef": {"namespace": "default", "name": "claim"},
            },
        },
    )
    _wait(
        lambda: (
            http("GET", "/api/v1/persistentvolumes/static-pv")[1].get("status", {}).get("phase")
            == "Available"
        )
    )
    http(
        "POST",
        "/api/v1/namespaces/default/persistentvolumeclaims",
        {
            "metadata": {"name": "claim"},
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "storageClassName": "",
                "volumeName": "static-pv",
                "resources": {"requests": {"storage": "1Gi"}},
            },
        },
    )
    pvc = _bound(http, "default", "claim")
    assert pvc["status"]["capacity"] == {"storage": "1Gi"}
    http("DELETE", "/api/v1/namespaces/default/persistentvolumeclaims/claim")
    _wait(lambda: http("GET", "/api/v1/persistentvolumes/static-pv")[1]["status"]["phase"] == "Released")
    assert backing.is_dir()  # Retain: the data stays


def test_workload_controllers(kubesim: KubeSimProcess, http: Http, ns: str) -> None:
    template = {"metadata": {"labels": {"app": "s"}}, "spec": {"containers": [{"name": "c", "image": "x"}]}}
    http(
        "POST",
        f"/apis/apps/v1/namespaces/{ns}/statefulsets",
        {
            "metadata": {"name": "db"},
            "spec": {
                "replicas": 2,
                "serviceName": "db",
                "selector": {"matchLabels": {"app": "s"}},
                "template": template,
                "volumeClaimTemplates": [
                    {
                        "metadata": {"name": "data"},
                        "spec": {
                            "accessModes": ["ReadWriteOnce"],
                            "resources": {"requests": {"storage": "1Gi"}},
                        },
                    }
                ],
            },
        },
    )
    _wait(
        lambda: (
            http("GET", f"/apis/apps/v1/namespaces/{ns}/statefulsets/db")[1]
            .get("status", {})
            .get("readyReplicas")
            == 2
        )
    )
    _, pod = http("GET", f"/api/v1/namespaces/{ns}/pods/db-1")
    assert (
        pod["spec"]["hostname"] == "db-1" and pod["metadata"]["labels"]["apps.kubernetes.io/pod-index"] == "1"
    )
    assert pod["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"] == "data-db-1"
    _bound(http, ns, "data-db-1")

    job_tpl = {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "x"}]}}
    http(
        "POST",
        f"/apis/batch/v1/namespaces/{ns}/jobs",
        {"metadata": {"name": "once"}, "spec": {"completions": 2, "template": job_tpl}},
    )
    job = _wait(
        lambda: (
            (j := http("GET", f"/apis/batch/v1/namespaces/{ns}/jobs/once")[1])
            .get("status", {})
            .get("succeeded")
            == 2
            and j
        )
    )
    assert [c["type"] for c in job["status"]["conditions"]] == ["SuccessCriteriaMet", "Complete"]
    _, pods = http("GET", f"/api/v1/namespaces/{ns}/pods?labelSelector=job-name%3Donce")
    assert {p["status"]["phase"] for p in pods["items"]} == {"Succeeded"}

    http(
        "POST",
        f"/apis/apps/v1/namespaces/{ns}/daemonsets",
        {
            "metadata": {"name": "agent"},
            "spec": {"selector": {"matchLabels": {"app": "s"}}, "template": template},
        },
    )
    _wait(
        lambda: (
            http("GET", f"/apis/apps/v1/namespaces/{ns}/daemonsets/agent")[1]
            .get("status", {})
            .get("numberReady")
            == 1
        )
    )


def test_node_and_cluster_defaults(http: Http) -> None:
    _, nodes = http("GET", "/api/v1/nodes")
    assert [n["metadata"]["name"] for n in nodes["items"]] == ["kubesim-node"]
    assert any(
        c["type"] == "Ready" and c["status"] == "True" for c in nodes["items"][0]["status"]["conditions"]
    )
    _, sc = http("GET", "/apis/storage.k8s.io/v1/storageclasses/standard")
    assert sc["metadata"]["annotations"]["storageclass.kubernetes.io/is-default-class"] == "true"
    _, ns = http("GET", "/api/v1/namespaces")
    assert {"default", "kube-system", "kube-public"} <= {n["metadata"]["name"] for n in ns["items"]}
    _, crds = http("GET", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions")
    names = {c["metadata"]["name"] for c in crds["items"]}
    assert {
        "volumesnapshots.snapshot.storage.k8s.io",
        "volumesnapshotcontents.snapshot.storage.k8s.io",
        "volumesnapshotclasses.snapshot.storage.k8s.io",
    } <= names
    _, drivers = http("GET", "/apis/storage.k8s.io/v1/csidrivers")
    assert [d["metadata"]["name"] for d in drivers["items"]] == ["hostpath.csi.kubesim.io"]


def test_start_up_time(tmp_path: Path) -> None:
    started = time.perf_counter()
    with KubeSimProcess(data_dir=tmp_path / "fresh"):
        elapsed = time.perf_counter() - started
    assert elapsed < 3.0  # target 1 s; generous for a loaded CI machine


def test_endpoints_root_ca_and_api_services(http: Http, ns: str) -> None:
    labels = {"app": "ep"}
    http(
        "POST",
        f"/apis/apps/v1/namespaces/{ns}/deployments",
        {
            "metadata": {"name": "ep"},
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {
                        "containers": [
                            {"name": "c", "image": "x", "ports": [{"name": "http", "containerPort": 8080}]}
                        ]
                    },
                },
            },
        },
    )
    http(
        "POST",
        f"/api/v1/namespaces/{ns}/services",
        {
            "metadata": {"name": "ep"},
            "spec": {"selector": labels, "ports": [{"port": 80, "targetPort": "http"}]},
        },
    )
    endpoints = _wait(
        lambda: (
            (e := http("GET", f"/api/v1/namespaces/{ns}/endpoints/ep")[1]).get("subsets")
            and len(e["subsets"][0].get("addresses", [])) == 2
            and e
        )
    )
    assert endpoints["subsets"][0]["ports"] == [{"port": 8080, "protocol": "TCP"}]
    _, slices = http(
        "GET",
        f"/apis/discovery.k8s.io/v1/namespaces/{ns}/endpointslices?labelSelector="
        "kubernetes.io%2Fservice-name%3Dep",
    )
    assert len(slices["items"]) == 1 and len(slices["items"][0]["endpoints"]) == 2
    http("DELETE", f"/api/v1/namespaces/{ns}/services/ep")
    _wait(lambda: http("GET", f"/api/v1/namespaces/{ns}/endpoints/ep")[0] == 404)
    _wait(lambda: not http("GET", f"/apis/discovery.k8s.io/v1/namespaces/{ns}/endpointslices")[1]["items"])

    status, ca = http("GET", f"/api/v1/namespaces/{ns}/configmaps/kube-root-ca.crt")
    assert status == 200 and "ca.crt" in ca["data"]
    _, apis = http("GET", "/apis/apiregistration.k8s.io/v1/apiservices")
    managed = {
        a["metadata"]["name"]: a["metadata"]["labels"]["kube-aggregator.kubernetes.io/automanaged"]
        for a in apis["items"]
    }
    assert managed["v1.apps"] == "onstart" and managed["v1.snapshot.storage.k8s.io"] == "true"
