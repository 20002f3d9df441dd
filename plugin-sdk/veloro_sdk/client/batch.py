"""execute_batch for the action clients: many items per call through the veloro.batch.v1 services when
the plugin advertises them, else one unary Execute per item (Go plugins, Velero's, older SDKs).

Support is asked once per client with the standard health service (Check(service=<batch service>)):
SERVING -> batches; NOT_FOUND/UNIMPLEMENTED/other statuses -> unary calls (and an ExecuteBatch answered
UNIMPLEMENTED, from a health service that says SERVING to any name, switches to unary calls too).
Clients live as long as their plugin process (the host makes new ones after a restart), so the answer is
cached per client. A probe that fails for another reason (process gone) is not cached: the unary path
reports that error per item.

Items travel in chunks of at most MAX_BATCH_ITEMS items and MAX_BATCH_BYTES bytes. A chunk whose call
fails as a whole gives that error to each of its items. When the process is lost or a call times out
(PluginUnavailable, PluginTimeout) the remaining items get the same error without being sent: the
restartable wrapper then restarts the process once, and the caller decides what to retry.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

import grpc

from veloro_sdk._proto.grpc.health.v1 import health_pb2, health_pb2_grpc
from veloro_sdk._proto.veloro.batch.v1 import batch_pb2 as pb
from veloro_sdk._proto.veloro.batch.v1 import batch_pb2_grpc as pb_grpc
from veloro_sdk.client._base import BaseClient
from veloro_sdk.client.errors import (
    PluginCallError,
    PluginPanicked,
    PluginTimeout,
    PluginUnavailable,
    RemoteFrame,
    RemotePluginError,
    translate_rpc_error,
)
from veloro_sdk.contracts.backup_item_action import (
    BackupItemActionExecuteRequest,
    BackupItemActionExecuteResponse,
)
from veloro_sdk.contracts.restore_item_action import (
    RestoreItemActionExecuteRequest,
    RestoreItemActionExecuteResponse,
)
from veloro_sdk.convert import dumps, duration_from_proto, json_or_none, rid_from_proto

BACKUP_BATCH_SERVICE = "veloro.batch.v1.BackupItemActionBatch"
RESTORE_BATCH_SERVICE = "veloro.batch.v1.RestoreItemActionBatch"
MAX_BATCH_ITEMS = 500
MAX_BATCH_BYTES = 16 * 1024 * 1024
_NO_BATCH = (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.UNIMPLEMENTED)
_STOP = (PluginUnavailable, PluginTimeout)  # the process is gone or hung: sending more is pointless
T = TypeVar("T")
R = TypeVar("R")


def chunks(sizes: Sequence[int], max_items: int, max_bytes: int) -> Iterator[tuple[int, int]]:
    """[start, end) ranges of consecutive items within both limits (an oversized item goes alone)."""
    start, total = 0, 0
    for index, size in enumerate(sizes):
        if index > start and (index - start >= max_items or total + size > max_bytes):
            yield start, index
            start, total = index, 0
        total += size
    if start < len(sizes):
        yield start, len(sizes)


def _same(a: object, b: object) -> bool:
    return a is b or a == b


def item_error(error: pb.ItemError, *, plugin: str, method: str) -> PluginCallError:
    """One item's failure as the same exception class the unary call raises."""
    if error.kind == pb.ItemError.PANIC:
        return PluginPanicked(error.message, plugin=plugin, method=method, code=grpc.StatusCode.ABORTED)
    stack = tuple(RemoteFrame(f.file, f.line, f.function) for f in error.stack.frames)
    return RemotePluginError(error.message, stack=stack, plugin=plugin, method=method)


