"""generated.ObjectStore: bodies stream in both directions with bounded memory."""

from __future__ import annotations

from collections.abc import Iterator

import grpc

from veloro_sdk._proto.generated import ObjectStore_pb2 as pb
from veloro_sdk._proto.generated import Shared_pb2
from veloro_sdk.contracts import PluginError, PluginKind
from veloro_sdk.convert import nanos_to_ttl
from veloro_sdk.serve.servicers.base import (
    Handlers,
    KindServicer,
    client_stream,
    rpc,
    rpc_stream,
    server_stream,
    unary,
)

EMPTY = Shared_pb2.Empty()
GET_CHUNK = 1 << 20  # GetObject message size: big enough to amortise per-message cost, small in memory


def _body(first: pb.PutObjectRequest, rest: Iterator[pb.PutObjectRequest]) -> Iterator[bytes]:
    """The object's bytes, read from the request stream only as the implementation consumes them."""
    if first.body:
        yield first.body
    for message in rest:
        if message.body:
            yield message.body


def rechunk(chunks: Iterator[bytes], size: int = GET_CHUNK) -> Iterator[bytes]:
    """Coalesce tiny chunks and split huge ones, so each gRPC message is about `size` bytes."""
    pending = bytearray()
    for chunk in chunks:
        if not pending and size <= len(chunk) <= 4 * size:
            yield bytes(chunk)
            continue
        pending += chunk
        while len(pending) >= size:
            yield bytes(pending[:size])
            del pending[:size]
    if pending:
        yield bytes(pending)


class ObjectStoreServicer(KindServicer):
    kind = PluginKind.OBJECT_STORE
    service = "generated.ObjectStore"

    @rpc
    def Init(self, request: pb.ObjectStoreInitRequest, context: grpc.ServicerContext) -> Shared_pb2.Empty:
        self._impl(request.plugin).init(dict(request.config))
        return EMPTY

    @rpc
    def PutObject(
        self, requests: Iterator[pb.PutObjectRequest], context: grpc.ServicerContext
    ) -> Shared_pb2.Empty:
        first = next(requests, None)
        if first is None:
            raise PluginError("PutObject received no messages: the first must name plugin, bucket and key")
        self._impl(first.plugin).put_object(first.bucket, first.key, _body(first, requests))
        return EMPTY

    @rpc
    def ObjectExists(
        self, request: pb.ObjectExistsRequest, context: grpc.ServicerContext
    ) -> pb.ObjectExistsResponse:
        return pb.ObjectExistsResponse(
            exists=bool(self._impl(request.plugin).object_exists(request.bucket, request.key))
        )

    @rpc_stream
    def GetObject(self, request: pb.GetObjectRequest, context: grpc.ServicerContext) -> Iterator[pb.Bytes]:
        chunks = self._impl(request.plugin).get_object(request.bucket, request.key)
        for chunk in rechunk(iter(chunks)):
            yield pb.Bytes(data=chunk)

    @rpc
    def ListCommonPrefixes(
        self, request: pb.ListCommonPrefixesRequest, context: grpc.ServicerContext
    ) -> pb.ListCommonPrefixesResponse:
        impl = self._impl(request.plugin)
        return pb.ListCommonPrefixesResponse(
            prefixes=impl.list_common_prefixes(request.bucket, request.prefix, request.delimiter)
        )

    @rpc
    def ListObjects(
        self, request: pb.ListObjectsRequest, context: grpc.ServicerContext
    ) -> pb.ListObjectsResponse:
        return pb.ListObjectsResponse(
            keys=self._impl(request.plugin).list_objects(request.bucket, request.prefix)
        )

    @rpc
    def DeleteObject(
        self, request: pb.DeleteObjectRequest, context: grpc.ServicerContext
    ) -> Shared_pb2.Empty:
        self._impl(request.plugin).delete_object(request.bucket, request.key)
        return EMPTY

    @rpc
    def CreateSignedURL(
        self, request: pb.CreateSignedURLRequest, context: grpc.ServicerContext
    ) -> pb.CreateSignedURLResponse:
        impl = self._impl(request.plugin)
        return pb.CreateSignedURLResponse(
            url=impl.create_signed_url(request.bucket, request.key, nanos_to_ttl(request.ttl))
        )

    def handlers(self) -> Handlers:
        return {
            "Init": unary(self.Init, pb.ObjectStoreInitRequest, Shared_pb2.Empty),
            "PutObject": client_stream(self.PutObject, pb.PutObjectRequest, Shared_pb2.Empty),
            "ObjectExists": unary(self.ObjectExists, pb.ObjectExistsRequest, pb.ObjectExistsResponse),
            "GetObject": server_stream(self.GetObject, pb.GetObjectRequest, pb.Bytes),
            "ListCommonPrefixes": unary(
                self.ListCommonPrefixes, pb.ListCommonPrefixesRequest, pb.ListCommonPrefixesResponse
            ),
            "ListObjects": unary(self.ListObjects, pb.ListObjectsRequest, pb.ListObjectsResponse),
            "DeleteObject": unary(self.DeleteObject, pb.DeleteObjectRequest, Shared_pb2.Empty),
            "CreateSignedURL": unary(
                self.CreateSignedURL, pb.CreateSignedURLRequest, pb.CreateSignedURLResponse
            ),
        }
