"""Object semantics and error answers over raw HTTP: the details clients and controllers rely on."""

from __future__ import annotations

import time
from typing import Any

import pytest
from kubesim_helpers import Http, needs_kubectl

from kubesim.testing import KubeSimProcess

DEPLOY = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "web"},
    "spec": {
        "replicas": 2,
        "selector": {"matchLabels": {"app": "web"}},
        "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "c", "image": "x"}]},
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


def test_metadata_generation_and_generate_name(http: Http, ns: str) -> None:
    base = f"/apis/apps/v1/namespaces/{ns}/deployments"
    status, d = http("POST", base, DEPLOY)
    assert status == 201
    meta = d["metadata"]
    assert meta["generation"] == 1 and meta["uid"] and meta["creationTimestamp"].endswith("Z")
    assert d["spec"]["strategy"]["type"] == "RollingUpdate"  # defaulted like the real server
    _, d2 = http(
        "PATCH",
        f"{base}/web",
        {"metadata": {"labels": {"x": "y"}}},
        content_type="application/merge-patch+json",
    )
    assert d2["metadata"]["generation"] == 1  # metadata-only change
    _, d3 = http(
        "PATCH", f"{base}/web", {"spec": {"replicas": 3}}, content_type="application/merge-patch+json"
    )
    assert d3["metadata"]["generation"] == 2
    cms = f"/api/v1/namespaces/{ns}/configmaps"
    _, cm = http("POST", cms, {"metadata": {"name": "same"}, "data": {"a": "1"}})
    _, same = http("PATCH", f"{cms}/same", {"data": {"a": "1"}}, content_type="application/merge-patch+json")
    assert same["metadata"]["resourceVersion"] == cm["metadata"]["resourceVersion"]  # no-op: no new version
    status, gen = http("POST", f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"generateName": "job-"}})
    assert status == 201 and gen["metadata"]["name"].startswith("job-") and len(gen["metadata"]["name"]) == 9


def test_status_subresource_rules(http: Http, ns: str) -> None:
    base = f"/apis/apps/v1/namespaces/{ns}/deployments"
    http("POST", base, DEPLOY)
    _wait(lambda: http("GET", f"{base}/web")[1].get("status", {}).get("readyReplicas") == 2)
    _, d = http("GET", f"{base}/web")
    d["status"] = {"replicas": 99}
    d["spec"]["replicas"] = 1
    _, after = http("PUT", f"{base}/web", d)
    assert after["spec"]["replicas"] == 1 and after["status"].get("replicas") != 99
    after["spec"]["replicas"] = 5
    after["status"]["observedGeneration"] = 42
    del after["metadata"]["resourceVersion"]  # the controllers keep writing status: no precondition
    _, st = http("PUT", f"{base}/web/status", after)
    assert st["spec"]["replicas"] == 1 and st["status"]["observedGeneration"] == 42
    _, scale = http("GET", f"{base}/web/scale")
    assert (
        scale["kind"] == "Scale"
        and scale["spec"]["replicas"] == 1
        and scale["status"]["selector"] == "app=web"
    )


def test_finalizers_and_deletion_timestamp(http: Http, ns: str) -> None:
    base = f"/api/v1/namespaces/{ns}/configmaps"
    http("POST", base, {"metadata": {"name": "held", "finalizers": ["example.com/hold"]}})
    status, body = http("DELETE", f"{base}/held")
    assert status == 200 and body["metadata"]["deletionTimestamp"]
    status, body = http("GET", f"{base}/held")
    assert status == 200 and body["metadata"]["finalizers"] == ["example.com/hold"]
    http(
        "PATCH",
        f"{base}/held",
        {"metadata": {"finalizers": None}},
        content_type="application/merge-patch+json",
    )
    assert http("GET", f"{base}/held")[0] == 404