class _BatchClient(BaseClient):
    """What the backup and restore batch clients share: the support probe and the chunked call loop."""

    BATCH_SERVICE = ""
    API_VERSION = 0  # 1 or 2: which registered kind of the plugin name serves the batch

    def __init__(self, channel: grpc.Channel, name: str, *, timeout: float | None = None) -> None:
        super().__init__(channel, name, timeout=timeout)
        self._batch_supported: bool | None = None
        self._probe_lock = threading.Lock()
        self.batch_calls = 0  # ExecuteBatch calls made (for tests and metrics)

    def supports_batch(self, *, timeout: float | None = None) -> bool:
        """Whether the plugin process serves this client's batch service (asked once, then cached)."""
        if self._batch_supported is not None:
            return self._batch_supported
        with self._probe_lock:
            if self._batch_supported is None:
                stub = health_pb2_grpc.HealthStub(self.channel)
                try:
                    reply = stub.Check(
                        health_pb2.HealthCheckRequest(service=self.BATCH_SERVICE),
                        timeout=self._deadline(timeout),
                    )
                except grpc.RpcError as err:
                    if err.code() not in _NO_BATCH:
                        return False  # not cached: the unary calls will report what is wrong
                    self._batch_supported = False
                else:
                    self._batch_supported = reply.status == health_pb2.HealthCheckResponse.SERVING
            return self._batch_supported

    def _batched(
        self,
        sizes: Sequence[int],
        call: Callable[[int, int], list[T | Exception]],
        unary_from: Callable[[int], list[T | Exception]],
    ) -> list[T | Exception]:
        """Call `call(start, end)` per chunk; a chunk's whole-call error becomes each of its items'.
        UNIMPLEMENTED (a health service that says SERVING for any name) switches this client to unary
        calls, `unary_from(start)` doing the remaining items."""
        results: list[T | Exception] = []
        for start, end in chunks(sizes, MAX_BATCH_ITEMS, MAX_BATCH_BYTES):
            try:
                part = call(start, end)
            except PluginCallError as exc:
                if exc.code == grpc.StatusCode.UNIMPLEMENTED:
                    self._batch_supported = False
                    return results + unary_from(start)
                if isinstance(exc, _STOP):
                    results.extend([exc] * (len(sizes) - start))
                    return results
                part = [exc] * (end - start)
            results.extend(part)
        return results

    def _unary_each(self, requests: Sequence[R], execute: Callable[[R], T]) -> list[T | Exception]:
        """The fallback: one Execute per item, with the same error semantics as the batched path."""
        results: list[T | Exception] = []
        for index, request in enumerate(requests):
            try:
                results.append(execute(request))
            except PluginCallError as exc:
                if isinstance(exc, _STOP):
                    results.extend([exc] * (len(requests) - index))
                    return results
                results.append(exc)
        return results

    def _call_batch(self, fn: Callable[..., Any], request: Any, timeout: float | None) -> Any:
        self.batch_calls += 1
        try:
            return fn(request, timeout=self._deadline(timeout))
        except grpc.RpcError as err:
            raise translate_rpc_error(
                err, plugin=self.name, method=f"/{self.BATCH_SERVICE}/ExecuteBatch"
            ) from err

    def _check_count(self, got: int, want: int) -> None:
        if got != want:
            raise PluginPanicked(
                f"plugin panicked: ExecuteBatch returned {got} results for {want} items",
                plugin=self.name,
                method=f"/{self.BATCH_SERVICE}/ExecuteBatch",
            )


class BackupBatchClient(_BatchClient):
    """execute_batch of the BackupItemAction (v1, v2) clients."""

    BATCH_SERVICE = BACKUP_BATCH_SERVICE

    def execute(
        self, request: BackupItemActionExecuteRequest, *, timeout: float | None = None
    ) -> BackupItemActionExecuteResponse:
        raise NotImplementedError  # provided by the concrete client

    def execute_batch(
        self, requests: list[BackupItemActionExecuteRequest], *, timeout: float | None = None
    ) -> list[BackupItemActionExecuteResponse | Exception]:
        if not requests:
            return []
        if not self.supports_batch(timeout=timeout):
            return self._unary_each(requests, lambda r: self.execute(r, timeout=timeout))
        # One Backup per call: the engine passes the same Backup for every item of a run.
        groups: list[list[BackupItemActionExecuteRequest]] = []
        for request in requests:
            if groups and _same(groups[-1][0].backup, request.backup):
                groups[-1].append(request)
            else:
                groups.append([request])
        results: list[BackupItemActionExecuteResponse | Exception] = []
        for group in groups:
            results.extend(self._backup_group(group, timeout))
        return results

    def _backup_group(
        self, requests: list[BackupItemActionExecuteRequest], timeout: float | None
    ) -> list[BackupItemActionExecuteResponse | Exception]:
        backup = dumps(requests[0].backup)
        items = [dumps(r.item) for r in requests]
        method = f"/{self.BATCH_SERVICE}/ExecuteBatch"
        stub = pb_grpc.BackupItemActionBatchStub(self.channel)

        def call(start: int, end: int) -> list[BackupItemActionExecuteResponse | Exception]:
            req = pb.BackupItemActionBatchRequest(
                plugin=self.name, backup=backup, items=items[start:end], apiVersion=self.API_VERSION
            )
            resp = self._call_batch(stub.ExecuteBatch, req, timeout)
            self._check_count(len(resp.results), end - start)
            out: list[BackupItemActionExecuteResponse | Exception] = []
            for result in resp.results:
                if result.HasField("error"):
                    out.append(item_error(result.error, plugin=self.name, method=method))
                    continue
                out.append(
                    BackupItemActionExecuteResponse(
                        item=json_or_none(result.item),
                        additional_items=[rid_from_proto(r) for r in result.additionalItems],
                        operation_id=result.operationID,
                        post_operation_items=[rid_from_proto(r) for r in result.postOperationItems],
                    )
                )
            return out

        return self._batched(
            [len(i) for i in items],
            call,
            lambda start: self._unary_each(requests[start:], lambda r: self.execute(r, timeout=timeout)),
        )


