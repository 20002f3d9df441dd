"""EBSVolumeSnapshotter against moto's EC2 (server mode, real HTTP)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aws_helpers import Moto
from veloro_sdk.contracts import CreateSnapshotRequest, CreateVolumeRequest, PluginError

from veloro_plugins.aws import EBSVolumeSnapshotter

REGION = "us-east-1"
AZ = "us-east-1a"


@pytest.fixture
def snapshotter(moto: Moto, credentials_file: Path) -> EBSVolumeSnapshotter:
    snap = EBSVolumeSnapshotter()
    snap.init({"region": REGION, "ec2Url": moto.url, "credentialsFile": str(credentials_file)})
    return snap


def tags_of(resource: dict[str, Any]) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in resource.get("Tags", [])}


def make_volume(ec2: Any, **kwargs: Any) -> str:
    args = {"AvailabilityZone": AZ, "Size": 10, "VolumeType": "gp3", **kwargs}
    return str(ec2.create_volume(**args)["VolumeId"])


def test_snapshot_restore_delete_cycle(snapshotter: EBSVolumeSnapshotter, moto: Moto) -> None:
    ec2 = moto.client("ec2", REGION)
    volume_tags = [{"Key": "Name", "Value": "old"}, {"Key": "team", "Value": "data"}]
    volume_id = make_volume(
        ec2, VolumeType="io1", Iops=3000, TagSpecifications=[{"ResourceType": "volume", "Tags": volume_tags}]
    )
    info = snapshotter.get_volume_info(volume_id, AZ)
    assert (info.volume_type, info.iops) == ("io1", 3000)

    host_tags = {"velero.io/backup": "nightly-1", "velero.io/pv": "pv-1", "Name": "nightly-1"}
    snapshot_id = snapshotter.create_snapshot(CreateSnapshotRequest(volume_id, AZ, host_tags))
    snapshot = ec2.describe_snapshots(SnapshotIds=[snapshot_id])["Snapshots"][0]
    assert snapshot["VolumeId"] == volume_id
    # the host's tags win over the volume's; the volume's other tags are copied
    assert tags_of(snapshot) == {**host_tags, "team": "data"}

    new_id = snapshotter.create_volume_from_snapshot(
        CreateVolumeRequest(snapshot_id, "io1", "us-east-1b", 4000)
    )
    volume = ec2.describe_volumes(VolumeIds=[new_id])["Volumes"][0]
    assert (volume["SnapshotId"], volume["AvailabilityZone"], volume["VolumeType"]) == (
        snapshot_id,
        "us-east-1b",
        "io1",
    )
    assert volume["Iops"] == 4000
    assert tags_of(volume)["velero.io/backup"] == "nightly-1"  # restored volumes carry the snapshot's tags

    snapshotter.delete_snapshot(snapshot_id)
    assert (
        ec2.describe_snapshots(Filters=[{"Name": "snapshot-id", "Values": [snapshot_id]}])["Snapshots"] == []
    )
    snapshotter.delete_snapshot(snapshot_id)  # already gone: not an error


def test_gp_volume_has_no_iops(snapshotter: EBSVolumeSnapshotter, moto: Moto) -> None:
    volume_id = make_volume(moto.client("ec2", REGION), VolumeType="gp2")
    assert snapshotter.get_volume_info(volume_id, AZ).volume_type == "gp2"
    assert snapshotter.get_volume_info(volume_id, AZ).iops is None


def test_cluster_name_rewrites_ownership_tags(
    snapshotter: EBSVolumeSnapshotter, moto: Moto, monkeypatch: pytest.MonkeyPatch
) -> None:
    ec2 = moto.client("ec2", REGION)
    tags = [{"Key": "kubernetes.io/cluster/old", "Value": "owned"}, {"Key": "app", "Value": "db"}]
    volume_id = make_volume(ec2, TagSpecifications=[{"ResourceType": "volume", "Tags": tags}])
    snapshot_id = snapshotter.create_snapshot(CreateSnapshotRequest(volume_id, AZ, {}))
    monkeypatch.setenv("AWS_CLUSTER_NAME", "new")
    new_id = snapshotter.create_volume_from_snapshot(CreateVolumeRequest(snapshot_id, "gp3", AZ))
    restored = tags_of(ec2.describe_volumes(VolumeIds=[new_id])["Volumes"][0])
    assert restored == {"kubernetes.io/cluster/new": "owned", "KubernetesCluster": "new", "app": "db"}


def test_errors_are_clear(snapshotter: EBSVolumeSnapshotter, moto: Moto) -> None:
    with pytest.raises(PluginError, match=f"^volume vol-0123456789abcdef0 at {moto.url} does not exist$"):
        snapshotter.create_snapshot(CreateSnapshotRequest("vol-0123456789abcdef0", AZ))
    with pytest.raises(PluginError, match=r"^snapshot snap-0123456789abcdef0 at .* does not exist$"):
        snapshotter.create_volume_from_snapshot(CreateVolumeRequest("snap-0123456789abcdef0", "gp3", AZ))


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({}, "missing region"),
        ({"region": REGION, "bucket": "x"}, r"invalid keys \['bucket'\]"),
        ({"region": REGION, "ec2Url": "localhost:1"}, "must be a URL"),
    ],
)
def test_init_validation(config: dict[str, str], message: str) -> None:
    with pytest.raises(PluginError, match=message):
        EBSVolumeSnapshotter().init(config)


IN_TREE_PV = {
    "apiVersion": "v1",
    "kind": "PersistentVolume",
    "metadata": {"name": "pv-1", "labels": {"failure-domain.beta.kubernetes.io/zone": "us-east-1c"}},
    "spec": {"awsElasticBlockStore": {"volumeID": "aws://us-east-1a/vol-123", "fsType": "ext4"}},
}
CSI_PV = {
    "apiVersion": "v1",
    "kind": "PersistentVolume",
    "metadata": {"name": "pv-2"},
    "spec": {"csi": {"driver": "ebs.csi.aws.com", "volumeHandle": "vol-456"}},
}


def test_volume_ids_in_persistent_volumes() -> None:
    snap = EBSVolumeSnapshotter()  # pure PV handling needs no Init
    assert snap.get_volume_id(IN_TREE_PV) == "vol-123"
    assert snap.get_volume_id(CSI_PV) == "vol-456"
    assert snap.get_volume_id({"spec": {"csi": {"driver": "other.csi", "volumeHandle": "x"}}}) == ""
    assert snap.get_volume_id({"spec": {"nfs": {"server": "x"}}}) == ""
    with pytest.raises(PluginError, match="volumeID is empty"):
        snap.get_volume_id({"spec": {"awsElasticBlockStore": {"volumeID": ""}}})

    moved = snap.set_volume_id(IN_TREE_PV, "vol-999")
    assert moved["spec"]["awsElasticBlockStore"] == {"volumeID": "aws://us-east-1c/vol-999", "fsType": "ext4"}
    assert (
        IN_TREE_PV["spec"]["awsElasticBlockStore"]["volumeID"] == "aws://us-east-1a/vol-123"
    )  # input untouched
    unzoned = {**IN_TREE_PV, "metadata": {"name": "pv-1"}}
    assert snap.set_volume_id(unzoned, "vol-9")["spec"]["awsElasticBlockStore"]["volumeID"] == "vol-9"
    assert snap.set_volume_id(CSI_PV, "vol-777")["spec"]["csi"]["volumeHandle"] == "vol-777"
    with pytest.raises(PluginError, match=r"neither spec\.csi nor spec\.awsElasticBlockStore"):
        snap.set_volume_id({"spec": {}}, "vol-1")