def test_garbage_collection_background_foreground_orphan(http: Http, ns: str) -> None:
    cms = f"/api/v1/namespaces/{ns}/configmaps"

    def owner_and_child(name: str) -> None:
        _, owner = http("POST", cms, {"metadata": {"name": name}})
        ref = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "name": name,
            "uid": owner["metadata"]["uid"],
            "blockOwnerDeletion": True,
        }
        http("POST", cms, {"metadata": {"name": f"{name}-child", "ownerReferences": [ref]}})

    owner_and_child("bg")
    http("DELETE", f"{cms}/bg", {"propagationPolicy": "Background"})
    _wait(lambda: http("GET", f"{cms}/bg-child")[0] == 404)

    owner_and_child("fg")
    status, body = http("DELETE", f"{cms}/fg", {"propagationPolicy": "Foreground"})
    assert status == 200 and "foregroundDeletion" in body["metadata"]["finalizers"]
    _wait(lambda: http("GET", f"{cms}/fg")[0] == 404)
    assert http("GET", f"{cms}/fg-child")[0] == 404

    owner_and_child("or")
    http("DELETE", f"{cms}/or", {"propagationPolicy": "Orphan"})
    _wait(lambda: http("GET", f"{cms}/or")[0] == 404)
    status, child = http("GET", f"{cms}/or-child")
    assert status == 200 and "ownerReferences" not in child["metadata"]


def test_error_answers(http: Http, ns: str) -> None:
    cms = f"/api/v1/namespaces/{ns}/configmaps"
    status, body = http("POST", cms, {"metadata": {"name": "Bad_Name"}})
    assert (
        status == 422
        and body["reason"] == "Invalid"
        and body["details"]["causes"][0]["field"] == "metadata.name"
    )
    status, body = http("POST", cms, {"metadata": {}})
    assert status == 422 and "name or generateName is required" in body["message"]
    status, body = http(
        "POST",
        f"/apis/apps/v1/namespaces/{ns}/deployments",
        {"metadata": {"name": "d"}, "spec": {"selector": {"matchLabels": {"a": "b"}}}},
    )
    assert status == 422 and "spec.template.spec" in body["message"]
    status, body = http("POST", cms, raw=b'{"metadata": {"name": ')
    assert status == 400 and body["reason"] == "BadRequest"
    status, body = http("POST", cms, {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "x"}})
    assert status == 400 and body["reason"] == "BadRequest"
    status, body = http("POST", "/api/v1/namespaces/missing-ns/configmaps", {"metadata": {"name": "x"}})
    assert status == 404 and body["details"] == {"name": "missing-ns", "kind": "namespaces"}
    status, body = http(
        "POST", cms, {"metadata": {"name": "big"}, "data": {"k": "x" * (3 * 1024 * 1024 + 1)}}
    )
    assert status == 413 and body["reason"] == "RequestEntityTooLarge"
    status, body = http("GET", f"{cms}/nope")
    assert status == 404 and body["reason"] == "NotFound" and body["message"] == 'configmaps "nope" not found'
    status, body = http("PUT", cms, {"metadata": {"name": "x"}})
    assert status == 405 and body["reason"] == "MethodNotAllowed"
    status, body = http("GET", "/apis/nothing.example.com/v1/things")
    assert status == 404
    status, body = http("PATCH", f"{cms}/nope", {"op": "x"}, content_type="application/json-patch+json")
    assert status == 404
    http("POST", cms, {"metadata": {"name": "p"}})
    status, body = http(
        "PATCH",
        f"{cms}/p",
        [{"op": "remove", "path": "/data/none"}],
        content_type="application/json-patch+json",
    )
    assert status == 422
    status, body = http("PATCH", f"{cms}/p", {"a": 1}, content_type="text/plain")
    assert status == 415


def test_system_namespaces_cannot_be_deleted(http: Http) -> None:
    status, body = http("DELETE", "/api/v1/namespaces/default")
    assert status == 403 and body["reason"] == "Forbidden"


def test_namespace_terminating_blocks_creates(http: Http) -> None:
    http("POST", "/api/v1/namespaces", {"metadata": {"name": "closing"}})
    http(
        "POST",
        "/api/v1/namespaces/closing/configmaps",
        {"metadata": {"name": "held", "finalizers": ["example.com/hold"]}},
    )
    status, body = http("DELETE", "/api/v1/namespaces/closing")
    assert status == 200 and body["status"]["phase"] == "Terminating"
    status, body = http("POST", "/api/v1/namespaces/closing/configmaps", {"metadata": {"name": "new"}})
    assert status == 403 and body["reason"] == "Forbidden"
    time.sleep(0.2)
    assert http("GET", "/api/v1/namespaces/closing")[0] == 200  # held by the finalizer
    http(
        "PATCH",
        "/api/v1/namespaces/closing/configmaps/held",
        [{"op": "remove", "path": "/metadata/finalizers"}],
        content_type="application/json-patch+json",
    )
    _wait(lambda: http("GET", "/api/v1/namespaces/closing")[0] == 404)


