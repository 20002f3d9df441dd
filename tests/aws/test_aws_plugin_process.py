"""The aws plugin as a REAL process: go-plugin handshake (auto mTLS), typed gRPC clients, moto behind it."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from aws_helpers import ACCESS_KEY, SECRET_KEY, Moto
from veloro_sdk.contracts import CreateSnapshotRequest, CreateVolumeRequest, PluginError, PluginKind
from veloro_sdk.testing import LaunchedPlugin, check_plugin, launch_plugin

PLUGIN = [sys.executable, "-m", "veloro_plugins.aws"]
NAME = "veloro.io/aws"
MiB = 1024 * 1024


@pytest.fixture(scope="module")
def plugin() -> Iterator[LaunchedPlugin]:
    with launch_plugin(PLUGIN, start_timeout=30) as launched:
        yield launched


def go_chunks(data: bytes) -> Iterator[bytes]:
    for start in range(0, len(data), 16 * 1024):
        yield data[start : start + 16 * 1024]


def test_lists_both_kinds_under_one_name(plugin: LaunchedPlugin) -> None:
    assert plugin.handshake is not None and plugin.handshake.server_cert is not None  # mTLS negotiated
    listed = {(p.kind, p.name) for p in plugin.plugins}
    assert {("ObjectStore", NAME), ("VolumeSnapshotter", NAME)} <= listed


def test_object_store_through_the_process(
    plugin: LaunchedPlugin, store_config: dict[str, str], bucket: str
) -> None:
    store = plugin.object_store(NAME, store_config)
    data = os.urandom(20 * MiB + 7)  # several 8 MiB parts, sent as a Go host would (16 KiB messages)
    store.put_object(bucket, "backups/b1/b1.tar.gz", go_chunks(data))
    store.put_object(bucket, "backups/b1/velero-backup.json", [b"{}"])
    assert store.object_exists(bucket, "backups/b1/b1.tar.gz")
    digest = hashlib.sha256()
    for piece in store.get_object(bucket, "backups/b1/b1.tar.gz"):
        digest.update(piece)
    assert digest.digest() == hashlib.sha256(data).digest()
    assert store.list_common_prefixes(bucket, "backups/", "/") == ["backups/b1/"]
    assert store.list_objects(bucket, "backups/b1/") == [
        "backups/b1/velero-backup.json",
        "backups/b1/b1.tar.gz",
    ]
    url = store.create_signed_url(bucket, "backups/b1/velero-backup.json", timedelta(minutes=5))
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.read() == b"{}"
    store.delete_object(bucket, "backups/b1/velero-backup.json")
    assert not store.object_exists(bucket, "backups/b1/velero-backup.json")


def test_host_stream_failure_leaves_no_object(
    plugin: LaunchedPlugin, store_config: dict[str, str], moto: Moto, bucket: str
) -> None:
    """The host's body fails after several parts were uploaded: the call is cancelled, the plugin aborts the
    multipart upload, and neither the object nor its parts remain."""

    def broken() -> Iterator[bytes]:
        yield from go_chunks(os.urandom(40 * MiB))
        raise OSError("tarball writer died")

    store = plugin.object_store(NAME, store_config)
    with pytest.raises(OSError, match="tarball writer died"):
        store.put_object(bucket, "backups/b2/b2.tar.gz", broken())
    admin = moto.client("s3")
    deadline = time.monotonic() + 10
    while admin.list_multipart_uploads(Bucket=bucket).get("Uploads") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert admin.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    assert not store.object_exists(bucket, "backups/b2/b2.tar.gz")


def test_errors_cross_the_wire_clearly(
    plugin: LaunchedPlugin, store_config: dict[str, str], moto: Moto, tmp_path: Path
) -> None:
    store = plugin.object_store(NAME, store_config)
    with pytest.raises(PluginError) as err:
        store.put_object("no-such-bucket", "k", [b"x"])
    assert f"bucket 'no-such-bucket' does not exist at {moto.url}: create it or fix" in str(err.value)
    with pytest.raises(PluginError, match="config has invalid keys"):
        plugin.object_store("veloro.io/aws", {**store_config, "s3URL": "typo"})
    assert SECRET_KEY not in plugin.stderr.text()  # the logs never carry the secret


def test_volume_snapshotter_through_the_process(
    plugin: LaunchedPlugin, moto: Moto, credentials_file: Path
) -> None:
    ec2 = moto.client("ec2")
    volume_id = ec2.create_volume(AvailabilityZone="us-east-1a", Size=8, VolumeType="gp3")["VolumeId"]
    snap = plugin.volume_snapshotter(
        NAME, {"region": "us-east-1", "ec2Url": moto.url, "credentialsFile": str(credentials_file)}
    )
    pv = {"spec": {"csi": {"driver": "ebs.csi.aws.com", "volumeHandle": volume_id}}}
    assert snap.get_volume_id(pv) == volume_id
    snapshot_id = snap.create_snapshot(
        CreateSnapshotRequest(volume_id, "us-east-1a", {"velero.io/backup": "b1"})
    )
    restored = snap.create_volume_from_snapshot(CreateVolumeRequest(snapshot_id, "gp3", "us-east-1a"))
    assert snap.get_volume_info(restored, "us-east-1a").volume_type == "gp3"
    assert snap.set_volume_id(pv, restored)["spec"]["csi"]["volumeHandle"] == restored
    snap.delete_snapshot(snapshot_id)
    snap.delete_snapshot(snapshot_id)


def test_conformance_kit_per_kind(
    plugin: LaunchedPlugin, store_config: dict[str, str], bucket: str, moto: Moto, credentials_file: Path
) -> None:
    """The SDK's conformance checks, each kind with its own config, over the process's clients."""
    store = plugin.client(PluginKind.OBJECT_STORE, NAME)
    results = check_plugin(PluginKind.OBJECT_STORE, NAME, store, store_config, bucket)
    snap = plugin.client(PluginKind.VOLUME_SNAPSHOTTER, NAME)
    snap_config = {"region": "us-east-1", "ec2Url": moto.url, "credentialsFile": str(credentials_file)}
    results += check_plugin(PluginKind.VOLUME_SNAPSHOTTER, NAME, snap, snap_config)
    failed = [f"{r.kind} {r.check}: {r.detail}" for r in results if r.status.value == "fail"]
    assert not failed
    assert len(results) > 8


def test_veloro_plugin_verify(moto: Moto, bucket: str) -> None:
    """`veloro plugin verify` runs one config for every kind, so the endpoint and keys come from the
    environment (AWS_ENDPOINT_URL, as boto3 reads it) and the config holds only what both kinds accept."""
    env = {
        **os.environ,
        "AWS_ENDPOINT_URL": moto.url,
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
    }
    command = [sys.executable, "-m", "veloro_core.cli", "plugin", "verify", "--config", "region=us-east-1"]
    result = subprocess.run(
        [*command, "--bucket", bucket, *PLUGIN], env=env, capture_output=True, text=True, timeout=100
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ObjectStore" in result.stdout and "VolumeSnapshotter" in result.stdout
    assert "FAIL" not in result.stdout
