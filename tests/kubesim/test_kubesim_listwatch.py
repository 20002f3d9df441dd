"""Lists (selectors, paging over a consistent snapshot, 410 for expired tokens), watches over raw HTTP,
server-side Table output and discovery documents."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Callable
from typing import Any

from kubesim_helpers import Http

from kubesim.testing import KubeSimProcess


def _fill(http: Http, ns: str, n: int) -> None:
    for i in range(n):
        labels = {"idx": str(i), "parity": "even" if i % 2 == 0 else "odd"}
        if i % 3 == 0:
            labels["fizz"] = "yes"
        status, body = http(
            "POST",
            f"/api/v1/namespaces/{ns}/configmaps",
            {"metadata": {"name": f"cm-{i:03d}", "labels": labels}},
        )
        assert status == 201, body


def _names(body: dict[str, Any]) -> list[str]:
    return [i["metadata"]["name"] for i in body["items"]]


def test_label_and_field_selectors(http: Http, ns: str) -> None:
    _fill(http, ns, 10)
    base = f"/api/v1/namespaces/{ns}/configmaps"
    cases = {
        "parity=even": 5,
        "parity==odd": 5,
        "parity!=even": 6,  # kube-root-ca.crt has no parity label
        "idx in (1,2,3)": 3,
        "idx notin (1,2,3)": 8,
        "fizz": 4,
        "!fizz": 7,
        "parity=even,fizz": 2,
        "idx>7": 2,
    }
    for selector, count in cases.items():
        status, body = http("GET", f"{base}?labelSelector={urllib.request.quote(selector)}")
        assert status == 200 and len(body["items"]) == count, (selector, body)
    status, body = http("GET", f"{base}?fieldSelector=metadata.name%3Dcm-004")
    assert _names(body) == ["cm-004"]
    status, body = http(
        "GET", f"/api/v1/configmaps?fieldSelector=metadata.namespace%3D{ns},metadata.name!%3Dcm-004"
    )
    assert len(body["items"]) == 10
    status, body = http("GET", f"{base}?fieldSelector=data.x%3Dy")
    assert status == 400 and body["reason"] == "BadRequest" and "field label not supported" in body["message"]
    status, body = http("GET", f"{base}?labelSelector=a%20in%20b")
    assert status == 400


def test_paging_is_a_consistent_snapshot(http: Http, ns: str) -> None:
    _fill(http, ns, 25)
    base = f"/api/v1/namespaces/{ns}/configmaps"
    status, page1 = http("GET", f"{base}?limit=10")
    assert status == 200 and len(page1["items"]) == 10
    assert page1["metadata"]["remainingItemCount"] == 16  # 25 + kube-root-ca.crt
    rv = page1["metadata"]["resourceVersion"]
    # Changes after the first page do not show up in later pages of the same list.
    http("DELETE", f"{base}/cm-020")
    http("POST", base, {"metadata": {"name": "cm-999"}})
    names = _names(page1)
    token = page1["metadata"]["continue"]
    while token:
        status, page = http("GET", f"{base}?limit=10&continue={token}")
        assert status == 200 and page["metadata"]["resourceVersion"] == rv
        names += _names(page)
        token = page["metadata"].get("continue")
    assert names == [*(f"cm-{i:03d}" for i in range(25)), "kube-root-ca.crt"]
    status, _body = http("GET", f"{base}?limit=10&continue=not-a-token")
    assert status == 400


def test_expired_continue_token_answers_410(kubesim_factory: Callable[..., KubeSimProcess]) -> None:
    sim = kubesim_factory(extra_args=["--list-snapshot-ttl", "0.2", "--no-controllers"])
    http = Http(sim.url)
    _fill(http, "default", 5)
    _, page = http("GET", "/api/v1/namespaces/default/configmaps?limit=2")
    time.sleep(0.4)
    status, body = http(
        "GET", f"/api/v1/namespaces/default/configmaps?limit=2&continue={page['metadata']['continue']}"
    )
    assert status == 410 and body["reason"] == "Expired" and body["code"] == 410


def _watch(url: str, path: str, until: int, timeout: float = 5.0) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    with urllib.request.urlopen(url + path, timeout=timeout) as resp:
        assert resp.headers.get("Transfer-Encoding") == "chunked"
        for line in resp:
            events.append(json.loads(line))
            if len(events) >= until:
                break
    return events


def test_watch_resume_bookmarks_and_initial_events(kubesim: KubeSimProcess, http: Http, ns: str) -> None:
    base = f"/api/v1/namespaces/{ns}/configmaps"
    _, first = http("POST", base, {"metadata": {"name": "a"}})
    _, second = http("POST", base, {"metadata": {"name": "b"}})
    http("DELETE", f"{base}/a")
    rv = first["metadata"]["resourceVersion"]
    events = _watch(kubesim.url, f"{base}?watch=true&resourceVersion={rv}", until=2)
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [
        ("ADDED", "b"),
        ("DELETED", "a"),
    ]
    deleted_rv = int(events[1]["object"]["metadata"]["resourceVersion"])
    assert deleted_rv > int(second["metadata"]["resourceVersion"])
    # No resourceVersion: the current state as ADDED events first.
    events = _watch(kubesim.url, f"{base}?watch=1", until=1)
    assert events[0]["type"] == "ADDED" and events[0]["object"]["metadata"]["name"] == "b"
    # sendInitialEvents: a bookmark marks the end of the initial state.
    events = _watch(
        kubesim.url,
        f"{base}?watch=1&sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan",
        until=3,
    )
    assert [e["type"] for e in events] == ["ADDED", "ADDED", "BOOKMARK"]  # b, kube-root-ca.crt, the end
    assert events[2]["object"]["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}
    # timeoutSeconds ends the stream.
    started = time.time()
    with urllib.request.urlopen(
        kubesim.url + f"{base}?watch=1&resourceVersion={deleted_rv}&timeoutSeconds=1"
    ) as r:
        assert r.read() == b""
    assert time.time() - started < 3


def test_watch_too_old_resource_version_is_gone(kubesim_factory: Callable[..., KubeSimProcess]) -> None:
    sim = kubesim_factory(extra_args=["--event-log-size", "10", "--no-controllers"])
    http = Http(sim.url)
    _fill(http, "default", 30)
    events = _watch(sim.url, "/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=5", until=1)
    assert events[0]["type"] == "ERROR"
    assert events[0]["object"]["code"] == 410 and events[0]["object"]["reason"] == "Expired"


def test_server_side_table(http: Http, ns: str) -> None:
    _fill(http, ns, 3)
    accept = {"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"}
    status, table = http("GET", f"/api/v1/namespaces/{ns}/configmaps", headers=accept)
    assert status == 200 and table["kind"] == "Table"
    assert [c["name"] for c in table["columnDefinitions"]] == ["Name", "Data", "Age"]
    assert [r["cells"][0] for r in table["rows"]] == ["cm-000", "cm-001", "cm-002", "kube-root-ca.crt"]
    assert table["rows"][0]["object"]["kind"] == "PartialObjectMetadata"


def test_discovery_documents(http: Http) -> None:
    status, body = http("GET", "/apis/autoscaling")
    assert status == 200 and body["preferredVersion"]["version"] == "v2"
    status, body = http("GET", "/api/v1")
    assert status == 200
    pods = next(r for r in body["resources"] if r["name"] == "pods")
    assert pods["shortNames"] == ["po"] and pods["namespaced"] and "watch" in pods["verbs"]
    assert any(r["name"] == "pods/status" for r in body["resources"])
    aggregated = {
        "Accept": "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"
    }
    status, body = http("GET", "/apis", headers=aggregated)
    assert status == 200 and body["kind"] == "APIGroupDiscoveryList"
    apps = next(g for g in body["items"] if g["metadata"]["name"] == "apps")
    deploy = next(r for r in apps["versions"][0]["resources"] if r["resource"] == "deployments")
    assert {s["subresource"] for s in deploy["subresources"]} == {"status", "scale"}
    _, body = http("GET", "/version")
    assert body["major"] == "1" and body["minor"] == "32"
    _status, body = http("GET", "/openapi/v3")
    assert "apis/snapshot.storage.k8s.io/v1" in body["paths"]
