"""veloro.batch.v1.BackupItemActionBatch and RestoreItemActionBatch: many items per call (a veloro
extension; Velero hosts never call it, veloro hosts fall back to Execute when it is not advertised).

Served for every registered backup/restore item action (v1 and v2) with the same implementation the unary
services use: the servicer hands the whole list to the implementation's `execute_batch` (the contract's
default loops over `execute`). Each item's exception becomes that item's error, mapped exactly as the
unary path maps it to a status (ordinary error vs panic, with the stack), so one bad item never fails
the batch. Only a failure outside the items (unknown plugin name, a broken `execute_batch` override)
fails the whole call.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar

import grpc

from veloro_sdk import contracts
from veloro_sdk._proto.generated import Shared_pb2
from veloro_sdk._proto.veloro.batch.v1 import batch_pb2 as pb
from veloro_sdk.contracts import (
    BackupItemActionExecuteRequest,
    BackupItemActionExecuteResponse,
    BackupItemActionV2,
    PluginKind,
    RestoreItemActionExecuteRequest,
    RestoreItemActionExecuteResponse,
    RestoreItemActionV2,
)
from veloro_sdk.convert import dumps, duration_to_proto, loads, rid_to_proto
from veloro_sdk.serve.errors import describe, is_panic, stack_of
from veloro_sdk.serve.registry import Registry
from veloro_sdk.serve.servicers.base import Handlers, KindServicer, json_obj, rpc, unary

_CONTRACTS_DIR = os.path.dirname(os.path.abspath(contracts.__file__))
BACKUP_BATCH_SERVICE = "veloro.batch.v1.BackupItemActionBatch"
RESTORE_BATCH_SERVICE = "veloro.batch.v1.RestoreItemActionBatch"
_BACKUP_KINDS = (PluginKind.BACKUP_ITEM_ACTION_V2, PluginKind.BACKUP_ITEM_ACTION)
_RESTORE_KINDS = (PluginKind.RESTORE_ITEM_ACTION_V2, PluginKind.RESTORE_ITEM_ACTION)
Req = TypeVar("Req")


def item_error(exc: BaseException) -> pb.ItemError:
    """One item's failure, as the unary call would have reported it (the contract's default
    execute_batch loop is left out of the stack, as the SDK's own frames are)."""
    _, message = describe(exc)
    kind = pb.ItemError.PANIC if is_panic(exc) else pb.ItemError.ERROR
    stack = stack_of(exc)
    frames = [f for f in stack.frames if not f.file.startswith(_CONTRACTS_DIR)]
    return pb.ItemError(kind=kind, message=message, stack=Shared_pb2.Stack(frames=frames))


def batch_services(registry: Registry) -> list[str]:
    """The batch services this process serves (and advertises through the health service)."""
    kinds = set(registry.kinds())
    services = []
    if kinds.intersection(_BACKUP_KINDS):
        services.append(BACKUP_BATCH_SERVICE)
    if kinds.intersection(_RESTORE_KINDS):
        services.append(RESTORE_BATCH_SERVICE)
    return services


def _impl(registry: Registry, kinds: tuple[PluginKind, PluginKind], plugin: str, version: int) -> Any:
    """The implementation of `plugin`: v1 or v2 as asked (0: v2 when registered, else v1)."""
    v2, v1 = kinds
    if version == 1:
        return registry.instance(v1, plugin)
    if version == 2 or plugin in {name for kind, name in registry.entries() if kind == v2}:
        return registry.instance(v2, plugin)
    return registry.instance(v1, plugin)


def _run(
    impl: Any, parsed: list[Req | BaseException], convert: Callable[[Any], Any], error_result: Any
) -> list[Any]:
    """execute_batch on the items that parsed; one result message per item, in order."""
    requests = [p for p in parsed if not isinstance(p, BaseException)]
    outcomes = list(impl.execute_batch(requests)) if requests else []
    if len(outcomes) != len(requests):
        raise TypeError(
            f"{type(impl).__qualname__}.execute_batch returned {len(outcomes)} results for "
            f"{len(requests)} requests; it must return one per request, in order"
        )
    results: list[Any] = []
    outcome_iter = iter(outcomes)
    for entry in parsed:
        outcome = entry if isinstance(entry, BaseException) else next(outcome_iter)
        if isinstance(outcome, BaseException):
            results.append(error_result(error=item_error(outcome)))
            continue
        try:
            results.append(convert(outcome))
        except Exception as exc:  # e.g. a response of the wrong type: that item's panic
            results.append(error_result(error=item_error(exc)))
    return results


