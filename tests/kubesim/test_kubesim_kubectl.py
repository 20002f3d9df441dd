"""The real kubectl (v1.32) against kubesim, with client-side validation on (no --validate=false)."""

from __future__ import annotations

import json
import time

import yaml
from kubesim_helpers import MANIFESTS, needs_kubectl

from kubesim.testing import KubeSimProcess

pytestmark = needs_kubectl


def _json(sim: KubeSimProcess, *args: str) -> dict:
    return json.loads(sim.kubectl(*args, "-o", "json").stdout)


def _apply_shop(sim: KubeSimProcess, ns: str) -> None:
    # A CRD and its custom resources in one file: like a real cluster, the first pass cannot map the
    # custom resources (their kind does not exist yet); a second pass after Established applies them.
    first = sim.kubectl("apply", "-n", ns, "-f", str(MANIFESTS / "shop.yaml"), check=False)
    assert first.returncode == 0 or "ensure CRDs are installed first" in first.stderr, first.stderr
    sim.kubectl("wait", "--for=condition=Established", "crd/coupons.shop.example.com", "--timeout=10s")
    out = sim.kubectl("apply", "-n", ns, "-f", str(MANIFESTS / "shop.yaml")).stdout
    assert "coupon.shop.example.com/welcome" in out


def test_apply_multi_document_manifest_and_read_back(kubesim: KubeSimProcess, ns: str) -> None:
    _apply_shop(kubesim, ns)
    cm = _json(kubesim, "get", "cm", "shop-config", "-n", ns)
    assert cm["data"]["settings.json"] == '{"currency": "EUR"}\n'
    assert "kubectl.kubernetes.io/last-applied-configuration" in cm["metadata"]["annotations"]
    secret = _json(kubesim, "get", "secret", "shop-secret", "-n", ns)
    assert secret["data"] == {"DB_PASSWORD": "aHVudGVyMg=="}  # stringData folded into data
    deploy = _json(kubesim, "get", "deploy", "shop-web", "-n", ns)
    assert (
        deploy["spec"]["template"]["spec"]["containers"][0]["env"][1]["valueFrom"]["secretKeyRef"]["name"]
        == "shop-secret"
    )
    rb = _json(kubesim, "get", "rolebinding", "shop-reader", "-n", ns)
    assert rb["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "shop-reader"}
    coupons = _json(kubesim, "get", "coupons", "-n", ns)
    assert sorted(c["spec"]["code"] for c in coupons["items"]) == ["SUMMER20", "WELCOME10"]
    as_yaml = yaml.safe_load(kubesim.kubectl("get", "svc", "shop-web", "-n", ns, "-o", "yaml").stdout)
    assert as_yaml["spec"]["ports"][0]["targetPort"] == "http"
    assert as_yaml["spec"]["clusterIP"].startswith("10.96.")
    # A second apply of the unchanged manifest changes nothing.
    out = kubesim.kubectl("apply", "-n", ns, "-f", str(MANIFESTS / "shop.yaml")).stdout
    assert "configured" not in out.replace("secret/shop-secret configured", "")


def test_get_table_output_and_label_selectors(kubesim: KubeSimProcess, ns: str) -> None:
    _apply_shop(kubesim, ns)
    table = kubesim.kubectl("get", "coupons", "-n", ns).stdout
    assert table.split("\n")[0].split() == ["NAME", "CODE", "DISCOUNT", "AGE"]
    assert "SUMMER20" in table
    names = kubesim.kubectl("get", "coupons", "-n", ns, "-l", "season=summer", "-o", "name").stdout.split()
    assert names == ["coupon.shop.example.com/summer"]
    names = kubesim.kubectl(
        "get", "cm,secret", "-n", ns, "-l", "app=shop,tier notin (db)", "-o", "name"
    ).stdout.split()
    assert names == ["configmap/shop-config", "secret/shop-secret"]
    deadline = time.time() + 5
    while time.time() < deadline:
        pods = kubesim.kubectl("get", "pods", "-n", ns, "-l", "tier=web").stdout
        if pods.count("Running") == 2:
            break
        time.sleep(0.1)
    assert pods.count("Running") == 2, pods
    assert pods.split("\n")[0].split()[:3] == ["NAME", "READY", "STATUS"]


def test_label_annotate_and_patch_flavours(kubesim: KubeSimProcess, ns: str) -> None:
    _apply_shop(kubesim, ns)
    kubesim.kubectl("label", "cm", "shop-config", "-n", ns, "owner=team-a")
    kubesim.kubectl("annotate", "cm", "shop-config", "-n", ns, "note=hello")
    cm = _json(kubesim, "get", "cm", "shop-config", "-n", ns)
    assert cm["metadata"]["labels"]["owner"] == "team-a"
    assert cm["metadata"]["annotations"]["note"] == "hello"
    kubesim.kubectl("label", "cm", "shop-config", "-n", ns, "owner-")
    assert "owner" not in _json(kubesim, "get", "cm", "shop-config", "-n", ns)["metadata"]["labels"]

    kubesim.kubectl("patch", "cm", "shop-config", "-n", ns, "--type=merge", "-p", '{"data":{"EXTRA":"1"}}')
    kubesim.kubectl(
        "patch",
        "cm",
        "shop-config",
        "-n",
        ns,
        "--type=json",
        "-p",
        '[{"op":"remove","path":"/data/LOG_LEVEL"}]',
    )
    assert _json(kubesim, "get", "cm", "shop-config", "-n", ns)["data"].keys() == {"EXTRA", "settings.json"}

    # Strategic merge: containers merge by name, env by name; the other container fields stay.
    kubesim.kubectl(
        "patch",
        "deploy",
        "shop-web",
        "-n",
        ns,
        "-p",
        json.dumps(
            {
                "spec": {
                    "template": {
                        "spec": {
                            "containers": [
                                {
                                    "name": "web",
                                    "image": "nginx:1.27",
                                    "env": [{"name": "NEW", "value": "x"}],
                                },
                                {"name": "sidecar", "image": "busybox"},
                            ]
                        }
                    }
                }
            }
        ),
    )
    deploy = _json(kubesim, "get", "deploy", "shop-web", "-n", ns)
    containers = {c["name"]: c for c in deploy["spec"]["template"]["spec"]["containers"]}
    assert containers["web"]["image"] == "nginx:1.27"
    assert sorted(e["name"] for e in containers["web"]["env"]) == ["DB_PASSWORD", "LOG_LEVEL", "NEW"]
    assert containers["web"]["volumeMounts"] == [{"name": "data", "mountPath": "/data"}]
    assert containers["sidecar"]["image"] == "busybox"
    assert deploy["metadata"]["generation"] == 2


def test_apply_again_updates_with_strategic_merge(kubesim: KubeSimProcess, ns: str) -> None:
    doc = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "api", "namespace": ns},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "api"}},
            "template": {
                "metadata": {"labels": {"app": "api"}},
                "spec": {
                    "containers": [
                        {"name": "a", "image": "img:1", "ports": [{"containerPort": 80}]},
                        {"name": "b", "image": "img:1"},
                    ]
                },
            },
        },
    }
    kubesim.kubectl("apply", "-f", "-", input=json.dumps(doc))
    kubesim.kubectl("set", "env", "deploy/api", "-n", ns, "-c", "a", "ADDED=by-someone-else")
    doc["spec"]["template"]["spec"]["containers"] = [
        {"name": "a", "image": "img:2", "ports": [{"containerPort": 80}]}
    ]
    kubesim.kubectl("apply", "-f", "-", input=json.dumps(doc))
    got = _json(kubesim, "get", "deploy", "api", "-n", ns)["spec"]["template"]["spec"]["containers"]
    assert [c["name"] for c in got] == ["a"]  # b was removed by the three-way merge
    assert got[0]["image"] == "img:2"
    assert got[0]["env"] == [{"name": "ADDED", "value": "by-someone-else"}]  # not ours: kept


