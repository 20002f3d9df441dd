"""kubeconfig and in-cluster loading (the kubernetes package underneath), and config errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from kube_helpers import CONFIGMAPS, local_server

from kubesim.testing import KubeSimProcess
from veloro_core.kube import ConfigError, KubeClient, KubeSettings
from veloro_core.kube.config import build_transport, load_in_cluster, load_kubeconfig


def _two_context_kubeconfig(tmp_path: Path, kubesim: KubeSimProcess) -> Path:
    doc = yaml.safe_load(kubesim.kubeconfig.read_text())
    doc["clusters"].append({"name": "dead", "cluster": {"server": "http://127.0.0.1:9"}})
    doc["contexts"].append({"name": "dead", "context": {"cluster": "dead", "user": "kubesim"}})
    doc["users"][0]["user"] = {"token": "s3cr3t"}
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(doc))
    return path


def test_context_selection(tmp_path: Path, kubesim: KubeSimProcess) -> None:
    path = _two_context_kubeconfig(tmp_path, kubesim)
    assert load_kubeconfig(path).host == kubesim.url
    assert load_kubeconfig(path, "dead").host == "http://127.0.0.1:9"
    with KubeClient.from_kubeconfig(path, "kubesim") as client:
        assert client.get_json("/version")["major"]


def test_token_from_kubeconfig_is_sent(tmp_path: Path, kubesim: KubeSimProcess) -> None:
    seen: list[str] = []
    path = _two_context_kubeconfig(tmp_path, kubesim)

    with local_server(lambda m, p, b: (200, {"Content-Type": "application/json"}, b"{}")) as url:
        cfg = load_kubeconfig(path)
        cfg.host = url
        transport = build_transport(cfg, KubeSettings())
        seen.append(transport._headers("application/json", None)["authorization"])
        assert KubeClient(transport).get_json("/version") == {}
    assert seen == ["Bearer s3cr3t"]


def test_bad_kubeconfig_and_unknown_context(tmp_path: Path, kubesim: KubeSimProcess) -> None:
    with pytest.raises(ConfigError, match="cannot load kubeconfig"):
        load_kubeconfig(tmp_path / "missing")
    with pytest.raises(ConfigError, match="context 'nope'"):
        load_kubeconfig(kubesim.kubeconfig, "nope")
    with pytest.raises(ConfigError) as info:
        KubeClient.from_kubeconfig(tmp_path / "missing")
    assert "kubeconfig" in str(info.value) and info.value.hint in str(info.value)


def test_in_cluster(tmp_path: Path) -> None:
    token, ca = tmp_path / "token", tmp_path / "ca.crt"
    token.write_text("sa-token")
    ca.write_text("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n")
    env = {"KUBERNETES_SERVICE_HOST": "10.0.0.1", "KUBERNETES_SERVICE_PORT": "443"}
    cfg = load_in_cluster(token, ca, env)
    assert cfg.host == "https://10.0.0.1:443" and cfg.ssl_ca_cert == str(ca)
    transport = build_transport(cfg, KubeSettings(pool_maxsize=7))
    # the kubernetes package writes "bearer" in lower case for in-cluster tokens; servers ignore case
    assert transport._headers("application/json", None)["authorization"].lower() == "bearer sa-token"
    assert transport.pool.connection_pool_kw["maxsize"] == 7
    with pytest.raises(ConfigError, match="in-cluster"):
        load_in_cluster(token, ca, {})


def test_pool_is_sized_for_threads(kubesim: KubeSimProcess) -> None:
    with KubeClient.from_kubeconfig(kubesim.kubeconfig, settings=KubeSettings(pool_maxsize=12)) as client:
        assert client.transport.pool.connection_pool_kw["maxsize"] == 12
        assert list(client.list_items(CONFIGMAPS, "default")) is not None
