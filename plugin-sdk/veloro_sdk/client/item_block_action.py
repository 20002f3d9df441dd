"""ItemBlockAction over gRPC (`v1.ItemBlockAction`)."""

from __future__ import annotations

import grpc

from veloro_sdk._proto.v1 import ItemBlockAction_pb2, ItemBlockAction_pb2_grpc
from veloro_sdk.client._base import BaseClient
from veloro_sdk.contracts.common import ResourceIdentifier, ResourceSelector
from veloro_sdk.contracts.item_block_action import ItemBlockAction, ItemBlockActionRequest
from veloro_sdk.convert import dumps, rid_from_proto, selector_from_proto


class ItemBlockActionClient(BaseClient, ItemBlockAction):
    SERVICE = "v1.ItemBlockAction"

    def __init__(self, channel: grpc.Channel, name: str, *, timeout: float | None = None) -> None:
        super().__init__(channel, name, timeout=timeout)
        self._stub = ItemBlockAction_pb2_grpc.ItemBlockActionStub(channel)

    def applies_to(self, *, timeout: float | None = None) -> ResourceSelector:
        req = ItemBlockAction_pb2.ItemBlockActionAppliesToRequest(plugin=self.name)
        return selector_from_proto(
            self._call("AppliesTo", self._stub.AppliesTo, req, timeout).ResourceSelector
        )

    def get_related_items(
        self, request: ItemBlockActionRequest, *, timeout: float | None = None
    ) -> list[ResourceIdentifier]:
        req = ItemBlockAction_pb2.ItemBlockActionGetRelatedItemsRequest(
            plugin=self.name, item=dumps(request.item), backup=dumps(request.backup)
        )
        resp = self._call("GetRelatedItems", self._stub.GetRelatedItems, req, timeout)
        return [rid_from_proto(r) for r in resp.relatedItems]
