"""Backup -> disaster -> restore of the quickstart app through the CLI, the server and a filesystem store;
describe --details, logs, download."""

from __future__ import annotations

import tarfile
from pathlib import Path

from e2e_helpers import Stack, app_snapshot, deploy_sample_app


def test_backup_delete_namespace_restore(fs: Stack, tmp_path: Path) -> None:
    ns = "e2e-fs"
    deploy_sample_app(fs, ns)
    before = app_snapshot(fs, ns)
    assert set(before) == {
        "Deployment/web", "Service/web", "ConfigMap/web-config", "Secret/web-credentials",
        "PersistentVolumeClaim/web-data", "Widget/blue-widget",
    }  # fmt: skip

    out = fs.cli.run("backup", "create", "fs-1", "--include-namespaces", ns, "--wait").stdout
    assert "Completed" in out
    assert (fs.store / "backups" / "fs-1" / "velero-backup.json").is_file()

    fs.kubectl("delete", "namespace", ns, "--wait=true", "--timeout=60s")
    assert fs.kubectl("get", "namespace", ns, check=False) == ""

    out = fs.cli.run("restore", "create", "fs-1-restore", "--from-backup", "fs-1", "--wait").stdout
    assert "Completed" in out
    assert app_snapshot(fs, ns) == before

    details = fs.cli.run("backup", "describe", "fs-1", "--details").stdout
    assert "Phase:\tCompleted" in details
    assert "Resource List:" in details
    for line in ("v1/ConfigMap:", f"- {ns}/web-config", "apps/v1/Deployment:", f"- {ns}/web",
                 "example.com/v1/Widget:", f"- {ns}/blue-widget", f"- {ns}/web-credentials"):  # fmt: skip
        assert line in details, details

    logs = fs.cli.run("backup", "logs", "fs-1").stdout.splitlines()
    assert logs and all("level=" in line for line in logs), logs[:5]
    assert any("fs-1" in line for line in logs)
    restore_logs = fs.cli.run("restore", "logs", "fs-1-restore").stdout
    assert "restore=fs-1-restore" in restore_logs

    target = tmp_path / "fs-1.tar.gz"
    fs.cli.run("backup", "download", "fs-1", "-o", str(target))
    with tarfile.open(target) as tar:
        tar.extractall(tmp_path / "x", filter="data")
    assert (tmp_path / "x" / "resources" / "configmaps" / "namespaces" / ns / "web-config.json").is_file()