def _parse(fn: Callable[[Any, bytes], Req], entry: Any, raw_cr: bytes) -> Req | BaseException:
    try:
        return fn(entry, raw_cr)
    except Exception as exc:  # a malformed item fails that item only
        return exc


def _backup_request(raw: bytes, raw_backup: bytes) -> BackupItemActionExecuteRequest:
    return BackupItemActionExecuteRequest(item=loads(raw), backup=json_obj(raw_backup))


def _restore_request(
    entry: pb.RestoreItemActionBatchItem, raw_restore: bytes
) -> RestoreItemActionExecuteRequest:
    return RestoreItemActionExecuteRequest(
        item=loads(entry.item),
        restore=json_obj(raw_restore),
        item_from_backup=json_obj(entry.itemFromBackup),
    )


class BackupItemActionBatchServicer(KindServicer):
    kind = PluginKind.BACKUP_ITEM_ACTION_V2  # v1 names are served too (see _impl)
    service = BACKUP_BATCH_SERVICE

    @rpc
    def ExecuteBatch(
        self, request: pb.BackupItemActionBatchRequest, context: grpc.ServicerContext
    ) -> pb.BackupItemActionBatchResponse:
        impl = _impl(self._registry, _BACKUP_KINDS, request.plugin, request.apiVersion)
        v1 = not isinstance(impl, BackupItemActionV2)
        raw_backup = request.backup
        # Each item gets its own Backup dict, as each unary call would: an action may change it.
        parsed = [_parse(_backup_request, raw, raw_backup) for raw in request.items]

        def convert(response: BackupItemActionExecuteResponse) -> pb.BackupItemActionBatchResult:
            result = pb.BackupItemActionBatchResult(
                item=b"" if response.item is None else dumps(response.item),
                additionalItems=[rid_to_proto(r) for r in response.additional_items],
            )
            if not v1:  # a v1 action cannot start operations, whatever its response carries
                result.operationID = response.operation_id
                result.postOperationItems.extend(rid_to_proto(r) for r in response.post_operation_items)
            return result

        results = _run(impl, parsed, convert, pb.BackupItemActionBatchResult)
        return pb.BackupItemActionBatchResponse(results=results)

    def handlers(self) -> Handlers:
        return {
            "ExecuteBatch": unary(
                self.ExecuteBatch, pb.BackupItemActionBatchRequest, pb.BackupItemActionBatchResponse
            )
        }


class RestoreItemActionBatchServicer(KindServicer):
    kind = PluginKind.RESTORE_ITEM_ACTION_V2
    service = RESTORE_BATCH_SERVICE

    @rpc
    def ExecuteBatch(
        self, request: pb.RestoreItemActionBatchRequest, context: grpc.ServicerContext
    ) -> pb.RestoreItemActionBatchResponse:
        impl = _impl(self._registry, _RESTORE_KINDS, request.plugin, request.apiVersion)
        v1 = not isinstance(impl, RestoreItemActionV2)
        raw_restore = request.restore
        parsed = [_parse(_restore_request, entry, raw_restore) for entry in request.items]

        def convert(response: RestoreItemActionExecuteResponse) -> pb.RestoreItemActionBatchResult:
            result = pb.RestoreItemActionBatchResult(
                item=b"" if response.item is None else dumps(response.item),
                additionalItems=[rid_to_proto(r) for r in response.additional_items],
                skipRestore=response.skip_restore,
            )
            if not v1:
                result.operationID = response.operation_id
                result.waitForAdditionalItems = response.wait_for_additional_items
                timeout = duration_to_proto(response.additional_items_ready_timeout)
                if timeout is not None:
                    result.additionalItemsReadyTimeout.CopyFrom(timeout)
            return result

        results = _run(impl, parsed, convert, pb.RestoreItemActionBatchResult)
        return pb.RestoreItemActionBatchResponse(results=results)

    def handlers(self) -> Handlers:
        return {
            "ExecuteBatch": unary(
                self.ExecuteBatch, pb.RestoreItemActionBatchRequest, pb.RestoreItemActionBatchResponse
            )
        }


def batch_servicers(registry: Registry) -> list[KindServicer]:
    services = batch_services(registry)
    out: list[KindServicer] = []
    if BACKUP_BATCH_SERVICE in services:
        out.append(BackupItemActionBatchServicer(registry))
    if RESTORE_BATCH_SERVICE in services:
        out.append(RestoreItemActionBatchServicer(registry))
    return out
