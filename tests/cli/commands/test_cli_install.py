"""`veloro install` / `uninstall`: the manifests (--dry-run, no cluster), applying them to kubesim, waiting
for the Deployment, idempotence, and removal."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
import yaml
from cli_cluster import BSLS, DEPLOYMENTS, VSLS, Veloro, invoke
from cli_helpers import veloro as veloro_process

from kubesim.testing import KubeSimProcess
from veloro_core.api.registry import ALL_RESOURCES
from veloro_core.kube import GroupVersionResource, KubeClient, KubeSettings, NotFound

CRDS = GroupVersionResource("apiextensions.k8s.io", "v1", "customresourcedefinitions")
NAMESPACES = GroupVersionResource("", "v1", "namespaces")
CLUSTER_ROLES = GroupVersionResource("rbac.authorization.k8s.io", "v1", "clusterroles")
BINDINGS = GroupVersionResource("rbac.authorization.k8s.io", "v1", "clusterrolebindings")
ROLES = GroupVersionResource("rbac.authorization.k8s.io", "v1", "roles")
SECRETS = GroupVersionResource("", "v1", "secrets")
DAEMONSETS = GroupVersionResource("apps", "v1", "daemonsets")


def _full_args(secret: Path) -> list[str]:
    return [
        "install",
        "--provider",
        "aws",
        "--bucket",
        "backups",
        "--prefix",
        "cluster-a",
        "--backup-location-config",
        "region=us-east-1,s3Url=http://minio:9000,s3ForcePathStyle=true",
        "--snapshot-location-config",
        "region=us-east-1",
        "--secret-file",
        str(secret),
        "--plugins",
        "example.com/vendor/plugin-a:v1,example.com/plugin-b:v2",
        "--use-node-agent",
        "--default-volumes-to-fs-backup",
        "--image",
        "example.com/veloro:test",
    ]


def test_dry_run_yaml_has_every_kind_without_a_cluster(tmp_path: Path) -> None:
    secret = tmp_path / "credentials"
    secret.write_text("[default]\naws_access_key_id=AK\naws_secret_access_key=SK\n")
    kubeconfig = tmp_path / "none.yaml"  # never read: a dry run needs no cluster
    result = veloro_process(
        *_full_args(secret), "--dry-run", "-o", "yaml", "-n", "backup-ns", "--kubeconfig", str(kubeconfig)
    )
    assert result.returncode == 0, result.stderr
    doc = yaml.safe_load(result.stdout)
    assert doc["kind"] == "List"
    by_kind: dict[str, list[dict]] = {}
    for item in doc["items"]:
        by_kind.setdefault(item["kind"], []).append(item)
    assert set(by_kind) == {
        "Namespace",
        "CustomResourceDefinition",
        "ServiceAccount",
        "ClusterRole",
        "ClusterRoleBinding",
        "Role",
        "RoleBinding",
        "Secret",
        "Deployment",
        "DaemonSet",
        "BackupStorageLocation",
        "VolumeSnapshotLocation",
    }
    assert {c["spec"]["names"]["kind"] for c in by_kind["CustomResourceDefinition"]} == {
        r.KIND for r in ALL_RESOURCES
    }
    secret_obj = by_kind["Secret"][0]
    assert base64.b64decode(secret_obj["data"]["cloud"]) == secret.read_bytes()
    deployment = by_kind["Deployment"][0]
    pod = deployment["spec"]["template"]["spec"]
    assert deployment["metadata"]["namespace"] == "backup-ns"
    assert [c["image"] for c in pod["initContainers"]] == [
        "example.com/vendor/plugin-a:v1",
        "example.com/plugin-b:v2",
    ]
    assert all(
        c["volumeMounts"] == [{"name": "plugins", "mountPath": "/target"}] for c in pod["initContainers"]
    )
    server = pod["containers"][0]
    assert server["image"] == "example.com/veloro:test"
    assert server["args"][:5] == ["server", "--namespace", "backup-ns", "--plugin-dir", "/plugins"]
    assert "--default-volumes-to-fs-backup" in server["args"]
    assert {"name": "AWS_SHARED_CREDENTIALS_FILE", "value": "/credentials/cloud"} in server["env"]
    bsl = by_kind["BackupStorageLocation"][0]
    assert bsl["spec"] == {
        "provider": "aws",
        "objectStorage": {"bucket": "backups", "prefix": "cluster-a"},
        "default": True,
        "config": {"region": "us-east-1", "s3Url": "http://minio:9000", "s3ForcePathStyle": "true"},
    }
    assert by_kind["VolumeSnapshotLocation"][0]["spec"] == {
        "provider": "aws",
        "config": {"region": "us-east-1"},
    }
    rules = by_kind["ClusterRole"][0]["rules"]
    assert {"apiGroups": ["*"], "resources": ["*"], "verbs": ["get", "list", "watch"]} in rules
    assert not any("delete" in r["verbs"] and r["resources"] == ["*"] for r in rules)  # no blanket delete
    binding = by_kind["ClusterRoleBinding"][0]
    assert binding["roleRef"]["name"] == by_kind["ClusterRole"][0]["metadata"]["name"]
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "veloro", "namespace": "backup-ns"}]
    as_json = veloro_process(*_full_args(secret), "--dry-run", "-o", "json", "-n", "backup-ns")
    assert json.loads(as_json.stdout) == doc


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--provider", "aws", "--bucket", "b"], "--secret-file FILE"),
        (["--bucket", "b", "--no-secret"], "--provider and --bucket are required"),
        (
            ["--provider", "aws", "--bucket", "b", "--no-secret", "--default-volumes-to-fs-backup"],
            "--use-node-agent",
        ),
        (["--provider", "aws", "--bucket", "b", "--secret-file", "/no/such/file"], "does not exist"),
        (
            ["--provider", "aws", "--bucket", "b", "--no-secret", "--backup-location-config", "region"],
            "KEY=VALUE",
        ),
    ],
)
def test_install_usage_errors(args: list[str], message: str) -> None:
    result = invoke("install", *args, "--dry-run")
    assert result.code == 2, result.output
    assert len(result.stderr.strip().splitlines()) == 1 and message in result.stderr


def test_install_into_kubesim_then_uninstall(tmp_path: Path) -> None:
    secret = tmp_path / "credentials"
    secret.write_text("[default]\naws_access_key_id=AK\n")
    with (
        KubeSimProcess() as sim,
        KubeClient.from_kubeconfig(sim.kubeconfig, settings=KubeSettings(qps=0)) as kube,
    ):
        veloro = Veloro(str(sim.kubeconfig), "vel")
        result = veloro(*_full_args(secret), "--wait", "--wait-timeout", "30")
        assert result.code == 0, result.output
        crds = {c["metadata"]["name"] for c in kube.list_items(CRDS)}
        assert {f"{r.PLURAL}.veloro.io" for r in ALL_RESOURCES} <= crds
        kube.get(NAMESPACES, "vel")
        assert kube.get(CLUSTER_ROLES, "veloro-vel")["rules"]
        assert kube.get(BINDINGS, "veloro-vel")["subjects"][0]["namespace"] == "vel"
        kube.get(ROLES, "veloro", "vel")
        kube.get(SECRETS, "cloud-credentials", "vel")
        assert kube.get(DEPLOYMENTS, "veloro", "vel")["status"]["availableReplicas"] == 1
        kube.get(DAEMONSETS, "node-agent", "vel")
        assert kube.get(BSLS, "default", "vel")["spec"]["default"] is True
        kube.get(VSLS, "default", "vel")
        again = veloro(*_full_args(secret), "--image", "example.com/veloro:v2")  # idempotent, updates
        assert again.code == 0, again.output
        server = kube.get(DEPLOYMENTS, "veloro", "vel")["spec"]["template"]["spec"]["containers"][0]
        assert server["image"] == "example.com/veloro:v2"
        assert veloro("backup", "create", "after-install").code == 0  # the CRDs serve objects
        refused = veloro("uninstall")
        assert refused.code == 2 and "--confirm" in refused.stderr
        removed = veloro("uninstall", "--force", "--wait", "--wait-timeout", "30")
        assert removed.code == 0, removed.output
        for gvr, name in (
            (NAMESPACES, "vel"),
            (CLUSTER_ROLES, "veloro-vel"),
            (BINDINGS, "veloro-vel"),
            (CRDS, "backups.veloro.io"),
        ):
            with pytest.raises(NotFound):
                kube.get(gvr, name)
        not_installed = veloro("backup", "get")
        assert not_installed.code == 3 and "veloro install" in not_installed.stderr
