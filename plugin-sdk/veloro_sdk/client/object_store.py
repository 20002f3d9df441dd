"""ObjectStore over gRPC (`generated.ObjectStore`), bodies streamed in both directions."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import timedelta

import grpc

from veloro_sdk._proto.generated import ObjectStore_pb2, ObjectStore_pb2_grpc
from veloro_sdk.client._base import BaseClient
from veloro_sdk.client.errors import translate_rpc_error
from veloro_sdk.contracts.object_store import ObjectStore
from veloro_sdk.convert import ttl_to_nanos

# Big enough that per-message overhead vanishes, small enough that neither side holds much in memory.
MAX_CHUNK_BYTES = 1024 * 1024


class _BodyError:
    """Holds an exception raised by the caller's body iterator: gRPC would swallow it into CANCELLED."""

    error: BaseException | None = None


def _chunks(
    plugin: str, bucket: str, key: str, body: Iterable[bytes], box: _BodyError
) -> Iterator[ObjectStore_pb2.PutObjectRequest]:
    sent = False
    try:
        for chunk in body:
            for start in range(0, len(chunk), MAX_CHUNK_BYTES):
                piece = chunk if len(chunk) <= MAX_CHUNK_BYTES else chunk[start : start + MAX_CHUNK_BYTES]
                yield ObjectStore_pb2.PutObjectRequest(
                    plugin=plugin, bucket=bucket, key=key, body=bytes(piece)
                )
                sent = True
    except BaseException as exc:
        box.error = exc
        raise
    if not sent:  # an empty object is one message with an empty body
        yield ObjectStore_pb2.PutObjectRequest(plugin=plugin, bucket=bucket, key=key, body=b"")


class ObjectStoreClient(BaseClient, ObjectStore):
    """`timeout` is the deadline of unary calls; `transfer_timeout` that of a whole PutObject/GetObject
    stream (None: no deadline, since the right value depends on the object size)."""

    SERVICE = "generated.ObjectStore"

    def __init__(
        self,
        channel: grpc.Channel,
        name: str,
        *,
        timeout: float | None = None,
        transfer_timeout: float | None = None,
    ) -> None:
        super().__init__(channel, name, timeout=timeout)
        self.transfer_timeout = transfer_timeout
        self._stub = ObjectStore_pb2_grpc.ObjectStoreStub(channel)

    def _transfer_deadline(self, timeout: float | None) -> float | None:
        return self.transfer_timeout if timeout is None else timeout

    def init(self, config: dict[str, str], *, timeout: float | None = None) -> None:
        req = ObjectStore_pb2.ObjectStoreInitRequest(plugin=self.name, config=config)
        self._call("Init", self._stub.Init, req, timeout)

    def put_object(
        self, bucket: str, key: str, body: Iterable[bytes], *, timeout: float | None = None
    ) -> None:
        box = _BodyError()
        try:
            self._stub.PutObject(
                _chunks(self.name, bucket, key, body, box), timeout=self._transfer_deadline(timeout)
            )
        except grpc.RpcError as err:
            if box.error is not None:  # the caller's own stream failed: that is the real error
                raise box.error from err
            raise translate_rpc_error(err, plugin=self.name, method=f"/{self.SERVICE}/PutObject") from err

    def object_exists(self, bucket: str, key: str, *, timeout: float | None = None) -> bool:
        req = ObjectStore_pb2.ObjectExistsRequest(plugin=self.name, bucket=bucket, key=key)
        return bool(self._call("ObjectExists", self._stub.ObjectExists, req, timeout).exists)

    def get_object(self, bucket: str, key: str, *, timeout: float | None = None) -> Iterator[bytes]:
        """Starts the call and waits for the first chunk now (so a missing key raises here, not on first
        iteration), then streams the rest lazily. Abandoning the iterator cancels the call."""
        req = ObjectStore_pb2.GetObjectRequest(plugin=self.name, bucket=bucket, key=key)
        call = self._stub.GetObject(req, timeout=self._transfer_deadline(timeout))
        try:
            first = next(call, None)
        except grpc.RpcError as err:
            raise translate_rpc_error(err, plugin=self.name, method=f"/{self.SERVICE}/GetObject") from err
        return self._rest(call, first)

    def _rest(
        self, call: Iterator[ObjectStore_pb2.Bytes], first: ObjectStore_pb2.Bytes | None
    ) -> Iterator[bytes]:
        try:
            if first is None:
                return
            if first.data:
                yield first.data
            for msg in call:
                if msg.data:
                    yield msg.data
        except grpc.RpcError as err:
            raise translate_rpc_error(err, plugin=self.name, method=f"/{self.SERVICE}/GetObject") from err
        finally:
            cancel = getattr(call, "cancel", None)
            if cancel is not None:
                cancel()  # no-op when the stream already ended

    def list_common_prefixes(
        self, bucket: str, prefix: str, delimiter: str, *, timeout: float | None = None
    ) -> list[str]:
        req = ObjectStore_pb2.ListCommonPrefixesRequest(
            plugin=self.name, bucket=bucket, prefix=prefix, delimiter=delimiter
        )
        return list(self._call("ListCommonPrefixes", self._stub.ListCommonPrefixes, req, timeout).prefixes)

    def list_objects(self, bucket: str, prefix: str, *, timeout: float | None = None) -> list[str]:
        req = ObjectStore_pb2.ListObjectsRequest(plugin=self.name, bucket=bucket, prefix=prefix)
        return list(self._call("ListObjects", self._stub.ListObjects, req, timeout).keys)

    def delete_object(self, bucket: str, key: str, *, timeout: float | None = None) -> None:
        req = ObjectStore_pb2.DeleteObjectRequest(plugin=self.name, bucket=bucket, key=key)
        self._call("DeleteObject", self._stub.DeleteObject, req, timeout)

    def create_signed_url(
        self, bucket: str, key: str, ttl: timedelta, *, timeout: float | None = None
    ) -> str:
        req = ObjectStore_pb2.CreateSignedURLRequest(
            plugin=self.name, bucket=bucket, key=key, ttl=ttl_to_nanos(ttl)
        )
        return str(self._call("CreateSignedURL", self._stub.CreateSignedURL, req, timeout).url)
