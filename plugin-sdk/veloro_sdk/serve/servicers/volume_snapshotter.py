"""generated.VolumeSnapshotter."""

from __future__ import annotations

import grpc

from veloro_sdk._proto.generated import Shared_pb2
from veloro_sdk._proto.generated import VolumeSnapshotter_pb2 as pb
from veloro_sdk.contracts import CreateSnapshotRequest, CreateVolumeRequest, PluginKind
from veloro_sdk.convert import dumps
from veloro_sdk.serve.servicers.base import Handlers, KindServicer, json_obj, rpc, unary

EMPTY = Shared_pb2.Empty()


class VolumeSnapshotterServicer(KindServicer):
    kind = PluginKind.VOLUME_SNAPSHOTTER
    service = "generated.VolumeSnapshotter"

    @rpc
    def Init(
        self, request: pb.VolumeSnapshotterInitRequest, context: grpc.ServicerContext
    ) -> Shared_pb2.Empty:
        self._impl(request.plugin).init(dict(request.config))
        return EMPTY

    @rpc
    def CreateVolumeFromSnapshot(
        self, request: pb.CreateVolumeRequest, context: grpc.ServicerContext
    ) -> pb.CreateVolumeResponse:
        volume_id = self._impl(request.plugin).create_volume_from_snapshot(
            CreateVolumeRequest(
                snapshot_id=request.snapshotID,
                volume_type=request.volumeType,
                volume_az=request.volumeAZ,
                iops=request.iops or None,
            )
        )
        return pb.CreateVolumeResponse(volumeID=volume_id)

    @rpc
    def GetVolumeInfo(
        self, request: pb.GetVolumeInfoRequest, context: grpc.ServicerContext
    ) -> pb.GetVolumeInfoResponse:
        info = self._impl(request.plugin).get_volume_info(request.volumeID, request.volumeAZ)
        return pb.GetVolumeInfoResponse(volumeType=info.volume_type, iops=info.iops or 0)

    @rpc
    def CreateSnapshot(
        self, request: pb.CreateSnapshotRequest, context: grpc.ServicerContext
    ) -> pb.CreateSnapshotResponse:
        snapshot_id = self._impl(request.plugin).create_snapshot(
            CreateSnapshotRequest(
                volume_id=request.volumeID, volume_az=request.volumeAZ, tags=dict(request.tags)
            )
        )
        return pb.CreateSnapshotResponse(snapshotID=snapshot_id)

    @rpc
    def DeleteSnapshot(
        self, request: pb.DeleteSnapshotRequest, context: grpc.ServicerContext
    ) -> Shared_pb2.Empty:
        self._impl(request.plugin).delete_snapshot(request.snapshotID)
        return EMPTY

    @rpc
    def GetVolumeID(
        self, request: pb.GetVolumeIDRequest, context: grpc.ServicerContext
    ) -> pb.GetVolumeIDResponse:
        volume_id = self._impl(request.plugin).get_volume_id(json_obj(request.persistentVolume))
        return pb.GetVolumeIDResponse(volumeID=volume_id)

    @rpc
    def SetVolumeID(
        self, request: pb.SetVolumeIDRequest, context: grpc.ServicerContext
    ) -> pb.SetVolumeIDResponse:
        pv = self._impl(request.plugin).set_volume_id(json_obj(request.persistentVolume), request.volumeID)
        return pb.SetVolumeIDResponse(persistentVolume=dumps(pv))

    def handlers(self) -> Handlers:
        return {
            "Init": unary(self.Init, pb.VolumeSnapshotterInitRequest, Shared_pb2.Empty),
            "CreateVolumeFromSnapshot": unary(
                self.CreateVolumeFromSnapshot, pb.CreateVolumeRequest, pb.CreateVolumeResponse
            ),
            "GetVolumeInfo": unary(self.GetVolumeInfo, pb.GetVolumeInfoRequest, pb.GetVolumeInfoResponse),
            "CreateSnapshot": unary(self.CreateSnapshot, pb.CreateSnapshotRequest, pb.CreateSnapshotResponse),
            "DeleteSnapshot": unary(self.DeleteSnapshot, pb.DeleteSnapshotRequest, Shared_pb2.Empty),
            "GetVolumeID": unary(self.GetVolumeID, pb.GetVolumeIDRequest, pb.GetVolumeIDResponse),
            "SetVolumeID": unary(self.SetVolumeID, pb.SetVolumeIDRequest, pb.SetVolumeIDResponse),
        }
