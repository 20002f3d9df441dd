"""VolumeSnapshotter `veloro.io/aws`: EBS snapshots on boto3, with the behaviour of Velero's aws plugin."""

from __future__ import annotations

import copy
import os
import re
from typing import Any

import structlog
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from veloro_sdk.contracts import (
    CreateSnapshotRequest,
    CreateVolumeRequest,
    PluginError,
    VolumeInfo,
    VolumeSnapshotter,
)

from veloro_plugins.aws.config import (
    CREDENTIALS_FILE,
    ENABLE_SHARED_CONFIG,
    PROFILE,
    REGION,
    make_session,
    validate_keys,
    validate_url,
)
from veloro_plugins.aws.errors import Where, error_code, translate

log = structlog.get_logger(__name__)

EC2_URL = "ec2Url"  # veloro extension: a custom EC2 endpoint (moto, LocalStack); Velero has no such key
SNAPSHOTTER_KEYS = (REGION, PROFILE, CREDENTIALS_FILE, ENABLE_SHARED_CONFIG, EC2_URL)
EBS_CSI_DRIVER = "ebs.csi.aws.com"
# Volume types whose IOPS are recorded at backup and requested again at restore (as Velero).
IOPS_VOLUME_TYPES = frozenset({"io1", "io2"})
ZONE_LABEL = "failure-domain.beta.kubernetes.io/zone"
CLUSTER_NAME_ENV = "AWS_CLUSTER_NAME"
_VOLUME_ID = re.compile(r"vol-.*")


