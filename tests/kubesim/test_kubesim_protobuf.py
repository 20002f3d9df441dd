"""kubectl's generator commands send protobuf: kubesim decodes them into exactly the object kubectl builds
(`--dry-run=client -o json` is the oracle), and answers the review APIs behind `kubectl auth`."""

from __future__ import annotations

import json
from typing import Any

import pytest
from kubesim_helpers import needs_kubectl

from kubesim.testing import KubeSimProcess

CASES = [
    ["namespace", "pb-ns"],
    ["configmap", "cm1", "--from-literal=a=b", "--from-literal=c=d"],
    ["secret", "generic", "s1", "--from-literal=user=admin"],
    [
        "secret",
        "docker-registry",
        "reg",
        "--docker-server=r.io",
        "--docker-username=u",
        "--docker-password=p",
    ],
    ["serviceaccount", "sa1"],
    ["deployment", "d1", "--image=nginx:1.25", "--replicas=3", "--port=80"],
    ["service", "clusterip", "svc1", "--tcp=80:8080", "--tcp=443:https"],
    ["service", "nodeport", "svc2", "--tcp=80:8080", "--node-port=30080"],
    ["job", "j1", "--image=busybox", "--", "echo", "hi"],
    ["cronjob", "cj1", "--image=busybox", "--schedule=*/5 * * * *", "--", "date"],
    ["role", "r1", "--verb=get,list", "--resource=pods,configmaps"],
    ["clusterrole", "cr1", "--verb=get", "--resource=nodes"],
    ["clusterrole", "cr2", "--aggregation-rule=a=b"],
    ["rolebinding", "rb1", "--role=r1", "--serviceaccount=default:sa1", "--user=alice"],
    ["clusterrolebinding", "crb1", "--clusterrole=cr1", "--group=devs"],
    ["quota", "q1", "--hard=cpu=1,memory=1G,pods=10"],
    ["poddisruptionbudget", "pdb1", "--selector=app=x", "--min-available=50%"],
    ["priorityclass", "pc1", "--value=1000", "--description=test"],
    ["ingress", "ing1", "--rule=foo.com/bar=svc1:80,tls=secret1", "--class=nginx"],
]

pytestmark = needs_kubectl


def _missing(actual: Any, expected: Any, path: str = "") -> list[str]:
    if isinstance(expected, dict):
        out = []
        for k, v in expected.items():
            if v in (None, {}, []):
                continue
            out += [f"{path}.{k}: missing"] if k not in actual else _missing(actual[k], v, f"{path}.{k}")
        return out
    if isinstance(expected, list):
        if len(actual) != len(expected):
            return [f"{path}: {actual!r} != {expected!r}"]
        return [
            m
            for i, (a, e) in enumerate(zip(actual, expected, strict=True))
            for m in _missing(a, e, f"{path}[{i}]")
        ]
    return [] if actual == expected else [f"{path}: {actual!r} != {expected!r}"]


@pytest.fixture(scope="module")
def sim() -> Any:
    with KubeSimProcess(extra_args=["--no-controllers"]) as s:
        yield s


@pytest.mark.parametrize("args", CASES, ids=[" ".join(c[:2]) for c in CASES])
def test_kubectl_create_generators(sim: KubeSimProcess, args: list[str]) -> None:
    head, tail = (args[: args.index("--")], args[args.index("--") :]) if "--" in args else (args, [])
    expected = json.loads(sim.kubectl("create", *head, "--dry-run=client", "-o", "json", *tail).stdout)
    created = json.loads(sim.kubectl("create", *head, "-o", "json", *tail).stdout)
    assert not _missing(created, expected)
    assert created["metadata"]["uid"]


def test_kubectl_run_and_auth(sim: KubeSimProcess) -> None:
    sim.kubectl("run", "p1", "--image=nginx", "--port=80", "--env=A=1", "--labels=x=y")
    pod = json.loads(sim.kubectl("get", "pod", "p1", "-o", "json").stdout)
    assert pod["spec"]["containers"][0]["env"] == [{"name": "A", "value": "1"}]
    assert pod["metadata"]["labels"] == {"x": "y"}
    assert sim.kubectl("auth", "can-i", "delete", "nodes").stdout.strip() == "yes"
    assert "kubesim-admin" in sim.kubectl("auth", "whoami").stdout


def test_unknown_protobuf_field_is_refused_not_dropped(sim: KubeSimProcess) -> None:
    # A field outside kubesim's table: kubectl create configmap never sends field 9, so craft the body.
    import urllib.error
    import urllib.request

    def ld(num: int, payload: bytes) -> bytes:  # a length-delimited field (payloads here are < 128 bytes)
        return bytes([num << 3 | 2, len(payload)]) + payload

    type_meta = ld(1, b"v1") + ld(2, b"ConfigMap")
    raw = ld(1, ld(1, b"x")) + bytes([9 << 3, 1])  # metadata {name: x}, then field 9 (a varint)
    body = b"k8s\x00" + ld(1, type_meta) + ld(2, raw)
    req = urllib.request.Request(
        f"{sim.url}/api/v1/namespaces/default/configmaps",
        data=body,
        method="POST",
        headers={"Content-Type": "application/vnd.kubernetes.protobuf"},
    )
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req)
    assert err.value.code == 415
    assert "field 9 of ConfigMap" in json.loads(err.value.read())["message"]
