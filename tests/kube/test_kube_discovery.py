"""Discovery against kubesim: groups, preferred versions, scope, verbs, name resolution, refresh, warnings."""

from __future__ import annotations

import orjson
import pytest
import urllib3
from kube_helpers import CRDS, local_server, widget_crd
from kubernetes import client as k8s

from kubesim.testing import KubeSimProcess
from veloro_core.kube import KubeClient, KubeSettings, UnknownResource
from veloro_core.kube.config import build_transport


def test_groups_and_preferred_versions(kube: KubeClient) -> None:
    d = kube.discovery
    groups = {g.name: g for g in d.groups}
    assert d.groups[0].name == "" and groups[""].preferred_version == "v1"
    assert groups["apps"].preferred_version == "v1"
    assert groups["autoscaling"].preferred_version == "v2" and "v1" in groups["autoscaling"].versions
    assert d.preferred_version("autoscaling") == "v2"
    preferred = [r for r in d.resources() if r.group == "autoscaling"]
    assert {r.version for r in preferred} == {"v2"}
    assert {r.version for r in d.resources(preferred_only=False) if r.group == "autoscaling"} == {"v1", "v2"}
    with pytest.raises(UnknownResource):
        d.preferred_version("nope.example.com")


def test_resource_facts(kube: KubeClient) -> None:
    d = kube.discovery
    pods = d.find("", "pods")
    assert pods is not None and pods.namespaced and pods.kind == "Pod"
    assert {"list", "create", "get", "delete", "watch"} <= pods.verbs
    assert "status" in pods.subresources and "po" in pods.short_names
    nodes = d.find("", "nodes")
    assert nodes is not None and not nodes.namespaced
    assert all("/" not in r.name for r in d.resources(preferred_only=False))
    backup = d.backup_resources()
    assert all(r.supports("list", "create", "get", "delete") for r in backup)
    assert {"pods", "deployments.apps", "namespaces"} <= {r.group_resource for r in backup}
    assert d.for_kind("apps/v1", "Deployment").name == "deployments"
    with pytest.raises(UnknownResource):
        d.for_kind("apps/v1beta1", "Deployment")


@pytest.mark.parametrize(("name", "expected"), [
    ("pods", "pods"), ("pod", "pods"), ("po", "pods"), ("Pod", "pods"),
    ("deploy", "deployments.apps"), ("deployments.apps", "deployments.apps"),
    ("deployments.v1.apps", "deployments.apps"), ("Deployment", "deployments.apps"),
    ("Deployment.apps", "deployments.apps"), ("events", "events"),
    ("events.events.k8s.io", "events.events.k8s.io"),
    ("crd", "customresourcedefinitions.apiextensions.k8s.io"),
    ("hpa", "horizontalpodautoscalers.autoscaling"),
])
def test_resolve(kube: KubeClient, name: str, expected: str) -> None:
    assert kube.discovery.resolve(name).group_resource == expected


def test_resolve_version_and_unknown(kube: KubeClient) -> None:
    assert kube.discovery.resolve("horizontalpodautoscalers.v1.autoscaling").version == "v1"
    assert kube.discovery.resolve("hpa").version == "v2"
    with pytest.raises(UnknownResource, match="does not have a resource type 'frobs'"):
        kube.discovery.resolve("frobs")


def test_crd_appears_after_refresh(kubesim: KubeSimProcess) -> None:
    with KubeClient.from_kubeconfig(kubesim.kubeconfig) as client:
        d = client.discovery
        crd = widget_crd()
        crd["metadata"]["name"] = "gadgets.disc.example.com"
        crd["spec"]["group"] = "disc.example.com"
        crd["spec"]["names"] = {"plural": "gadgets", "singular": "gadget", "kind": "Gadget"}
        assert d.find("disc.example.com", "gadgets") is None
        client.create(CRDS, crd)
        assert d.find("disc.example.com", "gadgets") is None  # cached until refresh
        d.refresh()
        gadgets = d.resolve("gadget")
        assert gadgets.group == "disc.example.com" and gadgets.namespaced and "status" in gadgets.subresources
        assert gadgets in d.backup_resources()


def test_failing_group_is_a_warning(kubesim: KubeSimProcess) -> None:
    """A proxy in front of kubesim adds metrics.k8s.io whose discovery answers 503 (an APIService down)."""
    upstream = urllib3.PoolManager()

    def proxy(method: str, path: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
        if path.startswith("/apis/metrics.k8s.io/"):
            return 503, {"Content-Type": "text/plain"}, b"service unavailable"
        resp = upstream.request(method, kubesim.url + path, body=body or None)
        data = resp.data
        if path == "/apis":
            doc = orjson.loads(data)
            gv = {"groupVersion": "metrics.k8s.io/v1beta1", "version": "v1beta1"}
            doc["groups"].append({"name": "metrics.k8s.io", "versions": [gv], "preferredVersion": gv})
            data = orjson.dumps(doc)
        return resp.status, {"Content-Type": "application/json"}, data

    with local_server(proxy) as url:
        cfg = k8s.Configuration()
        cfg.host = url
        settings = KubeSettings(max_attempts=2, backoff_base=0.01)
        with KubeClient(build_transport(cfg, settings), settings) as client:
            d = client.discovery
            assert len(d.warnings) == 1 and "metrics.k8s.io/v1beta1" in d.warnings[0]
            assert "503" in d.warnings[0]
            assert d.resolve("pods").group == ""
            assert not [r for r in d.resources() if r.group == "metrics.k8s.io"]
