"""logs, download and describe --details through DownloadRequests: a stand-in server answers the requests
in kubesim with http:// and file:// URLs (the real server comes later; the CLI side is what is tested)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from cli_cluster import (
    BACKUPS,
    DOWNLOADS,
    RESTORES,
    Veloro,
    file_server,
    request_answerer,
    set_status,
    write_gz,
)

from veloro_core.kube import KubeClient


def _finished_backup(veloro: Veloro, kube: KubeClient, ns: str, name: str) -> None:
    assert veloro("backup", "create", name).code == 0
    set_status(kube, BACKUPS, name, ns, {"phase": "Completed"})


def test_logs_over_http_gunzipped(veloro: Veloro, kube: KubeClient, ns: str, tmp_path: Path) -> None:
    _finished_backup(veloro, kube, ns, "withlogs")
    write_gz(tmp_path / "backups/withlogs/withlogs-logs.gz", b"line one\nline two\n")
    with file_server(tmp_path) as base:
        files = {("BackupLog", "withlogs"): f"{base}/backups/withlogs/withlogs-logs.gz?token=abc"}
        with request_answerer(kube, ns, files=files) as seen:
            result = veloro("backup", "logs", "withlogs")
    assert result.code == 0, result.output
    assert result.stdout == "line one\nline two\n"
    assert [r["spec"]["target"] for r in seen] == [{"kind": "BackupLog", "name": "withlogs"}]
    assert not list(kube.list_items(DOWNLOADS, ns))  # the CLI tidies up


def test_logs_of_unfinished_backup_and_missing_file(
    veloro: Veloro, kube: KubeClient, ns: str, tmp_path: Path
) -> None:
    assert veloro("backup", "create", "running").code == 0
    early = veloro("backup", "logs", "running")
    assert early.code == 1 and "not available until it has finished" in early.stderr
    _finished_backup(veloro, kube, ns, "nolog")
    with file_server(tmp_path) as base:
        files = {("BackupLog", "nolog"): f"{base}/backups/nolog/nolog-logs.gz"}
        with request_answerer(kube, ns, files=files):
            result = veloro("backup", "logs", "nolog")
    assert result.code == 3 and "HTTP 404" in result.stderr


def test_no_server_times_out_with_a_clear_message(veloro: Veloro, kube: KubeClient, ns: str) -> None:
    _finished_backup(veloro, kube, ns, "lonely")
    result = veloro("backup", "logs", "lonely", "--timeout", "0.5")
    assert result.code == 1
    assert (
        "no answer from the veloro server" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    )


def test_download_file_url(veloro: Veloro, kube: KubeClient, ns: str, tmp_path: Path) -> None:
    _finished_backup(veloro, kube, ns, "tarball")
    source = tmp_path / "store" / "tarball.tar.gz"
    source.parent.mkdir()
    source.write_bytes(gzip.compress(b"not really a tar"))
    dest = tmp_path / "out.tgz"
    with request_answerer(kube, ns, files={("BackupContents", "tarball"): source.as_uri()}):
        result = veloro("backup", "download", "tarball", "-o", str(dest))
        assert result.code == 0, result.output
        assert dest.read_bytes() == source.read_bytes()  # stored bytes, not unpacked
        again = veloro("backup", "download", "tarball", "-o", str(dest))
        assert again.code == 2 and "--force" in again.stderr
        forced = veloro("backup", "download", "tarball", "-o", str(dest), "--force")
        assert forced.code == 0


def test_describe_details_backup(veloro: Veloro, kube: KubeClient, ns: str, tmp_path: Path) -> None:
    _finished_backup(veloro, kube, ns, "detailed")
    resources = {"v1/ConfigMap": ["shop/settings"], "apps/v1/Deployment": ["shop/web"]}
    results = {
        "errors": {"namespaces": {"shop": ["could not back up pod x"]}},
        "warnings": {"velero": ["discovery of metrics.k8s.io failed"]},
    }
    snapshots = [
        {
            "spec": {"persistentVolumeName": "pv-1", "volumeType": "gp3", "location": "ebs"},
            "status": {"providerSnapshotID": "snap-123", "phase": "Completed"},
        }
    ]
    store = tmp_path / "store"
    paths = {
        "BackupResourceList": write_gz(store / "rl.gz", json.dumps(resources).encode()),
        "BackupResults": write_gz(store / "res.gz", json.dumps(results).encode()),
        "BackupVolumeSnapshots": write_gz(store / "vs.gz", json.dumps(snapshots).encode()),
    }
    files = {(kind, "detailed"): path.as_uri() for kind, path in paths.items()}
    with request_answerer(kube, ns, files=files):
        result = veloro("backup", "describe", "detailed", "--details")
    assert result.code == 0, result.output
    text = result.stdout
    for expected in (
        "Resource List:",
        "apps/v1/Deployment:",
        "- shop/web",
        "- shop/settings",
        "Namespace shop: could not back up pod x",
        "Velero: discovery of metrics.k8s.io failed",
        "pv-1: snapshot snap-123 (Completed, type gp3, location ebs)",
        "Pod Volume Backups:",
    ):
        assert expected in text, expected


def test_restore_logs_and_details(veloro: Veloro, kube: KubeClient, ns: str, tmp_path: Path) -> None:
    assert veloro("restore", "create", "r1", "--from-backup", "b").code == 0
    set_status(kube, RESTORES, "r1", ns, {"phase": "Completed"})
    log = write_gz(tmp_path / "restore-r1-logs.gz", b"restored 3 items\n")
    listing = write_gz(tmp_path / "rl.gz", json.dumps({"v1/Secret": ["shop/s(created)"]}).encode())
    files = {("RestoreLog", "r1"): log.as_uri(), ("RestoreResourceList", "r1"): listing.as_uri()}
    with request_answerer(kube, ns, files=files):
        logs = veloro("restore", "logs", "r1")
        described = veloro("restore", "describe", "r1", "--details", "--timeout", "5")
    assert logs.code == 0 and logs.stdout == "restored 3 items\n"
    assert described.code == 0, described.output
    assert "- shop/s(created)" in described.stdout
    assert "<error getting results:" in described.stdout  # no results file: said, not fatal