def test_server_side_apply(http: Http, ns: str) -> None:
    path = f"/api/v1/namespaces/{ns}/configmaps/ssa?fieldManager=alice"
    manifest = (
        f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\n  namespace: {ns}\n"
        "data:\n  a: '1'\n  b: '2'\n"
    )
    status, body = http("PATCH", path, raw=manifest.encode(), content_type="application/apply-patch+yaml")
    assert status == 200 and body["data"] == {"a": "1", "b": "2"}
    assert body["metadata"]["managedFields"][0]["manager"] == "alice"
    # Re-applying without b removes it (alice owned it).
    status, body = http(
        "PATCH",
        path,
        raw=manifest.replace("  b: '2'\n", "").encode(),
        content_type="application/apply-patch+yaml",
    )
    assert body["data"] == {"a": "1"}
    bob = f"/api/v1/namespaces/{ns}/configmaps/ssa?fieldManager=bob"
    status, body = http(
        "PATCH", bob, raw=manifest.replace("'1'", "'9'").encode(), content_type="application/apply-patch+yaml"
    )
    assert status == 409 and body["reason"] == "Conflict"
    status, body = http(
        "PATCH",
        bob + "&force=true",
        raw=manifest.replace("'1'", "'9'").encode(),
        content_type="application/apply-patch+yaml",
    )
    assert status == 200 and body["data"]["a"] == "9"


@needs_kubectl
def test_kubectl_server_side_apply(kubesim: KubeSimProcess, ns: str) -> None:
    doc = f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: ssa, namespace: {ns}}}\ndata: {{k: v}}\n"
    out = kubesim.kubectl("apply", "--server-side", "-f", "-", input=doc).stdout
    assert "serverside-applied" in out
    got = kubesim.kubectl("get", "cm", "ssa", "-n", ns, "-o", "jsonpath={.data.k}").stdout
    assert got == "v"


@needs_kubectl
def test_custom_resource_scale_subresource(kubesim: KubeSimProcess, http: Http, ns: str) -> None:
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "pools.scale.example.com"},
        "spec": {
            "group": "scale.example.com",
            "scope": "Namespaced",
            "names": {"plural": "pools", "kind": "Pool"},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {"openAPIV3Schema": {"type": "object"}},
                    "subresources": {
                        "status": {},
                        "scale": {
                            "specReplicasPath": ".spec.size",
                            "statusReplicasPath": ".status.size",
                            "labelSelectorPath": ".status.selector",
                        },
                    },
                }
            ],
        },
    }
    assert http("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd)[0] == 201
    base = f"/apis/scale.example.com/v1/namespaces/{ns}/pools"
    http(
        "POST",
        base,
        {
            "apiVersion": "scale.example.com/v1",
            "kind": "Pool",
            "metadata": {"name": "p"},
            "spec": {"size": 1},
        },
    )
    kubesim.kubectl("scale", "pools.scale.example.com/p", "-n", ns, "--replicas=4")
    _, scale = http("GET", f"{base}/p/scale")
    assert scale["spec"]["replicas"] == 4
    _, pool = http("GET", f"{base}/p")
    assert pool["spec"]["size"] == 4 and pool["metadata"]["generation"] == 2


@needs_kubectl
def test_server_side_apply_twice_is_a_no_op(kubesim: KubeSimProcess, ns: str) -> None:
    doc = (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: ssa-deploy}\nspec:\n  replicas: 1\n"
        "  selector: {matchLabels: {app: s}}\n  template:\n    metadata: {labels: {app: s}}\n"
        "    spec: {containers: [{name: c, image: 'img:1', ports: [{containerPort: 80}]}]}\n"
    )
    kubesim.kubectl("apply", "--server-side", "-n", ns, "-f", "-", input=doc)
    first = kubesim.kubectl(
        "get", "deploy", "ssa-deploy", "-n", ns, "-o", "jsonpath={.metadata.generation}"
    ).stdout
    kubesim.kubectl("apply", "--server-side", "-n", ns, "-f", "-", input=doc)
    again = kubesim.kubectl(
        "get", "deploy", "ssa-deploy", "-n", ns, "-o", "jsonpath={.metadata.generation}"
    ).stdout
    assert first == again == "1"
    kubesim.kubectl("apply", "--server-side", "-n", ns, "-f", "-", input=doc.replace("img:1", "img:2"))
    image = kubesim.kubectl(
        "get", "deploy", "ssa-deploy", "-n", ns, "-o", "jsonpath={.spec.template.spec.containers[0].image}"
    ).stdout
    assert image == "img:2"


