"""generated.RestoreItemAction (v1) and v2.RestoreItemAction. Unchanged items go back as the input bytes
(see backup_actions)."""

from __future__ import annotations

from typing import Any

import grpc
from google.protobuf import empty_pb2

from veloro_sdk._proto.generated import RestoreItemAction_pb2 as pb1
from veloro_sdk._proto.v2 import RestoreItemAction_pb2 as pb2
from veloro_sdk.contracts import PluginKind, RestoreItemActionExecuteRequest
from veloro_sdk.convert import (
    dumps,
    duration_to_proto,
    progress_to_proto,
    rid_from_proto,
    rid_to_proto,
    selector_to_proto,
)
from veloro_sdk.serve.servicers.base import Handlers, KindServicer, json_obj, rpc, unary

GOOGLE_EMPTY = empty_pb2.Empty()


def _execute(impl: Any, request: Any) -> tuple[Any, bytes]:
    response = impl.execute(
        RestoreItemActionExecuteRequest(
            item=json_obj(request.item),
            restore=json_obj(request.restore),
            item_from_backup=json_obj(request.itemFromBackup),
        )
    )
    return response, request.item if response.item is None else dumps(response.item)


class RestoreItemActionServicer(KindServicer):
    kind = PluginKind.RESTORE_ITEM_ACTION
    service = "generated.RestoreItemAction"

    @rpc
    def AppliesTo(
        self, request: pb1.RestoreItemActionAppliesToRequest, context: grpc.ServicerContext
    ) -> pb1.RestoreItemActionAppliesToResponse:
        selector = self._impl(request.plugin).applies_to()
        return pb1.RestoreItemActionAppliesToResponse(ResourceSelector=selector_to_proto(selector))

    @rpc
    def Execute(
        self, request: pb1.RestoreItemActionExecuteRequest, context: grpc.ServicerContext
    ) -> pb1.RestoreItemActionExecuteResponse:
        response, item = _execute(self._impl(request.plugin), request)
        return pb1.RestoreItemActionExecuteResponse(
            item=item,
            additionalItems=[rid_to_proto(r) for r in response.additional_items],
            skipRestore=response.skip_restore,
        )

    def handlers(self) -> Handlers:
        return {
            "AppliesTo": unary(
                self.AppliesTo, pb1.RestoreItemActionAppliesToRequest, pb1.RestoreItemActionAppliesToResponse
            ),
            "Execute": unary(
                self.Execute, pb1.RestoreItemActionExecuteRequest, pb1.RestoreItemActionExecuteResponse
            ),
        }


class RestoreItemActionV2Servicer(KindServicer):
    kind = PluginKind.RESTORE_ITEM_ACTION_V2
    service = "v2.RestoreItemAction"

    @rpc
    def AppliesTo(
        self, request: pb2.RestoreItemActionAppliesToRequest, context: grpc.ServicerContext
    ) -> pb2.RestoreItemActionAppliesToResponse:
        selector = self._impl(request.plugin).applies_to()
        return pb2.RestoreItemActionAppliesToResponse(ResourceSelector=selector_to_proto(selector))

    @rpc
    def Execute(
        self, request: pb2.RestoreItemActionExecuteRequest, context: grpc.ServicerContext
    ) -> pb2.RestoreItemActionExecuteResponse:
        response, item = _execute(self._impl(request.plugin), request)
        return pb2.RestoreItemActionExecuteResponse(
            item=item,
            additionalItems=[rid_to_proto(r) for r in response.additional_items],
            skipRestore=response.skip_restore,
            operationID=response.operation_id,
            waitForAdditionalItems=response.wait_for_additional_items,
            additionalItemsReadyTimeout=duration_to_proto(response.additional_items_ready_timeout),
        )

    @rpc
    def Progress(
        self, request: pb2.RestoreItemActionProgressRequest, context: grpc.ServicerContext
    ) -> pb2.RestoreItemActionProgressResponse:
        progress = self._impl(request.plugin).progress(request.operationID, json_obj(request.restore))
        return pb2.RestoreItemActionProgressResponse(progress=progress_to_proto(progress))

    @rpc
    def Cancel(
        self, request: pb2.RestoreItemActionCancelRequest, context: grpc.ServicerContext
    ) -> empty_pb2.Empty:
        self._impl(request.plugin).cancel(request.operationID, json_obj(request.restore))
        return GOOGLE_EMPTY

    @rpc
    def AreAdditionalItemsReady(
        self, request: pb2.RestoreItemActionItemsReadyRequest, context: grpc.ServicerContext
    ) -> pb2.RestoreItemActionItemsReadyResponse:
        ready = self._impl(request.plugin).are_additional_items_ready(
            [rid_from_proto(r) for r in request.additionalItems], json_obj(request.restore)
        )
        return pb2.RestoreItemActionItemsReadyResponse(ready=bool(ready))

    def handlers(self) -> Handlers:
        return {
            "AppliesTo": unary(
                self.AppliesTo, pb2.RestoreItemActionAppliesToRequest, pb2.RestoreItemActionAppliesToResponse
            ),
            "Execute": unary(
                self.Execute, pb2.RestoreItemActionExecuteRequest, pb2.RestoreItemActionExecuteResponse
            ),
            "Progress": unary(
                self.Progress, pb2.RestoreItemActionProgressRequest, pb2.RestoreItemActionProgressResponse
            ),
            "Cancel": unary(self.Cancel, pb2.RestoreItemActionCancelRequest, empty_pb2.Empty),
            "AreAdditionalItemsReady": unary(
                self.AreAdditionalItemsReady,
                pb2.RestoreItemActionItemsReadyRequest,
                pb2.RestoreItemActionItemsReadyResponse,
            ),
        }
