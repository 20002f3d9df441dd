"""generated.BackupItemAction (v1) and v2.BackupItemAction.

An unchanged item (the implementation returned item=None) is sent back as the input bytes: Velero's host
unmarshals the returned item unconditionally, so an empty one would break it.
"""

from __future__ import annotations

from typing import Any

import grpc
from google.protobuf import empty_pb2

from veloro_sdk._proto.generated import BackupItemAction_pb2 as pb1
from veloro_sdk._proto.v2 import BackupItemAction_pb2 as pb2
from veloro_sdk.contracts import BackupItemActionExecuteRequest, PluginKind
from veloro_sdk.convert import dumps, progress_to_proto, rid_to_proto, selector_to_proto
from veloro_sdk.serve.servicers.base import Handlers, KindServicer, json_obj, rpc, unary

GOOGLE_EMPTY = empty_pb2.Empty()


def _execute(impl: Any, request: Any) -> tuple[Any, bytes]:
    response = impl.execute(
        BackupItemActionExecuteRequest(item=json_obj(request.item), backup=json_obj(request.backup))
    )
    return response, request.item if response.item is None else dumps(response.item)


class BackupItemActionServicer(KindServicer):
    kind = PluginKind.BACKUP_ITEM_ACTION
    service = "generated.BackupItemAction"

    @rpc
    def AppliesTo(
        self, request: pb1.BackupItemActionAppliesToRequest, context: grpc.ServicerContext
    ) -> pb1.BackupItemActionAppliesToResponse:
        selector = self._impl(request.plugin).applies_to()
        return pb1.BackupItemActionAppliesToResponse(ResourceSelector=selector_to_proto(selector))

    @rpc
    def Execute(self, request: pb1.ExecuteRequest, context: grpc.ServicerContext) -> pb1.ExecuteResponse:
        response, item = _execute(self._impl(request.plugin), request)
        return pb1.ExecuteResponse(
            item=item, additionalItems=[rid_to_proto(r) for r in response.additional_items]
        )

    def handlers(self) -> Handlers:
        return {
            "AppliesTo": unary(
                self.AppliesTo, pb1.BackupItemActionAppliesToRequest, pb1.BackupItemActionAppliesToResponse
            ),
            "Execute": unary(self.Execute, pb1.ExecuteRequest, pb1.ExecuteResponse),
        }


class BackupItemActionV2Servicer(KindServicer):
    kind = PluginKind.BACKUP_ITEM_ACTION_V2
    service = "v2.BackupItemAction"

    @rpc
    def AppliesTo(
        self, request: pb2.BackupItemActionAppliesToRequest, context: grpc.ServicerContext
    ) -> pb2.BackupItemActionAppliesToResponse:
        selector = self._impl(request.plugin).applies_to()
        return pb2.BackupItemActionAppliesToResponse(ResourceSelector=selector_to_proto(selector))

    @rpc
    def Execute(self, request: pb2.ExecuteRequest, context: grpc.ServicerContext) -> pb2.ExecuteResponse:
        response, item = _execute(self._impl(request.plugin), request)
        return pb2.ExecuteResponse(
            item=item,
            additionalItems=[rid_to_proto(r) for r in response.additional_items],
            operationID=response.operation_id,
            postOperationItems=[rid_to_proto(r) for r in response.post_operation_items],
        )

    @rpc
    def Progress(
        self, request: pb2.BackupItemActionProgressRequest, context: grpc.ServicerContext
    ) -> pb2.BackupItemActionProgressResponse:
        progress = self._impl(request.plugin).progress(request.operationID, json_obj(request.backup))
        return pb2.BackupItemActionProgressResponse(progress=progress_to_proto(progress))

    @rpc
    def Cancel(
        self, request: pb2.BackupItemActionCancelRequest, context: grpc.ServicerContext
    ) -> empty_pb2.Empty:
        self._impl(request.plugin).cancel(request.operationID, json_obj(request.backup))
        return GOOGLE_EMPTY

    def handlers(self) -> Handlers:
        return {
            "AppliesTo": unary(
                self.AppliesTo, pb2.BackupItemActionAppliesToRequest, pb2.BackupItemActionAppliesToResponse
            ),
            "Execute": unary(self.Execute, pb2.ExecuteRequest, pb2.ExecuteResponse),
            "Progress": unary(
                self.Progress, pb2.BackupItemActionProgressRequest, pb2.BackupItemActionProgressResponse
            ),
            "Cancel": unary(self.Cancel, pb2.BackupItemActionCancelRequest, empty_pb2.Empty),
        }
