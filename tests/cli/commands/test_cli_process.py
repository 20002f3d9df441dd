"""The CLI as a real process (`python -m veloro_core.cli`) against kubesim and against nothing."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import yaml
from cli_cluster import BACKUPS
from cli_helpers import veloro

from kubesim.testing import KubeSimProcess
from veloro_core.kube import KubeClient


def _closed_port_kubeconfig(tmp_path: Path) -> Path:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again when the block ends: nothing listens there
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": "dead",
        "clusters": [{"name": "dead", "cluster": {"server": f"http://127.0.0.1:{port}"}}],
        "users": [{"name": "u", "user": {"token": "t"}}],
        "contexts": [{"name": "dead", "context": {"cluster": "dead", "user": "u"}}],
    }
    path = tmp_path / "dead.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_unreachable_cluster_is_one_line_exit_4(tmp_path: Path) -> None:
    kubeconfig = _closed_port_kubeconfig(tmp_path)
    for args in (
        ["backup", "get"],
        ["backup", "create", "x"],
        ["install", "--provider", "aws", "--bucket", "b", "--no-secret"],
    ):
        result = veloro(*args, "--kubeconfig", str(kubeconfig), timeout=60)
        assert result.returncode == 4, result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: cannot reach the Kubernetes cluster"), (
            result.stderr
        )
        assert "Traceback" not in result.stderr


def test_missing_kubeconfig_is_one_line_exit_4(tmp_path: Path) -> None:
    result = veloro("backup", "get", "--kubeconfig", str(tmp_path / "nope.yaml"))
    assert result.returncode == 4
    assert len(result.stderr.strip().splitlines()) == 1 and "kubeconfig" in result.stderr


def test_backup_create_and_get_as_processes(sim: KubeSimProcess, kube: KubeClient, ns: str) -> None:
    args = ("--kubeconfig", str(sim.kubeconfig), "-n", ns)
    created = veloro("backup", "create", "proc", "--include-namespaces", "web", *args)
    assert created.returncode == 0, created.stderr
    assert kube.get(BACKUPS, "proc", ns)["spec"] == {"includedNamespaces": ["web"]}
    listed = veloro("--kubeconfig", str(sim.kubeconfig), "get", "backups", "-n", ns)
    assert listed.returncode == 0 and listed.stdout.splitlines()[1].split()[:2] == ["proc", "New"]
    bad = veloro("restore", "create", "--from-backup", "proc", "--existing-resource-policy", "merge", *args)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1


def test_completion_scripts() -> None:
    for shell, marker in (
        ("bash", "complete -o"),
        ("zsh", "#compdef veloro"),
        ("fish", "complete --no-files"),
    ):
        result = veloro("completion", shell)
        assert result.returncode == 0, result.stderr
        assert marker in result.stdout and "_VELORO_COMPLETE" in result.stdout
    assert veloro("completion", "tcsh").returncode == 2


def test_completion_completes_commands() -> None:
    env = {**os.environ, "_VELORO_COMPLETE": "bash_complete", "COMP_WORDS": "veloro bac", "COMP_CWORD": "1"}
    result = veloro(env=env)
    completions = result.stdout.split()
    assert "plain,backup" in completions and "plain,backup-location" in completions
