"""Real-world application manifests apply with kubectl, read back faithfully, and survive restarts (clean
and kill -9) with a data dir: same objects, same uids, same resourceVersions."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubesim_helpers import MANIFESTS, needs_kubectl

from kubesim.testing import KubeSimProcess

APPS = {
    "wordpress.yaml": "wp",
    "redis.yaml": "redis",
    "ingress.yaml": "ingress-test",
    "shop.yaml": "shop",
    "misc.yaml": "misc",
}

pytestmark = needs_kubectl


_CLUSTER_KINDS = {
    "ClusterRole",
    "ClusterRoleBinding",
    "IngressClass",
    "CustomResourceDefinition",
    "PersistentVolume",
    "StorageClass",
    "PriorityClass",
}


def _contains(actual: Any, expected: Any, path: str = "") -> list[str]:
    """Where expected (a manifest) is not reproduced in actual (the object read back); nulls are unset."""
    if expected is None:
        return []
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{path}: expected a map, got {actual!r}"]
        out = []
        for k, v in expected.items():
            if k not in actual and v is not None:
                out.append(f"{path}.{k}: missing")
            elif k not in actual:
                continue
            else:
                out += _contains(actual[k], v, f"{path}.{k}")
        return out
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return [f"{path}: expected {expected!r}, got {actual!r}"]
        return [
            e
            for i, (a, x) in enumerate(zip(actual, expected, strict=True))
            for e in _contains(a, x, f"{path}[{i}]")
        ]
    return [] if actual == expected else [f"{path}: expected {expected!r}, got {actual!r}"]


def _documents(name: str) -> list[dict[str, Any]]:
    docs = [d for d in yaml.safe_load_all((MANIFESTS / name).read_text()) if d]
    return [item for d in docs for item in (d["items"] if d["kind"] == "List" else [d])]


def _apply_all(sim: KubeSimProcess) -> None:
    for name, ns in APPS.items():
        sim.kubectl("apply", "-f", "-", input=f"apiVersion: v1\nkind: Namespace\nmetadata: {{name: {ns}}}\n")
        result = sim.kubectl("apply", "-n", ns, "-f", str(MANIFESTS / name), check=False)
        if result.returncode != 0:  # a CRD and its objects in one file: the second pass maps them
            sim.kubectl("wait", "--for=condition=Established", "crd", "--all", "--timeout=10s")
            sim.kubectl("apply", "-n", ns, "-f", str(MANIFESTS / name))


def _snapshot(sim: KubeSimProcess) -> dict[tuple[str, str, str], dict[str, Any]]:
    kinds = (
        "all,cm,secret,pvc,pv,sa,role,rolebinding,clusterrole,clusterrolebinding,ingress,ingressclass,"
        "netpol,pdb,hpa,crd,coupons"
    )
    items = json.loads(sim.kubectl("get", kinds, "-A", "-o", "json").stdout)["items"]
    return {(i["kind"], i["metadata"].get("namespace", ""), i["metadata"]["name"]): i for i in items}


def _settle(sim: KubeSimProcess) -> None:
    """Wait until the simulated controllers are done (pods running, volumes bound, job complete)."""
    deadline = time.time() + 15
    while time.time() < deadline:
        pods = json.loads(sim.kubectl("get", "pods", "-A", "-o", "json").stdout)["items"]
        pvcs = json.loads(sim.kubectl("get", "pvc", "-A", "-o", "json").stdout)["items"]
        job = json.loads(sim.kubectl("get", "job", "redis-warmup", "-n", "redis", "-o", "json").stdout)
        if (
            len(pods) >= 8
            and all(p["status"]["phase"] in ("Running", "Succeeded") for p in pods)
            and all(p["status"]["phase"] == "Bound" for p in pvcs)
            and job.get("status", {}).get("succeeded") == 2
        ):
            return
        time.sleep(0.2)
    raise AssertionError("the cluster did not settle")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KubeSimProcess]:
    """One cluster with all the apps for the module (the restart tests leave it as they found it)."""
    with KubeSimProcess(data_dir=tmp_path_factory.mktemp("cluster") / "data") as sim:
        _apply_all(sim)
        _settle(sim)
        yield sim


def test_manifests_read_back_faithfully(cluster: KubeSimProcess) -> None:
    for name, ns in APPS.items():
        for doc in _documents(name):
            kind, obj_name = doc["kind"], doc["metadata"]["name"]
            scope = [] if kind in _CLUSTER_KINDS else ["-n", ns]
            group, _, version = doc["apiVersion"].rpartition("/")
            resource = (
                f"{kind.lower()}.{version}.{group}" if group else kind.lower()
            )  # the manifest's version
            got = json.loads(cluster.kubectl("get", resource, obj_name, *scope, "-o", "json").stdout)
            expected = dict(doc)
            if kind == "Secret" and "stringData" in expected:
                expected = {k: v for k, v in expected.items() if k != "stringData"}
            problems = _contains(got, expected)
            assert not problems, f"{name} {kind}/{obj_name}: {problems}"


def test_cluster_behaviour_of_the_apps(cluster: KubeSimProcess) -> None:
    redis = json.loads(cluster.kubectl("get", "pods", "-n", "redis", "-l", "app=redis", "-o", "json").stdout)[
        "items"
    ]
    assert sorted(p["metadata"]["name"] for p in redis) == ["redis-0", "redis-1", "redis-2"]
    pvcs = json.loads(cluster.kubectl("get", "pvc", "-n", "redis", "-o", "json").stdout)["items"]
    assert sorted(p["metadata"]["name"] for p in pvcs) == ["data-redis-0", "data-redis-1", "data-redis-2"]
    svc = json.loads(cluster.kubectl("get", "svc", "wordpress", "-n", "wp", "-o", "json").stdout)
    assert 30000 <= svc["spec"]["ports"][0]["nodePort"] <= 32767
    headless = json.loads(cluster.kubectl("get", "svc", "wordpress-mysql", "-n", "wp", "-o", "json").stdout)
    assert headless["spec"]["clusterIP"] == "None"
    # kubelet-like directories: the mysql pod's PVC is a link to its PV's directory.
    pod = json.loads(cluster.kubectl("get", "pods", "-n", "wp", "-l", "tier=mysql", "-o", "json").stdout)[
        "items"
    ][0]
    pvc = json.loads(cluster.kubectl("get", "pvc", "mysql-pv-claim", "-n", "wp", "-o", "json").stdout)
    assert cluster.data_dir is not None
    mount = (
        cluster.data_dir
        / "kubelet/pods"
        / pod["metadata"]["uid"]
        / "volumes/kubernetes.io~csi"
        / pvc["spec"]["volumeName"]
        / "mount"
    )
    assert mount.resolve() == (cluster.data_dir / "volumes" / pvc["spec"]["volumeName"]).resolve()


@pytest.mark.parametrize("kill", [False, True], ids=["sigterm", "kill-9"])
def test_manifests_survive_restart(cluster: KubeSimProcess, kill: bool) -> None:
    before = _snapshot(cluster)
    cluster.restart(kill=kill)
    after = _snapshot(cluster)
    assert before.keys() == after.keys()
    for key, obj in before.items():
        assert after[key] == obj, key  # identical, resourceVersion included
    assert len(before) > 60


def test_watch_from_before_a_restart_is_gone(
    kubesim_factory: Callable[..., KubeSimProcess], tmp_path: Path
) -> None:
    sim = kubesim_factory(data_dir=tmp_path / "d", extra_args=["--no-controllers"])
    sim.kubectl("create", "configmap", "a")
    rv = json.loads(sim.kubectl("get", "cm", "a", "-o", "json").stdout)["metadata"]["resourceVersion"]
    sim.kubectl("create", "configmap", "b")  # a change the client has not seen yet
    sim.restart()
    import urllib.request

    path = f"/api/v1/namespaces/default/configmaps?watch=1&resourceVersion={rv}"
    with urllib.request.urlopen(sim.url + path, timeout=5) as resp:
        event = json.loads(resp.readline())
    assert event["type"] == "ERROR" and event["object"]["code"] == 410