class EBSVolumeSnapshotter(VolumeSnapshotter):
    def __init__(self) -> None:
        self._ec2: Any = None
        self._endpoint = ""

    def init(self, config: dict[str, str]) -> None:
        validate_keys(config, SNAPSHOTTER_KEYS, "aws volume snapshotter")
        region = config.get(REGION, "").strip()
        if not region:
            raise PluginError(f"missing {REGION} in the aws volume snapshot location's config: set it")
        url = validate_url(config, EC2_URL)
        session = make_session(config)
        client_config = Config(retries={"mode": "standard"}, connect_timeout=10, read_timeout=60)
        self._ec2 = session.client("ec2", region_name=region, endpoint_url=url or None, config=client_config)
        self._endpoint = str(self._ec2.meta.endpoint_url)
        log.info("ebs volume snapshotter configured", endpoint=self._endpoint, region=region)

    def _client(self) -> Any:
        if self._ec2 is None:
            raise PluginError(
                "the aws volume snapshotter was used before Init: the host must call Init first"
            )
        return self._ec2

    def _fail(self, exc: ClientError | BotoCoreError, action: str, resource: str) -> PluginError:
        return translate(exc, action, Where(self._endpoint, resource=resource))

    def create_volume_from_snapshot(self, request: CreateVolumeRequest) -> str:
        ec2 = self._client()
        snapshot = self._describe_snapshot(request.snapshot_id)
        args: dict[str, Any] = {
            "SnapshotId": request.snapshot_id,
            "AvailabilityZone": request.volume_az,
            "TagSpecifications": [
                {"ResourceType": "volume", "Tags": restored_volume_tags(snapshot.get("Tags", []))}
            ],
        }
        if request.volume_type:
            args["VolumeType"] = request.volume_type
        if snapshot.get("Encrypted"):
            args["Encrypted"] = True
        if request.volume_type in IOPS_VOLUME_TYPES and request.iops:
            args["Iops"] = request.iops
        if not args["TagSpecifications"][0]["Tags"]:
            del args["TagSpecifications"]
        try:
            volume_id: str = ec2.create_volume(**args)["VolumeId"]
        except (ClientError, BotoCoreError) as exc:
            raise self._fail(exc, "create a volume from", f"snapshot {request.snapshot_id}") from exc
        log.info("created volume from snapshot", snapshot_id=request.snapshot_id, volume_id=volume_id)
        return volume_id

    def get_volume_info(self, volume_id: str, volume_az: str) -> VolumeInfo:
        volume = self._describe_volume(volume_id)
        volume_type = str(volume.get("VolumeType", ""))
        iops = volume.get("Iops") if volume_type in IOPS_VOLUME_TYPES else None
        return VolumeInfo(volume_type=volume_type, iops=int(iops) if iops is not None else None)

    def create_snapshot(self, request: CreateSnapshotRequest) -> str:
        """Snapshot the volume with the host's tags plus the volume's own (the host's win on conflict).
        Does not wait for completion: the snapshot is usable for restore once AWS finishes it."""
        volume = self._describe_volume(request.volume_id)
        tags = snapshot_tags(request.tags, volume.get("Tags", []))
        args: dict[str, Any] = {"VolumeId": request.volume_id}
        if tags:
            args["TagSpecifications"] = [{"ResourceType": "snapshot", "Tags": tags}]
        try:
            snapshot_id: str = self._client().create_snapshot(**args)["SnapshotId"]
        except (ClientError, BotoCoreError) as exc:
            raise self._fail(exc, "snapshot", f"volume {request.volume_id}") from exc
        log.info("created snapshot", volume_id=request.volume_id, snapshot_id=snapshot_id)
        return snapshot_id

    def delete_snapshot(self, snapshot_id: str) -> None:
        try:
            self._client().delete_snapshot(SnapshotId=snapshot_id)
        except ClientError as exc:
            if error_code(exc) == "InvalidSnapshot.NotFound":
                log.info("snapshot already gone", snapshot_id=snapshot_id)
                return
            raise self._fail(exc, "delete", f"snapshot {snapshot_id}") from exc
        except BotoCoreError as exc:
            raise self._fail(exc, "delete", f"snapshot {snapshot_id}") from exc

    def get_volume_id(self, persistent_volume: dict[str, Any]) -> str:
        spec = persistent_volume.get("spec") or {}
        csi = spec.get("csi")
        if csi:
            if csi.get("driver") == EBS_CSI_DRIVER:
                return _ebs_id(str(csi.get("volumeHandle", "")))
            log.info("not an EBS CSI volume; skipping", driver=csi.get("driver"))
        ebs = spec.get("awsElasticBlockStore")
        if ebs is not None:
            volume_id = str(ebs.get("volumeID", ""))
            if not volume_id:
                raise PluginError("spec.awsElasticBlockStore.volumeID is empty in the PersistentVolume")
            return _ebs_id(volume_id)
        return ""

    def set_volume_id(self, persistent_volume: dict[str, Any], volume_id: str) -> dict[str, Any]:
        pv = copy.deepcopy(persistent_volume)
        spec = pv.get("spec") or {}
        csi = spec.get("csi")
        if csi:
            if csi.get("driver") != EBS_CSI_DRIVER:
                raise PluginError(f"unable to handle CSI driver {csi.get('driver')!r}: only {EBS_CSI_DRIVER}")
            csi["volumeHandle"] = volume_id
        elif spec.get("awsElasticBlockStore") is not None:
            zone = ((pv.get("metadata") or {}).get("labels") or {}).get(ZONE_LABEL, "")
            spec["awsElasticBlockStore"]["volumeID"] = f"aws://{zone}/{volume_id}" if zone else volume_id
        else:
            raise PluginError("the PersistentVolume has neither spec.csi nor spec.awsElasticBlockStore")
        return pv

    def _describe_volume(self, volume_id: str) -> dict[str, Any]:
        try:
            volumes = self._client().describe_volumes(VolumeIds=[volume_id])["Volumes"]
        except (ClientError, BotoCoreError) as exc:
            raise self._fail(exc, "describe", f"volume {volume_id}") from exc
        if len(volumes) != 1:
            raise PluginError(f"expected one volume {volume_id} from DescribeVolumes, got {len(volumes)}")
        return dict(volumes[0])

    def _describe_snapshot(self, snapshot_id: str) -> dict[str, Any]:
        try:
            snapshots = self._client().describe_snapshots(SnapshotIds=[snapshot_id])["Snapshots"]
        except (ClientError, BotoCoreError) as exc:
            raise self._fail(exc, "describe", f"snapshot {snapshot_id}") from exc
        if len(snapshots) != 1:
            raise PluginError(
                f"expected one snapshot {snapshot_id} from DescribeSnapshots, got {len(snapshots)}"
            )
        return dict(snapshots[0])


def _ebs_id(text: str) -> str:
    """`aws://us-east-1a/vol-123` (in-tree) or `vol-123` (CSI) -> `vol-123`."""
    match = _VOLUME_ID.search(text)
    return match.group(0) if match else ""


def snapshot_tags(host_tags: dict[str, str], volume_tags: list[dict[str, str]]) -> list[dict[str, str]]:
    tags = [{"Key": k, "Value": v} for k, v in host_tags.items()]
    tags.extend(t for t in volume_tags if t["Key"] not in host_tags and not t["Key"].startswith("aws:"))
    return tags


def restored_volume_tags(snapshot_tags: list[dict[str, str]]) -> list[dict[str, str]]:
    """The snapshot's tags; with AWS_CLUSTER_NAME set, ownership tags name the current cluster instead."""
    cluster = os.environ.get(CLUSTER_NAME_ENV)
    if cluster is None:
        return [t for t in snapshot_tags if not t["Key"].startswith("aws:")]
    tags = [
        {"Key": f"kubernetes.io/cluster/{cluster}", "Value": "owned"},
        {"Key": "KubernetesCluster", "Value": cluster},
    ]
    for tag in snapshot_tags:
        key = tag["Key"]
        if key.startswith("kubernetes.io/cluster/") or key == "KubernetesCluster" or key.startswith("aws:"):
            continue
        tags.append(tag)
    return tags
