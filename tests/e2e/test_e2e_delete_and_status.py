"""Deletion through a DeleteBackupRequest, `plugin get` and `version` through ServerStatusRequests."""

from __future__ import annotations

from e2e_helpers import NS, Stack, wait_for


def test_backup_delete_through_a_delete_backup_request(fs: Stack) -> None:
    ns = "e2e-delete"
    fs.kubectl("create", "namespace", ns)
    fs.kubectl("create", "configmap", "doomed", "-n", ns, "--from-literal=k=v")
    fs.cli.run("backup", "create", "del-1", "--include-namespaces", ns, "--wait")
    fs.cli.run("restore", "create", "del-1-r", "--from-backup", "del-1", "--wait")
    folder = fs.store / "backups" / "del-1"
    assert folder.is_dir() and (fs.store / "restores" / "del-1-r").is_dir()

    # no terminal and no --confirm: refused, nothing deleted
    refused = fs.cli.run("backup", "delete", "del-1", code=2)
    assert len(refused.stderr.strip().splitlines()) == 1 and "--confirm" in refused.stderr
    assert fs.veloro_obj("backups", "del-1") is not None

    out = fs.cli.run("backup", "delete", "del-1", "--confirm").stdout
    assert 'Request to delete backup "del-1" submitted successfully.' in out
    wait_for(
        lambda: fs.veloro_obj("backups", "del-1") is None, 20, f"backup del-1 deleted\n{fs.server.log()}"
    )
    assert not folder.exists()
    assert not (fs.store / "restores" / "del-1-r").exists()
    assert fs.veloro_obj("restores", "del-1-r") is None
    requests = fs.kget("deletebackuprequests.veloro.io", "-n", NS, "-l", "veloro.io/backup-name=del-1")[
        "items"
    ]
    assert [r["status"]["phase"] for r in requests] == ["Processed"]
    assert not requests[0]["status"].get("errors")
    assert "del-1" not in fs.cli.run("backup", "get").stdout


def test_plugin_get_lists_the_builtin_plugins(fs: Stack) -> None:
    rows = {tuple(line.split()) for line in fs.cli.run("plugin", "get").stdout.splitlines()[1:]}
    for expected in [
        ("veloro.io/filesystem", "ObjectStore"),
        ("veloro.io/aws", "ObjectStore"),
        ("veloro.io/aws", "VolumeSnapshotter"),
        ("veloro.io/pod", "BackupItemAction"),
        ("veloro.io/pvc", "RestoreItemAction"),
        ("veloro.io/csi-pvc-backupper", "BackupItemActionV2"),
        ("veloro.io/csi-volumesnapshotcontent-delete", "DeleteItemAction"),
    ]:
        assert expected in rows, rows
    as_json = fs.cli.json("plugin", "get")
    assert as_json["serverVersion"] == "0.1.0"
    assert {"name": "veloro.io/filesystem", "kind": "ObjectStore"} in as_json["plugins"]


def test_version_shows_client_and_server(fs: Stack) -> None:
    out = fs.cli.run("version").stdout
    assert out.count("Version: 0.1.0") == 2 and "Client:" in out and "Server:" in out, out