def test_scale_and_delete(kubesim: KubeSimProcess, ns: str) -> None:
    _apply_shop(kubesim, ns)
    kubesim.kubectl("scale", "deploy/shop-web", "-n", ns, "--replicas=3")
    kubesim.kubectl(
        "wait", "deploy/shop-web", "-n", ns, "--for=jsonpath={.status.readyReplicas}=3", "--timeout=10s"
    )
    assert len(_json(kubesim, "get", "pods", "-n", ns, "-l", "app=shop")["items"]) == 3
    kubesim.kubectl("delete", "deploy/shop-web", "-n", ns)  # waits until gone; GC removes rs and pods
    deadline = time.time() + 5
    while time.time() < deadline and _json(kubesim, "get", "pods,rs", "-n", ns)["items"]:
        time.sleep(0.05)
    assert _json(kubesim, "get", "pods,rs", "-n", ns)["items"] == []
    kubesim.kubectl("delete", "coupon", "welcome", "-n", ns)
    assert kubesim.kubectl("get", "coupon", "welcome", "-n", ns, check=False).returncode == 1


def test_api_resources_and_versions(kubesim: KubeSimProcess) -> None:
    versions = kubesim.kubectl("api-versions").stdout.split()
    for gv in (
        "v1",
        "apps/v1",
        "batch/v1",
        "autoscaling/v1",
        "autoscaling/v2",
        "policy/v1",
        "rbac.authorization.k8s.io/v1",
        "networking.k8s.io/v1",
        "storage.k8s.io/v1",
        "snapshot.storage.k8s.io/v1",
        "apiextensions.k8s.io/v1",
        "coordination.k8s.io/v1",
        "discovery.k8s.io/v1",
        "events.k8s.io/v1",
        "scheduling.k8s.io/v1",
        "admissionregistration.k8s.io/v1",
    ):
        assert gv in versions
    lines = kubesim.kubectl("api-resources").stdout.splitlines()
    rows = {line.split()[0]: line.split() for line in lines[1:]}
    assert rows["deployments"][1:] == ["deploy", "apps/v1", "true", "Deployment"]
    assert rows["volumesnapshots"][1:] == ["vs", "snapshot.storage.k8s.io/v1", "true", "VolumeSnapshot"]
    assert rows["horizontalpodautoscalers"][2] == "autoscaling/v2"  # v2 is the preferred version