class RestoreBatchClient(_BatchClient):
    """execute_batch of the RestoreItemAction (v1, v2) clients."""

    BATCH_SERVICE = RESTORE_BATCH_SERVICE

    def execute(
        self, request: RestoreItemActionExecuteRequest, *, timeout: float | None = None
    ) -> RestoreItemActionExecuteResponse:
        raise NotImplementedError  # provided by the concrete client

    def execute_batch(
        self, requests: list[RestoreItemActionExecuteRequest], *, timeout: float | None = None
    ) -> list[RestoreItemActionExecuteResponse | Exception]:
        if not requests:
            return []
        if not self.supports_batch(timeout=timeout):
            return self._unary_each(requests, lambda r: self.execute(r, timeout=timeout))
        groups: list[list[RestoreItemActionExecuteRequest]] = []
        for request in requests:
            if groups and _same(groups[-1][0].restore, request.restore):
                groups[-1].append(request)
            else:
                groups.append([request])
        results: list[RestoreItemActionExecuteResponse | Exception] = []
        for group in groups:
            results.extend(self._restore_group(group, timeout))
        return results

    def _restore_group(
        self, requests: list[RestoreItemActionExecuteRequest], timeout: float | None
    ) -> list[RestoreItemActionExecuteResponse | Exception]:
        restore = dumps(requests[0].restore)
        entries = [
            pb.RestoreItemActionBatchItem(item=dumps(r.item), itemFromBackup=dumps(r.item_from_backup))
            for r in requests
        ]
        method = f"/{self.BATCH_SERVICE}/ExecuteBatch"
        stub = pb_grpc.RestoreItemActionBatchStub(self.channel)

        def call(start: int, end: int) -> list[RestoreItemActionExecuteResponse | Exception]:
            req = pb.RestoreItemActionBatchRequest(
                plugin=self.name, restore=restore, items=entries[start:end], apiVersion=self.API_VERSION
            )
            resp = self._call_batch(stub.ExecuteBatch, req, timeout)
            self._check_count(len(resp.results), end - start)
            out: list[RestoreItemActionExecuteResponse | Exception] = []
            for result in resp.results:
                if result.HasField("error"):
                    out.append(item_error(result.error, plugin=self.name, method=method))
                    continue
                out.append(
                    RestoreItemActionExecuteResponse(
                        item=json_or_none(result.item),
                        additional_items=[rid_from_proto(r) for r in result.additionalItems],
                        skip_restore=result.skipRestore,
                        operation_id=result.operationID,
                        wait_for_additional_items=result.waitForAdditionalItems,
                        additional_items_ready_timeout=duration_from_proto(
                            result.additionalItemsReadyTimeout,
                            result.HasField("additionalItemsReadyTimeout"),
                        ),
                    )
                )
            return out

        return self._batched(
            [len(e.item) + len(e.itemFromBackup) for e in entries],
            call,
            lambda start: self._unary_each(requests[start:], lambda r: self.execute(r, timeout=timeout)),
        )