MALFORMED = [
    ("POST", "configmaps", b"[1,2]", "application/json"),
    ("POST", "configmaps", b'{"metadata":"x"}', "application/json"),
    ("POST", "configmaps", b'{"metadata":{"name":5}}', "application/json"),
    ("POST", "configmaps", b'{"metadata":{"name":"a","labels":["x"]}}', "application/json"),
    ("POST", "configmaps", b'{"metadata":{"name":"b","ownerReferences":"x"}}', "application/json"),
    ("POST", "configmaps", b'{"metadata":{"name":"c","ownerReferences":[{"kind":"X"}]}}', "application/json"),
    ("POST", "configmaps", b"\xff\xfe", "application/json"),
    ("POST", "configmaps", b"a: [", "application/yaml"),
    ("POST", "configmaps", b"k8s\x00garbage", "application/vnd.kubernetes.protobuf"),
    ("POST", "pods", b'{"metadata":{"name":"p"},"spec":{"containers":"x"}}', "application/json"),
    ("POST", "pods", b'{"metadata":{"name":"p"},"spec":{"containers":[1]}}', "application/json"),
    ("GET", "configmaps?watch=1&resourceVersion=abc", None, "application/json"),
    ("GET", "configmaps?watch=1&timeoutSeconds=abc", None, "application/json"),
    ("GET", "configmaps?limit=-1", None, "application/json"),
    ("GET", "configmaps?fieldSelector=%25%25", None, "application/json"),
    ("DELETE", "configmaps/none", b"{bad", "application/json"),
]


@pytest.mark.parametrize(("method", "path", "raw", "ctype"), MALFORMED)
def test_malformed_requests_are_client_errors(
    http: Http, ns: str, method: str, path: str, raw: bytes | None, ctype: str
) -> None:
    status, body = http(method, f"/api/v1/namespaces/{ns}/{path}", raw=raw, content_type=ctype)
    assert 400 <= status < 500, body
    assert body["kind"] == "Status" and body["code"] == status


def test_hpa_is_served_as_v1_and_v2(http: Http, ns: str) -> None:
    v1 = f"/apis/autoscaling/v1/namespaces/{ns}/horizontalpodautoscalers"
    v2 = f"/apis/autoscaling/v2/namespaces/{ns}/horizontalpodautoscalers"
    target = {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}
    status, _ = http(
        "POST",
        v1,
        {
            "metadata": {"name": "h"},
            "spec": {
                "scaleTargetRef": target,
                "minReplicas": 1,
                "maxReplicas": 4,
                "targetCPUUtilizationPercentage": 70,
            },
        },
    )
    assert status == 201
    _, as_v2 = http("GET", f"{v2}/h")
    assert as_v2["apiVersion"] == "autoscaling/v2"
    assert as_v2["spec"]["metrics"] == [
        {
            "type": "Resource",
            "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}},
        }
    ]
    memory = {
        "type": "Resource",
        "resource": {"name": "memory", "target": {"type": "AverageValue", "averageValue": "1Gi"}},
    }
    http(
        "PATCH",
        f"{v2}/h",
        {"spec": {"metrics": [as_v2["spec"]["metrics"][0], memory]}},
        content_type="application/merge-patch+json",
    )
    _, as_v1 = http("GET", f"{v1}/h")
    assert as_v1["spec"]["targetCPUUtilizationPercentage"] == 70
    assert "metrics" not in as_v1["spec"]
    assert "memory" in as_v1["metadata"]["annotations"]["autoscaling.alpha.kubernetes.io/metrics"]
    _, as_v2 = http("GET", f"{v2}/h")
    assert as_v2["spec"]["metrics"][1] == memory and "annotations" not in as_v2["metadata"]
    _, listed = http("GET", v1)
    assert listed["items"][0]["spec"]["targetCPUUtilizationPercentage"] == 70
