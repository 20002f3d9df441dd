"""Error translation: server Status bodies -> the KubeError tree, through real HTTP."""

from __future__ import annotations

import socket

import pytest
from kube_helpers import CONFIGMAPS, DEPLOYMENTS

from veloro_core.kube import (
    AlreadyExists,
    Conflict,
    GroupVersionResource,
    Invalid,
    KubeClient,
    KubeError,
    KubeSettings,
    NotFound,
    Unreachable,
)
from veloro_core.kube.config import build_transport
from veloro_core.kube.errors import BadRequest, Forbidden, ServerError, TooManyRequests, from_response


def test_not_found(kube: KubeClient, ns: str) -> None:
    with pytest.raises(NotFound) as info:
        kube.get(CONFIGMAPS, "nope", ns)
    assert info.value.code == 404 and info.value.reason == "NotFound"
    assert '"nope" not found' in info.value.message


def test_unknown_resource_path_is_not_found(kube: KubeClient) -> None:
    with pytest.raises(NotFound):
        kube.get(GroupVersionResource("nope.example.com", "v1", "things"), "x")


def test_already_exists_and_stale_conflict(kube: KubeClient, ns: str) -> None:
    first = kube.create(CONFIGMAPS, {"metadata": {"name": "dup", "namespace": ns}, "data": {"v": "1"}})
    with pytest.raises(AlreadyExists) as info:
        kube.create(CONFIGMAPS, {"metadata": {"name": "dup", "namespace": ns}})
    assert info.value.code == 409 and info.value.details.get("name") == "dup"
    kube.patch(CONFIGMAPS, "dup", {"data": {"v": "2"}}, ns)
    first["data"] = {"v": "stale"}
    with pytest.raises(Conflict) as conflict:
        kube.update(CONFIGMAPS, first)  # still carries the old resourceVersion
    assert not isinstance(conflict.value, AlreadyExists)
    assert conflict.value.reason == "Conflict" and "latest resourceVersion" in str(conflict.value)


def test_invalid_has_causes(kube: KubeClient, ns: str) -> None:
    bad = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "Bad_Name", "namespace": ns},
           "spec": {"selector": {"matchLabels": {"a": "b"}},
                    "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": []}}}}
    with pytest.raises(Invalid) as info:
        kube.create(DEPLOYMENTS, bad)
    assert info.value.code == 422 and info.value.causes


def test_unreachable_after_bounded_retries(kube: KubeClient) -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens on this port now
    settings = KubeSettings(max_attempts=3, backoff_base=0.01, backoff_max=0.02, connect_timeout=1)
    transport = build_transport(_config_for(f"http://127.0.0.1:{port}"), settings)
    client = KubeClient(transport, settings)
    with pytest.raises(Unreachable, match="cannot reach the API server"):
        client.get(CONFIGMAPS, "x", "default")


def _config_for(url: str) -> object:
    from kubernetes import client as k8s

    cfg = k8s.Configuration()
    cfg.host = url
    return cfg


@pytest.mark.parametrize(("code", "reason", "cls"), [
    (400, "BadRequest", BadRequest), (403, "Forbidden", Forbidden), (404, "NotFound", NotFound),
    (409, "AlreadyExists", AlreadyExists), (409, "Conflict", Conflict), (422, "Invalid", Invalid),
    (429, "TooManyRequests", TooManyRequests), (503, "ServiceUnavailable", ServerError),
    (405, "MethodNotAllowed", BadRequest),
])
def test_from_response_maps_codes(code: int, reason: str, cls: type[KubeError]) -> None:
    body = b'{"kind":"Status","status":"Failure","message":"m","reason":"%s","code":%d}' % (
        reason.encode(), code)
    err = from_response(code, body)
    assert type(err) is cls and err.code == code and err.reason == reason and err.message == "m"


def test_from_response_without_status_body() -> None:
    err = from_response(502, b"<html>bad gateway</html>", "GET", "http://x/api")
    assert isinstance(err, ServerError) and "bad gateway" in err.message and "HTTP 502" in str(err)
