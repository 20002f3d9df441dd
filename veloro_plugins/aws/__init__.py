"""The aws plugins: the S3 ObjectStore and the EBS VolumeSnapshotter, both served as `veloro.io/aws` by
their own plugin executable (`veloro-plugin-aws`, or `python -m veloro_plugins.aws`)."""

from veloro_plugins.aws.object_store import S3ObjectStore
from veloro_plugins.aws.volume_snapshotter import EBSVolumeSnapshotter

PLUGIN_NAME = "veloro.io/aws"

__all__ = ["PLUGIN_NAME", "EBSVolumeSnapshotter", "S3ObjectStore"]
