"""DeleteItemAction over gRPC (`generated.DeleteItemAction`)."""

from __future__ import annotations

import grpc

from veloro_sdk._proto.generated import DeleteItemAction_pb2, DeleteItemAction_pb2_grpc
from veloro_sdk.client._base import BaseClient
from veloro_sdk.contracts.common import ResourceSelector
from veloro_sdk.contracts.delete_item_action import DeleteItemAction, DeleteItemActionExecuteRequest
from veloro_sdk.convert import dumps, selector_from_proto


class DeleteItemActionClient(BaseClient, DeleteItemAction):
    SERVICE = "generated.DeleteItemAction"

    def __init__(self, channel: grpc.Channel, name: str, *, timeout: float | None = None) -> None:
        super().__init__(channel, name, timeout=timeout)
        self._stub = DeleteItemAction_pb2_grpc.DeleteItemActionStub(channel)

    def applies_to(self, *, timeout: float | None = None) -> ResourceSelector:
        req = DeleteItemAction_pb2.DeleteItemActionAppliesToRequest(plugin=self.name)
        return selector_from_proto(
            self._call("AppliesTo", self._stub.AppliesTo, req, timeout).ResourceSelector
        )

    def execute(self, request: DeleteItemActionExecuteRequest, *, timeout: float | None = None) -> None:
        req = DeleteItemAction_pb2.DeleteItemActionExecuteRequest(
            plugin=self.name, item=dumps(request.item), backup=dumps(request.backup)
        )
        self._call("Execute", self._stub.Execute, req, timeout)
