"""VolumeSnapshotter over gRPC (`generated.VolumeSnapshotter`)."""

from __future__ import annotations

from typing import Any

import grpc

from veloro_sdk._proto.generated import VolumeSnapshotter_pb2, VolumeSnapshotter_pb2_grpc
from veloro_sdk.client._base import BaseClient
from veloro_sdk.contracts.volume_snapshotter import (
    CreateSnapshotRequest,
    CreateVolumeRequest,
    VolumeInfo,
    VolumeSnapshotter,
)
from veloro_sdk.convert import dumps, loads


class VolumeSnapshotterClient(BaseClient, VolumeSnapshotter):
    SERVICE = "generated.VolumeSnapshotter"

    def __init__(self, channel: grpc.Channel, name: str, *, timeout: float | None = None) -> None:
        super().__init__(channel, name, timeout=timeout)
        self._stub = VolumeSnapshotter_pb2_grpc.VolumeSnapshotterStub(channel)

    def init(self, config: dict[str, str], *, timeout: float | None = None) -> None:
        req = VolumeSnapshotter_pb2.VolumeSnapshotterInitRequest(plugin=self.name, config=config)
        self._call("Init", self._stub.Init, req, timeout)

    def create_volume_from_snapshot(
        self, request: CreateVolumeRequest, *, timeout: float | None = None
    ) -> str:
        req = VolumeSnapshotter_pb2.CreateVolumeRequest(
            plugin=self.name,
            snapshotID=request.snapshot_id,
            volumeType=request.volume_type,
            volumeAZ=request.volume_az,
            iops=request.iops or 0,  # 0 = unset on the wire
        )
        return str(
            self._call("CreateVolumeFromSnapshot", self._stub.CreateVolumeFromSnapshot, req, timeout).volumeID
        )

    def get_volume_info(self, volume_id: str, volume_az: str, *, timeout: float | None = None) -> VolumeInfo:
        req = VolumeSnapshotter_pb2.GetVolumeInfoRequest(
            plugin=self.name, volumeID=volume_id, volumeAZ=volume_az
        )
        resp = self._call("GetVolumeInfo", self._stub.GetVolumeInfo, req, timeout)
        return VolumeInfo(volume_type=resp.volumeType, iops=resp.iops or None)

    def create_snapshot(self, request: CreateSnapshotRequest, *, timeout: float | None = None) -> str:
        req = VolumeSnapshotter_pb2.CreateSnapshotRequest(
            plugin=self.name, volumeID=request.volume_id, volumeAZ=request.volume_az, tags=request.tags
        )
        return str(self._call("CreateSnapshot", self._stub.CreateSnapshot, req, timeout).snapshotID)

    def delete_snapshot(self, snapshot_id: str, *, timeout: float | None = None) -> None:
        req = VolumeSnapshotter_pb2.DeleteSnapshotRequest(plugin=self.name, snapshotID=snapshot_id)
        self._call("DeleteSnapshot", self._stub.DeleteSnapshot, req, timeout)

    def get_volume_id(self, persistent_volume: dict[str, Any], *, timeout: float | None = None) -> str:
        req = VolumeSnapshotter_pb2.GetVolumeIDRequest(
            plugin=self.name, persistentVolume=dumps(persistent_volume)
        )
        return str(self._call("GetVolumeID", self._stub.GetVolumeID, req, timeout).volumeID)

    def set_volume_id(
        self, persistent_volume: dict[str, Any], volume_id: str, *, timeout: float | None = None
    ) -> dict[str, Any]:
        req = VolumeSnapshotter_pb2.SetVolumeIDRequest(
            plugin=self.name, persistentVolume=dumps(persistent_volume), volumeID=volume_id
        )
        resp = self._call("SetVolumeID", self._stub.SetVolumeID, req, timeout)
        result: dict[str, Any] = loads(resp.persistentVolume)
        return result
