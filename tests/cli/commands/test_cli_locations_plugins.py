"""Locations (create/get/set --default), plugin add/get/remove, version, client config."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from cli_cluster import BACKUPS, BSLS, DEPLOYMENTS, VSLS, Veloro, invoke, request_answerer

from kubesim.testing import KubeSimProcess
from veloro_core.kube import KubeClient, NotFound


def test_backup_location_create_get_set_default(veloro: Veloro, kube: KubeClient, ns: str) -> None:
    first = veloro(
        "backup-location",
        "create",
        "primary",
        "--provider",
        "aws",
        "--bucket",
        "bk",
        "--prefix",
        "team",
        "--config",
        "region=eu-west-1,s3Url=http://127.0.0.1:9000",
        "--default",
        "--credential",
        "cloud-credentials=cloud",
    )
    assert first.code == 0, first.output
    spec = kube.get(BSLS, "primary", ns)["spec"]
    assert spec == {
        "provider": "aws",
        "objectStorage": {"bucket": "bk", "prefix": "team"},
        "config": {"region": "eu-west-1", "s3Url": "http://127.0.0.1:9000"},
        "credential": {"name": "cloud-credentials", "key": "cloud"},
        "default": True,
        "accessMode": "ReadWrite",
    }
    assert veloro("create", "backup-location", "second", "--provider", "aws", "--bucket", "b2").code == 0
    switched = veloro("backup-location", "set", "second", "--default")
    assert switched.code == 0, switched.output
    assert kube.get(BSLS, "second", ns)["spec"]["default"] is True
    assert kube.get(BSLS, "primary", ns)["spec"]["default"] is False  # exactly one default
    table = veloro("get", "backup-locations")
    rows = {line.split()[0]: line for line in table.stdout.strip().splitlines()[1:]}
    assert "bk/team" in rows["primary"] and rows["second"].rstrip().endswith("true")
    only = json.loads(veloro("backup-location", "get", "--default", "-o", "json").stdout)
    assert [i["metadata"]["name"] for i in only["items"]] == ["second"]
    assert veloro("backup-location", "set", "second").code == 2  # nothing to set
    assert (
        veloro(
            "backup-location", "create", "x", "--provider", "aws", "--bucket", "b", "--credential", "nokey"
        ).code
        == 2
    )
    assert veloro("backup-location", "delete", "primary", "--confirm").code == 0
    with pytest.raises(NotFound):
        kube.get(BSLS, "primary", ns)


def test_snapshot_location_create_set(veloro: Veloro, kube: KubeClient, ns: str) -> None:
    assert (
        veloro("snapshot-location", "create", "ebs", "--provider", "aws", "--config", "region=us-east-1").code
        == 0
    )
    assert kube.get(VSLS, "ebs", ns)["spec"] == {"provider": "aws", "config": {"region": "us-east-1"}}
    assert veloro("snapshot-location", "set", "ebs", "--config", "region=us-west-2").code == 0
    assert kube.get(VSLS, "ebs", ns)["spec"]["config"] == {"region": "us-west-2"}
    table = veloro("snapshot-location", "get")
    assert table.stdout.split()[:2] == ["NAME", "PROVIDER"] and "ebs" in table.stdout


def test_plugin_add_image_patches_the_deployment(
    sim: KubeSimProcess, kube: KubeClient, tmp_path: Path
) -> None:
    veloro = Veloro(str(sim.kubeconfig), "veloro")  # installed by the session fixture
    result = veloro("plugin", "add", "registry.example.com/vendor/my_plugin:v1.2")
    assert result.code == 0, result.output
    pod = kube.get(DEPLOYMENTS, "veloro", "veloro")["spec"]["template"]["spec"]
    init = {c["name"]: c for c in pod["initContainers"]}
    assert init["vendor-my-plugin"]["image"] == "registry.example.com/vendor/my_plugin:v1.2"
    assert init["vendor-my-plugin"]["volumeMounts"] == [{"name": "plugins", "mountPath": "/target"}]
    assert {"name": "plugins", "emptyDir": {}} in pod["volumes"]
    server = next(c for c in pod["containers"] if c["name"] == "veloro")
    assert {"name": "plugins", "mountPath": "/plugins"} in server["volumeMounts"]
    twice = veloro("plugin", "add", "registry.example.com/vendor/my_plugin:v1.2")
    assert twice.code == 1 and "already added" in twice.stderr
    removed = veloro("plugin", "remove", "vendor-my-plugin")
    assert removed.code == 0, removed.output
    pod = kube.get(DEPLOYMENTS, "veloro", "veloro")["spec"]["template"]["spec"]
    assert not pod.get("initContainers")
    assert veloro("plugin", "remove", "vendor-my-plugin").code == 3


def test_plugin_add_image_without_install(veloro: Veloro) -> None:
    result = veloro("plugin", "add", "example.com/p:v1")
    assert result.code == 3 and "veloro install" in result.stderr


def test_plugin_add_path_copies_into_plugin_dir(tmp_path: Path) -> None:
    binary = tmp_path / "veloro-plugin-x"
    binary.write_text("#!/bin/sh\nexit 0\n")
    binary.chmod(0o755)
    plugins = tmp_path / "plugins"
    no_dir = invoke("plugin", "add", str(binary))
    assert no_dir.code == 2 and "plugin-dir" in no_dir.stderr
    assert invoke("client", "config", "set", f"plugin-dir={plugins}").code == 0
    result = invoke("plugin", "add", str(binary))
    assert result.code == 0, result.output
    copied = plugins / "veloro-plugin-x"
    assert copied.read_text() == binary.read_text() and copied.stat().st_mode & stat.S_IXUSR
    assert invoke("plugin", "remove", "veloro-plugin-x", "--plugin-dir", str(plugins)).code == 0
    assert not copied.exists()
    not_exec = tmp_path / "plain"
    not_exec.write_text("x")
    refused = invoke("plugin", "add", str(not_exec), "--plugin-dir", str(plugins))
    assert refused.code == 2 and "not executable" in refused.stderr


def test_plugin_get_and_version_through_server_status_requests(
    veloro: Veloro, kube: KubeClient, ns: str
) -> None:
    plugins = [
        {"name": "veloro.io/aws", "kind": "ObjectStore"},
        {"name": "veloro.io/pod", "kind": "BackupItemAction"},
    ]
    with request_answerer(kube, ns, plugins=plugins, version="1.2.3") as seen:
        listed = veloro("plugin", "get")
        as_json = veloro("get", "plugins", "-o", "json")
        version = veloro("version")
    assert listed.code == 0, listed.output
    lines = listed.stdout.strip().splitlines()
    assert lines[0].split() == ["NAME", "KIND"]
    assert lines[1].split() == ["veloro.io/pod", "BackupItemAction"]
    assert lines[2].split() == ["veloro.io/aws", "ObjectStore"]
    assert json.loads(as_json.stdout)["serverVersion"] == "1.2.3"
    assert version.code == 0 and "Version: 1.2.3" in version.stdout
    assert {r["kind"] for r in seen} == {"ServerStatusRequest"}


def test_version_without_server(veloro: Veloro) -> None:
    result = veloro("version", "--timeout", "0.3")
    assert result.code == 0
    assert "<error getting server version: no answer from the veloro server" in result.stdout
    client_only = invoke("version", "--client-only")
    assert client_only.code == 0 and "Server" not in client_only.stdout


def test_client_config_namespace_is_the_default(sim: KubeSimProcess, kube: KubeClient, ns: str) -> None:
    assert invoke("client", "config", "set", f"namespace={ns}", "colorized=false").code == 0
    shown = invoke("client", "config", "get")
    assert f"namespace: {ns}" in shown.stdout and "colorized: false" in shown.stdout
    created = invoke("backup", "create", "via-config", "--kubeconfig", str(sim.kubeconfig))
    assert created.code == 0, created.output
    assert kube.get(BACKUPS, "via-config", ns)
    assert invoke("client", "config", "set", "bogus=1").code == 2
    assert invoke("client", "config", "set", "colorized=perhaps").code == 2