def test_namespace_create_and_delete(kubesim: KubeSimProcess) -> None:
    kubesim.kubectl("create", "namespace", "doomed")
    kubesim.kubectl("create", "configmap", "c1", "-n", "doomed", "--from-literal=a=b")
    kubesim.kubectl("apply", "-n", "doomed", "-f", str(MANIFESTS / "shop.yaml"), check=False)
    assert _json(kubesim, "get", "sa", "default", "-n", "doomed")["metadata"]["name"] == "default"
    assert _json(kubesim, "get", "ns", "doomed")["status"]["phase"] == "Active"
    kubesim.kubectl("delete", "namespace", "doomed", "--timeout=20s")  # waits until the namespace is gone
    assert kubesim.kubectl("get", "namespace", "doomed", check=False).returncode == 1
    assert kubesim.kubectl("get", "cm,deploy,pods,pvc", "-n", "doomed", "-o", "name").stdout == ""


def test_rollout_commands(kubesim: KubeSimProcess, ns: str) -> None:
    kubesim.kubectl("create", "deployment", "web", "-n", ns, "--image=nginx:1.25", "--replicas=2")
    kubesim.kubectl("rollout", "status", "deploy/web", "-n", ns, "--timeout=10s")
    kubesim.kubectl("set", "image", "deploy/web", "-n", ns, "nginx=nginx:1.26")
    kubesim.kubectl("rollout", "status", "deploy/web", "-n", ns, "--timeout=10s")
    assert len(_json(kubesim, "get", "rs", "-n", ns)["items"]) == 2
    kubesim.kubectl("rollout", "undo", "deploy/web", "-n", ns)
    image = _json(kubesim, "get", "deploy", "web", "-n", ns)["spec"]["template"]["spec"]["containers"][0][
        "image"
    ]
    assert image == "nginx:1.25"
    kubesim.kubectl("expose", "deploy/web", "-n", ns, "--port=80", "--target-port=8080")
    assert _json(kubesim, "get", "svc", "web", "-n", ns)["spec"]["selector"] == {"app": "web"}


def test_crd_wait_established_and_deletion_removes_objects(kubesim: KubeSimProcess) -> None:
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "gadgets.test.example.com"},
        "spec": {
            "group": "test.example.com",
            "scope": "Cluster",
            "names": {"plural": "gadgets", "kind": "Gadget", "shortNames": ["gd"]},
            "versions": [
                {
                    "name": "v1beta1",
                    "served": True,
                    "storage": False,
                    "schema": {"openAPIV3Schema": {"type": "object"}},
                },
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {"openAPIV3Schema": {"type": "object"}},
                },
            ],
        },
    }
    kubesim.kubectl("apply", "-f", "-", input=json.dumps(crd))
    kubesim.kubectl("wait", "--for=condition=Established", "crd/gadgets.test.example.com", "--timeout=10s")
    kubesim.kubectl(
        "apply",
        "-f",
        "-",
        input=json.dumps(
            {
                "apiVersion": "test.example.com/v1beta1",
                "kind": "Gadget",
                "metadata": {"name": "g1"},
                "spec": {},
            }
        ),
    )
    got = _json(kubesim, "get", "gd", "g1")
    assert got["apiVersion"] == "test.example.com/v1"  # the preferred version serves it
    assert "gadgets" in kubesim.kubectl("api-resources", "--api-group=test.example.com").stdout
    kubesim.kubectl("delete", "crd", "gadgets.test.example.com", "--timeout=20s")
    assert "gadgets" not in kubesim.kubectl("api-resources").stdout
