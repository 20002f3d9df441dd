"""Cluster migration: two kubesims share one filesystem store, each with its own `veloro server`.
A backup made on cluster A is synced into cluster B (short --backup-sync-period) and restored there."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e_helpers import Stack, app_snapshot, deploy_sample_app, start_stack, wait_for


@pytest.fixture(scope="module")
def clusters(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, Stack]]:
    store = tmp_path_factory.mktemp("shared-store")
    install = [
        "--provider", "filesystem", "--bucket", "backups",
        "--backup-location-config", f"root={store}", "--no-secret",
    ]  # fmt: skip
    home = tmp_path_factory.mktemp("home")
    with (
        start_stack(home / "a", install, []) as a,
        start_stack(home / "b", install, ["--backup-sync-period", "1s"]) as b,
    ):
        yield a, b


def test_backup_on_a_restored_on_b(clusters: tuple[Stack, Stack], tmp_path: Path) -> None:
    a, b = clusters
    ns = "e2e-migrate"
    deploy_sample_app(a, ns)
    before = app_snapshot(a, ns)
    a.cli.run("backup", "create", "move-1", "--include-namespaces", ns, "--wait")
    assert b.kubectl("get", "namespace", ns, check=False) == ""

    def synced() -> bool:
        obj = b.veloro_obj("backups", "move-1") or {}
        return (obj.get("status") or {}).get("phase") == "Completed"

    wait_for(synced, 20, f"backup move-1 synced into cluster B\n{b.server.log()}")
    assert "move-1" in b.cli.run("backup", "get").stdout
    b.cli.run("restore", "create", "move-1-on-b", "--from-backup", "move-1", "--wait")
    assert app_snapshot(b, ns) == before
    assert b.kget("widget", "blue-widget", "-n", ns)["spec"] == {"size": 3, "color": "blue"}
    # cluster A is untouched by the restore on B
    assert a.veloro_obj("restores", "move-1-on-b") is None
