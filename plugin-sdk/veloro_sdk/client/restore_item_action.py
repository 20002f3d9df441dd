"""RestoreItemAction v1 (`generated.RestoreItemAction`) and v2 (`v2.RestoreItemAction`) over gRPC."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import grpc

from veloro_sdk._proto.generated import RestoreItemAction_pb2 as v1_pb2
from veloro_sdk._proto.generated import RestoreItemAction_pb2_grpc as v1_grpc
from veloro_sdk._proto.v2 import RestoreItemAction_pb2 as v2_pb2
from veloro_sdk._proto.v2 import RestoreItemAction_pb2_grpc as v2_grpc
from veloro_sdk.client.batch import RestoreBatchClient
from veloro_sdk.contracts.common import JSONDict, OperationProgress, ResourceIdentifier, ResourceSelector
from veloro_sdk.contracts.restore_item_action import (
    RestoreItemAction,
    RestoreItemActionExecuteRequest,
    RestoreItemActionExecuteResponse,
    RestoreItemActionV2,
)
from veloro_sdk.convert import (
    dumps,
    duration_from_proto,
    json_or_none,
    progress_from_proto,
    rid_from_proto,
    rid_to_proto,
    selector_from_proto,
)


class _RestoreItemActionClientBase(RestoreBatchClient):
    """What v1 and v2 share: AppliesTo and Execute take the same messages (v2's reply adds fields), each
    version from its own proto package. The subclass sets `_pb` (its RestoreItemAction_pb2 module) and
    `_stub`."""

    _pb: Any
    _stub: Any

    def applies_to(self, *, timeout: float | None = None) -> ResourceSelector:
        req = self._pb.RestoreItemActionAppliesToRequest(plugin=self.name)
        return selector_from_proto(
            self._call("AppliesTo", self._stub.AppliesTo, req, timeout).ResourceSelector
        )

    def _execute_reply(self, request: RestoreItemActionExecuteRequest, timeout: float | None) -> Any:
        """The Execute call; returns the version's reply message."""
        req = self._pb.RestoreItemActionExecuteRequest(
            plugin=self.name,
            item=dumps(request.item),
            restore=dumps(request.restore),
            itemFromBackup=dumps(request.item_from_backup),
        )
        return self._call("Execute", self._stub.Execute, req, timeout)

    @staticmethod
    def _common_response(resp: Any) -> RestoreItemActionExecuteResponse:
        """The reply fields both versions have."""
        return RestoreItemActionExecuteResponse(
            item=json_or_none(resp.item),
            additional_items=[rid_from_proto(r) for r in resp.additionalItems],
            skip_restore=resp.skipRestore,
        )


class RestoreItemActionClient(_RestoreItemActionClientBase, RestoreItemAction):
    """v1: AppliesTo + Execute (+ execute_batch, see batch.py)."""

    SERVICE = "generated.RestoreItemAction"
    API_VERSION = 1
    _pb = v1_pb2
    _stub: v1_grpc.RestoreItemActionStub

    def __init__(self, channel: grpc.Channel, name: str, *, timeout: float | None = None) -> None:
        super().__init__(channel, name, timeout=timeout)
        self._stub = v1_grpc.RestoreItemActionStub(channel)

    def execute(
        self, request: RestoreItemActionExecuteRequest, *, timeout: float | None = None
    ) -> RestoreItemActionExecuteResponse:
        return self._common_response(self._execute_reply(request, timeout))


class RestoreItemActionV2Client(_RestoreItemActionClientBase, RestoreItemActionV2):
    """v2: adds asynchronous operations and additional-item readiness."""

    SERVICE = "v2.RestoreItemAction"
    API_VERSION = 2
    _pb = v2_pb2
    _stub: v2_grpc.RestoreItemActionStub

    def __init__(self, channel: grpc.Channel, name: str, *, timeout: float | None = None) -> None:
        super().__init__(channel, name, timeout=timeout)
        self._stub = v2_grpc.RestoreItemActionStub(channel)

    def execute(
        self, request: RestoreItemActionExecuteRequest, *, timeout: float | None = None
    ) -> RestoreItemActionExecuteResponse:
        resp: v2_pb2.RestoreItemActionExecuteResponse = self._execute_reply(request, timeout)
        return replace(
            self._common_response(resp),
            operation_id=resp.operationID,
            wait_for_additional_items=resp.waitForAdditionalItems,
            additional_items_ready_timeout=duration_from_proto(
                resp.additionalItemsReadyTimeout, resp.HasField("additionalItemsReadyTimeout")
            ),
        )

    def progress(
        self, operation_id: str, restore: JSONDict, *, timeout: float | None = None
    ) -> OperationProgress:
        req = v2_pb2.RestoreItemActionProgressRequest(
            plugin=self.name, operationID=operation_id, restore=dumps(restore)
        )
        return progress_from_proto(self._call("Progress", self._stub.Progress, req, timeout).progress)

    def cancel(self, operation_id: str, restore: JSONDict, *, timeout: float | None = None) -> None:
        req = v2_pb2.RestoreItemActionCancelRequest(
            plugin=self.name, operationID=operation_id, restore=dumps(restore)
        )
        self._call("Cancel", self._stub.Cancel, req, timeout)

    def are_additional_items_ready(
        self, additional_items: list[ResourceIdentifier], restore: JSONDict, *, timeout: float | None = None
    ) -> bool:
        req = v2_pb2.RestoreItemActionItemsReadyRequest(
            plugin=self.name,
            restore=dumps(restore),
            additionalItems=[rid_to_proto(r) for r in additional_items],
        )
        return bool(
            self._call("AreAdditionalItemsReady", self._stub.AreAdditionalItemsReady, req, timeout).ready
        )
