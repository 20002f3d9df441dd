"""BackupItemAction v1 (`generated.BackupItemAction`) and v2 (`v2.BackupItemAction`) over gRPC."""

from __future__ import annotations

import grpc

from veloro_sdk._proto.generated import BackupItemAction_pb2 as v1_pb2
from veloro_sdk._proto.generated import BackupItemAction_pb2_grpc as v1_grpc
from veloro_sdk._proto.v2 import BackupItemAction_pb2 as v2_pb2
from veloro_sdk._proto.v2 import BackupItemAction_pb2_grpc as v2_grpc
from veloro_sdk.client.batch import BackupBatchClient
from veloro_sdk.contracts.backup_item_action import (
    BackupItemAction,
    BackupItemActionExecuteRequest,
    BackupItemActionExecuteResponse,
    BackupItemActionV2,
)
from veloro_sdk.contracts.common import JSONDict, OperationProgress, ResourceSelector
from veloro_sdk.convert import dumps, json_or_none, progress_from_proto, rid_from_proto, selector_from_proto


class BackupItemActionClient(BackupBatchClient, BackupItemAction):
    """v1: AppliesTo + Execute (+ execute_batch, see batch.py)."""

    SERVICE = "generated.BackupItemAction"
    API_VERSION = 1

    def __init__(self, channel: grpc.Channel, name: str, *, timeout: float | None = None) -> None:
        super().__init__(channel, name, timeout=timeout)
        self._stub = v1_grpc.BackupItemActionStub(channel)

    def applies_to(self, *, timeout: float | None = None) -> ResourceSelector:
        req = v1_pb2.BackupItemActionAppliesToRequest(plugin=self.name)
        return selector_from_proto(
            self._call("AppliesTo", self._stub.AppliesTo, req, timeout).ResourceSelector
        )

    def execute(
        self, request: BackupItemActionExecuteRequest, *, timeout: float | None = None
    ) -> BackupItemActionExecuteResponse:
        req = v1_pb2.ExecuteRequest(plugin=self.name, item=dumps(request.item), backup=dumps(request.backup))
        resp = self._call("Execute", self._stub.Execute, req, timeout)
        return BackupItemActionExecuteResponse(
            item=json_or_none(resp.item),  # empty = unchanged
            additional_items=[rid_from_proto(r) for r in resp.additionalItems],
        )


class BackupItemActionV2Client(BackupBatchClient, BackupItemActionV2):
    """v2: adds asynchronous operations (operation_id, post_operation_items, progress, cancel)."""

    SERVICE = "v2.BackupItemAction"
    API_VERSION = 2

    def __init__(self, channel: grpc.Channel, name: str, *, timeout: float | None = None) -> None:
        super().__init__(channel, name, timeout=timeout)
        self._stub = v2_grpc.BackupItemActionStub(channel)

    def applies_to(self, *, timeout: float | None = None) -> ResourceSelector:
        req = v2_pb2.BackupItemActionAppliesToRequest(plugin=self.name)
        return selector_from_proto(
            self._call("AppliesTo", self._stub.AppliesTo, req, timeout).ResourceSelector
        )

    def execute(
        self, request: BackupItemActionExecuteRequest, *, timeout: float | None = None
    ) -> BackupItemActionExecuteResponse:
        req = v2_pb2.ExecuteRequest(plugin=self.name, item=dumps(request.item), backup=dumps(request.backup))
        resp = self._call("Execute", self._stub.Execute, req, timeout)
        return BackupItemActionExecuteResponse(
            item=json_or_none(resp.item),
            additional_items=[rid_from_proto(r) for r in resp.additionalItems],
            operation_id=resp.operationID,
            post_operation_items=[rid_from_proto(r) for r in resp.postOperationItems],
        )

    def progress(
        self, operation_id: str, backup: JSONDict, *, timeout: float | None = None
    ) -> OperationProgress:
        req = v2_pb2.BackupItemActionProgressRequest(
            plugin=self.name, operationID=operation_id, backup=dumps(backup)
        )
        return progress_from_proto(self._call("Progress", self._stub.Progress, req, timeout).progress)

    def cancel(self, operation_id: str, backup: JSONDict, *, timeout: float | None = None) -> None:
        req = v2_pb2.BackupItemActionCancelRequest(
            plugin=self.name, operationID=operation_id, backup=dumps(backup)
        )
        self._call("Cancel", self._stub.Cancel, req, timeout)
