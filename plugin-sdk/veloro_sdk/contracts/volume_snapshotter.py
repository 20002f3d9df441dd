"""The VolumeSnapshotter contract: native snapshots of persistent volumes (EBS, GCE PD, ...)."""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import Any


@dataclass
class CreateVolumeRequest:
    snapshot_id: str
    volume_type: str = ""
    volume_az: str = ""
    iops: int | None = None


@dataclass
class VolumeInfo:
    volume_type: str = ""
    iops: int | None = None


@dataclass
class CreateSnapshotRequest:
    volume_id: str
    volume_az: str = ""
    tags: dict[str, str] = field(default_factory=dict)


class VolumeSnapshotter(abc.ABC):
    """Creates and deletes snapshots of volumes, and volumes from snapshots."""

    @abc.abstractmethod
    def init(self, config: dict[str, str]) -> None:
        """Configure from the VolumeSnapshotLocation's spec.config (plus credentialsFile)."""

    @abc.abstractmethod
    def create_volume_from_snapshot(self, request: CreateVolumeRequest) -> str:
        """Create a volume from a snapshot; return the new volume's ID."""

    @abc.abstractmethod
    def get_volume_info(self, volume_id: str, volume_az: str) -> VolumeInfo:
        """The volume's type and IOPS (None when not applicable)."""

    @abc.abstractmethod
    def create_snapshot(self, request: CreateSnapshotRequest) -> str:
        """Snapshot a volume; return the snapshot ID."""

    @abc.abstractmethod
    def delete_snapshot(self, snapshot_id: str) -> None:
        """Delete a snapshot; a missing snapshot is not an error."""

    @abc.abstractmethod
    def get_volume_id(self, persistent_volume: dict[str, Any]) -> str:
        """The provider's volume ID for a PersistentVolume, or "" if this snapshotter does not handle it."""

    @abc.abstractmethod
    def set_volume_id(self, persistent_volume: dict[str, Any], volume_id: str) -> dict[str, Any]:
        """Return the PersistentVolume changed to point at `volume_id`."""
